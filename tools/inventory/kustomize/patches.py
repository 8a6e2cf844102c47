"""Patches: strategic merge (by kind/name, lists merged by their key: containers by name) and JSON 6902.

A patch is a file or inline text. A list of operations is JSON 6902 (add, replace, remove, copy,
move, test); a mapping is a strategic-merge patch. ``target`` selects objects by group, version,
kind, name and namespace (regular expressions, as kustomize), and label/annotation selectors; a
strategic-merge patch without a target applies to the object of its own kind and name, which must
exist. Every value a patch sets keeps the patch's ``path:line`` (``Origins.set_key``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tools.inventory.k8s_core import as_list, as_map, as_str
from tools.inventory.kustomize.model import KustomizeError, Resource
from tools.inventory.loading import LoadError
from tools.inventory.provenance import Origins
from tools.inventory.sources import CodeRef
from tools.inventory.yaml_lines import LineOf, load_documents, load_values_with_lines

if TYPE_CHECKING:
    from tools.inventory.kustomize.engine import _Context

_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


class _Patch:
    """One patch document: a strategic-merge mapping or a list of 6902 operations, and where it is.

    ``line_of`` (6902 only) is the key-line lookup of the operations in ``path``, already shifted for
    an inline patch: ``line_of((index, "value"))`` is the line of an operation's ``value:``."""

    def __init__(self, body: Any, path: str, line: int | None, line_of: LineOf | None = None) -> None:
        self.body = body
        self.path = path
        self.line = line
        self.line_of = line_of

    @property
    def is_json6902(self) -> bool:
        return isinstance(self.body, list)

    def op_ref(self, index: int) -> CodeRef:
        """Where operation ``index`` sets its value: its ``value:`` line (the line to change), else its
        ``op:`` line (remove, copy, move), else the patch's first line."""
        op = self.body[index] if self.is_json6902 and index < len(self.body) else None
        key = "value" if isinstance(op, dict) and "value" in op else "op"
        line = self.line_of((index, key)) if self.line_of is not None else None
        return CodeRef(path=self.path, line=line or self.line or 1)

    def op_value(self, index: int, value: Any, origins: Origins) -> Any:
        """A copy of operation ``index``'s value, each node registered at its line in the patch (a
        label inside an added ``labels`` mapping cites its own line)."""
        if self.line_of is None:
            return origins.clone(value)
        return origins.copy_in(value, self.path, self.line_of, (index, "value"))


def strategic_merge_files(ctx: _Context, acc: list[Resource]) -> None:
    for index, entry in enumerate(as_list(ctx.data.get("patchesStrategicMerge"))):
        at = ("patchesStrategicMerge", index)
        text = str(entry)
        for patch in _load(ctx, text, at, inline="\n" in text):
            _apply(ctx, acc, patch, None, at)


def patches(ctx: _Context, acc: list[Resource]) -> None:
    for index, item in enumerate(as_list(ctx.data.get("patches"))):
        spec = as_map(item)
        at = ("patches", index)
        if isinstance(spec.get("patch"), str):
            loaded = _load(ctx, spec["patch"], (*at, "patch"), inline=True)
        elif isinstance(spec.get("path"), str):
            loaded = _load(ctx, spec["path"], (*at, "path"), inline=False)
        else:
            raise ctx.error("a patch with neither path nor patch", at)
        target = spec.get("target")
        for patch in loaded:
            _apply(ctx, acc, patch, as_map(target) if isinstance(target, dict) else None, at)
        allowed = [
            o for o in ("allowNameChange", "allowKindChange") if as_map(spec.get("options")).get(o) is True
        ]
        if allowed:  # kustomize would rename (or re-kind) the object to the patch's; this build keeps it
            ctx.note(f"patch options {', '.join(allowed)}: not applied by this build", (*at, "options"))


def json6902_list(ctx: _Context, acc: list[Resource]) -> None:
    for index, item in enumerate(as_list(ctx.data.get("patchesJson6902"))):
        spec = as_map(item)
        at = ("patchesJson6902", index)
        if isinstance(spec.get("patch"), str):
            loaded = _load(ctx, spec["patch"], (*at, "patch"), inline=True)
        else:
            loaded = _load(ctx, as_str(spec.get("path")) or "", (*at, "path"), inline=False)
        for patch in loaded:
            _apply(ctx, acc, patch, as_map(spec.get("target")), at)


def _load(ctx: _Context, text: str, at: tuple[str | int, ...], inline: bool) -> list[_Patch]:
    origins = ctx.origins
    if inline:
        base = ctx.line(at) or 1  # a block scalar's first line is the one after its key
        body_text: bytes | str = text
        path = ctx.path

        def shift(inner: Any) -> Any:
            return lambda kp: (line + base) if (line := inner(kp)) is not None else None

    else:
        path = ctx.file(text, at)
        ctx.result.aux_files.add(path)
        body_text = ctx.k.read_bytes(path, ctx.path, ctx.line(at))
        base = 0

        def shift(inner: Any) -> Any:
            return inner

    try:
        loaded = load_values_with_lines(body_text)
        if loaded and isinstance(loaded[0][0], list):
            return [_Patch(loaded[0][0], path, base + 1, shift(loaded[0][1]))]
        docs = load_documents(body_text)
    except LoadError as exc:
        raise KustomizeError(path, f"patch: {exc.message}", (exc.line or 0) + base or None) from None
    out: list[_Patch] = []
    for doc in docs:
        body = origins.copy_in(doc.data, path, shift(doc.line_of))
        out.append(_Patch(body, path, doc.line + base))
    return out


