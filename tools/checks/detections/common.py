"""What several detections share: which workloads to look at, how to name and locate them.

A workload defined in code and also seen live is counted once, from code (its ref is ``path:line``,
which is what a fix edits); a live workload that no code defines is counted from the cluster.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from domain.findings import Location
from tools.inventory import indexes
from tools.inventory.inventory import Inventory
from tools.inventory.models import CodeRef, Container, SecurityContext, Source, Workload

LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})


def subject(workload: Workload) -> str:
    return f"{workload.kind}/{workload.namespace or '-'}/{workload.name or workload.name_expr or '?'}"


def location(workload: Workload, detail: str | None = None, ref: str | None = None) -> Location:
    """At the workload's source, or at ``ref`` (a rendered workload: the values line that set it)."""
    return Location(ref=ref or str(workload.source), subject=subject(workload), detail=detail)


def container_location(workload: Workload, container: Container, detail: str | None = None) -> Location:
    """At the container: its image line in the file that defines it, else the container's own line."""
    ref = str(container.source)
    if container.image_line is not None and ":" in ref:
        ref = f"{ref.rsplit(':', 1)[0]}:{container.image_line}"
    return Location(ref=ref, subject=f"{subject(workload)}/{container.name}", detail=detail)


def image_location(workload: Workload, container: Container, detail: str | None = None) -> Location:
    """A finding about the image: at the line that set it, in an overlay's patch or ``images:`` entry
    when one did (a built object), else as ``container_location``."""
    where = container_location(workload, container, detail)
    return where.model_copy(update={"ref": str(container.image_ref)}) if container.image_ref else where


def line_location(workload: Workload, fields: Iterable[str], detail: str | None = None) -> Location:
    """A workload's finding cited at the first offending field's own line (``replicas: 1``,
    ``type: Recreate``, ``hostNetwork: true``, a hostPath volume; in the patch or transformer that
    set it, for a built object), else at the object."""
    where = location(workload, detail)
    if isinstance(workload.source, CodeRef):
        for f in fields:
            if f in workload.refs:
                return where.model_copy(update={"ref": str(workload.refs[f])})
            if f in workload.lines:
                return where.model_copy(update={"ref": f"{workload.source.path}:{workload.lines[f]}"})
    return where


def field_location(
    workload: Workload, container: Container, fields: Iterable[str], detail: str | None = None
) -> Location:
    """A container's finding cited at the first offending field's own line (``privileged: true``), from
    the container's security context, then the pod's (in the patch that set it, for a built object);
    the image line when no field line is known."""
    where = container_location(workload, container, detail)
    if not isinstance(container.source, CodeRef):
        return where
    for name in fields:
        cited = _written(container.security, name, container.source) or _written(
            workload.pod_security, name, workload.source
        )
        if cited is not None:
            return where.model_copy(update={"ref": cited})
    return where


def _written(security: SecurityContext, name: str, source: Source) -> str | None:
    """Where a security-context field was written: its line in ``source``'s file, else the patch's."""
    line = security.lines.get(name)
    if line is not None and isinstance(source, CodeRef):
        return f"{source.path}:{line}"
    ref = security.refs.get(name)
    return str(ref) if ref is not None else None


def workloads(inventory: Inventory, kinds: Iterable[str] | None = None) -> list[Workload]:
    """Code workloads, plus live workloads that no code workload links to (owned pods excluded)."""
    wanted = frozenset(kinds) if kinds is not None else None
    return list(indexes.audited_workloads(inventory.code, inventory.live, wanted))  # worked out once


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
