"""What the render phase reads of the estate: release documents, Flux sources, values files, local charts.

Every file is read from inside the estate root only (a path resolving outside it counts as absent),
once per render phase, through the bounded YAML loader the parsers use.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from domain.errors import HelmEngineError
from tools.helm import engine
from tools.helm.sources import ValuesLayer
from tools.inventory.inventory import Records
from tools.inventory.k8s_core import as_list, as_map, as_str
from tools.inventory.models import CodeRef
from tools.inventory.yaml_lines import YamlDocument, YamlParseError, load_documents
from tools.pathnames import on_disk

MAX_VALUES_BYTES = 10 * 1024 * 1024
_INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}")
FetchDep = Callable[[str, str, str | None], bytes]


class Estate:
    def __init__(self, root: Path, code: Records) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.code = code
        self.rendered_charts: set[str] = set()
        self._docs: dict[str, list[YamlDocument]] = {}
        self._flux: dict[tuple[str, str | None, str], dict[str, Any]] | None = None

    # ------------------------------------------------------------------------------ reading

    def _inside(self, path: str) -> str | None:
        real = os.path.realpath(os.path.join(self.real_root, on_disk(path)))
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            return None
        return real

    def documents(self, path: str) -> list[YamlDocument]:
        if path not in self._docs:
            real = self._inside(path)
            docs: list[YamlDocument] = []
            if real is not None and os.path.isfile(real) and os.path.getsize(real) <= MAX_VALUES_BYTES:
                try:
                    with open(real, "rb") as handle:
                        docs = load_documents(handle.read())
                except (OSError, YamlParseError):
                    docs = []  # the parsers already reported the file
            self._docs[path] = docs
        return self._docs[path]

    def release_documents(self) -> Iterator[tuple[YamlDocument, str]]:
        """Flux HelmRelease and Argo CD Application documents, in path and line order."""
        paths = {
            r.source.path
            for r in self.code.helm_releases
            if r.defined_by == "flux" and isinstance(r.source, CodeRef)
        } | {a.source.path for a in self.code.argo_apps if isinstance(a.source, CodeRef)}
        for path in sorted(paths):
            for doc in self.documents(path):
                if doc.data.get("kind") in ("HelmRelease", "Application"):
                    yield doc, path  # render.requests_from_object checks the API group

    def kustomize_namespace(self, path: str) -> str | None:
        """The ``namespace:`` of the kustomization beside a file that lists it in its resources."""
        directory, name = posixpath.split(path)
        for kustomization in self.code.kustomizations:
            if posixpath.dirname(kustomization.path) != directory:
                continue
            for doc in self.documents(kustomization.path):
                listed = {posixpath.normpath(str(r)) for r in as_list(doc.data.get("resources"))}
                namespace = as_str(doc.data.get("namespace"))
                if namespace and name in listed:
                    return namespace
        return None

    # -------------------------------------------------------------------------- EstateView

    def values_file(self, path: str) -> ValuesLayer | None:
        real = self._inside(path)
        if real is None or not os.path.isfile(real):
            return None
        docs = self.documents(path)
        if not docs:
            return ValuesLayer({}, path)
        return ValuesLayer(docs[0].data, path, docs[0].line_of)

    def template_values(self, path: str, variables: dict[str, Any]) -> ValuesLayer | None:
        """``${name}`` replaced by scalar variables (line count kept, so value lines still hold); a
        template with directives (``%{``) or any other interpolation is not rendered."""
        real = self._inside(path)
        if real is None or not os.path.isfile(real) or os.path.getsize(real) > MAX_VALUES_BYTES:
            return None
        with open(real, encoding="utf-8", errors="replace") as handle:
            text = handle.read()

        def scalar(match: re.Match[str]) -> str:
            value = variables.get(match.group(1))
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, str | int | float):
                return str(value)
            raise KeyError(match.group(1))

        try:
            text = _INTERPOLATION.sub(scalar, text)
        except KeyError:
            return None
        if "%{" in text or "${" in text:
            return None
        try:
            docs = load_documents(text)
        except YamlParseError:
            return None
        return ValuesLayer(docs[0].data, path, docs[0].line_of) if docs else ValuesLayer({}, path)

    def is_chart_dir(self, path: str) -> bool:
        real = self._inside(posixpath.join(path, "Chart.yaml"))
        return real is not None and os.path.isfile(real)

    def flux_source(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        if self._flux is None:
            self._flux = {}
            for path in sorted(
                {s.source.path for s in self.code.flux_sources if isinstance(s.source, CodeRef)}
            ):
                for doc in self.documents(path):
                    meta = as_map(doc.data.get("metadata"))
                    key = (
                        str(doc.data.get("kind")),
                        as_str(meta.get("namespace")),
                        as_str(meta.get("name")) or "",
                    )
                    self._flux.setdefault(key, as_map(doc.data.get("spec")))
        found = self._flux.get((kind, namespace, name))
        if found is None:  # a namespace set elsewhere (a Kustomization's targetNamespace)
            found = next((spec for (k, _, n), spec in self._flux.items() if k == kind and n == name), None)
        return found

    def generated_values(self, kind: str, namespace: str | None, name: str, key: str) -> ValuesLayer | None:
        for kustomization in self.code.kustomizations:
            base = posixpath.dirname(kustomization.path)
            for doc in self.documents(kustomization.path):
                for generator in as_list(doc.data.get("configMapGenerator")):
                    gen = as_map(generator)
                    if as_str(gen.get("name")) != name:
                        continue
                    for entry in as_list(gen.get("files")):
                        text = as_str(entry) or ""
                        file_key, _, file_path = text.rpartition("=")
                        if (file_key or posixpath.basename(file_path)) == key:
                            return self.values_file(posixpath.normpath(posixpath.join(base, file_path)))
        return None

    # ------------------------------------------------------------------------------- charts

    def local_archive(self, chart_dir: str, fetch_dep: FetchDep, depth: int = 0) -> bytes:
        """A package of a chart directory, its missing dependencies added from ``file://`` or the cache."""
        real = self._inside(chart_dir)
        if real is None or depth > 5:
            raise HelmEngineError(f"chart directory {chart_dir} is outside the estate", stage="load")
        directory = Path(real)
        meta = engine.parse_meta((directory / "Chart.yaml").read_bytes())
        locked = self._locked(chart_dir)
        extra: dict[str, bytes] = {}
        for dep in meta.dependencies:
            name = dep["name"]
            charts = directory / "charts"
            if (charts / name).is_dir() or any(charts.glob(f"{name}-*.tgz")):
                continue
            repository = str(dep.get("repository") or "")
            version = locked.get(name) or (str(dep["version"]) if dep.get("version") is not None else None)
            if repository.startswith("file://"):
                sub = posixpath.normpath(posixpath.join(chart_dir, repository.removeprefix("file://")))
                data = self.local_archive(sub, fetch_dep, depth + 1)
            elif repository.startswith(("http://", "https://", "oci://")):
                data = fetch_dep(repository, name, version)
            else:
                raise HelmEngineError(
                    f"dependency {name} has repository {repository or '(none)'!r}: not a URL", stage="load"
                )
            extra[f"charts/{name}-{engine.read_meta(data).version}.tgz"] = data
        return engine.archive_dir(directory, extra)

    def _locked(self, chart_dir: str) -> dict[str, str]:
        docs = self.documents(posixpath.join(chart_dir, "Chart.lock"))
        deps = as_list(docs[0].data.get("dependencies")) if docs else []
        return {
            name: version
            for d in deps
            if (name := as_str(as_map(d).get("name"))) and (version := as_str(as_map(d).get("version")))
        }