def _apply(
    ctx: _Context,
    acc: list[Resource],
    patch: _Patch,
    target: dict[str, Any] | None,
    at: tuple[str | int, ...],
) -> None:
    if target is not None:
        chosen = [r for r in acc if _selected(r, target)]
    elif patch.is_json6902:
        raise ctx.error("a JSON 6902 patch needs a target", at)
    else:
        chosen = [r for r in acc if _same_object(r, patch.body)]
        if not chosen:
            meta = as_map(patch.body.get("metadata"))
            raise ctx.error(
                f"patch {patch.path}: no {patch.body.get('kind')} named {meta.get('name')!r} to patch", at
            )
    for resource in chosen:
        if patch.is_json6902:
            for index in range(len(patch.body)):
                _json_op(ctx, resource, patch, index, at)
        elif patch.body.get("$patch") == "delete":
            acc.remove(resource)
        else:
            _merge_keeping_identity(resource.obj, patch.body, ctx.origins)


_IDENTITY: tuple[tuple[tuple[str, ...], str], ...] = (
    ((), "kind"),
    (("metadata",), "name"),
    (("metadata",), "namespace"),
)


def _merge_keeping_identity(obj: dict[str, Any], body: dict[str, Any], origins: Origins) -> None:
    """``merge``, then the object's kind, name and namespace put back, as kustomize's ``ApplySmPatch``
    does (``api/resource/resource.go``; ``allowNameChange``/``allowKindChange`` are noted, not applied):
    a patch names its object by them (a targeted patch's name may be a placeholder; an untargeted
    one's may be the name before a prefix), so they set nothing and keep citing where the object got
    them (its document, or the transformer that renamed it), not the patch that repeats them. The
    patch's apiVersion is merged, as kustomize merges it."""
    kept, absent = [], []
    for path, key in _IDENTITY:
        node = _node(obj, path)
        if node is not None and key in node:
            kept.append(
                (path, key, node, node[key], origins.override(node, key), origins.ref_of_key(node, key))
            )
        else:
            absent.append((path, key))
    merge(obj, body, origins)
    if not obj:
        return
    for path, key, before, value, override, ref in kept:
        node = _node(obj, path, create=True)
        assert node is not None
        node[key] = value
        # the same mapping: its recorded ref as it was; a new one ($patch: replace): the old citation
        origins.restore_key(node, key, override if node is before else ref)
    for path, key in absent:  # kustomize sets the object's namespace, none for a cluster-scoped one
        node = _node(obj, path)
        if node is not None and node.pop(key, None) is not None:
            origins.restore_key(node, key, None)


def _node(obj: dict[str, Any], path: tuple[str, ...], create: bool = False) -> dict[str, Any] | None:
    node: Any = obj
    for key in path:
        if create and not isinstance(node.get(key), dict):
            node[key] = {}
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _same_object(resource: Resource, body: dict[str, Any]) -> bool:
    meta = as_map(body.get("metadata"))
    name, namespace = as_str(meta.get("name")), as_str(meta.get("namespace"))
    group = (as_str(body.get("apiVersion")) or "").rpartition("/")[0]
    return (
        resource.kind == body.get("kind")
        and (resource.name == name or name in resource.names)
        and (namespace is None or resource.namespace in (namespace, None))
        and (not body.get("apiVersion") or resource.group == group)
    )


def _selected(resource: Resource, target: dict[str, Any]) -> bool:
    api = as_str(resource.obj.get("apiVersion")) or ""
    group, _, version = api.rpartition("/")
    for key, actual in (("group", group), ("version", version), ("kind", resource.kind)):
        wanted = as_str(target.get(key))
        if wanted is not None and not _full_match(wanted, actual):
            return False
    name = as_str(target.get("name"))
    if name is not None and not any(_full_match(name, n or "") for n in (resource.name, *resource.names)):
        return False
    namespace = as_str(target.get("namespace"))
    if namespace is not None and not _full_match(namespace, resource.namespace or ""):
        return False
    for key, field in (("labelSelector", "labels"), ("annotationSelector", "annotations")):
        selector = as_str(target.get(key))
        if selector is not None and not _matches(selector, as_map(resource.meta().get(field))):
            return False
    return True


def _full_match(pattern: str, value: str) -> bool:
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return pattern == value


def _matches(selector: str, labels: dict[str, Any]) -> bool:
    """Equality (``a=b``, ``a==b``), inequality (``a!=b``) and existence (``a``, ``!a``) terms."""
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            key, _, value = term.partition("!=")
            if str(labels.get(key.strip())) == value.strip():
                return False
        elif "=" in term:
            key, _, value = term.replace("==", "=").partition("=")
            if str(labels.get(key.strip())) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


