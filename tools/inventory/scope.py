"""What is deployed: the code records a production audit counts, and the ones a path rules out.

A workload under ``test/``, ``benchmark/``, ``examples/`` or ``archive/`` (any depth, singular or
plural), or in a ``*.example`` / ``*.sample`` file, is not production: the checks do not count it,
and the report names those files once as "not deployed". Live records are deployed by definition.

``is_deployed(record)`` answers True (deployed), False (not deployed) or None (the path says
nothing). The path rule is the only answer today; which directories a Flux Kustomization, an Argo
CD Application or a Terraform root actually deploys (reachability from the rendered estate) plugs in
as ``reachable``: a function from a code path to True, False or None, consulted only when the path
rule says nothing. Every check reads its inventory through ``deployed_view``, so a new check is
scoped without asking for it. The recount's standard-tool commands read files, not this view:
rg skips the files left out, and a ``python:`` command is not exact when any was (``reproduce.applies``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from tools.inventory.inventory import Inventory, Records
from tools.inventory.sources import CodeRef, LiveRef

NOT_DEPLOYED_DIRS = frozenset(
    {"test", "tests", "benchmark", "benchmarks", "example", "examples", "archive", "archived"}
)
NOT_DEPLOYED_NAME = re.compile(r"\.(example|sample)(\.[^/]*)?$", re.IGNORECASE)
Reachability = Callable[[str], "bool | None"]
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
OBJECT_FIELDS = (
    *("workloads", "pvcs", "namespaces", "pdbs", "hpas", "network_policies", "quotas", "roles"),
    *("bindings", "secrets", "alert_rules", "policies"),
)
"""The records of Kubernetes objects: what a GitOps object deploys (CI, bots, Terraform are not)."""


@functools.lru_cache(maxsize=65536)
def path_is_deployed(path: str) -> bool | None:
    """False for a path that nothing deploys by convention; None when the path says nothing (asked
    once per record of every scope, so once per path is remembered: records share their files)."""
    parts = path.split("/")
    if any(part.lower() in NOT_DEPLOYED_DIRS for part in parts[:-1]):
        return False
    if NOT_DEPLOYED_NAME.search(parts[-1]):
        return False
    return None


def is_deployed(record: object, reachable: Reachability | None = None) -> bool | None:
    """Is this record deployed? True for a live record; False for a code record the path rule (or,
    when it says nothing, ``reachable``) rules out; None when nothing says."""
    source = getattr(record, "source", None)
    if isinstance(source, LiveRef):
        return True
    if not isinstance(source, CodeRef):
        return None
    by_path = path_is_deployed(source.path)
    if by_path is not None or reachable is None:
        return by_path
    return reachable(source.path)


def reachability(code: Records) -> Reachability | None:
    """Reachability from the estate's GitOps objects (``Records.deployed_paths``): a manifest file no
    Flux Kustomization or Argo CD Application reaches is not deployed. None when the estate has no
    GitOps object to say (then only the path rule speaks).

    It speaks only of files holding Kubernetes objects (``OBJECT_FIELDS``, in YAML/JSON): Terraform,
    CI, docs and bot config are deployed, or not, by other means. A file holding a GitOps entry point
    (a Flux Kustomization, source or HelmRelease, a written Argo CD Application or ApplicationSet) is
    applied by hand at bootstrap, so it is never ruled out by reach."""
    if not code.deployed_paths:
        return None
    entry = {
        r.source.path
        for records in (code.flux_kustomizations, code.flux_sources, code.helm_releases, code.argo_apps)
        for r in records
        if isinstance(r.source, CodeRef) and getattr(r, "generated_by", None) is None
    }

    objects = {
        r.source.path
        for name in OBJECT_FIELDS
        for r in getattr(code, name)
        if isinstance(r.source, CodeRef) and r.source.path.endswith(MANIFEST_SUFFIXES)
    }

    def reach(path: str) -> bool | None:
        if path not in objects or path in entry:
            return None
        return code.is_deployed(path)

    return reach


def deployed_view(inventory: Inventory, reachable: Reachability | None = None) -> Inventory:
    """The inventory a check reads: code records that are not deployed left out (the path rule, then
    the estate's own reachability unless ``reachable`` is given).

    The same object when every code record may be deployed (the common case), so the indexes built
    on it are shared; otherwise one view, built once and kept on the inventory.
    """
    cached = inventory.scoped_view
    if cached is not None and reachable is None:
        return cached
    own = reachable is None
    reachable = reachable or reachability(inventory.code)
    code = inventory.code
    kept = {
        name: [r for r in getattr(code, name) if is_deployed(r, reachable) is not False]
        for name in Records.list_fields()
        if name != "issues"
    }
    if all(len(records) == len(getattr(code, name)) for name, records in kept.items()):
        view = inventory
    else:
        scoped = Records(**{**{n: getattr(code, n) for n in Records.list_fields()}, **kept})
        view = inventory.model_copy(update={"code": scoped})
    if own:
        inventory.scoped_view = view
    return view


def not_deployed(inventory: Inventory, reachable: Reachability | None = None) -> list[str]:
    """The files whose records the checks leave out as not deployed, sorted."""
    reachable = reachable or reachability(inventory.code)
    paths: set[str] = set()
    for name in Records.list_fields():
        for record in getattr(inventory.code, name):
            source = getattr(record, "source", None)
            if isinstance(source, CodeRef) and is_deployed(record, reachable) is False:
                paths.add(source.path)
    return sorted(paths)
