"""Build one kustomization directory as ``kubectl kustomize`` would, for the fields GitOps repos use.

Order, as kustomize's ``accumulateTarget``: resources (files, directories with their own build,
remote URLs noted and not fetched), then components (each runs on what was accumulated so far), then
the generators, then the transformers in kustomize's order (``patchesStrategicMerge``, ``patches``,
``namespace``, ``namePrefix``, ``nameSuffix``, ``labels``/``commonLabels``, ``commonAnnotations``,
``patchesJson6902``, ``replicas``, ``images``). At the very end of the top build only, generated
objects get their content-hash suffix and references to renamed objects are fixed.

Every object is a copy registered with ``Origins``, so each built value can say which file and line
wrote it. Fields outside the subset are notes of the build (``BuildResult.notes``); a build that
cannot go on (a missing file, a YAML error, a cycle, a patch with no target) raises ``KustomizeError``.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import Any

from tools.inventory.k8s_core import as_list, as_map, as_str
from tools.inventory.kustomize import generators, patches, transforms
from tools.inventory.kustomize.model import (
    BuildNote,
    BuildResult,
    HelmChartRenderer,
    HelmChartRequest,
    KustomizeError,
    Resource,
)
from tools.inventory.loading import LoadError
from tools.inventory.provenance import Origins
from tools.inventory.yaml_lines import YamlDocument, load_documents
from tools.pathnames import on_disk
from tools.sizes import MIB

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_FILE_BYTES = 10 * MIB
_REMOTE = ("github.com/", "gitlab.com/", "bitbucket.org/", "git@", "git::", "ssh:", "http:", "https:")
_REMOTE_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)+/")
_BUILT_FIELDS = frozenset(
    {
        "apiVersion",
        "kind",
        "metadata",
        "resources",
        "bases",
        "components",
        "namespace",
        "namePrefix",
        "nameSuffix",
        "labels",
        "commonLabels",
        "commonAnnotations",
        "images",
        "patches",
        "patchesStrategicMerge",
        "patchesJson6902",
        "configMapGenerator",
        "secretGenerator",
        "generatorOptions",
        "replicas",
        "helmCharts",
        "sortOptions",
    }
)


def is_remote(entry: str) -> bool:
    return "://" in entry or entry.startswith(_REMOTE) or "?ref=" in entry or bool(_REMOTE_HOST.match(entry))


class Kustomizer:
    """Builds kustomization directories of one estate; files are read and parsed once per estate."""

    def __init__(self, root: Path, helm: HelmChartRenderer | None = None) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.helm = helm
        self.origins = Origins()
        self._docs: dict[str, list[YamlDocument] | KustomizeError] = {}
        self._kinds: dict[str, str | None] = {}  # what ``_kind`` found, by path

    # ------------------------------------------------------------------------------ files

    def kustomization_file(self, directory: str) -> str | None:
        for name in KUSTOMIZATION_NAMES:
            path = posixpath.join(directory, name) if directory not in ("", ".") else name
            if self._kind(path) == "file":
                return path
        return None

    def _kind(self, local: str) -> str | None:
        """ "file", "dir", None (missing) or "outside" (resolves outside the estate). Looked up once per
        path and estate: the builds ask again for each file of a base that several overlays share (1,721
        times for 420 paths in bench/'s large estate, each a ``realpath``)."""
        if local not in self._kinds:
            self._kinds[local] = self._looked_up(local)
        return self._kinds[local]

    def _looked_up(self, local: str) -> str | None:
        real = os.path.realpath(os.path.join(self.real_root, on_disk(local)))
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            return "outside"
        if os.path.isfile(real):
            return "file"
        return "dir" if os.path.isdir(real) else None

    def read_bytes(self, path: str, by: str, line: int | None) -> bytes:
        try:
            with open(self.root / on_disk(path), "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise KustomizeError(by, f"{path}: unreadable ({exc.strerror or exc})", line) from None
        if len(data) > MAX_FILE_BYTES:
            raise KustomizeError(by, f"{path}: larger than 10 MiB", line)
        return data

    def documents(self, path: str, by: str, line: int | None) -> list[YamlDocument]:
        cached = self._docs.get(path)
        if cached is None:
            try:
                cached = load_documents(self.read_bytes(path, by, line))
            except KustomizeError as exc:
                cached = exc
            except LoadError as exc:
                cached = KustomizeError(path, exc.message, exc.line)
            self._docs[path] = cached
        if isinstance(cached, KustomizeError):
            raise cached
        return cached

    def local(self, base: str, entry: str, by: str, line: int | None) -> str:
        """The estate-relative path of a local reference; KustomizeError when it leaves the estate."""
        joined = posixpath.normpath(posixpath.join(base, entry)) if not entry.startswith("/") else "/"
        if (
            joined.startswith("/")
            or joined == ".."
            or joined.startswith("../")
            or self._kind(joined) == "outside"
        ):
            raise KustomizeError(by, f"{entry!r} is outside the estate; not read", line)
        return "" if joined == "." else joined

    # ------------------------------------------------------------------------------ build

    def seed(self, path: str, docs: list[YamlDocument]) -> None:
        """Documents the estate reader already parsed: each file is parsed once per run."""
        self._docs[path] = docs

    def is_dir(self, local: str) -> bool:
        return self._kind(local or ".") == "dir" if local else True

    def _data(self, directory: str) -> tuple[dict[str, Any], Any]:
        path = self.kustomization_file(directory)
        if path is None:
            return {}, lambda _p: None
        try:
            docs = self.documents(path, path, None)
        except KustomizeError:
            return {}, lambda _p: None
        return (docs[0].data, docs[0].line_of) if docs else ({}, lambda _p: None)

    def is_component(self, directory: str) -> bool:
        return self._data(directory)[0].get("kind") == "Component"

    def included_directories(self, directory: str) -> list[str]:
        """The local directories a kustomization names as resources or components (not checked further)."""
        data, _ = self._data(directory)
        out: list[str] = []
        for key in ("resources", "bases", "components"):
            for entry in as_list(data.get(key)):
                if isinstance(entry, str) and not is_remote(entry):
                    try:
                        local = self.local(directory, entry, directory, None)
                    except KustomizeError:
                        continue
                    if self._kind(local or ".") == "dir":
                        out.append(local)
        return out

    def build(self, directory: str, virtual: dict[str, Any] | None = None) -> BuildResult:
        """The build of the kustomization in ``directory`` (estate-relative, '' for the root).

        ``virtual`` is a kustomization that is not a file (what Flux generates for a path without one).
        """
        path = self.kustomization_file(directory) if virtual is None else None
        if path is None and virtual is None:
            raise KustomizeError(directory or ".", "no kustomization file in this directory")
        result = BuildResult(path=path or (directory or "."), resources=[])
        result.resources = self._run(directory, result, [], (), component=False, virtual=virtual)
        transforms.finish(result.resources, self.origins)
        return result

    def build_generated(self, directory: str) -> BuildResult:
        """Flux's build of a path without a kustomization: every manifest under it, and each directory
        below holding a kustomization as one resource (not looked into further)."""
        prefix = f"{directory}/" if directory else ""
        found: set[str] = set()
        entries: list[str] = []
        root = self.root / on_disk(directory) if directory else self.root
        for current, dirs, files in os.walk(root):
            dirs.sort()
            rel = Path(current).relative_to(self.root).as_posix()
            rel = "" if rel == "." else rel
            if rel != directory and self.kustomization_file(rel) is not None:
                entries.append(rel[len(prefix) :])
                found.add(rel)
                dirs[:] = []
                continue
            for name in sorted(files):
                local = posixpath.join(rel, name) if rel else name
                if name.endswith((".yaml", ".yml", ".json")) and self._all_objects(local):
                    entries.append(local[len(prefix) :])
        return self.build(directory, virtual={"resources": entries})

    def overlay(
        self, result: BuildResult, directory: str, data: dict[str, Any], path: str, line_of: Any
    ) -> None:
        """Fields a GitOps object lays over a finished build (a Flux Kustomization's ``components``,
        ``patches``, ``namePrefix``/``nameSuffix``, ``labels``, ``commonAnnotations``, ``images``),
        applied in kustomize's order; values they set cite ``path`` at ``line_of``'s lines."""
        ctx = _Context(self, path, directory, data, line_of, result)
        acc = result.resources
        for index, entry in enumerate(as_list(data.get("components"))):
            entry_line = ctx.line(("components", index))
            local = self.local(directory, str(entry), path, entry_line)
            if self._kind(local) != "dir":
                raise KustomizeError(path, f"component {entry!r} is not a directory", entry_line)
            acc = self._run(local, result, acc, (), component=True)
        patches.patches(ctx, acc)
        transforms.apply(ctx, acc)
        transforms.replicas_and_images(ctx, acc)
        result.resources = acc

    def _all_objects(self, path: str) -> bool:
        try:
            docs = self.documents(path, path, None)
        except KustomizeError:
            return False
        return bool(docs) and all(
            isinstance(d.data.get("apiVersion"), str) and isinstance(d.data.get("kind"), str) for d in docs
        )

    def _run(
        self,
        directory: str,
        result: BuildResult,
        acc: list[Resource],
        stack: tuple[str, ...],
        component: bool,
        virtual: dict[str, Any] | None = None,
    ) -> list[Resource]:
        path = self.kustomization_file(directory) if virtual is None else (directory or ".")
        if path is None:
            raise KustomizeError(stack[-1] if stack else directory, f"{directory}: no kustomization file")
        if directory in stack:
            raise KustomizeError(path, f"a cycle of kustomizations: {' -> '.join((*stack, directory))}")
        if virtual is not None:
            data: dict[str, Any] = virtual
            line_of: Any = lambda _p: None  # noqa: E731
        else:
            docs = self.documents(path, path, None)
            k = docs[0] if docs else None
            data = k.data if k is not None else {}
            line_of = k.line_of if k is not None else (lambda _p: None)
        kind = as_str(data.get("kind")) or "Kustomization"
        if kind == "Component" and not component:
            raise KustomizeError(path, "a Component is used as a resource (it belongs under components:)")
        if virtual is None:
            result.aux_files.add(path)
        result.directories.add(directory)
        stack = (*stack, directory)
        ctx = _Context(self, path, directory, data, line_of, result)
        for key in sorted(set(data) - _BUILT_FIELDS):
            ctx.note(f"{key}: not applied by this build (not supported)", (key,))
        for index, entry in [
            (i, e) for key in ("resources", "bases") for i, e in enumerate(as_list(data.get(key)))
        ]:
            acc = acc + self._resource(ctx, entry, index, stack)
        for index, entry in enumerate(as_list(data.get("components"))):
            entry_line = line_of(("components", index))
            if not isinstance(entry, str) or is_remote(entry):
                ctx.note(f"component {entry!r} is remote or not a path; not fetched", ("components", index))
                continue
            local = self.local(directory, entry, path, entry_line)
            if self._kind(local) != "dir":
                raise KustomizeError(path, f"component {entry!r} is not a directory", entry_line)
            acc = self._run(local, result, acc, stack, component=True)
        acc = self._helm_charts(ctx, acc)
        acc = generators.run(ctx, acc)
        patches.strategic_merge_files(ctx, acc)
        patches.patches(ctx, acc)
        transforms.apply(ctx, acc)
        patches.json6902_list(ctx, acc)
        transforms.replicas_and_images(ctx, acc)
        return acc

    def _resource(self, ctx: _Context, entry: Any, index: int, stack: tuple[str, ...]) -> list[Resource]:
        key = "resources"
        entry_line = ctx.line((key, index))
        if not isinstance(entry, str):
            raise KustomizeError(ctx.path, f"resource {index} is not a path", entry_line)
        if is_remote(entry) and self._kind(posixpath.normpath(posixpath.join(ctx.directory, entry))) is None:
            ctx.note(f"remote resource {entry!r} not fetched", (key, index))
            return []
        local = self.local(ctx.directory, entry, ctx.path, entry_line)
        kind = self._kind(local)
        if kind == "dir":
            return self._run(local, ctx.result, [], stack, component=False)
        if kind != "file":
            raise KustomizeError(ctx.path, f"resource {entry!r} does not exist", entry_line)
        out: list[Resource] = []
        for doc in self.documents(local, ctx.path, entry_line):
            out += self.resources_of(doc, local)
        ctx.result.object_files.add(local)
        return out

    def resources_of(self, doc: YamlDocument, path: str) -> list[Resource]:
        data = doc.data
        if as_str(data.get("kind")) is None:
            raise KustomizeError(path, "a document without kind", doc.line)
        if str(data.get("kind")).endswith("List") and isinstance(data.get("items"), list):
            out = []
            for i, item in enumerate(data["items"]):
                if isinstance(item, dict):
                    obj = self.origins.copy_in(item, path, doc.line_of, ("items", i))
                    out.append(Resource(obj, path, doc.line_of(("items", i)) or doc.line))
            return out
        return [Resource(self.origins.copy_in(data, path, doc.line_of), path, doc.line)]

    def _helm_charts(self, ctx: _Context, acc: list[Resource]) -> list[Resource]:
        for index, item in enumerate(as_list(ctx.data.get("helmCharts"))):
            chart = as_map(item)
            name = as_str(chart.get("name")) or ""
            if self.helm is None:
                ctx.note(f"helmCharts {name!r} not rendered (no Helm engine here)", ("helmCharts", index))
                continue
            values = dict(as_map(chart.get("valuesInline")))
            values_files = [
                self.local(ctx.directory, f, ctx.path, ctx.line(("helmCharts", index)))
                for f in ([as_str(chart.get("valuesFile"))] if chart.get("valuesFile") else [])
                + [as_str(v) for v in as_list(chart.get("additionalValuesFiles"))]
                if f
            ]
            request = HelmChartRequest(
                kustomization=ctx.path,
                line=ctx.line(("helmCharts", index)),
                name=name,
                repo=as_str(chart.get("repo")),
                version=as_str(chart.get("version")),
                release_name=as_str(chart.get("releaseName")) or name,
                namespace=as_str(chart.get("namespace")),
                values=values,
                values_files=values_files,
                include_crds=chart.get("includeCRDs") is True,
            )
            rendered = self.helm(request)
            if rendered is None:
                ctx.note(f"helmCharts {name!r} not rendered", ("helmCharts", index))
                continue
            line = request.line or 1
            for obj in rendered:
                if isinstance(obj, dict):
                    acc = [*acc, Resource(obj, ctx.path, line, generated=True)]
        return acc


class _Context:
    """One kustomization being run: its file, fields and lines, and the build it adds notes to."""

    def __init__(
        self,
        kustomizer: Kustomizer,
        path: str,
        directory: str,
        data: dict[str, Any],
        line_of: Any,
        result: BuildResult,
    ) -> None:
        self.k = kustomizer
        self.path = path
        self.directory = directory
        self.data = data
        self.line_of = line_of
        self.result = result
        self.origins = kustomizer.origins

    def line(self, keypath: tuple[str | int, ...]) -> int | None:
        line = self.line_of(keypath)
        return int(line) if line is not None else None

    def note(self, message: str, keypath: tuple[str | int, ...] = ()) -> None:
        note = BuildNote(self.path, self.line(keypath) if keypath else None, message)
        if note not in self.result.notes:
            self.result.notes.append(note)

    def error(self, message: str, keypath: tuple[str | int, ...] = ()) -> KustomizeError:
        return KustomizeError(self.path, message, self.line(keypath) if keypath else None)

    def file(self, entry: str, keypath: tuple[str | int, ...]) -> str:
        """A local file the kustomization names (a patch, a generator source); it must exist."""
        local = self.k.local(self.directory, entry, self.path, self.line(keypath))
        if self.k._kind(local) != "file":
            raise self.error(f"{entry!r} does not exist", keypath)
        return local
