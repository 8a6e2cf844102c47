"""Facts about workloads that the reliability and scalability detections share.

Each answers one question the way the API server would: how many replicas a workload runs (an
unset ``replicas`` is the API default 1; an unresolved Terraform expression is unknown, not 1),
which containers run for the pod's lifetime (init containers do not), and which volumes pin a pod
to one node (ReadWriteOnce claims).
"""

from __future__ import annotations

from collections.abc import Iterable

from tools.inventory.inventory import Inventory
from tools.inventory.models import PVC, Container, Workload

RWO_MODES = frozenset({"ReadWriteOnce", "ReadWriteOncePod"})
SHARED_MODES = frozenset({"ReadWriteMany", "ReadOnlyMany"})
SCALABLE_KINDS = frozenset({"Deployment", "StatefulSet"})


def replicas(workload: Workload) -> int | None:
    """The replica count the API server would run; None when it is an unresolved expression."""
    if workload.replicas is not None:
        return workload.replicas
    return None if workload.replicas_expr else 1


def regular_containers(workload: Workload) -> list[Container]:
    """The containers that run for the pod's lifetime (init containers excluded)."""
    return [c for c in workload.containers if not c.init]


def is_rwo(pvc: PVC) -> bool:
    """A claim only one node can mount: an RWO mode and no shared (many-node) mode."""
    modes = set(pvc.access_modes)
    return bool(modes & RWO_MODES) and not modes & SHARED_MODES


def all_pvcs(inventory: Inventory) -> list[PVC]:
    """PersistentVolumeClaim records from code, then from the cluster."""
    return list(inventory.code.pvcs) + (list(inventory.live.pvcs) if inventory.live is not None else [])


def rwo_claims(inventory: Inventory) -> set[tuple[str | None, str]]:
    """(namespace, name) of every ReadWriteOnce claim, from code or the cluster."""
    return {(p.namespace, p.name) for p in all_pvcs(inventory) if p.name is not None and is_rwo(p)}


def claim_names(workload: Workload) -> list[str]:
    """Names of the PersistentVolumeClaims a workload mounts as pod volumes."""
    return [v.claim_name for v in workload.volumes if v.type == "pvc" and v.claim_name]


def has_pvc_volume(workload: Workload) -> bool:
    """True when the pod keeps state in a claim (a pvc volume or a volumeClaimTemplate)."""
    return any(v.type == "pvc" for v in workload.volumes) or bool(workload.volume_claim_templates)


def by_namespace(items: Iterable[Workload]) -> dict[str | None, list[Workload]]:
    grouped: dict[str | None, list[Workload]] = {}
    for item in items:
        grouped.setdefault(item.namespace, []).append(item)
    return grouped
