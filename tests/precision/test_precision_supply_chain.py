"""Image supply chain (SEC-NO-IMAGE-VERIFY): signature verification only by real admission rules,
scanning by a CI step, the Trivy operator or a scanning registry; comments and look-alike options
count for nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import detect, subjects

pytestmark = pytest.mark.unit

CHECK = "SEC-NO-IMAGE-VERIFY"
VERIFY, SCAN = "image signature verification", "vulnerability scanning"

KYVERNO_VERIFY = """
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: verify}
spec:
  validationFailureAction: Enforce
  rules:
    - name: cosign
      match: {any: [{resources: {kinds: [Pod]}}]}
      verifyImages:
        - imageReferences: ["ghcr.io/acme/*"]
          attestors: [{entries: [{keys: {publicKeys: "-----BEGIN PUBLIC KEY-----"}}]}]
"""
SIGSTORE = """
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: signed}
spec:
  images: [{glob: "ghcr.io/acme/**"}]
  authorities: [{keyless: {url: "https://fulcio.sigstore.dev"}}]
"""
IMAGE_VALIDATING = """
apiVersion: policies.kyverno.io/v1alpha1
kind: ImageValidatingPolicy
metadata: {name: signed}
spec:
  matchImageReferences: [{glob: "ghcr.io/acme/*"}]
"""
CONNAISSEUR = """
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: connaisseur, namespace: connaisseur}
spec:
  chart: {spec: {chart: connaisseur, version: 2.8.0, sourceRef: {kind: HelmRepository, name: c}}}
"""
HARBOR = CONNAISSEUR.replace("connaisseur", "harbor").replace("2.8.0", "1.16.0")
TRIVY_CI = """
on: [push]
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - run: trivy image ghcr.io/acme/web:1.0
"""


@pytest.mark.parametrize("policy", [KYVERNO_VERIFY, SIGSTORE, IMAGE_VALIDATING, CONNAISSEUR])
def test_a_real_admission_rule_verifies(tmp_path: Path, policy: str) -> None:
    d = detect(tmp_path, {"policies/verify.yaml": policy}, CHECK)
    assert (d.count, subjects(d)) == (1, [SCAN])


@pytest.mark.parametrize("scanner", [{".github/workflows/scan.yml": TRIVY_CI}, {"infra/harbor.yaml": HARBOR}])
def test_a_ci_step_or_a_scanning_registry_scans(tmp_path: Path, scanner: dict[str, str]) -> None:
    d = detect(tmp_path, scanner, CHECK)
    assert (d.count, subjects(d)) == (1, [VERIFY])


LOOKALIKES = {
    # a comment and an app's own option of the same name: before, each made "verification" present
    "apps/notes.yaml": "# TODO: verifyImages with cosign once images are signed\nkind: ConfigMap\n",
    "apps/values.yaml": "registry:\n  cosign: true\n  notation:\n    enabled: true\n",
    "policies/mutate.yaml": """
        apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: add-labels}
        spec:
          rules: [{name: m, mutate: {patchStrategicMerge: {metadata: {labels: {cosign: "no"}}}}}]
        """,
    # a scanner named in a CI comment is not a step
    ".github/workflows/ci.yml": "# trivy and grype later\non: [push]\njobs:\n  t:\n"
    "    steps:\n      - run: make\n",
}


def test_comments_and_lookalike_options_verify_and_scan_nothing(tmp_path: Path) -> None:
    d = detect(tmp_path, LOOKALIKES, CHECK)
    assert (d.count, d.total, subjects(d)) == (2, 2, [VERIFY, SCAN])


def test_sigstore_warn_mode_is_audit_only(tmp_path: Path) -> None:
    files = {"p.yaml": SIGSTORE.replace("spec:\n", "spec:\n  mode: warn\n", 1)}
    d = detect(tmp_path, files, "SEC-POLICY-AUDIT-ONLY")
    assert (d.count, d.total, [loc.ref for loc in d.locations]) == (1, 1, ["p.yaml:5"])
    assert detect(tmp_path / "enforce", {"p.yaml": SIGSTORE}, "SEC-POLICY-AUDIT-ONLY").count == 0
