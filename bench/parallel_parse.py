"""Would a process pool make the HCL parse faster? Measure it instead of guessing.

``tools.inventory.terraform.load_file`` is a pure per-file function whose result pickles, so phase 1 of
the Terraform parse (read, tree-sitter, syntax objects; about three quarters of the whole parse) can
run in worker processes. Each mode runs in its own fresh interpreter, as an audit would:

- ``serial``: what ``build_inventory`` does.
- ``threads``: two threads, half of the files each (tree-sitter's ``Parser.parse`` holds the GIL).
- ``spawn`` / ``forkserver``: a one-worker pool started *before* the audit's imports (so that its start
  overlaps them, the best case), then each parse sends the first ``--share`` of the files to the
  worker and parses the rest itself. ``fork`` is not offered: the audit parses from LangGraph's
  worker threads, and forking a multi-threaded process can deadlock the child.

Each mode imports what ``infra-audit run`` imports, then parses twice (the audit parses twice: the
inventory, then the numbers challenger's recount), with the garbage collector paused as
``build_inventory`` does.

    .venv/bin/python bench/parallel_parse.py ESTATE [--runs 5] [--share 0.45]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import pickle
import statistics
import subprocess
import sys
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

MODES = ("serial", "threads", "spawn", "forkserver")


def load_chunk(root: Path, rels: list[str]) -> list[Any]:
    from tools.inventory.terraform import load_file

    return [load_file(root, rel) for rel in rels]


def one_run(mode: str, estate: Path, share: float) -> dict[str, float]:
    t0 = time.perf_counter()
    pool: Executor | None = None
    if mode == "threads":
        pool = ThreadPoolExecutor(1)
    elif mode != "serial":
        context = multiprocessing.get_context(mode)
        if mode == "forkserver":
            context.set_forkserver_preload(["tools.inventory.terraform"])
        pool = ProcessPoolExecutor(1, mp_context=context)
        pool.submit(os.getpid)  # start the worker now, while this process imports
    import pipeline.cli  # noqa: F401  (the imports of a run)
    from tools.inventory.build import discover

    t1 = time.perf_counter()
    times: list[float] = []
    share = 0.5 if mode == "threads" else share
    for _ in range(2):
        start = time.perf_counter()
        gc.disable()
        paths = sorted(discover(estate).of("terraform"))
        if pool is None:
            load_chunk(estate, paths)
        else:
            cut = int(len(paths) * share)
            theirs = pool.submit(load_chunk, estate, paths[:cut])
            load_chunk(estate, paths[cut:])
            theirs.result()
        gc.enable()
        times.append(time.perf_counter() - start)
    end = time.perf_counter()
    if pool is not None:
        pool.shutdown()
    out = {"imports_s": t1 - t0, "parse1_s": times[0], "parse2_s": times[1], "total_s": end - t0}
    if mode == "serial":  # what a pool would have to send back, for the whole estate
        out["pickled_mb"] = len(pickle.dumps(load_chunk(estate, paths), protocol=5)) / 2**20
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("estate", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--share", type=float, default=0.45, help="part of the files the worker parses")
    parser.add_argument("--mode", choices=MODES, help=argparse.SUPPRESS)  # one run, in this process
    args = parser.parse_args()
    if args.mode:
        json.dump(one_run(args.mode, args.estate.resolve(), args.share), sys.stdout)
        return 0
    if not 1 <= args.runs <= 20:
        parser.error("--runs must be between 1 and 20")
    results: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    for _ in range(args.runs):
        for mode in MODES:  # in turns, so that a change in machine load hits every mode alike
            out = subprocess.run(
                [sys.executable, __file__, str(args.estate), "--mode", mode, "--share", str(args.share)],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
                cwd=os.getcwd(),
            )
            results[mode].append(json.loads(out.stdout))
    pickled = statistics.median(r["pickled_mb"] for r in results["serial"])
    print(
        f"median of {args.runs} fresh interpreters each; worker share {args.share:g}; the parsed HCL "
        f"pickles to {pickled:.1f} MiB; load average {os.getloadavg()[0]:.2f}\n"
    )
    print("| mode | imports (s) | first parse (s) | second parse (s) | whole (s) |")
    print("|---|---:|---:|---:|---:|")
    keys = ("imports_s", "parse1_s", "parse2_s", "total_s")
    for mode, runs in results.items():
        cols = [statistics.median(r[k] for r in runs) for k in keys]
        print(f"| {mode} | " + " | ".join(f"{c:.3f}" for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.getcwd())
    raise SystemExit(main())
