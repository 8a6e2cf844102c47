"""Precise refs: a finding cites the offending line (``privileged: true``, ``runAsUser: 0``, a chart's
``version:``, ``validationFailureAction``, the ``timestamp()`` trigger), not the object's first line,
in YAML and in Terraform; where nothing offending is written, the object (or the image line)."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import detect, refs

pytestmark = pytest.mark.unit

POD = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: vpn, namespace: net}
spec:
  template:
    spec:
      securityContext:
        runAsUser: 0
      containers:
        - name: vpn
          image: wg:1.0
          securityContext:
            privileged: true
        - name: helper
          image: helper:1.0
          securityContext:
            capabilities:
              add: [NET_ADMIN]
        - name: safe
          image: safe:1.0
          securityContext:
            runAsNonRoot: true
            privileged: false
"""


def test_privileged_cites_the_offending_field_not_the_object(tmp_path: Path) -> None:
    d = detect(tmp_path, {"net/vpn.yaml": POD}, "SEC-PRIVILEGED")
    assert (d.count, d.total) == (2, 3)
    assert refs(d) == ["net/vpn.yaml:13", "net/vpn.yaml:18"]  # privileged: true; add: [NET_ADMIN]
    assert "net/vpn.yaml:1" not in refs(d)


def test_run_as_root_cites_run_as_user_zero_else_the_image(tmp_path: Path) -> None:
    d = detect(tmp_path, {"net/vpn.yaml": POD}, "SEC-RUN-AS-ROOT")
    # vpn and helper inherit the pod's runAsUser: 0 (line 8); safe sets runAsNonRoot: not counted
    assert (d.count, refs(d)) == (2, ["net/vpn.yaml:8", "net/vpn.yaml:8"])
    unset = POD.replace("      securityContext:\n        runAsUser: 0\n", "")
    d = detect(tmp_path / "unset", {"net/vpn.yaml": unset}, "SEC-RUN-AS-ROOT")
    assert refs(d) == ["net/vpn.yaml:9", "net/vpn.yaml:13"]  # nothing written: the image lines


TERRAFORM = """
resource "kubernetes_daemonset" "wg" {
  metadata {
    name      = "wg"
    namespace = "net"
  }
  spec {
    template {
      metadata {}
      spec {
        container {
          name  = "wg"
          image = "wg:1.0"
          security_context {
            privileged = true
          }
        }
      }
    }
  }
}

resource "null_resource" "labels" {
  triggers = {
    name   = "x"
    always = timestamp()
  }
}

resource "helm_release" "traefik" {
  name       = "traefik"
  chart      = "traefik"
  version    = ">= 30.0"
}
"""


@pytest.mark.parametrize(
    ("check", "ref"),
    [
        ("SEC-PRIVILEGED", "main.tf:14"),
        ("DEC-TIMESTAMP-TRIGGER", "main.tf:25"),
        ("MNT-HELM-UNPINNED", "main.tf:32"),
    ],
)
def test_terraform_refs_are_the_offending_attribute(tmp_path: Path, check: str, ref: str) -> None:
    d = detect(tmp_path, {"main.tf": TERRAFORM}, check)
    assert (d.count, refs(d)) == (1, [ref])


def test_unpinned_release_without_a_version_cites_the_release(tmp_path: Path) -> None:
    text = 'resource "helm_release" "x" {\n  name  = "x"\n  chart = "x"\n}\n'
    assert refs(detect(tmp_path, {"main.tf": text}, "MNT-HELM-UNPINNED")) == ["main.tf:1"]


POLICIES = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: audit}
spec:
  background: true
  validationFailureAction: Audit
  rules: []
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: unset}
spec:
  rules: []
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredLabels
metadata: {name: labels}
spec:
  match: {}
  enforcementAction: dryrun
---
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: enforced}
spec:
  validationFailureAction: Enforce
"""


def test_audit_only_policies_cite_the_mode_line(tmp_path: Path) -> None:
    d = detect(tmp_path, {"policies.yaml": POLICIES}, "SEC-POLICY-AUDIT-ONLY")
    assert (d.count, d.total) == (3, 4)
    # the mode line when written; the object when the mode is unset (Audit by default)
    assert refs(d) == ["policies.yaml:6", "policies.yaml:9", "policies.yaml:20"]


WIKI = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: wiki, namespace: wiki}
spec:
  replicas: 1
  strategy:
    type: Recreate
  template:
    spec:
      hostNetwork: true
      containers: [{name: wiki, image: "wiki:1.0", volumeMounts: [{name: data, mountPath: /d}]}]
      volumes:
        - name: data
          persistentVolumeClaim: {claimName: wiki-data}
        - name: logs
          hostPath: {path: /var/log}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: wiki-data, namespace: wiki}
spec: {accessModes: [ReadWriteOnce]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: wiki}
spec:
  updateStrategy:
    type: OnDelete
  template:
    spec:
      containers: [{name: db, image: "db:1.0"}]
      volumes:
        - name: host
          hostPath: {path: /srv}
"""


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        ("REL-SINGLE-REPLICA", ["wiki.yaml:5"]),  # replicas: 1 (db has no RWO claim: not counted)
        ("REL-RECREATE-NO-GRACE", ["wiki.yaml:7"]),  # type: Recreate
        ("REL-STS-ONDELETE", ["wiki.yaml:28"]),  # type: OnDelete
        ("SEC-HOST-ACCESS", ["wiki.yaml:10", "wiki.yaml:33"]),  # hostNetwork: true; the hostPath volume
    ],
)
def test_workload_refs_are_the_offending_field(tmp_path: Path, check: str, expected: list[str]) -> None:
    d = detect(tmp_path, {"wiki.yaml": WIKI}, check)
    assert sorted(refs(d)) == sorted(expected)


FLUX = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: velero, namespace: flux-system}
spec:
  interval: 10m
  path: ./velero
  prune: false
  suspend: true
  sourceRef: {kind: GitRepository, name: repo}
"""


@pytest.mark.parametrize(
    ("check", "ref"), [("DEC-FLUX-SUSPENDED", "velero.yaml:8"), ("DEC-FLUX-NO-PRUNE", "velero.yaml:7")]
)
def test_flux_refs_are_the_suspend_and_prune_lines(tmp_path: Path, check: str, ref: str) -> None:
    assert refs(detect(tmp_path, {"velero.yaml": FLUX}, check)) == [ref]


ROLES = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: ops}
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get]
  - apiGroups: [""]
    resources: [secrets]
    verbs: ["*"]
"""


@pytest.mark.parametrize("check", ["SEC-RBAC-WILDCARD", "SEC-RBAC-SECRETS"])
def test_rbac_refs_are_the_offending_rule(tmp_path: Path, check: str) -> None:
    assert refs(detect(tmp_path, {"rbac.yaml": ROLES}, check)) == ["rbac.yaml:8"]


def test_module_without_ref_cites_its_source_line(tmp_path: Path) -> None:
    text = 'module "dash" {\n  # dashboards\n  source = "git::https://git.example.com/m.git//d"\n}\n'
    assert refs(detect(tmp_path, {"main.tf": text}, "MNT-MODULE-NO-REF")) == ["main.tf:3"]
