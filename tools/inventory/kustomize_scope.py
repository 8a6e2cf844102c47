"""Which namespace Kustomize gives the objects of a file: the one lookup the checks ask.

A kustomization's ``namespace:`` is set on every object it builds, its bases' included; the outermost
kustomization that sets one wins (an overlay over its base). A file reached by several roots (a base
shared by a staging and a prod overlay) is in each of their namespaces. Only local references are
followed; a file no kustomization reaches, or reached by none that sets a namespace, has none here.

This reads the ``namespace:`` lines of the kustomization records only; a full Kustomize build (patches,
components, remote bases) is meant to replace ``kustomize_namespaces`` behind the same signature.
"""

from __future__ import annotations

import posixpath

from tools.inventory.inventory import Records
from tools.inventory.models import Kustomization


def _local(base: str, entry: str) -> str | None:
    if "://" in entry or entry.startswith(("/", "github.com/", "git@", "git::")) or "?ref=" in entry:
        return None
    local = posixpath.normpath(posixpath.join(base, entry))
    return None if local == ".." or local.startswith("../") else local


def kustomize_namespaces(records: Records) -> dict[str, frozenset[str]]:
    """Estate-relative file path -> the namespaces the kustomizations reaching it set on its objects."""
    by_dir: dict[str, Kustomization] = {posixpath.dirname(k.path) or ".": k for k in records.kustomizations}
    included = {
        local
        for directory, k in by_dir.items()
        for entry in k.resources
        if (local := _local("" if directory == "." else directory, entry)) is not None and local in by_dir
    }
    found: dict[str, set[str]] = {}

    def walk(directory: str, namespace: str | None, seen: frozenset[str]) -> None:
        kustomization = by_dir[directory]
        namespace = namespace or kustomization.namespace
        for entry in kustomization.resources:
            local = _local("" if directory == "." else directory, entry)
            if local is None or local in seen:
                continue
            if local in by_dir:
                walk(local, namespace, seen | {local})
            elif namespace is not None:
                found.setdefault(local, set()).add(namespace)

    for directory in sorted(by_dir):
        if directory not in included:
            walk(directory, None, frozenset({directory}))
    return {path: frozenset(names) for path, names in found.items()}


def namespaces_of(namespace: str | None, path: str | None, scope: dict[str, frozenset[str]]) -> list[str]:
    """The namespaces an object lives in: its own when written, else what Kustomize gives its file."""
    if namespace:
        return [namespace]
    return sorted(scope.get(path or "", frozenset()))
