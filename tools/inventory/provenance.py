"""Where each value of a built object was written: the file and line of its node, across files.

A Kustomize build (and a Flux substitution, an ApplicationSet expansion) makes objects out of several
files: a Deployment from a base, its container patched in by an overlay's patch file, its image set
by the overlay's ``images:``. ``Origins`` remembers, for every mapping and list it has copied out of a
loaded document, the file and key path it came from (by object identity; the build copies what it
changes, so identity is kept), plus per-key overrides for scalars a patch or transformer set. A
``Provenance`` is one built object's view of that: ``ref(path)`` is the ``CodeRef`` of any nested
value, and calling it gives the line only when the value is in the object's own file, so it can be
passed as the ``line_of`` of the one object-to-record mapper (``k8s_core.K8sObject.sub`` asks
``ref`` for a nested item's source, so a patched container cites the patch file).
"""

from __future__ import annotations

from typing import Any

from tools.inventory.sources import CodeRef
from tools.inventory.yaml_lines import LineOf

KeyPath = tuple[str | int, ...]


class Origins:
    """id(node) → (file, its line lookup, key path in that file's document); kept alive with the nodes."""

    def __init__(self) -> None:
        self._nodes: dict[int, tuple[str, LineOf, KeyPath]] = {}
        self._keys: dict[tuple[int, str | int], CodeRef] = {}
        self._alive: list[Any] = []

    def copy_in(self, data: Any, path: str, line_of: LineOf, at: KeyPath = ()) -> Any:
        """A deep copy of ``data`` (a loaded document or a part of one), every node registered."""
        if isinstance(data, dict):
            out: dict[Any, Any] = {k: self.copy_in(v, path, line_of, (*at, k)) for k, v in data.items()}
        elif isinstance(data, list):
            out_list = [self.copy_in(v, path, line_of, (*at, i)) for i, v in enumerate(data)]
            self._register(out_list, path, line_of, at)
            return out_list
        else:
            return data
        self._register(out, path, line_of, at)
        return out

    def _register(self, node: Any, path: str, line_of: LineOf, at: KeyPath) -> None:
        self._nodes[id(node)] = (path, line_of, at)
        self._alive.append(node)

    def clone(self, data: Any) -> Any:
        """A deep copy that keeps each node's origin (a base built into two overlays is two objects)."""
        if isinstance(data, dict):
            out: Any = {k: self.clone(v) for k, v in data.items()}
        elif isinstance(data, list):
            out = [self.clone(v) for v in data]
        else:
            return data
        origin = self._nodes.get(id(data))
        if origin is not None:
            self._register(out, *origin)
        for key in data if isinstance(data, dict) else ():
            ref = self._keys.get((id(data), key))
            if ref is not None:
                self.set_key(out, key, ref)
        return out

    def set_key(self, node: Any, key: str | int, ref: CodeRef | None) -> None:
        """Record that ``node[key]`` was set by ``ref`` (a patch's line, a kustomization's field)."""
        if ref is not None:
            self._keys[(id(node), key)] = ref
            self._alive.append(node)

    def override(self, node: Any, key: str | int) -> CodeRef | None:
        """The ref a patch or transformer recorded for ``node[key]`` (``set_key``), if one did."""
        return self._keys.get((id(node), key))

    def restore_key(self, node: Any, key: str | int, ref: CodeRef | None) -> None:
        """``node[key]``'s recorded ref put back as it was: ``ref``, or none (``override`` gave None)."""
        if ref is None:
            self._keys.pop((id(node), key), None)
        else:
            self.set_key(node, key, ref)

    def shift_items(self, items: list[Any], start: int, by: int) -> None:
        """Before an item is inserted at ``start`` (``by`` 1) or removed at ``start - 1`` (-1): the refs
        of ``items[start:]`` moved ``by`` places with them, so a JSON 6902 op on a list keeps each item
        citing its own line. A scalar item found by its index in its document is given that ref first
        (its index is about to change); a mapping or list knows its own place already."""
        node = id(items)
        refs = {}
        for index in range(start, len(items)):  # nothing to move for an item added at the end (``/-``)
            ref = self._keys.pop((node, index), None)
            if ref is None and not isinstance(items[index], dict | list):
                ref = self.ref_of_key(items, index)
            if ref is not None:
                refs[index] = ref
        if by < 0:
            self._keys.pop((node, start - 1), None)  # a removed item's ref goes with it
        for index, ref in refs.items():
            self.set_key(items, index + by, ref)

    def ref_of_key(self, node: Any, key: str | int) -> CodeRef | None:
        """Where ``node[key]`` was written: an override, else the node's own file and key path."""
        override = self._keys.get((id(node), key))
        if override is not None:
            return override
        child = node[key] if _has(node, key) else None
        own = self._nodes.get(id(child)) if isinstance(child, dict | list) else None
        if own is not None:  # a mapping or list knows its own place (a list item may have moved)
            path, line_of, at = own
            line = line_of(at)
            return CodeRef(path=path, line=line) if line is not None else None
        origin = self._nodes.get(id(node))
        if origin is None:
            return None
        path, line_of, at = origin
        line = line_of((*at, key))
        return CodeRef(path=path, line=line) if line is not None else None

    def ref(self, obj: Any, keypath: KeyPath) -> CodeRef | None:
        """The source of the value at ``keypath`` inside ``obj``; None when no file wrote it."""
        node = obj
        found: CodeRef | None = None
        for index, key in enumerate(keypath):
            if not _has(node, key):
                return None
            ref = self.ref_of_key(node, key)
            if index == len(keypath) - 1:
                return ref
            found = ref or found
            node = node[key]
        return found

    def set_by_build(self, obj: Any, keypath: KeyPath) -> CodeRef | None:
        """Where a patch or a transformer set the value at ``keypath`` (it, or a mapping or list above
        it): the value's own line when known, else the line that set the nearest of them. None when
        the build set nothing on the way (the value is as its document wrote it, or absent)."""
        node = obj
        nearest: CodeRef | None = None
        for key in keypath:
            if not _has(node, key):
                return None
            nearest = self._keys.get((id(node), key)) or nearest
            node = node[key]
        if nearest is None:
            return None
        return self.ref(obj, keypath) or nearest


def _has(node: Any, key: str | int) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)


class Provenance:
    """One built object's sources, usable as the mapper's ``line_of`` (lines in ``path`` only)."""

    def __init__(self, origins: Origins, obj: dict[str, Any], path: str) -> None:
        self.origins = origins
        self.obj = obj
        self.path = path

    def ref(self, keypath: KeyPath) -> CodeRef | None:
        return self.origins.ref(self.obj, keypath)

    def set_by_build(self, keypath: KeyPath) -> CodeRef | None:
        return self.origins.set_by_build(self.obj, keypath)

    def __call__(self, keypath: KeyPath) -> int | None:
        ref = self.ref(keypath)
        return ref.line if ref is not None and ref.path == self.path else None
