"""Security checks that search the repo: supply-chain controls and API server hardening.

Counting rules:

* SEC-NO-IMAGE-VERIFY: count = how many of {signature verification, vulnerability scanning} the
  estate lacks (total 2). Verification: ``verifyImages``, ``cosign``, ``policy.sigstore.dev``,
  ``connaisseur``, ``ratify`` or ``notation`` in a YAML/HCL/JSON file. Scanning: a CI file running
  trivy, grype or snyk, or a Helm release of trivy-operator.
* SEC-APISERVER-HARDENING: applicable only when the repo configures the cluster itself (API server
  flags, kubeadm ClusterConfiguration, k3s/RKE2 server config, or a provisioner copying files to a
  master/control-plane host). count = how many of {audit logging, secret encryption at rest} no
  config file mentions.

Cluster snapshot directories are not searched (they are live state, not configuration). The
plaintext-secret check lives in ``security_secrets.py``.
"""

from __future__ import annotations

from domain.findings import Location
from tools.checks.detections.repo_evidence import Search, problems, search, snapshot_dirs
from tools.checks.spec import CheckContext, Detection, detector

AGENT = "security"
CONFIG_GLOB = "*.{yaml,yml,tf,hcl,json,toml,conf,cfg,sh,j2,tpl}"
CI_GLOB = (
    "{.github/workflows/*,.gitlab-ci.yml,.woodpecker.yml,.woodpecker.yaml,.woodpecker/*,.drone.yml,"
    ".circleci/*,Jenkinsfile}"
)
VERIFY_PATTERN = r"verifyImages|\bcosign\b|policy\.sigstore\.dev|\bconnaisseur\b|\bratify\b|\bnotation\b"
SCAN_PATTERN = r"\b(?:trivy|grype|snyk)\b"
CLUSTER_CONFIG_PATTERN = (
    r"kube-apiserver|kubeadm\.k8s\.io|kind:\s*ClusterConfiguration|secrets-encryption"
    r"|/etc/rancher/(?:k3s|rke2)/config\.yaml|\bapiServer:\s*$"
)
AUDIT_PATTERN = r"audit-policy-file|audit-log-path|audit\.k8s\.io"
ENCRYPTION_PATTERN = r"encryption-provider-config|EncryptionConfiguration|secrets-encryption"
_CONTROL_PLANE_WORDS = ("master", "control-plane", "controlplane", "control_plane", "apiserver")


@detector("SEC-NO-IMAGE-VERIFY")
def no_image_verify(ctx: CheckContext) -> Detection:
    """Missing of {signature verification, vulnerability scanning}; total 2."""
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    verify = search(ctx, AGENT, VERIFY_PATTERN, glob="*.{yaml,yml,tf,hcl,json}", exclude_dirs=snapshots)
    scan = search(ctx, AGENT, SCAN_PATTERN, glob=CI_GLOB, ignore_case=True, exclude_dirs=snapshots)
    operator = [r for r in ctx.inventory.code.helm_releases if "trivy-operator" in (r.chart or r.name or "")]
    ci_trivy = [f for f in ctx.inventory.code.ci_files if "trivy" in f.validations]
    locations = []
    if not verify.hits:
        locations.append(
            Location(
                ref="-",
                subject="image signature verification",
                detail="no Kyverno verifyImages, cosign, sigstore policy-controller, connaisseur or ratify",
            )
        )
    if not scan.hits and not operator and not ci_trivy:
        locations.append(
            Location(
                ref="-",
                subject="vulnerability scanning",
                detail="no trivy/grype/snyk in CI, no trivy-operator",
            )
        )
    return Detection(
        count=len(locations),
        total=2,
        locations=locations,
        evidence=[verify.evidence, scan.evidence, listing_ev],
        note=problems(verify, scan),
    )


def _control_plane_copy(ctx: CheckContext) -> str | None:
    """The ref of an escape hatch copying a file to a control-plane node (its connection host or its
    address names one: ``var.master_host``, ``null_resource.apiserver_oidc``), if any."""
    for hatch in ctx.inventory.code.escape_hatches:
        for p in hatch.provisioners:
            names = f"{p.connection_host or ''} {hatch.address}".lower()
            if p.type == "file" and any(word in names for word in _CONTROL_PLANE_WORDS):
                return str(hatch.source)
    return None


@detector("SEC-APISERVER-HARDENING")
def apiserver_hardening(ctx: CheckContext) -> Detection:
    """When the repo configures the cluster: missing of {audit logging, secret encryption}."""
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    config = search(ctx, AGENT, CLUSTER_CONFIG_PATTERN, glob=CONFIG_GLOB, exclude_dirs=snapshots)
    copy_ref = _control_plane_copy(ctx)
    if not config.hits and copy_ref is None:
        return Detection(
            count=0,
            applicable=False,
            note="the repo does not configure the cluster itself (no API server, kubeadm or k3s/RKE2 config)",
            evidence=[config.evidence, listing_ev],
        )
    where = config.hits[0].ref if config.hits else str(copy_ref)
    audit = search(ctx, AGENT, AUDIT_PATTERN, glob=CONFIG_GLOB, exclude_dirs=snapshots)
    encryption = search(ctx, AGENT, ENCRYPTION_PATTERN, glob=CONFIG_GLOB, exclude_dirs=snapshots)
    missing: list[tuple[str, Search, str]] = [
        ("audit logging", audit, "no --audit-policy-file/--audit-log-path or audit.k8s.io Policy"),
        ("secret encryption at rest", encryption, "no EncryptionConfiguration or --secrets-encryption"),
    ]
    locations = [
        Location(ref=where, subject=subject, detail=f"{why}; the cluster is configured here")
        for subject, found, why in missing
        if not found.hits
    ]
    return Detection(
        count=len(locations),
        total=2,
        locations=locations,
        evidence=[config.evidence, audit.evidence, encryption.evidence, listing_ev],
        note=problems(config, audit, encryption),
    )
