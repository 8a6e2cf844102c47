"""Values as the controllers merge them, and where each value was written.

``merge`` is Helm's coalescing of user values: maps merge key by key, anything else is replaced by the
later layer, and a ``null`` removes the key (``--set a=null``). The layers are merged in the order the
controller uses (``sources.py`` builds them): chart defaults (the engine) < values files < inline values
< ``set``-like overrides.

``ValueLines`` remembers, for the values written in the estate, the ``path:line`` of each scalar, so a
rendered container can cite the line that set its image (tag) rather than only its release, and a
rendered workload the line that set its ``replicas`` or its strategy where the key shows it is the
workload's (``field_ref``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from tools.inventory.models import CodeRef
from tools.inventory.yaml_lines import LineOf

_SPLIT = re.compile(r"(?<!\\)\.")


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``overlay`` coalesced onto ``base`` (neither is changed)."""
    out = dict(base)
    for key, value in overlay.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_path(values: dict[str, Any], name: str, value: Any) -> bool:
    """``--set name=value`` for a dotted name (``a.b\\.c``); list indexes (``a[0]``) are not applied.

    Returns False when the name could not be applied (the caller reports it)."""
    if "[" in name:
        return False
    parts = [p.replace("\\.", ".") for p in _SPLIT.split(name)]
    node = values
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = value
    return True


def typed(value: Any) -> Any:
    """A ``--set`` value as Helm reads it: ``true``/``false`` booleans, digits an integer, else as is."""
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        if value.isdigit() and (value == "0" or not value.startswith("0")):
            return int(value)
    return value


def nest(values: dict[str, Any], under: str | None) -> dict[str, Any]:
    return {under: values} if under else values


@dataclass
class ValueLines:
    """Scalars written in the estate's values, by their text, and where (the last layer wins)."""

    by_text: dict[str, CodeRef] = field(default_factory=dict)
    probes: dict[tuple[str | int, ...], CodeRef] = field(default_factory=dict)
    """Mapping keys that hold probes (``probes``, ``livenessProbe``, ...), by their key path."""
    keys: dict[tuple[str | int, ...], CodeRef] = field(default_factory=dict)
    """Every key written, by its key path (the last layer wins)."""
    bases: frozenset[str] = frozenset()
    """The names a chart gives its release's own workload (the release, ``release-chart``, an override):
    ``_owns`` reads a key as a workload's by them."""
    fields: dict[tuple[str | int, ...], tuple[str, CodeRef, str]] = field(default_factory=dict)
    """Scalars written at a key a workload's field is commonly set from (``FIELD_KEYS``): by key
    path, the field, where, and the scalar's text (the last layer wins)."""

    def add(self, values: Any, path: str, line_of: LineOf | None, prefix: tuple[str | int, ...]) -> None:
        if line_of is None:
            return
        for key_path, scalar in _scalars(values, ()):
            line = line_of((*prefix, *key_path))
            if line is not None:
                self.by_text[str(scalar)] = CodeRef(path=path, line=line)
                if (name := _field_of(key_path)) is not None:
                    self.fields[key_path] = (name, CodeRef(path=path, line=line), str(scalar))
        for key_path in _keys(values, ()):
            line = line_of((*prefix, *key_path))
            if line is None:
                continue
            self.keys[key_path] = CodeRef(path=path, line=line)
            if key_path[-1] in PROBE_KEYS:
                self.probes[key_path] = CodeRef(path=path, line=line)

    def key_line(self, path: str, keys: tuple[str, ...], container: str | None = None) -> int | None:
        """The line in ``path`` of the last key path written ending with ``keys`` (under a key named
        ``container`` when given): ``securityContext.privileged`` of that container, ``hostNetwork``."""
        found = None
        for key_path, ref in self.keys.items():
            if ref.path != path or tuple(str(k) for k in key_path[-len(keys) :]) != keys:
                continue
            if container is None or container in key_path[: -len(keys)]:
                found = ref.line
        return found

    def probes_of(self, container: str) -> CodeRef | None:
        """The probes block written for a container of this name (on its key path), else the only one
        unless that one is written under another container's name (``containers.app.probes`` is not
        the ``code-server`` sidecar's)."""
        named = [ref for key_path, ref in self.probes.items() if container in key_path[:-1]]
        if named:
            return named[-1]
        if len(self.probes) != 1:
            return None
        [(key_path, ref)] = self.probes.items()
        for index, key in enumerate(key_path[:-2]):
            if key == "containers" and key_path[index + 1] != container:
                return None
        return ref

    def field_ref(self, name: str, value: object, workload: str | None, alone: bool) -> CodeRef | None:
        """The line that set a rendered workload's ``name`` field (``replicas``, ``strategy``) to
        ``value``: a key of that field (``FIELD_KEYS``) written with that value whose owner (the key
        above it) names the workload (``_owns``: ``controllers.worker.replicas`` of ``web-worker``,
        ``controllers.main`` of the release's own workload, as app-template names them); else a
        top-level key (``replicaCount`` of ``helm create``) when the workload is the release's only one
        with the field (``alone``). None otherwise: a chart's default, or a value that merely equals
        the workload's (``defaultBackend.replicaCount: 1``), leaves the finding citing the release."""
        text = str(value)
        named, top = [], []
        for key_path, (field_name, ref, written) in self.fields.items():
            if field_name != name or written != text:
                continue
            owner = _owner(key_path)
            if owner is None:
                top.append(ref)
            elif workload and _owns(owner, workload, self.bases):
                named.append(ref)
        if named:
            return named[-1]
        return top[-1] if alone and len(top) == 1 else None

    def find(self, *texts: str | None) -> CodeRef | None:
        """The line of the first of ``texts`` written as a value, or None."""
        for text in texts:
            if text and (ref := self.by_text.get(text)) is not None:
                return ref
        return None


