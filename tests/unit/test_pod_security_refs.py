"""SEC-NO-PSS cites the line to change: the patch or transformer that set a Namespace's enforce label.

A Flux estate laid out as the community lays one out (``kubernetes/apps/<namespace>/kustomization.yaml``
with a shared component that makes each namespace's Namespace and labels it ``enforce: baseline``),
built by the product and checked end to end: a namespace made privileged by a kustomization's JSON
6902 patch cites that op's ``value:`` line, by a strategic-merge patch the label's line in the patch,
by a ``labels`` transformer or a Flux ``commonMetadata`` the label's own line there. A label in the
Namespace's own document, or a missing one (even when a patch removed it), cites the document as before.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from inventory_builder import refs, subjects

from tests.unit.test_checks_security import ctx, write
from tools.checks.detections import security
from tools.inventory.build import build_inventory
from tools.inventory.models import CodeRef

pytestmark = pytest.mark.unit

FLUX = """
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 30m
  url: https://github.com/example/home-ops
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 30m
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

COMPONENT = {
    "kubernetes/components/common/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources:
          - ./namespace.yaml
        patches:
          - target:
              kind: Namespace
            patch: |-
              - op: add
                path: /metadata/labels
                value:
                  pod-security.kubernetes.io/enforce: baseline
                  pod-security.kubernetes.io/warn: restricted
        """,
    "kubernetes/components/common/namespace.yaml": """
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: _ # replaced by the namespace: of the kustomization that includes this component
        """,
}


def _with_component(namespace: str, patches: str = "") -> str:
    """A namespace's kustomization, as flux-homelab's: the shared component, then its own patches."""
    head = f"""\
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        namespace: {namespace}
        components:
          - ../../components/common
        """
    return dedent(head) + dedent(patches)


ESTATE = {
    "kubernetes/flux/cluster/ks.yaml": FLUX,
    **COMPONENT,
    # line 12 op, 13 path, 14 value: privileged
    "kubernetes/apps/home/kustomization.yaml": _with_component(
        "home",
        """\
        patches:
          # home-assistant needs the host network
          - target:
              kind: Namespace
            patch: |-
              - op: replace
                path: /metadata/labels/pod-security.kubernetes.io~1enforce
                value: privileged
        """,
    ),
    # an inline strategic-merge patch: line 16 is the label
    "kubernetes/apps/media/kustomization.yaml": _with_component(
        "media",
        """\
        patches:
          - target:
              kind: Namespace
            patch: |-
              apiVersion: v1
              kind: Namespace
              metadata:
                name: not-used
                labels:
                  pod-security.kubernetes.io/enforce: privileged
        """,
    ),
    # the label removed by a 6902 op: missing, the Namespace's source (the namespace: line) is cited
    "kubernetes/apps/scratch/kustomization.yaml": _with_component(
        "scratch",
        """\
        patches:
          - target:
              kind: Namespace
            patch: |-
              - op: remove
                path: /metadata/labels/pod-security.kubernetes.io~1enforce
        """,
    ),
    # baseline from the component: not reported
    "kubernetes/apps/network/kustomization.yaml": _with_component("network"),
    # its own Namespace made privileged by a strategic-merge patch file
    "kubernetes/apps/downloads/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./namespace.yaml
        patches:
          - path: ./pss-patch.yaml
        """,
    "kubernetes/apps/downloads/namespace.yaml": """
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: downloads
          labels:
            pod-security.kubernetes.io/enforce: baseline
        """,
    "kubernetes/apps/downloads/pss-patch.yaml": """
        # qbittorrent's VPN sidecar needs NET_ADMIN
        apiVersion: v1
        kind: Namespace
        metadata:
          name: downloads
          labels:
            pod-security.kubernetes.io/enforce: privileged
        """,
    # the label in the Namespace's own document: the document is cited (line 3, after the comments)
    "kubernetes/apps/velero/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./namespace.yaml
        """,
    "kubernetes/apps/velero/namespace.yaml": """
        # privileged on purpose: the node-agent mounts /var/lib/kubelet/pods
        # (hostPath) for file-system backups
        apiVersion: v1
        kind: Namespace
        metadata:
          name: velero
          labels:
            pod-security.kubernetes.io/enforce: privileged
        """,
    # no label at all: the document is cited
    "kubernetes/apps/wiki/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./namespace.yaml
        """,
    "kubernetes/apps/wiki/namespace.yaml": """
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: wiki
        """,
    # the labels transformer: line 8 is the pair
    "kubernetes/apps/games/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./namespace.yaml
        labels:
          - pairs:
              pod-security.kubernetes.io/enforce: privileged
        """,
    "kubernetes/apps/games/namespace.yaml": """
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: games
        """,
    # a Flux Kustomization's commonMetadata over its own build: line 16 is the label
    "kubernetes/apps/lab/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./ks.yaml
        """,
    "kubernetes/apps/lab/ks.yaml": """
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata:
          name: lab
          namespace: flux-system
        spec:
          interval: 30m
          path: ./kubernetes/apps/lab/app
          prune: true
          sourceRef:
            kind: GitRepository
            name: flux-system
          commonMetadata:
            labels:
              pod-security.kubernetes.io/enforce: privileged
        """,
    "kubernetes/apps/lab/app/kustomization.yaml": """
        ---
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ./namespace.yaml
        """,
    "kubernetes/apps/lab/app/namespace.yaml": """
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: lab
        """,
}


