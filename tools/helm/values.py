"""Values as the controllers merge them, and where each value was written.

``merge`` is Helm's coalescing of user values: maps merge key by key, anything else is replaced by the
later layer, and a ``null`` removes the key (``--set a=null``). The layers are merged in the order the
controller uses (``sources.py`` builds them): chart defaults (the engine) < values files < inline values
< ``set``-like overrides.

``ValueLines`` remembers, for the values written in the estate, the ``path:line`` of each scalar, so a
rendered container can cite the line that set its image (tag) rather than only its release, and a
rendered workload the line that set its ``replicas`` or its strategy (``field_ref``).
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

    def field_ref(
        self, name: str, value: object, workload: str | None, peers: list[tuple[str | None, object]]
    ) -> CodeRef | None:
        """The line that set a rendered workload's ``name`` field (``replicas``, ``strategy``) to
        ``value``, among the keys of that field (``FIELD_KEYS``) written with that value: one under a
        key naming the workload (``controllers.worker`` of ``media-worker``) and not beside another
        naming it (a wrapper's alias ``app`` above ``controllers.main`` does not name ``media-app``
        when ``controllers.app`` is written); else the only one naming
        none of the release's other workloads (``peers``: name, value), provided each of those with
        the same value is placed elsewhere (named beside it: ``controllers.worker`` beside
        ``controllers.main``). None where that is not certain: the finding then cites the release."""
        text = str(value)
        matching = [(k, ref) for k, (n, ref, v) in self.fields.items() if n == name and v == text]
        named = [ref for k, ref in matching if workload and self._claims(k, workload)]
        if named:
            return named[-1]
        others = [other for other, _ in peers if other]
        unclaimed = [(k, ref) for k, ref in matching if not any(self._claims(k, other) for other in others)]
        if len(unclaimed) != 1:
            return None
        [(key_path, ref)] = unclaimed
        rivals = [o for o, v in peers if str(v) == text and not (o and self._beside(key_path, o))]
        return None if rivals else ref

    def _claims(self, key_path: tuple[str | int, ...], workload: str) -> bool:
        """Whether a key above ``key_path`` names ``workload`` and no key beside one names it."""
        return _names(key_path, workload) and not self._beside(key_path, workload)

    def _beside(self, key_path: tuple[str | int, ...], workload: str) -> bool:
        """Whether a key written beside one above ``key_path`` names ``workload``: the value at
        ``key_path`` is then another's."""
        for depth in range(len(key_path) - 1):
            for other in self.keys:
                if (
                    len(other) == depth + 1
                    and other[:depth] == key_path[:depth]
                    and other[depth] != key_path[depth]
                    and _names_one(other[depth], workload)
                ):
                    return True
        return False

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


def _names(key_path: tuple[str | int, ...], workload: str) -> bool:
    """Whether a key above the value names the workload (``_names_one``)."""
    return any(_names_one(key, workload) for key in key_path[:-1])


def _names_one(key: str | int, workload: str) -> bool:
    """Whether ``key`` names the workload: its name, or the suffix a chart appends to the release's
    name (``worker`` of ``media-worker``)."""
    return isinstance(key, str) and (key == workload or workload.endswith(f"-{key}"))


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