PROBE_KEYS = frozenset({"probes", "livenessProbe", "readinessProbe", "startupProbe"})
FIELD_KEYS = {
    "replicas": "replicas",
    "replicaCount": "replicas",
    "strategy": "strategy",
    "updateStrategy": "strategy",
}
"""Keys a chart commonly sets a workload's field from (``replicaCount`` of ``helm create``; the
``controllers.<name>.replicas`` and ``strategy`` of app-template); a strategy may be written as a
map, its ``type`` then being the value."""


def _field_of(key_path: tuple[str | int, ...]) -> str | None:
    last = key_path[-1]
    if last == "type" and len(key_path) > 1 and FIELD_KEYS.get(str(key_path[-2])) == "strategy":
        return "strategy"
    return FIELD_KEYS.get(str(last)) if not isinstance(last, int) else None


def _owner(key_path: tuple[str | int, ...]) -> str | int | None:
    """The key a field's key sits under: ``worker`` of ``controllers.worker.replicas`` and of
    ``controllers.worker.strategy.type``; None for a top-level one (``replicaCount``, ``strategy.type``)."""
    depth = 3 if key_path[-1] == "type" else 2
    return key_path[-depth] if len(key_path) >= depth else None


def _owns(key: str | int, workload: str, bases: frozenset[str]) -> bool:
    """Whether the key ``key`` names the workload: its own name; ``main`` for the release's own
    workload (a name of ``bases``); any other key for that name and the key (``web-worker`` of
    ``worker``), as app-template and most charts name a component."""
    if not isinstance(key, str):
        return False
    if key == workload:
        return True
    if key == "main":
        return workload in bases
    return any(workload == f"{base}-{key}" for base in bases)


def release_names(release: str, chart: str | None, values: dict[str, Any]) -> frozenset[str]:
    """The names a chart may give the release's own workload: the release's name, ``release-chart``
    (the ``fullname`` of ``helm create`` and app-template, unless the release's name holds the
    chart's), and any ``fullnameOverride`` of the values (top level, ``global``, or a wrapper's
    dependency)."""
    names = {release}
    if chart and chart not in release:
        names.add(f"{release}-{chart}")
    for scope in (values, values.get("global"), *(v for v in values.values() if isinstance(v, dict))):
        if isinstance(scope, dict) and isinstance(scope.get("fullnameOverride"), str):
            names.add(scope["fullnameOverride"])
    return frozenset(names)


def _keys(value: Any, at: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*at, str(key))
            yield from _keys(item, (*at, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _keys(item, (*at, index))


def _scalars(value: Any, at: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _scalars(item, (*at, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _scalars(item, (*at, index))
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield at, value
