#!/usr/bin/env bash
# Push scripts/pve-nfs-exports to the Proxmox host and reload the NFS exports.
# Not run by Terraform: see docs/runbooks/nfs-exports.md.
set -euo pipefail

PVE_HOST="${PVE_HOST:-root@pve}"
HERE="$(cd "$(dirname "$0")" && pwd)"

echo "--- diff against the live /etc/exports"
ssh "$PVE_HOST" cat /etc/exports | diff -u - "$HERE/pve-nfs-exports" || true

read -r -p "apply? [y/N] " answer
[ "$answer" = "y" ] || exit 1

scp "$HERE/pve-nfs-exports" "$PVE_HOST:/etc/exports"
ssh "$PVE_HOST" exportfs -ra
ssh "$PVE_HOST" exportfs -v
