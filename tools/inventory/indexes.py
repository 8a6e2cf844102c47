"""Lookups over an inventory's record lists, built once and kept on the records they index.

A check that asks "which live object is this workload?" for every workload must not scan every
object each time: at 10,000 pods that is 10^8 comparisons (issue 13). Each index here is built on
first use, kept on the ``Records`` (or ``LiveState``) it indexes, and rebuilt only if that list was
replaced or changed length, so every check of a run shares one. An index is read through the list's
own attribute (``live.objects``), so the runner's watch of which lists a check read (for a partly
unread cluster) sees the same reads as a scan would.

Every index keeps the order and first-match rule of the scan it replaces, so outputs are the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from tools.inventory.sources import CodeRef

if TYPE_CHECKING:
    from tools.inventory.inventory import LiveState, Records
    from tools.inventory.live_health_models import ScaledToZero
    from tools.inventory.models import HelmRelease, JobState, Workload

T = TypeVar("T")
WorkloadKey = tuple[str, str | None, str | None]


def cached(
    records: Any, name: str, source: Sequence[Any], build: Callable[[], T], *more: Sequence[Any] | None
) -> T:
    """The index ``name`` of ``records``, built from ``source`` (and ``more``) by ``build`` unless
    already built from them (the same lists, of the same lengths). A check module's value worked out
    once per records goes through it too (``scalability_live.node_requests``)."""
    cache: dict[str, tuple[tuple[Any, ...], Any]] = records.index_cache
    stamp = tuple((id(s), len(s)) if s is not None else None for s in (source, *more))
    hit = cache.get(name)
    if hit is not None and hit[0] == stamp:
        return cast(T, hit[1])
    value = build()
    cache[name] = (stamp, value)
    return value


def audited_workloads(
    code: Records, live: LiveState | None, kinds: frozenset[str] | None
) -> tuple[Workload, ...]:
    """The code workloads, then the live workloads no code workload has the key of (a Pod, ReplicaSet
    or Job is runtime, never one), of ``kinds`` when given, in that order. Nearly every check asks
    (``detections.common.workloads``); at 10k pods each asking walked 7k live workloads. The lists
    are read here on every call, so a check's reads are seen as before."""
    code_workloads = code.workloads
    live_workloads = live.workloads if live is not None else None

    def build() -> dict[frozenset[str] | None, tuple[Workload, ...]]:
        code_keys = {w.key for w in code_workloads}
        chosen = list(code_workloads)
        runtime = ("Pod", "ReplicaSet", "Job")
        chosen += [w for w in live_workloads or () if w.key not in code_keys and w.kind not in runtime]
        return {None: tuple(chosen)}

    by_kinds = cached(code, "audited_workloads", code_workloads, build, live_workloads)
    found = by_kinds.get(kinds)
    if found is None:
        found = by_kinds[kinds] = tuple(w for w in by_kinds[None] if kinds is None or w.kind in kinds)
    return found


def live_managers(live: LiveState) -> dict[WorkloadKey, str]:
    """(kind, namespace, name) -> the manager mark of the first live object of that key that has one."""
    return _first_by_key(live, "managed_by")


def live_owners(live: LiveState) -> dict[WorkloadKey, str]:
    """(kind, namespace, name) -> the owner (``LiveObject.owner``) of the first live object of that key
    that has one."""
    return _first_by_key(live, "owner")


def _first_by_key(live: LiveState, field: str) -> dict[WorkloadKey, str]:
    objects = live.objects

    def build() -> dict[WorkloadKey, str]:
        found: dict[WorkloadKey, str] = {}
        for obj in objects:
            value = getattr(obj, field)
            if value:
                found.setdefault((obj.kind, obj.namespace, obj.name), value)
        return found

    return cached(live, f"live_{field}", objects, build)


def workload_keys(records: Records) -> frozenset[WorkloadKey]:
    """The (kind, namespace, name) of every workload of ``records``."""
    workloads = records.workloads
    return cached(records, "workload_keys", workloads, lambda: frozenset(w.key for w in workloads))


def defines(records: Records, key: WorkloadKey) -> bool:
    """Whether a workload of ``records`` has ``key``, or its kind and name without a namespace."""
    keys = workload_keys(records)
    kind, _, name = key
    return key in keys or (kind, None, name) in keys


def releases_by_namespace(records: Records) -> dict[str | None, list[HelmRelease]]:
    """The Helm releases of ``records`` by namespace, in their order."""
    releases = records.helm_releases

    def build() -> dict[str | None, list[HelmRelease]]:
        grouped: dict[str | None, list[HelmRelease]] = {}
        for release in releases:
            grouped.setdefault(release.namespace, []).append(release)
        return grouped

    return cached(records, "releases_by_namespace", releases, build)


def jobs_by_name(live: LiveState) -> dict[tuple[str, str], JobState]:
    """(namespace, name) -> the first live Job of that name."""
    jobs = live.jobs

    def build() -> dict[tuple[str, str], JobState]:
        found: dict[tuple[str, str], JobState] = {}
        for job in jobs:
            found.setdefault((job.namespace, job.name), job)
        return found

    return cached(live, "jobs_by_name", jobs, build)


def scaled_to_zero_by_namespace(live: LiveState) -> dict[str, list[ScaledToZero]]:
    """The live workloads scaled to 0 by namespace, in their order."""
    zeros = live.scaled_to_zero

    def build() -> dict[str, list[ScaledToZero]]:
        grouped: dict[str, list[ScaledToZero]] = {}
        for zero in zeros:
            grouped.setdefault(zero.namespace, []).append(zero)
        return grouped

    return cached(live, "scaled_to_zero_by_namespace", zeros, build)


def workload_spans(records: Records) -> dict[str, list[tuple[int, int | None]]]:
    """Code path -> the (line, end_line) of every workload written in it, in order."""
    workloads = records.workloads

    def build() -> dict[str, list[tuple[int, int | None]]]:
        spans: dict[str, list[tuple[int, int | None]]] = {}
        for workload in workloads:
            src = workload.source
            if isinstance(src, CodeRef):
                spans.setdefault(src.path, []).append((src.line, src.end_line))
        return spans

    return cached(records, "workload_spans", workloads, build)
