"""Time a snapshot's open inside the real CLI: ``infra-audit run`` over a snapshot, with
``SnapshotBackend.__init__`` timed by an import hook, so that nothing is imported ahead of the CLI.

``bench/phases.py`` starts what ``run`` starts before its own imports (a big snapshot's child,
``tools/kube/snapshot_farm.py``) the same way, but imports the graph and wraps the run's functions
before the CLI runs. Here nothing is imported ahead of the CLI: each run is a fresh interpreter
running ``pipeline.cli.main`` as ``python -m pipeline.cli`` would, the trees
given by ``--source`` taking turns run by run (after one unmeasured run each, which writes its bytecode
cache). Each run prints when the open began (seconds from the interpreter's start of this script),
how long it took, and the whole run's wall time; then the medians.

    .venv/bin/python bench/cluster_snapshot.py /tmp/snap-10k --pods 10000
    .venv/bin/python bench/snapshot_open.py /tmp/snap-10k --source /tmp/a --source /tmp/b --runs 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run as bench_run  # noqa: E402
from bench.audit_args import audit_args  # noqa: E402

ESTATE = ROOT / "examples" / "homelab"

CHILD = r"""
import importlib.abc, importlib.util, json, os, sys, time
T0 = time.perf_counter()
sys.path.insert(0, os.getcwd())
seen = {}

class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "tools.kube.snapshot":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        real = spec.loader.exec_module

        def exec_module(module):
            real(module)
            init = module.SnapshotBackend.__init__

            def timed(self, *args, **kwargs):
                start = time.perf_counter()
                init(self, *args, **kwargs)
                seen.setdefault("open_at", start - T0)
                seen.setdefault("open_s", time.perf_counter() - start)

            module.SnapshotBackend.__init__ = timed

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Hook())
from pipeline.cli import main

rc = main(sys.argv[1:])  # bench/audit_args.py's arguments, as the parent gives them
seen.update(rc=rc, run_s=time.perf_counter() - T0)
print(json.dumps(seen), file=sys.__stderr__)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--source", type=Path, action="append", help="a checkout to run; repeatable")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sources: list[Path] = args.source or [ROOT]
    print(f"snapshot: {args.snapshot}; load before: {bench_run._load()}")

    def one(source: Path, env: dict[str, str], work: Path, log: Path) -> dict[str, float]:
        argv = [sys.executable, "-c", CHILD, *audit_args(ESTATE, args.snapshot.resolve(), work)]
        done = subprocess.run(argv, cwd=source, env=env, capture_output=True, text=True, check=False)
        log.write_text(done.stderr)
        lines = done.stderr.strip().splitlines()
        try:
            seen = json.loads(lines[-1]) if lines else {}
        except ValueError:
            seen = {}
        if seen.get("rc") not in (0, 1) or "open_s" not in seen:
            print(done.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"{source}: the run did not finish or opened no snapshot")
        return seen

    def shown(seen: dict[str, float]) -> str:
        return f"open at {seen['open_at']:.2f} s, took {seen['open_s']:.2f} s; run {seen['run_s']:.2f} s"

    with tempfile.TemporaryDirectory(prefix="snapshot-open-") as tmp_name:
        taken = bench_run.in_turns(sources, args.runs, Path(tmp_name), one, shown)
    for source, runs in taken.items():
        opened = statistics.median(r["open_s"] for r in runs)
        whole = statistics.median(r["run_s"] for r in runs)
        print(f"{source}: open median {opened:.2f} s, run median {whole:.2f} s")
    print(f"load after: {bench_run._load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
