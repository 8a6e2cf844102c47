"""Print SEC-APISERVER-HARDENING's number: which of {audit logging, secret encryption} nothing configures.

A reader's script (the standard library, and ripgrep on the PATH: ``rg`` picks the files as a search
of the estate does, ``.gitignore`` included). Three searches of the estate's config files
(``*.{yaml,yml,tf,hcl,json,toml,conf,cfg,sh,j2,tpl,env}``, hidden ones too; ``.git`` and cluster
snapshots, directories holding ``_snapshot.json``, not read): what configures the control plane,
audit logging, secret encryption. A hit on a comment line (``#``, ``//``, ``;``, ``--``) or
``secrets-encryption: false`` configures nothing. Defaults count as configured: a Talos machine config
turns on both, RKE2 encrypts Secrets.

    python3 tools/checks/reproduce_scripts/apiserver_count.py ROOT [IGNORED ...]

The arguments after ROOT are accepted and ignored: the check searches files left out as not deployed
too, and finds the snapshots by their marker.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GLOB = "*.{yaml,yml,tf,hcl,json,toml,conf,cfg,sh,j2,tpl,env}"
TALOS = (
    r"\btalosVersion:|^\s*type:\s*(?:controlplane|init)\s*$|secretboxEncryptionSecret|aescbcEncryptionSecret"
)
CLUSTER = (
    r"kind:\s*ClusterConfiguration|kubeadm\.k8s\.io"
    r"|kube-apiserver-arg|/etc/rancher/(?:k3s|rke2)/config\.yaml|\bk3s\s+server\b|INSTALL_K3S_EXEC"
    rf"|\brke2-server\b|secrets-encryption|{TALOS}"
    r"|^\s*(?:kube_network_plugin|kube_encrypt_secret_data|kubernetes_audit):|kube-apiserver|\bapiServer:\s*$"
)
AUDIT = r"audit-policy-file|audit-log-path|audit\.k8s\.io|\bauditPolicy:|kubernetes_audit:\s*true"
ENCRYPTION = (
    r"encryption-provider-config|EncryptionConfiguration|secrets-encryption|secretboxEncryptionSecret"
    r"|aescbcEncryptionSecret|kube_encrypt_secret_data:\s*true"
)
COMMENT = re.compile(r"^\s*(?:#|//|;|--)")
DISABLED = re.compile(r"""secrets-encryption["']?\s*[:=]\s*["']?false""", re.IGNORECASE)


def snapshots(root: Path) -> list[str]:
    return sorted({p.parent.relative_to(root).as_posix() for p in root.rglob("_snapshot.json")} - {"."})


def lines(root: Path, pattern: str) -> list[str]:
    """The matching lines that configure something (not comments, not ``secrets-encryption: false``)."""
    skip = [f"--glob=!{s}/**" for s in snapshots(root)]
    argv = ["rg", "--no-config", "--hidden", "--no-heading", "--no-filename", "--no-line-number"]
    done = subprocess.run(
        [*argv, f"--glob={GLOB}", "--glob=!.git", *skip, "--", pattern],
        cwd=root,
        capture_output=True,
        stdin=subprocess.DEVNULL,  # rg searches a piped stdin instead of the directory
        check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"rg exited {done.returncode}")
    found = done.stdout.decode("utf-8", "replace").splitlines()
    return [t for t in found if not COMMENT.match(t) and not DISABLED.search(t)]


def missing(root: Path) -> int:
    cluster = lines(root, CLUSTER)
    talos = any(re.search(TALOS, t) for t in cluster)
    rke2 = any("rke2" in t.lower() for t in cluster)
    audit = bool(lines(root, AUDIT)) or talos
    encryption = bool(lines(root, ENCRYPTION)) or talos or rke2
    return int(not audit) + int(not encryption)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print("usage: apiserver_count.py ROOT [IGNORED ...]", file=sys.stderr)
        sys.exit(2)
    print(missing(Path(sys.argv[1])))
