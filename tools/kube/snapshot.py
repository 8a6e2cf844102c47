"""SnapshotBackend: a directory of JSON/YAML object dumps, read as if it were the cluster.

Two shapes are accepted, because both exist in the wild:

* what ``infra-audit snapshot`` writes: ``_snapshot.json`` (cluster, context, capture time, server
  version) and one ``<group>.<version>.<plural>.json`` List per resource type;
* whatever ``kubectl get ... -o json|yaml`` produced, under any file name: a ``List``, a typed list
  (``PodList``, whose items may lack ``kind``), a single object, or several YAML documents.

Everything is loaded once at construction, through the same bounded loaders as the estate
(``tools.inventory.loading``: nesting, YAML alias expansion and size are bounded at load), one dump
at a time: each object is kept as compact bytes (``snapshot_store``) and decoded when it is listed,
so the parsed dumps are never held together, nor beside the records built from them. A big snapshot's
biggest dumps are staged by a child meanwhile (``snapshot_farm.Farm``), with the same result. A file that
does not load, or an item whose type cannot be told, is reported in ``issues`` (typed) and skipped:
one broken dump must not hide the rest of the cluster. The type a dump that did not load held (its
canonical name tells it; else any type may be lost) is ``unread``, like a type the snapshot's writer
could not read from its cluster (``_snapshot.json`` ``unread``): listing it is an error, never an
empty type, and an audit says which it lost. A missing path is a ``SnapshotError`` (the user's to
fix). Secrets are reduced to metadata on load, so no code path above this one can see a Secret value
from a snapshot either. Every other object drops ``managedFields`` and the last-applied annotation
on load (``without_bookkeeping``): copies of the object that no check reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from domain.errors import SnapshotError
from domain.unread import EVERY_KIND, SkipReason
from tools.gc_pause import gc_paused
from tools.inventory.live_models import UnreadResource
from tools.inventory.loading import LoadError, load_json
from tools.inventory.models import ClusterInfo
from tools.inventory.sources import ParseIssue
from tools.kube.backend import (
    InvalidQueryError,
    KubeObject,
    KubeQueryError,
    MetricsKind,
    NotFoundError,
    UnavailableError,
    sort_key,
)
from tools.kube.resources import (
    METRICS_GROUP,
    ResourceTable,
    ResourceType,
    UnknownResourceError,
    plural_of,
    split_file_stem,
)
from tools.kube.selectors import SelectorError, object_matcher
from tools.kube.snapshot_farm import META_FILE, Farm, dump_files
from tools.kube.snapshot_files import read_capped, stage_file
from tools.kube.snapshot_store import Staged, TypeObjects, encode, served
from tools.pathnames import shown
from tools.sizes import MIB

SNAPSHOT_FORMAT = "infra-audit-snapshot/1"
UNREAD_KEY = "unread"
"""In ``_snapshot.json``: types the snapshot could not read from its cluster, with the reason."""
MAX_META_BYTES = 1 * MIB
UNKNOWN_TYPE = "unknown type"
"""The resource of an ``UnreadResource`` for a dump that did not load and whose name does not say its type."""

TypeKey = tuple[str, str]  # (group, plural)


class SnapshotBackend:
    """A read-only backend over a snapshot directory (see the module docstring for accepted shapes)."""

    def __init__(self, path: Path | str, shown_as: str | None = None) -> None:
        """``shown_as``: the directory as the user gave it (relative, usually), for every path the
        snapshot reports; ``path`` is where to read it (resolved against the run's working dir)."""
        root = Path(path).expanduser()
        if not root.exists():
            raise SnapshotError(f"snapshot {str(path)!r} does not exist")
        if not root.is_dir():
            raise SnapshotError(f"snapshot {str(path)!r} is not a directory (expected a directory of dumps)")
        self.root = root
        self._shown_root = Path(shown_as) if shown_as else root
        self._issues: list[ParseIssue] = []
        self._failed: list[tuple[Path, ParseIssue]] = []  # dumps that did not load
        self._unread: dict[TypeKey, list[str]] = {}  # types not read, and why
        self._lost_untyped: list[str] = []  # why for each failed dump whose name does not say its type
        self._types: dict[TypeKey, ResourceType] = {}
        self._objects: dict[TypeKey, TypeObjects] = {}
        self._released = False
        meta = self._read_meta()
        self._info = ClusterInfo(
            name=str(meta.get("cluster") or shown(root.resolve().name)),
            context=meta.get("context"),
            server_version=meta.get("server_version"),
            captured_at=meta.get("captured_at"),
            backend="snapshot",
        )
        with gc_paused():  # millions of dicts of JSON: 2.3x the CPU with the collector on (10k pods)
            self._load()
        self._read_unread(meta)
        if not self._objects and not self._failed and not (self.root / META_FILE).is_file():
            # An empty dir, or a dir of code given by mistake: say so instead of auditing "nothing".
            raise SnapshotError(
                f"snapshot {str(path)!r} holds no Kubernetes objects (no {META_FILE}, no JSON/YAML "
                "object dumps); write one with 'infra-audit snapshot -o DIR' or "
                "'kubectl get ... -o json > DIR/x.json'"
            )

    # ------------------------------------------------------------------------------------ loading

    def _issue(self, path: Path, message: str, reason: SkipReason, line: int | None = None) -> None:
        """Report a file (or an object in it) not read."""
        self._issues.append(self._where(path, message, reason, line))

    def _where(self, path: Path, message: str, reason: SkipReason, line: int | None = None) -> ParseIssue:
        """An issue of a file; its path is the snapshot dir as given + the file."""
        where = self._shown_root / path.relative_to(self.root) if path.is_relative_to(self.root) else path
        return ParseIssue(path=shown(where), line=line, message=message, reason=reason)

    def _skip(self, path: Path, message: str, reason: SkipReason, line: int | None) -> None:
        """A dump that did not load: reported; the type it held is unread (``_read_unread``)."""
        self._issue(path, message, reason, line)
        self._failed.append((path, self._issues[-1]))

    def _read_meta(self) -> dict[str, Any]:
        meta_path = self.root / META_FILE
        if not meta_path.is_file():
            return {}
        try:
            meta = load_json(read_capped(meta_path, MAX_META_BYTES))
        except OSError as exc:
            self._issue(
                meta_path,
                f"snapshot metadata unreadable ({exc.strerror}); using the directory name",
                "unreadable",
            )
            return {}
        except LoadError as exc:
            self._issue(
                meta_path,
                f"snapshot metadata not read ({exc.message}); using the directory name",
                exc.reason,
                exc.line,
            )
            return {}
        if not isinstance(meta, dict):
            self._issue(
                meta_path, "snapshot metadata is not a JSON object; using the directory name", "syntax"
            )
            return {}
        if meta.get("format") not in (None, SNAPSHOT_FORMAT):
            self._issue(
                meta_path, f"unknown format {meta.get('format')!r}; reading it as {SNAPSHOT_FORMAT}", "note"
            )
        return meta

    def _read_unread(self, meta: dict[str, Any]) -> None:
        """The types not read: those the snapshot's writer could not read from its cluster, and those
        whose dump did not load. Each is served, and listing it is an error, never an empty type."""
        entries = meta.get(UNREAD_KEY)
        lost = [
            (str(name), f"not read from its cluster when the snapshot was taken: {reason}")
            for name, reason in (entries.items() if isinstance(entries, dict) else [])
        ]
        for path, issue in self._failed:
            hint = split_file_stem(path.stem)
            if hint is None:  # kubectl output under any name: it may have held any type
                self._lost_untyped.append(str(issue))
            else:
                lost.append((f"{hint[2]}.{hint[0]}" if hint[0] else hint[2], str(issue)))
        table = ResourceTable(list(self._types.values()))
        for name, why in lost:
            try:
                rtype = table.resolve(name)
            except UnknownResourceError:  # a type this snapshot does not define: its kind cannot be told
                self._lost_untyped.append(f"{name}: {why}")
                continue
            self._types.setdefault((rtype.group, rtype.plural), rtype)
            self._unread.setdefault((rtype.group, rtype.plural), []).append(why)

    def _load(self) -> None:
        parsed: list[Path] = []
        items: list[tuple[Path, Staged]] = []
        crds: list[ResourceType] = []
        skipped: list[ParseIssue] = []
        files = dump_files(self.root)
        farm = Farm.start(files, self.root)  # a big snapshot: its biggest dumps staged by a child meanwhile
        farmed = set(farm.paths) if farm is not None else set()
        stages = {path: stage_file(path) for path in files if path not in farmed}  # objects as bytes
        if farm is not None:
            stages.update(farm.results())
        for path in files:  # in the order of their names, wherever each was staged
            stage = stages.pop(path)
            if stage.failed is not None:
                self._skip(path, *stage.failed)
                continue
            parsed.append(path)  # an item skipped is reported after every dump that did not load
            skipped.extend(self._where(path, message, reason) for message, reason in stage.skipped)
            for crd, staged in stage.items:
                if crd is not None:
                    crds.append(crd)
                items.append((path, staged))
        self._issues.extend(skipped)
        table = ResourceTable(crds)
        for t in crds:
            self._types.setdefault((t.group, t.plural), t)
        for path in parsed:  # a canonical file name declares its type, even with no items
            hint = split_file_stem(path.stem)
            known = table.by_plural(hint[0], hint[2]) if hint else None
            if hint is not None and known is not None:
                self._types.setdefault(
                    (known.group, known.plural), known.model_copy(update={"version": hint[1]})
                )
        for path, staged in items:
            self._add(path, staged, table)

    def _add(self, path: Path, staged: Staged, table: ResourceTable) -> None:
        obj = staged.obj  # an object without a kind (a dump's name says its type): still parsed
        kind = staged.kind if obj is None else obj.get("kind")
        api_version = staged.api_version
        group, _, version = api_version.rpartition("/")
        rtype: ResourceType | None = None
        if kind:
            rtype = table.by_kind(api_version, str(kind))
        elif staged.plural_hint and obj is not None:
            rtype = table.by_plural(group, staged.plural_hint)
            if rtype is not None:
                obj["kind"] = kind = rtype.kind
        name, namespace = staged.name, staged.namespace
        if not kind or not version or not name:
            self._issue(
                path, f"skipped an item whose type or name cannot be told (name={name!r})", "skipped_object"
            )
            return
        if not isinstance(name, str) or not isinstance(namespace, str | None):  # an API server sends text
            self._issue(
                path,
                f"skipped an item whose name or namespace is not text ({name=!r}, {namespace=!r})",
                "skipped_object",
            )
            return
        if rtype is None:
            rtype = ResourceType(
                group=group,
                version=version,
                plural=plural_of(str(kind)),
                kind=str(kind),
                namespaced=bool(namespace),
            )
        key = (rtype.group, rtype.plural)
        known = self._types.get(key)  # the copy made once per type, not once per object (issue 13)
        rtype = (
            known
            if known is not None
            else self._types.setdefault(key, rtype.model_copy(update={"version": version}))
        )
        data = staged.data
        if obj is not None:
            data = encode(served(obj, rtype.group == "" and rtype.kind == "Secret"), staged.as_json)
        assert data is not None
        store = self._objects.setdefault(key, TypeObjects())
        store.put((namespace or "", str(name)), data, isinstance(name, str))

    # ------------------------------------------------------------------------------------ the API

    @property
    def info(self) -> ClusterInfo:
        return self._info

    @property
    def warnings(self) -> list[str]:
        """Always empty: everything a snapshot skips or notes is about a file, in ``issues``."""
        return []

    @property
    def issues(self) -> list[ParseIssue]:
        return list(self._issues)

    @property
    def unread(self) -> list[UnreadResource]:
        typed = [
            (self._types[k].qualified, self._types[k].kind, "; ".join(w)) for k, w in self._unread.items()
        ]
        untyped = [(UNKNOWN_TYPE, EVERY_KIND, why) for why in self._lost_untyped]
        return [UnreadResource(resource=r, kind=k, reason=why) for r, k, why in typed + untyped]

    @property
    def snapshot_dir(self) -> Path:
        return self.root

    @property
    def default_namespace(self) -> str:
        return "default"

    def api_resources(self) -> list[ResourceType]:
        return sorted(self._types.values(), key=lambda t: (t.group != "", t.group, t.plural))

    def list_objects(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        try:
            keep = object_matcher(label_selector, field_selector)
        except SelectorError as exc:
            raise InvalidQueryError(str(exc), verb="list", what=rtype.qualified) from exc
        objects = self._captured(rtype).objects(namespace if rtype.namespaced else None)
        return sorted([obj for obj in objects if keep(obj)], key=sort_key)

    def listing_blobs(self, rtype: ResourceType) -> list[bytes] | None:
        """The JSON text of each object of ``list_objects(rtype)``, in its order, as held (None: decode)."""
        return self._captured(rtype).listing_blobs()

    def release(self) -> None:
        """Let the objects go: the run has read them for the last time (``RunContext.let_go``, once
        the report is made; at 10k pods 58 MiB and more of their text). Reading one afterwards is an
        error, never an empty type."""
        self._objects.clear()
        self._released = True

    def _captured(self, rtype: ResourceType) -> TypeObjects:
        """The objects of a type; a type the snapshot never captured is not the same as an empty one,
        and neither is one it did not read (its dump did not load, or its writer could not read it)."""
        if self._released:
            gone = "the snapshot's objects were let go once the report was made"
            raise KubeQueryError(gone, verb="list", what=rtype.qualified)
        why = self._unread.get((rtype.group, rtype.plural))
        if why:
            raise KubeQueryError(
                f"not read from this snapshot: {'; '.join(why)}; a snapshot taken again (or a fixed dump) "
                "brings it back",
                verb="list",
                what=rtype.qualified,
            )
        if (rtype.group, rtype.plural) not in self._types:
            raise NotFoundError(
                f'this snapshot holds no "{rtype.qualified}" (not captured, or not served by the cluster)',
                verb="list",
                what=rtype.qualified,
            )
        return self._objects.get((rtype.group, rtype.plural)) or TypeObjects()

    def get_object(self, rtype: ResourceType, name: str, namespace: str | None = None) -> KubeObject:
        ns = namespace if rtype.namespaced and namespace else ""
        found = self._captured(rtype).get((ns, name))
        if found is None:
            where = f" in namespace {namespace!r}" if rtype.namespaced and namespace else ""
            raise NotFoundError(
                f'{rtype.qualified} "{name}" not found{where}', verb="get", what=rtype.qualified
            )
        return found

    def metrics(self, what: MetricsKind, namespace: str | None = None) -> list[KubeObject]:
        key = (METRICS_GROUP, what)
        rtype = self._types.get(key)
        if rtype is None:
            raise UnavailableError(
                f"this snapshot has no {what} metrics (no {METRICS_GROUP}.v1beta1.{what}.json): "
                "it was taken without metrics-server, or by a kubectl dump that did not include them",
                verb="list",
                what=f"{what}.{METRICS_GROUP}",
            )
        return self.list_objects(rtype, namespace=namespace)
