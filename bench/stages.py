"""The CPU of the audit's own stages over a cluster, one after another in one thread: one line.

A whole ``bench/phases.py`` run at 10k pods spends its process's CPU in five threads beside the
numbers challenger's children, and on a shared 2-core machine its in-process CPU moves by a few
seconds from run to run. This takes the stages the audit's process works through apart from that:
opening the snapshot, the inventory (the code and the live load), the checks as the offline research
runs them (``run_check``, which records each result in the ledger, redacted), with the heap frozen
after the inventory as a graph run freezes it and the collector paused where the tree's research
pauses it (``gc_paused_together``; what it left is then collected young and counted here), and
writing the reports of an ``audit.json`` given (``--report``: the same report for every tree). Each
by ``time.process_time()``, in seconds.

    .venv/bin/python bench/cluster_snapshot.py /tmp/snap-10k --pods 10000
    .venv/bin/python bench/stages.py /tmp/snap-10k --report OUT/audit.json [--estate examples/homelab]

The code under test is imported from the working directory (run it from another tree's root, with
``PYTHONPATH`` set to it, to measure that tree).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, os.getcwd())

CLOCK = "2026-11-20T09:00:00Z"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--report", type=Path, required=True, help="an audit.json to write the reports of")
    parser.add_argument("--estate", type=Path, default=Path("examples/homelab"))
    args = parser.parse_args()

    from pipeline.render import write_reports
    from pipeline.render.json_out import load_report
    from tools.checks.runner import run_check
    from tools.checks.spec import CheckContext, load_catalog
    from tools.clock import parse_clock
    from tools.evidence import Ledger
    from tools.inventory.build import build_inventory
    from tools.kube.snapshot import SnapshotBackend
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    pause: Callable[[], Any]
    try:
        from tools.gc_pause import gc_paused_together as pause
    except ImportError:  # a tree from before the research paused the collector
        pause = contextlib.nullcontext

    report = load_report(args.report)
    gc.collect()
    home = args.estate.resolve()
    spent: dict[str, float] = {}
    start = time.process_time()
    backend = SnapshotBackend(args.snapshot)
    spent["open"] = time.process_time() - start
    start = time.process_time()
    inventory = build_inventory(home, cluster=backend)
    spent["inventory"] = time.process_time() - start
    gc.freeze()
    ctx = CheckContext(
        inventory=inventory, toolbox=Toolbox(Jail(home), backend, Ledger()), now=parse_clock(CLOCK)
    )
    start = time.process_time()
    with pause():
        for spec in load_catalog():
            run_check(spec, ctx)
    while gc.collect(0):  # what a paused collector left for its next young collection
        pass
    spent["checks"] = time.process_time() - start
    with tempfile.TemporaryDirectory() as out:
        start = time.process_time()
        write_reports(report, Path(out))
        spent["render"] = time.process_time() - start
    spent["sum"] = sum(spent.values())
    print(" ".join(f"{name} {seconds:.3f}" for name, seconds in spent.items()))


if __name__ == "__main__":
    main()