def test_sec_no_pss_cites_the_line_that_set_the_label(tmp_path: Path) -> None:
    write(tmp_path, ESTATE)
    inv = build_inventory(tmp_path)
    d = security.no_pod_security(ctx(inv))
    assert (d.count, d.total) == (8, 9)  # network stays baseline
    assert subjects(d) == [
        "Namespace/downloads", "Namespace/games", "Namespace/home", "Namespace/lab", "Namespace/media",
        "Namespace/scratch", "Namespace/velero", "Namespace/wiki",
    ]  # fmt: skip
    assert refs(d) == [
        "kubernetes/apps/downloads/pss-patch.yaml:7",  # the strategic-merge patch file's label
        "kubernetes/apps/games/kustomization.yaml:8",  # the labels transformer's pair
        "kubernetes/apps/home/kustomization.yaml:14",  # the 6902 op's value: privileged (op: is 12)
        "kubernetes/apps/lab/ks.yaml:16",  # the Flux Kustomization's commonMetadata label
        "kubernetes/apps/media/kustomization.yaml:16",  # the inline strategic-merge patch's label
        "kubernetes/apps/scratch/kustomization.yaml:4",  # removed: the namespace: line that names it
        "kubernetes/apps/velero/namespace.yaml:3",  # its own document writes the label
        "kubernetes/apps/wiki/namespace.yaml:2",  # no label: its document (after the ---)
    ]
    assert d.measures == {"missing": 2, "privileged": 6}
    # each Namespace is cited where it is defined or named (SEC-NO-NETPOL, a missing label), never at a
    # patch repeating its name (the downloads patch file's name: line 5 was downloads' source before)
    sources = {n.name: str(n.source) for n in inv.code.namespaces}
    assert sources["downloads"] == "kubernetes/apps/downloads/namespace.yaml:2"
    assert sources["media"] == "kubernetes/apps/media/kustomization.yaml:4"  # namespace: media


def test_only_labels_the_build_set_have_a_ref(tmp_path: Path) -> None:
    """The record keeps a ref only for a pod-security label a patch or transformer set; the component's
    added labels cite their own lines in its 6902 value; a label its document writes has none."""
    write(tmp_path, ESTATE)
    found = {n.name: n.pod_security_refs for n in build_inventory(tmp_path).code.namespaces}
    component = "kubernetes/components/common/kustomization.yaml"
    assert found["network"] == {
        "enforce": CodeRef(path=component, line=13),
        "warn": CodeRef(path=component, line=14),
    }
    assert found["home"] == {
        "enforce": CodeRef(path="kubernetes/apps/home/kustomization.yaml", line=14),
        "warn": CodeRef(path=component, line=14),
    }
    assert found["scratch"] == {"warn": CodeRef(path=component, line=14)}  # enforce removed
    assert found["velero"] == found["wiki"] == {}
    assert found["downloads"] == {"enforce": CodeRef(path="kubernetes/apps/downloads/pss-patch.yaml", line=7)}