# ------------------------------------------------------------------------- strategic merge


def merge(target: dict[str, Any], patch: dict[str, Any], origins: Origins) -> None:
    """Merge ``patch`` into ``target`` in place, as a strategic-merge patch; values keep the patch's line."""
    if patch.get("$patch") == "replace":
        target.clear()
    for key, value in patch.items():
        if not isinstance(key, str) or key.startswith("$"):
            continue
        current = target.get(key)
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(current, dict) and value.get("$patch") != "replace":
            if value.get("$patch") == "delete":
                target.pop(key, None)
                continue
            merge(current, value, origins)
        elif isinstance(value, list) and isinstance(current, list) and _merge_key(key, value, current):
            _merge_list(current, value, _merge_key(key, value, current) or "", origins)
        else:
            target[key] = origins.clone(_strip(value))
            origins.set_key(target, key, origins.ref_of_key(patch, key))


def _merge_key(key: str, patch: list[Any], current: list[Any]) -> str | None:
    if key == "ports":
        items = [i for i in (*patch, *current) if isinstance(i, dict)]
        return "containerPort" if any("containerPort" in i for i in items) else "port"
    return _MERGE_KEYS.get(key)


def _merge_list(current: list[Any], patch: list[Any], key: str, origins: Origins) -> None:
    """Items the patch names come first, in the patch's order, then the others (kubectl 1.32 does so)."""
    named: list[Any] = []
    touched: set[int] = set()
    for item in patch:
        if not isinstance(item, dict):
            continue
        wanted = item.get(key)
        found = next((c for c in current if isinstance(c, dict) and c.get(key) == wanted), None)
        if found is not None:
            touched.add(id(found))
        if item.get("$patch") == "delete":
            continue
        if found is not None:
            merge(found, item, origins)
            named.append(found)
        else:
            named.append(origins.clone(_strip(item)))
    current[:] = named + [c for c in current if id(c) not in touched]


def _strip(value: Any) -> Any:
    """A patch value without its ``$patch`` directives (kept the same object when it has none)."""
    if isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value):
        for key in [k for k in value if isinstance(k, str) and k.startswith("$")]:
            del value[key]
    return value


# ----------------------------------------------------------------------------- JSON 6902


def _json_op(ctx: _Context, resource: Resource, patch: _Patch, index: int, at: tuple[str | int, ...]) -> None:
    op = as_map(patch.body[index])
    kind = as_str(op.get("op"))
    ref = patch.op_ref(index)
    path = _pointer(as_str(op.get("path")))
    if kind is None or path is None:
        raise ctx.error("a JSON 6902 operation without op or path", at)
    where = f"{resource.kind}/{resource.name}"
    try:
        if kind in ("add", "replace"):
            value = patch.op_value(index, op.get("value"), ctx.origins)
            _set(resource.obj, path, value, kind, ctx.origins, ref)
        elif kind == "remove":
            parent, last = _parent(resource.obj, path)
            _delete(parent, last, ctx.origins)
        elif kind in ("copy", "move"):
            source = _pointer(as_str(op.get("from")))
            if source is None:
                raise KeyError("from")
            parent, last = _parent(resource.obj, source)
            value = parent[last]
            if kind == "move":
                _delete(parent, last, ctx.origins)
            _set(resource.obj, path, ctx.origins.clone(value), "add", ctx.origins, ref)
        elif kind == "test":
            parent, last = _parent(resource.obj, path)
            if parent[last] != op.get("value"):
                raise ctx.error(f"JSON 6902 test failed on {where} at {op.get('path')}", at)
        else:
            raise ctx.error(f"JSON 6902 operation {kind!r} is unknown", at)
    except (KeyError, IndexError, TypeError, ValueError):
        raise ctx.error(f"JSON 6902 {kind} on {where}: {op.get('path')} does not exist", at) from None


def _delete(parent: Any, last: str | int, origins: Origins) -> None:
    """A JSON 6902 remove: the key or item gone, and a list's later items keeping their refs."""
    if isinstance(parent, list):
        assert isinstance(last, int)
        origins.shift_items(parent, last + 1, -1)
    del parent[last]


def _pointer(text: str | None) -> list[str] | None:
    if text is None or not text.startswith("/"):
        return None
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _parent(obj: Any, path: list[str]) -> tuple[Any, str | int]:
    node = obj
    for part in path[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = path[-1]
    if isinstance(node, list):
        return node, (len(node) if last == "-" else int(last))
    if not isinstance(node, dict):
        raise TypeError(last)
    return node, last


def _set(obj: Any, path: list[str], value: Any, kind: str, origins: Origins, ref: CodeRef) -> None:
    if not path or path == [""]:
        raise ValueError("root")
    parent, last = _parent(obj, path)
    if isinstance(parent, list):
        assert isinstance(last, int)
        if kind == "add":
            if last > len(parent):
                raise IndexError(last)
            origins.shift_items(parent, last, 1)
            parent.insert(last, value)
        else:
            parent[last] = value
    else:
        if kind == "replace" and last not in parent:
            raise KeyError(last)
        parent[last] = value
    origins.set_key(parent, last, ref)
