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

import re
from collections.abc import Callable

from tools.inventory.inventory import Inventory, Records
from tools.inventory.sources import CodeRef, LiveRef

NOT_DEPLOYED_DIRS = frozenset(
    {"test", "tests", "benchmark", "benchmarks", "example", "examples", "archive", "archived"}
)
NOT_DEPLOYED_NAME = re.compile(r"\.(example|sample)(\.[^/]*)?$", re.IGNORECASE)
Reachability = Callable[[str], "bool | None"]


def path_is_deployed(path: str) -> bool | None:
    """False for a path that nothing deploys by convention; None when the path says nothing."""
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


def deployed_view(inventory: Inventory, reachable: Reachability | None = None) -> Inventory:
    """The inventory a check reads: code records that are not deployed left out.

    The same object when every code record may be deployed (the common case), so the indexes built
    on it are shared; otherwise one view, built once and kept on the inventory.
    """
    cached = inventory.scoped_view
    if cached is not None and reachable is None:
        return cached
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
    if reachable is None:
        inventory.scoped_view = view
    return view


def not_deployed(inventory: Inventory, reachable: Reachability | None = None) -> list[str]:
    """The files whose records the checks leave out as not deployed, sorted."""
    paths: set[str] = set()
    for name in Records.list_fields():
        for record in getattr(inventory.code, name):
            source = getattr(record, "source", None)
            if isinstance(source, CodeRef) and is_deployed(record, reachable) is False:
                paths.add(source.path)
    return sorted(paths)
