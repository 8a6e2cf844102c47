"""``kustomize build`` in a reader's script, exact for the objects of kind Namespace only.

A reader's script, not part of infra-audit: the standard library and PyYAML only, sharing no code
with infra-audit's Kustomize engine (``namespaces_count.py`` runs it over an estate). It is exact
for Namespace objects (names, labels, annotations) and for nothing else: it leaves out what cannot
change a Namespace (name prefixes and suffixes, which kustomize does not put on Namespaces, images,
replicas, ConfigMap and Secret generators, Helm charts a kustomization inflates, which an appendix
command over rendered objects never reads anyway). What kustomize does, as ``kubectl kustomize``
(kustomize v5) prints it, and ``tests/unit/test_kustomize_reader.py`` compares with it:

* ``resources`` (and the old ``bases``): files, and directories built as kustomizations; then
  ``components``, each adding its resources and running its transformers over everything so far;
* then, in this order, ``patchesStrategicMerge``, ``patches``, ``patchesJson6902`` (a patch's target
  matches an object's current or first name; a strategic-merge patch without a target, the object
  of its own kind and name), the ``namespace`` (which renames the build's one Namespace object), and
  ``labels``/``commonLabels``/``commonAnnotations``.

What it cannot build it refuses (``Unsupported``): a remote resource or component, and
``replacements``, ``generators`` or ``transformers`` entries. What kustomize itself fails on is a
``BuildError`` (a missing file, a failed JSON patch test, two Namespaces renamed to one).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from k8s_objects import load_all, meta

Obj = dict[str, Any]
FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
REMOTE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|github\.com/|gitlab\.com/|bitbucket\.org/)", re.I)
REFUSED = ("replacements", "generators", "transformers")


class Unsupported(Exception):
    """Something this reader does not build: it says so rather than guess."""


class BuildError(Exception):
    """What kustomize itself would fail on (a missing file, two Namespaces renamed to one)."""


@dataclass
class Res:
    """One object of a build, and the name it was first read with (a patch's target may name either)."""

    obj: Obj
    first_name: Any


@dataclass
class Build:
    """Every file one build read (the estate's count reads no file twice)."""

    read: set[Path] = field(default_factory=set)


def kfile(directory: Path) -> Path | None:
    return next((directory / n for n in FILES if (directory / n).is_file()), None)


def load(path: Path) -> list[Any]:
    try:
        return load_all(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BuildError(f"{path}: cannot read ({type(exc).__name__})") from None


def manifests(path: Path) -> list[Res]:
    return [
        Res(d, meta(d).get("name"))
        for d in load(path)
        if isinstance(d, dict) and isinstance(d.get("kind"), str)
    ]


def entries(k: Obj, key: str) -> list[Any]:
    value = k.get(key)
    return value if isinstance(value, list) else []


def kustomization(directory: Path, build: Build) -> Obj:
    path = kfile(directory)
    if path is None:
        raise BuildError(f"{directory}: no kustomization file")
    build.read.add(path.resolve())
    docs = load(path)
    k = docs[0] if docs and isinstance(docs[0], dict) else {}
    for key in REFUSED:
        if k.get(key):
            raise Unsupported(f"{path}: {key} is not built by this reader")
    return k


def resources(directory: Path, k: Obj, build: Build, stack: tuple[Path, ...]) -> list[Res]:
    out: list[Res] = []
    for entry in entries(k, "resources") + entries(k, "bases"):
        if not isinstance(entry, str):
            continue
        if REMOTE.match(entry):
            raise Unsupported(f"{directory}: remote resource {entry} is not read by this reader")
        path = (directory / entry).resolve()
        if path.is_dir():
            out += build_dir(path, build, stack)
        elif path.is_file():
            build.read.add(path)
            out += manifests(path)
        else:
            raise BuildError(f"{directory}: resource {entry} does not exist")
    return out


def build_dir(directory: Path, build: Build, stack: tuple[Path, ...] = ()) -> list[Res]:
    """``kustomize build DIRECTORY``'s objects."""
    if directory in stack:
        raise BuildError(f"{directory}: includes itself")
    k = kustomization(directory, build)
    if k.get("kind") == "Component":
        raise BuildError(f"{directory}: a Component listed as a resource")
    objs = resources(directory, k, build, (*stack, directory))
    objs = components(directory, k, objs, build, (*stack, directory))
    return transform(directory, k, objs, build)


def components(directory: Path, k: Obj, objs: list[Res], build: Build, stack: tuple[Path, ...]) -> list[Res]:
    for entry in entries(k, "components"):
        if not isinstance(entry, str) or REMOTE.match(entry):
            raise Unsupported(f"{directory}: remote component {entry} is not read by this reader")
        path = (directory / entry).resolve()
        if path in stack:
            raise BuildError(f"{path}: includes itself")
        c = kustomization(path, build)
        objs = objs + resources(path, c, build, (*stack, path))
        objs = components(path, c, objs, build, (*stack, path))
        objs = transform(path, c, objs, build)
    return objs


# ---------------------------------------------------------------------------------------- patches


def full(pattern: Any, value: Any) -> bool:
    """A selector field (a regular expression, as kustomize reads it) over a whole value."""
    try:
        return re.fullmatch(str(pattern), str(value or "")) is not None
    except re.error:
        raise BuildError(f"patch target {pattern!r}: not a regular expression") from None


def selects(target: Any, res: Res) -> bool:
    if not isinstance(target, dict):
        return True
    obj = res.obj
    group, _, version = str(obj.get("apiVersion") or "").rpartition("/")
    m = meta(obj)
    wanted = {
        "group": group,
        "version": version,
        "kind": obj.get("kind"),
        "namespace": m.get("namespace") or "",
    }
    for key, value in wanted.items():
        if target.get(key) not in (None, "") and not full(target[key], value):
            return False
    name = target.get("name")
    if name not in (None, "") and not any(full(name, n) for n in (res.first_name, m.get("name"))):
        return False
    return matches(target.get("labelSelector"), m.get("labels")) and matches(
        target.get("annotationSelector"), m.get("annotations")
    )


SELECTOR = re.compile(r"\s*(!?)([\w./-]+)\s*(?:(==|=|!=)\s*([\w.-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def matches(selector: Any, values: Any) -> bool:
    """A label selector (``a=b,c!=d,e,!f,g in (x,y),h notin (z)``) over a label map."""
    if not selector:
        return True
    have = values if isinstance(values, dict) else {}
    for term in re.split(r",(?![^(]*\))", str(selector)):
        found = SELECTOR.match(term)
        if found is None:
            raise BuildError(f"label selector {selector!r}: cannot read")
        neg, key, op, val, setop, vals = found.groups()
        present = key in have
        value = str(have.get(key))
        if setop:
            listed = {v.strip() for v in vals.split(",")}
            ok = present and value in listed if setop == "in" else not (present and value in listed)
        elif op:
            ok = present and value == val if op != "!=" else not (present and value == val)
        else:
            ok = present != bool(neg)
        if not ok:
            return False
    return True


def merge(base: Any, patch: Any) -> Any:
    """A strategic-merge patch over one object (maps merge, ``null`` deletes, lists are replaced)."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    out = dict(base)
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out


def null_strings(doc: Obj) -> Obj:
    """A targeted strategic-merge patch's ``null`` label or annotation: kustomize v5 writes the string
    ``"null"`` there (an untargeted patch deletes the key), as ``kubectl kustomize`` prints it."""
    doc = copy.deepcopy(doc)
    for key in ("labels", "annotations"):
        values = meta(doc).get(key)
        if isinstance(values, dict):
            doc["metadata"][key] = {k: "null" if v is None else v for k, v in values.items()}
    return doc


def merged(obj: Obj, doc: Obj) -> Obj:
    """``doc`` merged over ``obj``, whose name and namespace stay (a patch names what it selects)."""
    out = merge(obj, doc)
    m, own = out.setdefault("metadata", {}), meta(obj)
    for key in ("name", "namespace"):
        if key in own:
            m[key] = own[key]
        else:
            m.pop(key, None)
    return out


def pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise BuildError(f"JSON patch path {path!r}: not a pointer")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def walk_to(doc: Any, parts: list[str], op: str) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if not isinstance(node, (dict, list)):
        raise KeyError(parts[-1])
    return node, parts[-1]


def json_patch(doc: Obj, ops: list[Any]) -> Obj:
    """RFC 6902 over one object (add, remove, replace, move, copy, test)."""
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise BuildError(f"JSON patch operation {op!r}: no op or path")
        try:
            value = copy.deepcopy(op.get("value"))
            if op["op"] in ("move", "copy"):
                node, key = walk_to(doc, pointer(op["from"]), op["op"])
                value = copy.deepcopy(node[int(key)] if isinstance(node, list) else node[key])
                if op["op"] == "move":
                    node.pop(int(key) if isinstance(node, list) else key)
            node, key = walk_to(doc, pointer(op["path"]), op["op"])
            if op["op"] in ("add", "move", "copy"):
                if isinstance(node, list):
                    node.insert(len(node) if key == "-" else int(key), value)
                else:
                    node[key] = value
            elif op["op"] == "remove":
                node.pop(int(key) if isinstance(node, list) else key)
            elif op["op"] == "replace":
                if isinstance(node, list):
                    node[int(key)] = value
                elif key not in node:
                    raise KeyError(key)
                else:
                    node[key] = value
            elif op["op"] == "test":
                if (node[int(key)] if isinstance(node, list) else node[key]) != value:
                    raise BuildError(f"JSON patch test of {op['path']} failed")
            else:
                raise BuildError(f"JSON patch op {op['op']!r}: unknown")
        except (KeyError, IndexError, ValueError, TypeError):
            raise BuildError(f"JSON patch {op['op']} {op['path']}: the path is not in the object") from None
    return doc


def patch_docs(directory: Path, entry: Any, build: Build) -> list[Any]:
    """The patch(es) of one entry: inline (``patch``) or a file (``path``), YAML or JSON."""
    if isinstance(entry, str):
        entry = (
            {"path": entry}
            if not entry.lstrip().startswith(("apiVersion", "kind", "{", "-"))
            else {"patch": entry}
        )
    if not isinstance(entry, dict):
        return []
    if entry.get("path"):
        path = (directory / str(entry["path"])).resolve()
        if not path.is_file():
            raise BuildError(f"{directory}: patch {entry['path']} does not exist")
        build.read.add(path)
        return load(path)
    try:
        return load_all(str(entry.get("patch") or ""))
    except yaml.YAMLError:
        raise BuildError(f"{directory}: an inline patch cannot be read") from None


def chosen_one(target: Any, res: Res) -> bool:
    """Whether a patch applies to ``res`` here: only Namespaces are patched (nothing else is exact)."""
    return res.obj.get("kind") == "Namespace" and selects(target, res)


def apply_patches(
    directory: Path, entries_: list[Any], objs: list[Res], build: Build, legacy_json: bool
) -> list[Res]:
    for entry in entries_:
        target = entry.get("target") if isinstance(entry, dict) else None
        for doc in patch_docs(directory, entry, build):
            if doc is None:
                continue
            if isinstance(doc, list) or legacy_json:
                ops = doc if isinstance(doc, list) else []
                objs = [
                    Res(json_patch(r.obj, ops), r.first_name) if chosen_one(target, r) else r for r in objs
                ]
                continue
            if not isinstance(doc, dict):
                continue
            if target is None:
                own = {"kind": doc.get("kind"), "name": re.escape(str(meta(doc).get("name")))}
                if meta(doc).get("namespace"):
                    own["namespace"] = re.escape(str(meta(doc)["namespace"]))
                chosen = [r for r in objs if chosen_one(own, r)]
            else:
                chosen = [r for r in objs if chosen_one(target, r)]
                doc = null_strings(doc)
            if doc.get("$patch") == "delete":
                objs = [r for r in objs if not any(r is c for c in chosen)]
                continue
            objs = [Res(merged(r.obj, doc), r.first_name) if any(r is c for c in chosen) else r for r in objs]
    return objs


def transform(directory: Path, k: Obj, objs: list[Res], build: Build) -> list[Res]:
    objs = apply_patches(directory, entries(k, "patchesStrategicMerge"), objs, build, legacy_json=False)
    objs = apply_patches(directory, entries(k, "patches"), objs, build, legacy_json=False)
    objs = apply_patches(directory, entries(k, "patchesJson6902"), objs, build, legacy_json=True)
    namespace = k.get("namespace")
    named = [r for r in objs if r.obj.get("kind") == "Namespace"]
    if isinstance(namespace, str) and namespace and named:
        if len(named) > 1:
            raise BuildError(
                f"{directory}: namespace {namespace} would rename {len(named)} Namespaces to one"
            )
        named[0].obj.setdefault("metadata", {})["name"] = namespace
    labels: dict[str, Any] = {}
    for item in entries(k, "labels"):
        if isinstance(item, dict) and isinstance(item.get("pairs"), dict):
            labels.update(item["pairs"])
    if isinstance(k.get("commonLabels"), dict):
        labels.update(k["commonLabels"])
    notes = k.get("commonAnnotations") if isinstance(k.get("commonAnnotations"), dict) else {}
    for r in objs:
        m = r.obj.setdefault("metadata", {})
        if labels:
            m["labels"] = {**(m.get("labels") or {}), **{str(a): str(b) for a, b in labels.items()}}
        if notes:
            m["annotations"] = {**(m.get("annotations") or {}), **{str(a): str(b) for a, b in notes.items()}}
    return objs
