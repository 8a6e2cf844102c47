"""``configMapGenerator`` and ``secretGenerator``: ConfigMaps and Secrets from files, literals and env files.

A generated object's name gets kustomize's content hash (``content_hash``, the algorithm of
kustomize's ``api/hasher``: sha256 of the Go JSON of kind, name, data (and type, binaryData), its
first ten hex digits with 0,1,3,a,e turned into g,h,k,m,t) at the end of the top build, unless
``disableNameSuffixHash``. Secret values are only ever base64 in the object (as kustomize writes
them) and never leave it: the record mapper keeps key names, and no note quotes a value.
"""

from __future__ import annotations

import base64
import hashlib
import json
import posixpath
from typing import TYPE_CHECKING, Any

from tools.inventory.k8s_core import as_list, as_map, as_str, str_map
from tools.inventory.kustomize.model import Resource

if TYPE_CHECKING:
    from tools.inventory.kustomize.engine import _Context

_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HASH_LETTERS = str.maketrans({"0": "g", "1": "h", "3": "k", "a": "m", "e": "t"})


def run(ctx: _Context, acc: list[Resource]) -> list[Resource]:
    """Add (or merge, or replace) the generated objects of one kustomization."""
    options = as_map(ctx.data.get("generatorOptions"))
    for field, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        for index, item in enumerate(as_list(ctx.data.get(field))):
            spec = as_map(item)
            generated = _generate(ctx, spec, kind, (field, index), options)
            acc = _add(ctx, acc, generated, (field, index))
    return acc


def _generate(
    ctx: _Context, spec: dict[str, Any], kind: str, at: tuple[str | int, ...], options: dict[str, Any]
) -> Resource:
    name = as_str(spec.get("name"))
    if name is None:
        raise ctx.error(f"a {kind} generator without a name", at)
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    for i, literal in enumerate(as_list(spec.get("literals"))):
        key, sep, value = str(literal).partition("=")
        if not sep or not key:
            raise ctx.error(f"literal {i} of {name!r} is not KEY=VALUE", (*at, "literals", i))
        data[key.strip()] = _unquote(value)
    env_files = as_list(spec.get("envs")) + ([spec["env"]] if isinstance(spec.get("env"), str) else [])
    for i, entry in enumerate(env_files):
        local = ctx.file(str(entry), (*at, "envs", i))
        text = ctx.k.read_bytes(local, ctx.path, ctx.line((*at, "envs", i))).decode("utf-8", "replace")
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if not sep:
                ctx.note(f"{local}: a line without '=' takes its value from the environment; left out")
                continue
            data[key.strip()] = value
    for i, entry in enumerate(as_list(spec.get("files"))):
        text = str(entry)
        key, sep, file = text.partition("=")
        if not sep:
            key, file = posixpath.basename(text), text
        local = ctx.file(file, (*at, "files", i))
        raw = ctx.k.read_bytes(local, ctx.path, ctx.line((*at, "files", i)))
        try:
            data[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(raw).decode()
    merged = {**as_map(options), **as_map(spec.get("options"))}
    meta: dict[str, Any] = {"name": name}
    if (namespace := as_str(spec.get("namespace"))) is not None:
        meta["namespace"] = namespace
    labels = {**str_map(as_map(options).get("labels")), **str_map(as_map(spec.get("options")).get("labels"))}
    annotations = {
        **str_map(as_map(options).get("annotations")),
        **str_map(as_map(spec.get("options")).get("annotations")),
    }
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": meta}
    if kind == "Secret":
        everything = {**{k: base64.b64encode(v.encode()).decode() for k, v in data.items()}, **binary}
        if everything:
            obj["data"] = everything
        obj["type"] = as_str(spec.get("type")) or "Opaque"
    else:
        if data:
            obj["data"] = data
        if binary:
            obj["binaryData"] = binary
    if merged.get("immutable") is True:
        obj["immutable"] = True
    behavior = as_str(spec.get("behavior")) or "create"
    if behavior not in ("create", "merge", "replace"):
        raise ctx.error(f"generator {name!r}: unknown behavior {behavior!r}", at)
    return Resource(
        obj,
        ctx.path,
        ctx.line(at) or 1,
        generated=True,
        hash_name=merged.get("disableNameSuffixHash") is not True,
        behavior=behavior,
    )


def _add(ctx: _Context, acc: list[Resource], new: Resource, at: tuple[str | int, ...]) -> list[Resource]:
    same = [
        r
        for r in acc
        if r.kind == new.kind
        and r.name == new.name
        and (new.namespace is None or r.namespace == new.namespace)
    ]
    if new.behavior == "create":
        if same:
            raise ctx.error(f"{new.kind} {new.name!r} already exists (use behavior: merge or replace)", at)
        return [*acc, new]
    if not same:
        raise ctx.error(f"{new.kind} {new.name!r} to {new.behavior} does not exist", at)
    old = same[0]
    if new.behavior == "merge":
        for field in ("data", "binaryData"):
            if field in new.obj:
                old.obj[field] = {**as_map(old.obj.get(field)), **new.obj[field]}
        for field in ("labels", "annotations"):
            extra = as_map(new.obj["metadata"].get(field))
            if extra:
                old.meta()[field] = {**as_map(old.meta().get(field)), **extra}
        old.hash_name = old.hash_name or new.hash_name
        return acc
    new.obj["metadata"]["namespace"] = (
        old.namespace if old.namespace else new.obj["metadata"].get("namespace")
    )
    if new.obj["metadata"]["namespace"] is None:
        del new.obj["metadata"]["namespace"]
    return [new if r is old else r for r in acc]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def content_hash(obj: dict[str, Any]) -> str:
    """kustomize's name suffix for a ConfigMap or Secret (``api/hasher``)."""
    kind = as_str(obj.get("kind")) or ""
    data = obj.get("data")
    encoded: dict[str, Any] = {
        "kind": kind,
        "name": "",  # kustomize 5 hashes before the name is set (measured with kubectl 1.32)
        "data": data if isinstance(data, dict) and data else "",  # absent: "" (kubectl 1.32)
    }
    if kind == "Secret":
        encoded["type"] = as_str(obj.get("type")) or ""
    elif isinstance(obj.get("binaryData"), dict) and obj["binaryData"]:
        encoded["binaryData"] = obj["binaryData"]
    text = json.dumps(encoded, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _GO_ESCAPES.items():
        text = text.replace(char, escape)
    return hashlib.sha256(text.encode()).hexdigest()[:10].translate(_HASH_LETTERS)
