"""API server hardening, judged only where the repo configures the control plane.

Counting rule:

* SEC-APISERVER-HARDENING: applicable only when the repo configures the cluster's control plane: a
  kubeadm ``ClusterConfiguration``; a k3s or RKE2 server config (``kube-apiserver-arg``,
  ``/etc/rancher/{k3s,rke2}/config.yaml``, ``k3s server``, ``INSTALL_K3S_EXEC``, ``secrets-encryption``);
  a Talos machine config or talhelper file (``talosVersion:``, ``type: controlplane``, ``secretbox`` or
  ``aescbc`` encryption secrets); kubespray group vars (``kube_network_plugin:``,
  ``kube_encrypt_secret_data:``, ``kubernetes_audit:``); kube-apiserver flags or an ``apiServer:``
  block; or a Terraform provisioner copying a file to a master/control-plane host. Otherwise the
  check does not apply and says so: "not configured in this repo".
  count = how many of {audit logging, secret encryption at rest} nothing configures:
  audit by ``audit-policy-file``/``audit-log-path``, an ``audit.k8s.io`` Policy, Talos ``auditPolicy:``,
  kubespray ``kubernetes_audit: true``; encryption by ``encryption-provider-config``, an
  ``EncryptionConfiguration``, k3s ``secrets-encryption`` (not ``false``), Talos
  ``secretboxEncryptionSecret``/``aescbcEncryptionSecret``, kubespray ``kube_encrypt_secret_data: true``.
  Defaults count as configured: Talos turns on both (a default audit policy, secretbox), RKE2 encrypts
  Secrets. Not counted: a line that is a comment (``#``, ``//``), ``secrets-encryption: false``,
  text in docs (only config files are searched) and cluster snapshots (live state, not configuration).
  ref = the line that configures the cluster, the most specific source first (kubeadm, k3s/RKE2,
  Talos, kubespray, API server flags, the provisioner), never an audit or encryption hit elsewhere.
"""

from __future__ import annotations

import re

from domain.findings import Location
from tools.checks.detections.repo_evidence import Hit, Search, problems, search, snapshot_dirs
from tools.checks.spec import CheckContext, Detection, detector

AGENT = "security"
CONFIG_GLOB = "*.{yaml,yml,tf,hcl,json,toml,conf,cfg,sh,j2,tpl,env}"
SOURCES: tuple[tuple[str, str], ...] = (
    ("kubeadm ClusterConfiguration", r"kind:\s*ClusterConfiguration|kubeadm\.k8s\.io"),
    (
        "k3s/RKE2 server config",
        r"kube-apiserver-arg|/etc/rancher/(?:k3s|rke2)/config\.yaml|\bk3s\s+server\b|INSTALL_K3S_EXEC"
        r"|\brke2-server\b|secrets-encryption",
    ),
    (
        "Talos machine config",
        r"\btalosVersion:|^\s*type:\s*(?:controlplane|init)\s*$|secretboxEncryptionSecret|aescbcEncryptionSecret",
    ),
    ("kubespray group vars", r"^\s*(?:kube_network_plugin|kube_encrypt_secret_data|kubernetes_audit):"),
    ("kube-apiserver flags", r"kube-apiserver|\bapiServer:\s*$"),
)
CLUSTER_PATTERN = "|".join(f"(?:{pattern})" for _, pattern in SOURCES)
AUDIT_PATTERN = r"audit-policy-file|audit-log-path|audit\.k8s\.io|\bauditPolicy:|kubernetes_audit:\s*true"
ENCRYPTION_PATTERN = (
    r"encryption-provider-config|EncryptionConfiguration|secrets-encryption|secretboxEncryptionSecret"
    r"|aescbcEncryptionSecret|kube_encrypt_secret_data:\s*true"
)
_SOURCE_RES = tuple((name, re.compile(pattern)) for name, pattern in SOURCES)
_COMMENT = re.compile(r"^\s*(?:#|//|;|--)")
_DISABLED = re.compile(r"""secrets-encryption["']?\s*[:=]\s*["']?false""", re.IGNORECASE)
_CONTROL_PLANE_WORDS = ("master", "control-plane", "controlplane", "control_plane", "apiserver")
NOT_CONFIGURED = (
    "not configured in this repo: no kubeadm, k3s/RKE2, Talos or kubespray config, no API server flags "
    "and no file copied to a control-plane host; the control plane is configured elsewhere"
)


def _live(hits: list[Hit]) -> list[Hit]:
    """Hits that configure something: comment lines and ``secrets-encryption: false`` are not."""
    return [h for h in hits if not _COMMENT.match(h.text) and not _DISABLED.search(h.text)]


def _control_plane_copy(ctx: CheckContext) -> str | None:
    """The ref of an escape hatch copying a file to a control-plane node (its connection host or its
    address names one: ``var.master_host``, ``null_resource.apiserver_oidc``), if any."""
    for hatch in ctx.inventory.code.escape_hatches:
        for p in hatch.provisioners:
            names = f"{p.connection_host or ''} {hatch.address}".lower()
            if p.type == "file" and any(word in names for word in _CONTROL_PLANE_WORDS):
                return str(hatch.source)
    return None


def configured_at(hits: list[Hit]) -> tuple[str, Hit] | None:
    """The most specific cluster source among the hits, and its first hit (by path, line)."""
    for name, pattern in _SOURCE_RES:
        matching = sorted((h for h in hits if pattern.search(h.text)), key=lambda h: (h.path, h.line))
        if matching:
            return name, matching[0]
    return None


@detector("SEC-APISERVER-HARDENING")
def apiserver_hardening(ctx: CheckContext) -> Detection:
    """When the repo configures the control plane: missing of {audit logging, secret encryption}."""
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    config = search(ctx, AGENT, CLUSTER_PATTERN, glob=CONFIG_GLOB, exclude_dirs=snapshots)
    cluster_hits = _live(config.hits)
    source = configured_at(cluster_hits)
    copy_ref = _control_plane_copy(ctx)
    if source is None and copy_ref is None:
        return Detection(
            count=0, applicable=False, note=NOT_CONFIGURED, evidence=[config.evidence, listing_ev]
        )
    kind, where = (
        (source[0], source[1].ref) if source else ("a file copied to the control plane", str(copy_ref))
    )
    audit = search(ctx, AGENT, AUDIT_PATTERN, glob=CONFIG_GLOB, exclude_dirs=snapshots)
    encryption = search(ctx, AGENT, ENCRYPTION_PATTERN, glob=CONFIG_GLOB, exclude_dirs=snapshots)
    talos = any(re.search(SOURCES[2][1], h.text) for h in cluster_hits)
    rke2 = any("rke2" in h.text.lower() for h in cluster_hits)
    checks: list[tuple[str, Search, bool, str]] = [
        (
            "audit logging",
            audit,
            talos,
            "no audit policy (--audit-policy-file, audit.k8s.io Policy, auditPolicy)",
        ),
        (
            "secret encryption at rest",
            encryption,
            talos or rke2,
            "no EncryptionConfiguration, secrets-encryption, or Talos secretbox/aescbc secret",
        ),
    ]
    locations = [
        Location(
            ref=where,
            subject=subject,
            detail=f"not configured in this repo: {why}; the cluster is configured here ({kind})",
        )
        for subject, found, by_default, why in checks
        if not _live(found.hits) and not by_default
    ]
    return Detection(
        count=len(locations),
        total=2,
        locations=locations,
        evidence=[config.evidence, audit.evidence, encryption.evidence, listing_ev],
        note=problems(config, audit, encryption),
    )
