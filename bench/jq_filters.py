"""Time every jq filter of the catalog's recount commands alone, through the recount's jq engine.

The numbers challenger runs the catalog's jq filters (``reproduce:`` entries with ``jq:`` and no
``code:``) in one engine child that parses the cluster's listings once (``tools/checks/reproduce_jq.py``).
This starts that engine over a snapshot, waits for its parse (the first filter), then runs each
distinct filter alone, as the recount wraps it (``together``), and prints its wall time, slowest
first, and the sum. It is what docs/performance.md's tenth and eleventh parts of issue 13 quote.

    .venv/bin/python bench/cluster_snapshot.py /tmp/snap-10k --pods 10000
    .venv/bin/python bench/jq_filters.py /tmp/snap-10k [--top 15]

The code under test is imported from the working directory (run it from another tree's root, with
``PYTHONPATH`` set to it, to measure that tree).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())

from tools.checks.reproduce import every_option
from tools.checks.reproduce_batch import together
from tools.checks.reproduce_jq import JqEngine
from tools.checks.reproduce_run import Listings
from tools.checks.spec import catalog_types, load_catalog
from tools.kube.snapshot import SnapshotBackend


def filters() -> dict[tuple[tuple[str, ...], str], list[str]]:
    """Each distinct (types, filter) of the catalog, with the check:key pairs that use it."""
    seen: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for check in load_catalog():
        for key, spec in check.reproduce.items():
            for option in every_option(spec):
                if option.jq is not None and option.code is None:
                    seen.setdefault((option.resources, option.jq), []).append(f"{check.id}:{key}")
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--top", type=int, default=15, help="how many of the slowest to list")
    args = parser.parse_args()
    backend = SnapshotBackend(args.snapshot)
    engine = JqEngine(backend, Listings(), catalog_types(jq_only=True))
    rows: list[tuple[float, str]] = []
    waited = None
    try:
        for (types, jq), users in filters().items():
            given = list(types)
            slurped = "[" + ", ".join(f"{{items: $all[{given.index(t)}]}}" for t in types) + "]"
            program = f". as $all | [({slurped} | {together([jq])})]"
            start = time.perf_counter()
            engine.run(program, given, {"now": "2025-01-01T00:00:00Z"}, 300)
            took = time.perf_counter() - start
            if waited is None:
                waited = took  # the first also waits for the engine's parse
                continue
            rows.append((took, users[0]))
    finally:
        engine.close()
    print(f"engine's parse and the first filter: {waited:.2f} s")
    for took, who in sorted(rows, reverse=True)[: args.top]:
        print(f"{took:6.3f} s  {who}")
    print(f"{len(rows)} other filters, {sum(t for t, _ in rows):.2f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
