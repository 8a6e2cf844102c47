"""Write a snapshot directory from any backend: live -> snapshot, or snapshot -> snapshot.

The output is the format ``SnapshotBackend`` reads first (``_snapshot.json`` plus one
``<group>.<version>.<plural>.json`` List per type), written so two snapshots of the same state are
byte-identical: sorted keys, indent 2, items in (namespace, name) order, no ``managedFields``.

What is stored is what an audit reads, and nothing that should not leave the cluster: Secrets and
ConfigMaps are metadata only (ConfigMaps hold credentials often enough), CRDs lose their OpenAPI
schemas (megabytes that no check reads), and every object passes through the redactor.

The write is atomic: everything goes to a temporary directory beside ``out_dir``, which is renamed
into place at the end, so an interrupted snapshot leaves nothing that looks like a snapshot. An
existing non-empty directory is refused unless it is itself a snapshot (then it is replaced).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from domain.errors import SnapshotError
from tools.kube.backend import (
    KubeBackend,
    KubeObject,
    KubeQueryError,
    MetricsKind,
    UnavailableError,
    sort_key,
)
from tools.kube.resources import (
    AUDIT_RESOURCES,
    METRICS_GROUP,
    ResourceTable,
    ResourceType,
    UnknownResourceError,
)
from tools.kube.snapshot import META_FILE, SNAPSHOT_FORMAT, UNREAD_KEY
from tools.redact import redact_object

NOT_SERVED = "not served by the source"


class SnapshotSummary(BaseModel):
    """What a snapshot holds, and what it left out and why."""

    model_config = ConfigDict(extra="forbid")

    out_dir: str
    cluster: str
    captured_at: str
    files: dict[str, int] = Field(default_factory=dict, description="File name to number of objects.")
    skipped: dict[str, str] = Field(default_factory=dict, description="Resource to the reason it is absent.")

    @property
    def unread(self) -> dict[str, str]:
        """Types the source served but that could not be read (refused, failed), with the reason."""
        return {k: v for k, v in self.skipped.items() if v != NOT_SERVED and not k.endswith(METRICS_GROUP)}

    @property
    def objects(self) -> int:
        return sum(self.files.values())

    def __str__(self) -> str:
        absent = [k for k, v in self.skipped.items() if v == NOT_SERVED]
        refused = {k: v for k, v in self.skipped.items() if v != NOT_SERVED}
        text = f"{self.objects} objects of {len(self.files)} types from cluster {self.cluster!r}"
        if absent:
            text += f"; {len(absent)} audited types not served by the source"
        if refused:
            text += "; skipped " + ", ".join(f"{k} ({v})" for k, v in refused.items())
        return text


def _stored_form(rtype: ResourceType, obj: KubeObject) -> KubeObject:
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    if rtype.group == "" and rtype.plural in ("secrets", "configmaps"):
        stored: KubeObject = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "metadata": meta}
    else:
        stored = {**obj, "metadata": meta}
    if rtype.plural == "customresourcedefinitions" and isinstance(stored.get("spec"), dict):
        spec = dict(stored["spec"])
        spec["versions"] = [
            {k: v for k, v in ver.items() if k != "schema"}
            for ver in spec.get("versions") or []
            if isinstance(ver, dict)
        ]
        stored["spec"] = spec
    redacted: KubeObject = redact_object(stored)
    return redacted


def _dump(path: Path, payload: Any) -> None:
    path.write_text(
        json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _check_target(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise SnapshotError(f"snapshot target {str(out_dir)!r} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / META_FILE).is_file():
        raise SnapshotError(
            f"refusing to write into {str(out_dir)!r}: it is not empty and not a snapshot (no {META_FILE})"
        )


def _types(backend: KubeBackend, resources: list[str] | None, skipped: dict[str, str]) -> list[ResourceType]:
    try:
        served = backend.api_resources()
    except KubeQueryError as exc:
        raise SnapshotError(f"cannot discover the cluster's resource types: {exc.message}") from exc
    table = ResourceTable(served)
    served_keys = {(t.group, t.plural) for t in served}
    chosen: dict[tuple[str, str], ResourceType] = {}
    for name in resources or list(AUDIT_RESOURCES):
        try:
            rtype = table.resolve(name)
        except UnknownResourceError as exc:
            if resources:
                raise SnapshotError(str(exc)) from exc
            continue
        if (rtype.group, rtype.plural) not in served_keys and rtype.group != METRICS_GROUP:
            skipped[name] = NOT_SERVED
            continue
        chosen[(rtype.group, rtype.plural)] = rtype
    return list(chosen.values())


def _metrics_wanted(resources: list[str] | None, types: list[ResourceType]) -> list[MetricsKind]:
    """Metrics come with the default set; an explicit list gets them only when it names them."""
    if resources is None:
        return ["nodes", "pods"]
    return [
        what for what in ("nodes", "pods") if (METRICS_GROUP, what) in {(t.group, t.plural) for t in types}
    ]


SNAPSHOT_ATTEMPTS = 3
SNAPSHOT_RETRY_WAIT = 1.0  # seconds before the first retry; doubled before each next, at most 10x


def _backoff(first: float) -> wait_exponential:
    return wait_exponential(multiplier=first, min=first, max=10 * first)


@retry(
    retry=retry_if_exception_type(UnavailableError),
    stop=stop_after_attempt(SNAPSHOT_ATTEMPTS),
    wait=_backoff(SNAPSHOT_RETRY_WAIT),
    reraise=True,
)
def _list_patiently(backend: KubeBackend, rtype: ResourceType) -> list[KubeObject]:
    """One list call of a snapshot, retried on a 5xx or a dropped connection (a busy API server).

    This is an I/O edge outside the audit graph: a snapshot is long and a transient 503 should not
    cost a resource type. Inside the graph the kube tools never retry; their errors are evidence.
    """
    return backend.list_objects(rtype)


def write_snapshot(
    backend: KubeBackend,
    out_dir: Path,
    resources: list[str] | None = None,
    *,
    captured_at: str | None = None,
    retry_wait: float = SNAPSHOT_RETRY_WAIT,
) -> SnapshotSummary:
    """Write ``resources`` (default: ``AUDIT_RESOURCES``) and metrics of ``backend`` to ``out_dir``.

    ``captured_at`` defaults to the source snapshot's capture time, or now (UTC) for a live cluster.
    ``retry_wait`` is the pause before the first retry of a busy list call (tests: 0).
    A type the credentials may not list is skipped and named in the summary, not fatal.
    """
    out_dir = Path(out_dir)
    _check_target(out_dir)
    info = backend.info
    when = captured_at or info.captured_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    summary = SnapshotSummary(out_dir=str(out_dir), cluster=info.name, captured_at=when)
    types = _types(backend, resources, summary.skipped)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    list_patiently = _list_patiently.retry_with(wait=_backoff(retry_wait))
    try:
        for rtype in (t for t in types if t.group != METRICS_GROUP):
            try:
                objects = list_patiently(backend, rtype)
            except KubeQueryError as exc:
                summary.skipped[rtype.qualified] = exc.message
                continue
            items = sorted((_stored_form(rtype, o) for o in objects), key=sort_key)
            _dump(tmp / f"{rtype.file_stem}.json", {"apiVersion": "v1", "kind": "List", "items": items})
            summary.files[f"{rtype.file_stem}.json"] = len(items)
        for what in _metrics_wanted(resources, types):
            try:
                samples = backend.metrics(what)
            except KubeQueryError as exc:
                summary.skipped[f"{what}.{METRICS_GROUP}"] = exc.message
                continue
            name = f"{METRICS_GROUP}.v1beta1.{what}.json"
            _dump(
                tmp / name,
                {
                    "apiVersion": "v1",
                    "kind": "List",
                    "items": sorted((redact_object(s) for s in samples), key=sort_key),
                },
            )
            summary.files[name] = len(samples)
        meta: dict[str, Any] = {
            "format": SNAPSHOT_FORMAT,
            "cluster": info.name,
            "context": info.context,
            "captured_at": when,
            "server_version": info.server_version,
        }
        unread = summary.unread
        if unread:  # an audit of this snapshot must know these types are missing, not empty
            meta[UNREAD_KEY] = unread
        _dump(tmp / META_FILE, meta)
        _swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return summary


def _swap_into_place(tmp: Path, out_dir: Path) -> None:
    """Rename the finished directory into place; an old snapshot there is moved aside, then removed."""
    if not out_dir.exists():
        tmp.rename(out_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
    old.rmdir()
    out_dir.rename(old)
    try:
        tmp.rename(out_dir)
    except OSError:
        old.rename(out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)
