"""Security checks of the supply chain: image signature verification and vulnerability scanning.

Counting rules:

* SEC-NO-IMAGE-VERIFY: count = how many of {signature verification, vulnerability scanning} the
  estate lacks (total 2). Verification only by a real admission rule, read from the inventory (YAML,
  Terraform ``kubernetes_manifest``, live): a Kyverno rule with ``verifyImages`` or an
  ImageValidatingPolicy, a sigstore policy-controller ClusterImagePolicy, a Helm release of Connaisseur
  or Ratify. Not: the words cosign/notation/verifyImages in a comment, a doc or an app's own option
  of that name (a values key ``cosign: true``). Scanning: a CI step whose command runs trivy, grype
  or snyk (a comment in the CI file is not a step), a Helm release of trivy-operator or of Harbor
  (its registry scans with Trivy).

API server hardening lives in ``security_cluster.py``; the plaintext-secret check in
``security_secrets.py``.
"""

from __future__ import annotations

from domain.findings import Location
from tools.checks.spec import CheckContext, Detection, detector

VERIFY_CHARTS = frozenset({"connaisseur", "ratify"})
SCAN_CHARTS = frozenset({"trivy-operator", "harbor"})
SCANNER_STEPS = frozenset({"trivy", "grype", "snyk"})


def _chart(name: str | None) -> str:
    return (name or "").rsplit("/", 1)[-1].lower()


def verifiers(ctx: CheckContext) -> list[str]:
    """Refs of real image signature admission: a Kyverno rule with ``verifyImages`` or an
    ImageValidatingPolicy, a sigstore ClusterImagePolicy (code or live), or a Helm release of
    Connaisseur or Ratify."""
    live = ctx.inventory.live
    policies = ctx.inventory.code.policies + (live.policies if live is not None else [])
    found = [str(p.source) for p in policies if p.verifies_images]
    found += [str(r.source) for r in ctx.inventory.code.helm_releases if _chart(r.chart) in VERIFY_CHARTS]
    return found


def scanners(ctx: CheckContext) -> list[str]:
    """Refs of vulnerability scanning: a CI step running a scanner, the Trivy operator, or a registry
    that scans what is pushed (Harbor, whose chart runs Trivy)."""
    found = [str(f.source) for f in ctx.inventory.code.ci_files if set(f.validations) & SCANNER_STEPS]
    found += [str(r.source) for r in ctx.inventory.code.helm_releases if _chart(r.chart) in SCAN_CHARTS]
    return found


@detector("SEC-NO-IMAGE-VERIFY")
def no_image_verify(ctx: CheckContext) -> Detection:
    """Missing of {signature verification, vulnerability scanning}; total 2."""
    locations = []
    if not verifiers(ctx):
        locations.append(
            Location(
                ref="-",
                subject="image signature verification",
                detail="no Kyverno verifyImages rule or ImageValidatingPolicy, no sigstore "
                "ClusterImagePolicy, no Connaisseur or Ratify release",
            )
        )
    if not scanners(ctx):
        locations.append(
            Location(
                ref="-",
                subject="vulnerability scanning",
                detail="no trivy/grype/snyk step in CI, no trivy-operator, no Harbor (Trivy) registry",
            )
        )
    return Detection(count=len(locations), total=2, locations=locations)
