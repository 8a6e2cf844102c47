"""Time the cold offline audit of the home-lab estate with a generated cluster of 1k to 20k pods.

The snapshot of each size comes from ``bench/cluster_snapshot.py`` (the home-lab's own snapshot, every
namespace copied with fresh uids, ReplicaSets added, 200 pods per node; deterministic). Each run is a
fresh interpreter running ``python -m pipeline.cli run examples/homelab --cluster SNAPSHOT --offline``
(``bench/run.py`` measures it: wall time, peak RSS from ``wait4``; the peak PSS of the process tree
comes from one more run per size, or per tree, made for it: sampling slows the runs it samples).
One unmeasured run first writes the bytecode cache. The growth exponent is the slope of log(wall)
over log(pods), least squares over all sizes, and between each pair of neighbouring sizes; 1 is
linear, 2 quadratic.

    .venv/bin/python bench/cluster_scale.py                       # 1k, 5k, 10k pods, one run each
    .venv/bin/python bench/cluster_scale.py --pods 1000 5000 10000 20000 --runs 3
    .venv/bin/python bench/cluster_scale.py --source /tmp/old-checkout --pods 1000 5000
    .venv/bin/python bench/cluster_scale.py --snapshot /tmp/snap-10k --source A --source B --runs 3

With ``--snapshot`` (one written by ``bench/cluster_snapshot.py``) the trees given by ``--source`` take
turns run by run over that one snapshot (each warmed once first), and each prints its median: how two
versions are compared on a shared, noisy machine.

Targets (issue 13), on a 2-core machine: 10k pods <= 5 s and <= 400 MB; exponent <= 1.1 to 20k.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import run as bench_run  # noqa: E402
from bench.cluster_snapshot import copies_for, generate  # noqa: E402

ESTATE = ROOT / "examples" / "homelab"
DEFAULT_PODS = (1000, 5000, 10000)


def exponent(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of log(y) over log(x)."""
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, nargs="+", default=list(DEFAULT_PODS))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--source", type=Path, action="append", help="the checkout to run (default: this one); repeatable"
    )
    parser.add_argument("--snapshot", type=Path, help="an existing snapshot: compare the sources over it")
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds per run before it is killed")
    args = parser.parse_args(argv)
    bench_run.RUN_TIMEOUT_S = args.timeout
    sources: list[Path] = args.source or [ROOT]
    info = bench_run.machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu']}), {info['memory']}, Python {info['python']}")
    if args.snapshot is not None:
        return compare(args.snapshot, sources, args.runs)
    if len(sources) > 1:
        parser.error("several --source need --snapshot (the trees take turns over one snapshot)")
    args.source = sources[0]
    print(f"source: {args.source}; load before: {bench_run._load()}")
    rows: list[tuple[int, float, float, float]] = []
    cpus: list[tuple[int, float]] = []  # user + system seconds: what a loaded machine inflates least
    with tempfile.TemporaryDirectory(prefix="cluster-scale-") as tmp_name:
        tmp = Path(tmp_name)
        env = bench_run.child_env(tmp / "pycache")
        for index, wanted in enumerate(sorted(args.pods)):
            snapshot = tmp / f"snapshot-{wanted}"
            counts = generate(snapshot, copies_for(wanted))
            pods = counts["core.v1.pods.json"]

            def argv(run: str, wanted: int = wanted, snapshot: Path = snapshot) -> list[str]:
                """Each run with a work directory of its own: none finds an earlier run's store."""
                return bench_run.audit_argv(ESTATE, snapshot, tmp / f"work-{wanted}-{run}")

            if index == 0:
                bench_run.measure(argv("warm"), args.source, env, tmp / "warm.log")  # bytecode, page cache
            samples = []
            for n in range(args.runs):
                sample, _ = bench_run.measure(argv(str(n)), args.source, env, tmp / f"run-{wanted}-{n}.log")
                if sample.rc not in (0, 1):  # 1: the audit found something incomplete, still a run
                    print((tmp / f"run-{wanted}-{n}.log").read_text()[-2000:], file=sys.stderr)
                    raise SystemExit(f"the audit of {pods} pods exited {sample.rc}")
                samples.append(sample)
            wall = statistics.median(s.wall_s for s in samples)
            cpu = statistics.median(s.cpu_s for s in samples)
            rss = max(s.maxrss_mb for s in samples)
            pss = bench_run.pss_run(argv("pss"), args.source, env, tmp / f"pss-{wanted}.log")  # its own run
            rows.append((pods, wall, rss, pss))
            cpus.append((pods, cpu))
            print(
                f"{pods:>7,} pods  {len(samples)} run(s)  wall median {wall:7.2f} s  "
                f"CPU median {cpu:7.2f} s  peak RSS {rss:6.0f} MB  peak PSS tree {pss:6.0f} MB  "
                f"(load {bench_run._load()})",
                flush=True,
            )
    print(f"load after: {bench_run._load()}")
    if len(rows) > 1:
        print(
            f"growth exponent, wall, least squares {rows[0][0]:,}..{rows[-1][0]:,} pods: "
            f"{exponent([(p, w) for p, w, _, _ in rows]):.2f}; CPU: {exponent(cpus):.2f}; "
            f"RSS: {exponent([(p, r) for p, _, r, _ in rows]):.2f}"
        )
        for (p0, w0, r0, _), (p1, w1, r1, _) in itertools.pairwise(rows):
            print(
                f"  {p0:,} -> {p1:,}: wall {math.log(w1 / w0) / math.log(p1 / p0):.2f}, "
                f"RSS {math.log(r1 / r0) / math.log(p1 / p0):.2f}"
            )
    return 0


def compare(snapshot: Path, sources: list[Path], runs: int) -> int:
    """Each source run ``runs`` times over ``snapshot``, the sources taking turns; medians printed."""
    snapshot = snapshot.resolve()  # the runs' working directory is each source tree
    print(f"snapshot: {snapshot}; load before: {bench_run._load()}")

    def one(source: Path, env: dict[str, str], work: Path, log: Path) -> bench_run.Sample:
        sample, _ = bench_run.measure(bench_run.audit_argv(ESTATE, snapshot, work), source, env, log)
        if sample.rc not in (0, 1):
            print(log.read_text()[-2000:], file=sys.stderr)
            raise SystemExit(f"{source} exited {sample.rc}")
        return sample

    def shown(s: bench_run.Sample) -> str:
        return f"wall {s.wall_s:.2f} s, CPU {s.cpu_s:.2f} s, peak RSS {s.maxrss_mb:.0f} MB"

    with tempfile.TemporaryDirectory(prefix="cluster-turns-") as tmp_name:
        tmp = Path(tmp_name)
        samples = bench_run.in_turns(sources, runs, tmp, one, shown)
        trees = {  # the PSS from a run of its own per source: sampling slows the runs it samples
            source: bench_run.pss_run(
                bench_run.audit_argv(ESTATE, snapshot, tmp / f"work-pss-{i}"),
                source,
                bench_run.child_env(tmp / f"pycache-{i}"),
                tmp / f"pss-{i}.log",
            )
            for i, source in enumerate(sources)
        }
    for source, taken in samples.items():
        wall = statistics.median(s.wall_s for s in taken)
        cpu = statistics.median(s.cpu_s for s in taken)
        rss, pss = max(s.maxrss_mb for s in taken), trees[source]
        print(
            f"{source}: wall median {wall:.2f} s (min {min(s.wall_s for s in taken):.2f}), CPU median "
            f"{cpu:.2f} s, peak RSS {rss:.0f} MB, peak PSS tree {pss:.0f} MB"
        )
    print(f"load after: {bench_run._load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
