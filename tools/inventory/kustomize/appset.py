"""Argo CD ApplicationSets expanded against the repo into Application objects (plain dicts).

Generators expanded: ``list`` (elements), ``git`` ``directories`` (globs over the repo's directories,
``exclude`` honoured) and ``git`` ``files`` (JSON or YAML files whose keys become parameters). The
repo is taken to be the estate (an ApplicationSet pointing at another repository expands against
this one; that is noted). Any other generator (``clusters``, ``matrix``, ``merge``, ``pullRequest``,
``scmProvider``, ...) is reported as not expanded. Templates use Argo's two syntaxes: the default
``{{path.basename}}`` and, with ``goTemplate: true``, ``{{ .path.basename }}`` field access; a template
expression beyond that (a function, a pipe) is noted and left as written.

Each Application keeps where it came from: ``source`` is the generator element's ``path:line`` (the
list element, the directory glob, the parameter file's glob line) and ``appset`` the ApplicationSet's.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.inventory.k8s_core import as_list, as_map, as_str
from tools.inventory.loading import LoadError
from tools.inventory.provenance import Origins
from tools.inventory.sources import CodeRef
from tools.inventory.yaml_lines import YamlDocument, load_values

_FAST = re.compile(r"\{\{\s*([\w.\[\]-]+)\s*\}\}")
_GO = re.compile(r"\{\{-?\s*(?:\.([\w.]+)|index\s+\.([\w.]+)\s+(\d+))\s*-?\}\}")
"""``{{ .path.basename }}`` and ``{{ index .path.segments 0 }}`` (Go's index over a list parameter)."""
_SKIP_DIRS = frozenset({".git", ".terraform", ".terragrunt-cache", "node_modules", ".venv", "__pycache__"})
_EXPANDED = ("list", "git")


@dataclass
class Generated:
    """One Application an ApplicationSet makes."""

    obj: dict[str, Any]
    source: CodeRef
    """The generator element that made it."""
    appset: CodeRef


@dataclass
class Expansion:
    apps: list[Generated]
    notes: list[tuple[CodeRef, str]]


class RepoTree:
    """The estate's directories and files, listed once (without following symlinked directories)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._dirs: list[str] | None = None
        self._files: list[str] = []

    def _walk(self) -> None:
        self._dirs = []
        for current, dirs, files in os.walk(self.root):
            dirs[:] = sorted(
                d for d in dirs if d not in _SKIP_DIRS and not os.path.islink(os.path.join(current, d))
            )
            rel = Path(current).relative_to(self.root).as_posix()
            if rel != ".":
                self._dirs.append(rel)
            self._files += [posixpath.join(rel, f) if rel != "." else f for f in sorted(files)]

    def dirs(self) -> list[str]:
        if self._dirs is None:
            self._walk()
        return self._dirs or []

    def files(self) -> list[str]:
        if self._dirs is None:
            self._walk()
        return self._files


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as Argo's git generators read it: ``*`` within one segment, ``**`` across segments."""
    out, i = "", 0
    pattern = pattern.strip("/")
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def expand(doc: YamlDocument, path: str, tree: RepoTree, origins: Origins) -> Expansion:
    """The Applications of one ApplicationSet document."""
    data = doc.data
    spec = as_map(data.get("spec"))
    appset = CodeRef(path=path, line=doc.line)
    name = as_str(as_map(data.get("metadata")).get("name")) or "?"
    go = spec.get("goTemplate") is True
    result = Expansion([], [])
    template = spec.get("template")
    if not isinstance(template, dict):
        result.notes.append((appset, f"ApplicationSet {name}: no template; not expanded"))
        return result
    for gi, generator in enumerate(as_list(spec.get("generators"))):
        gen = as_map(generator)
        kinds = [k for k in gen if k not in ("selector", "values", "template")]
        at = ("spec", "generators", gi)
        where = CodeRef(path=path, line=doc.line_of(at) or doc.line)
        if not kinds or kinds[0] not in _EXPANDED:
            result.notes.append(
                (where, f"ApplicationSet {name}: {', '.join(kinds) or 'empty'} generator not expanded")
            )
            continue
        for params, source in _params(
            kinds[0], as_map(gen[kinds[0]]), (*at, kinds[0]), doc, path, tree, result
        ):
            obj = origins.copy_in(template, path, doc.line_of, ("spec", "template"))
            unresolved = _fill(obj, params, go)
            if unresolved:
                result.notes.append((source, f"ApplicationSet {name}: template {unresolved!r} not expanded"))
            app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", **obj}
            meta = app.setdefault("metadata", {})
            own = as_str(as_map(data.get("metadata")).get("namespace"))
            if isinstance(meta, dict) and "namespace" not in meta and own is not None:
                meta["namespace"] = own
            result.apps.append(Generated(app, source, appset))
    return result


def _params(
    kind: str,
    gen: dict[str, Any],
    at: tuple[str | int, ...],
    doc: YamlDocument,
    path: str,
    tree: RepoTree,
    result: Expansion,
) -> list[tuple[dict[str, Any], CodeRef]]:
    def ref(*sub: str | int) -> CodeRef:
        return CodeRef(path=path, line=doc.line_of((*at, *sub)) or doc.line)

    out: list[tuple[dict[str, Any], CodeRef]] = []
    if kind == "list":
        for index, element in enumerate(as_list(gen.get("elements"))):
            if isinstance(element, dict):
                out.append((dict(element), ref("elements", index)))
        return out
    directories = [as_map(d) for d in as_list(gen.get("directories"))]
    if directories:
        excluded = [glob_regex(str(d.get("path", ""))) for d in directories if d.get("exclude") is True]
        for index, entry in enumerate(directories):
            if entry.get("exclude") is True:
                continue
            pattern = glob_regex(str(entry.get("path", "")))
            for directory in tree.dirs():
                if pattern.fullmatch(directory) and not any(e.fullmatch(directory) for e in excluded):
                    out.append((_path_params(directory), ref("directories", index)))
    for index, entry in enumerate(as_map(f) for f in as_list(gen.get("files"))):
        pattern = glob_regex(str(entry.get("path", "")))
        for file in tree.files():
            if not pattern.fullmatch(file):
                continue
            try:
                with open(tree.root / file, "rb") as handle:
                    values = load_values(handle.read(10 * 1024 * 1024))
            except (OSError, LoadError):
                result.notes.append((ref("files", index), f"{file}: parameters not read"))
                continue
            for value in values:
                for item in value if isinstance(value, list) else [value]:
                    if isinstance(item, dict):
                        params = {**item, **_path_params(posixpath.dirname(file))}
                        params["path"]["filename"] = posixpath.basename(file)
                        params["path"]["filenameNormalized"] = _normalized(posixpath.basename(file))
                        out.append((params, ref("files", index)))
    return out


def _path_params(directory: str) -> dict[str, Any]:
    segments = directory.split("/")
    return {
        "path": {
            "path": directory,
            "basename": segments[-1],
            "basenameNormalized": _normalized(segments[-1]),
            "segments": segments,
        }
    }


def _normalized(name: str) -> str:
    return re.sub(r"[^a-z0-9.-]", "-", name.lower())


def _lookup(params: dict[str, Any], dotted: str, go: bool) -> Any:
    """``path.basename``, ``path[1]`` (fasttemplate), ``path`` alone (the path itself, fasttemplate)."""
    if not go:
        indexed = re.fullmatch(r"path\[(\d+)\]", dotted)
        if indexed:
            segments = as_list(as_map(params.get("path")).get("segments"))
            i = int(indexed.group(1))
            return segments[i] if i < len(segments) else None
        if dotted == "path" and isinstance(params.get("path"), dict):
            return params["path"]["path"]
        flat = params.get(dotted)
        if flat is not None and not isinstance(flat, dict | list):
            return flat
    node: Any = params
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if not isinstance(node, dict | list) else json.dumps(node)


def _index(params: dict[str, Any], dotted: str, i: int) -> Any:
    """Go's ``index .a.b N``: the Nth item of a list parameter (``.path.segments``), else None."""
    node: Any = params
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, list) or i >= len(node) or isinstance(node[i], dict | list):
        return None
    return node[i]


def _fill(node: Any, params: dict[str, Any], go: bool) -> str | None:
    """Fill templates in every string of ``node`` in place; the first expression left unresolved."""
    unresolved: str | None = None
    pattern = _GO if go else _FAST

    def one(text: str) -> str:
        nonlocal unresolved

        def sub(match: re.Match[str]) -> str:
            nonlocal unresolved
            if go and match.group(2) is not None:
                value = _index(params, match.group(2), int(match.group(3)))
            else:
                value = _lookup(params, match.group(1), go)
            if value is None:
                unresolved = unresolved or match.group(0)
                return match.group(0)
            return str(value).lower() if isinstance(value, bool) else str(value)

        out = pattern.sub(sub, text)
        if "{{" in out and unresolved is None:
            unresolved = out[out.index("{{") : out.index("}}") + 2 if "}}" in out else len(out)]
        return out

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            for key in list(value):
                value[key] = walk(value[key])
        elif isinstance(value, list):
            for index, item in enumerate(value):
                value[index] = walk(item)
        elif isinstance(value, str) and "{{" in value:
            return one(value)
        return value

    walk(node)
    return unresolved
