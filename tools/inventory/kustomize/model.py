"""What a Kustomize build works on and returns: resources with their source, notes, the Helm seam."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tools.inventory.k8s_core import as_map, as_str


class KustomizeError(Exception):
    """A kustomization that does not build (kubectl would refuse it): the path and line to blame."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line
        self.message = message


@dataclass
class Resource:
    """One object of a build: the object (a plain dict) and the document that defines it."""

    obj: dict[str, Any]
    path: str
    line: int
    generated: bool = False
    """Made by a configMapGenerator/secretGenerator (``path:line`` is the generator's entry)."""
    hash_name: bool = False
    """A generated object whose name gets kustomize's content hash at the end of the build."""
    behavior: str = "create"
    names: list[str] = field(default_factory=list)
    """Names it had before a prefix/suffix/hash renamed it: patches and references may use them."""

    @property
    def kind(self) -> str:
        return as_str(self.obj.get("kind")) or ""

    @property
    def name(self) -> str | None:
        return as_str(as_map(self.obj.get("metadata")).get("name"))

    @property
    def namespace(self) -> str | None:
        return as_str(as_map(self.obj.get("metadata")).get("namespace"))

    @property
    def group(self) -> str:
        api = as_str(self.obj.get("apiVersion")) or ""
        return api.rpartition("/")[0]

    def meta(self) -> dict[str, Any]:
        meta = self.obj.get("metadata")
        if not isinstance(meta, dict):
            meta = self.obj["metadata"] = {}
        return meta


@dataclass(frozen=True)
class BuildNote:
    """Something a kustomization asks for that the build did not do (or did with a caveat)."""

    path: str
    line: int | None
    message: str


@dataclass
class HelmChartRequest:
    """One ``helmCharts`` entry of a kustomization, for the Helm engine (values merged as kustomize does)."""

    kustomization: str
    line: int | None
    name: str
    repo: str | None
    version: str | None
    release_name: str
    namespace: str | None
    values: dict[str, Any]
    values_files: list[str]
    include_crds: bool


class HelmChartRenderer(Protocol):
    """The seam to the Helm engine: the rendered objects, or None when the chart cannot be rendered
    (the reason is the renderer's to report)."""

    def __call__(self, request: HelmChartRequest) -> list[dict[str, Any]] | None: ...


@dataclass
class BuildResult:
    """A built kustomization: its objects, the files it read, and what it did not do."""

    path: str
    resources: list[Resource]
    object_files: set[str] = field(default_factory=set)
    """Files whose objects are in the build (read from the build, not one by one)."""
    aux_files: set[str] = field(default_factory=set)
    """Patch files and kustomization files: read by the build, never objects themselves."""
    notes: list[BuildNote] = field(default_factory=list)
    directories: set[str] = field(default_factory=set)
    """Kustomization directories built into this one (its own included)."""


ReadDocs = Callable[[str], list[Any]]
