"""Time the phases of one offline audit (or of the parse alone) inside this process.

``bench/run.py`` starts this in a fresh interpreter, so the figures are cold: imports, the parse, the
checks and everything else happen once, as in ``infra-audit run``. Nothing here changes what the
audit does: the work the graph nodes delegate to, the inventory build and the checkpointer's writes
are wrapped with timers (wrapping, not replacing), then the real CLI entry point runs. The time the
garbage collector takes is counted too (``gc.callbacks``).

    python bench/phases.py parse ESTATE [--cluster DIR] [--split]       # build_inventory only
    python bench/phases.py audit ESTATE [--cluster DIR] --work DIR      # the whole `infra-audit run`
    python bench/phases.py audit ESTATE --work DIR --no-checkpoint      # the same without a run store
    python bench/phases.py audit ESTATE [--cluster DIR] --work DIR --timeline   # and when each thing ran

``--timeline`` adds when each phase began and ended (seconds from the start of this process) and, for
the numbers challenger's two children fed while the audit runs (the batch of reader scripts and the jq
engine, ``tools/checks/fed_child.py``), when each started, was sent its first and last message, gave
its first and last answer, and ended its output: on two cores these children share the core the
audit's own process does not hold, and the wait at the end of the run is theirs.
What ``infra-audit run`` starts before its own imports (a big snapshot's child,
``tools/kube/snapshot_farm.py``; a big estate's parse, ``tools/inventory/parse_early.py``) is started
here the same way, before the graph is imported; so with a big estate "parse" is the run's wait for
that child and the records' unpickling, not a parse (``parse`` mode times the parse itself).
``--split`` divides the parse (tree-sitter, the conversion to HCL syntax objects, per-module
resolution, YAML, the walk) and counts what reference counting could not free. The code under test
is imported from the working directory, as ``python -m`` would. It prints one JSON object.
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import argparse  # noqa: E402  (the clock starts before any import)
import contextlib  # noqa: E402
import functools  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from audit_args import audit_args  # noqa: E402  (bench/, this script's directory: before the tree goes first)

sys.path.insert(0, os.getcwd())  # bench/run.py sets it to this checkout, or to the --source tree

HEAVY = ("anthropic", "kubernetes", "vcr", "tools.kube.live", "agents.llm.anthropic_model", "helm_python")


class Spans:
    """(start, end) per label, recorded from any thread."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float]]] = {}
        self.missing: list[str] = []
        self._lock = threading.Lock()

    def add(self, label: str, start: float, end: float) -> None:
        with self._lock:
            self.spans.setdefault(label, []).append((start, end))

    def wrap(self, label: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(label(*args, **kwargs) if callable(label) else label, start, time.perf_counter())

        return timed

    def total(self, label: str) -> float:
        return sum(e - s for s, e in self.spans.get(label, []))

    def wall(self, prefix: str) -> float:
        """Wall time covered by the spans whose label starts with ``prefix`` (parallel spans overlap)."""
        found = [span for label, spans in self.spans.items() if label.startswith(prefix) for span in spans]
        return max(e for _, e in found) - min(s for s, _ in found) if found else 0.0

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            k: {"calls": len(v), "seconds": round(sum(e - s for s, e in v), 4)}
            for k, v in sorted(self.spans.items())
        }


class Children:
    """When each fed child of the recount started, was sent its messages and gave its answers."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.seen: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def note(self, child: Any, event: str) -> None:
        name = "jq engine" if any("jq_child" in str(a) for a in child.proc.args) else "batch"
        at = round(time.perf_counter() - self.t0, 3)
        with self._lock:
            row = self.seen.setdefault(name, {"messages": 0, "answers": 0})
            if event in ("sent", "answer"):
                row["messages" if event == "sent" else "answers"] += 1
                row.setdefault(f"first {event}", at)
                row[f"last {event}"] = at
            else:
                row[event] = at

    def install(self) -> None:
        from tools.checks.fed_child import FedChild

        children = self
        init, send, read = FedChild.__init__, FedChild.send, FedChild._read

        def timed_init(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            children.note(self, "started")

        def timed_send(self: Any, *pieces: Any) -> None:
            for _ in pieces:
                children.note(self, "sent")
            send(self, *pieces)

        def timed_read(self: Any) -> None:
            lines = self.lines

            class Counted(list):  # type: ignore[type-arg]  # the reader appends each answer here
                def append(self, line: Any) -> None:
                    children.note(owner, "answer")
                    super().append(line)

            owner = self
            self.lines = Counted(lines)
            read(self)
            children.note(self, "output ended")

        FedChild.__init__ = timed_init  # type: ignore[method-assign]
        FedChild.send = timed_send  # type: ignore[method-assign]
        FedChild._read = timed_read  # type: ignore[method-assign]


class GcClock:
    """Collections and seconds per generation, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._start = 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.count[info["generation"]] += 1
            self.seconds[info["generation"]] += time.perf_counter() - self._start

    def summary(self) -> dict[str, Any]:
        return {
            "collections": self.count,
            "seconds": [round(s, 4) for s in self.seconds],
            "total_s": round(sum(self.seconds), 4),
        }


def wrap(spans: Spans, owner: Any, name: str, label: str | Callable[..., str]) -> None:
    """Time ``owner.name`` from now on; a name that no longer exists is reported, not fatal."""
    fn = getattr(owner, name, None)
    if fn is None:
        spans.missing.append(f"{getattr(owner, '__name__', owner)}.{name}")
        return
    setattr(owner, name, spans.wrap(label, fn))


def _first_last(found: list[tuple[float, float]]) -> tuple[float, float]:
    """The first start and the last end of a label's spans, in seconds from this process's start."""
    return round(min(s for s, _ in found) - T_START, 3), round(max(e for _, e in found) - T_START, 3)


def parse_only(estate: str, cluster: str | None, split: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    import tools.inventory.build as build

    backend = None
    if cluster:
        from tools.kube.snapshot import SnapshotBackend

        backend = SnapshotBackend(cluster)
    spans = Spans()
    if split:
        _wrap_parse(spans)
    t1 = time.perf_counter()
    inventory = build.build_inventory(estate, cluster=backend)
    t2 = time.perf_counter()
    out: dict[str, Any] = {
        "import_s": t1 - t0,
        "parse_s": t2 - t1,
        "files": inventory.files_scanned,
        "counts": {k: v for k, v in inventory.code.counts().items() if v},
    }
    if split:
        out["split_s"] = {k: v["seconds"] for k, v in spans.summary().items()}
        out["not_timed"] = spans.missing
        gc.disable()  # what the parse leaves for the collector: tracked objects, and cyclic garbage
        gc.collect()
        before = len(gc.get_objects())
        kept = build.build_inventory(estate, cluster=backend)
        out["tracked_objects_left_by_parse"] = len(gc.get_objects()) - before
        out["cyclic_garbage_objects"] = gc.collect()
        out["tracked_objects_of_inventory"] = len(gc.get_objects()) - before
        del kept
    return out


def _wrap_parse(spans: Spans) -> None:
    import tools.inventory.build as build
    import tools.inventory.hcl as hcl
    import tools.inventory.manifests as manifests
    import tools.inventory.terraform as terraform

    parser = hcl._parser()

    class TimedParser:  # tree-sitter's Parser.parse is C; time it through a stand-in
        def parse(self, data: bytes) -> Any:
            start = time.perf_counter()
            try:
                return parser.parse(data)
            finally:
                spans.add("tree-sitter Parser.parse", start, time.perf_counter())

    hcl._parser = lambda: TimedParser()  # type: ignore[assignment]
    wrap(spans, build, "discover", "walk (discover)")
    wrap(spans, terraform, "parse_file", "HCL parse_file (tree-sitter + syntax objects)")
    wrap(spans, terraform, "load_file", "HCL load_file (read, decode, parse_file)")
    wrap(spans, terraform.Module, "extract", "HCL per-module resolution (Module.extract)")
    wrap(spans, terraform, "parse_terraform", "HCL all (parse_terraform)")
    wrap(spans, manifests, "parse_manifests", "YAML/JSON (parse_manifests)")


def audit(
    estate: str, cluster: str | None, work: Path, checkpoint: bool, timeline: bool = False
) -> dict[str, Any]:
    spans, clock = Spans(), GcClock()
    t0 = time.perf_counter()
    import pipeline.cli as cli

    argv = audit_args(estate, cluster, work)
    parsed = cli.build_parser().parse_args(argv)
    from tools.malloc_arenas import limit_arenas

    limit_arenas()  # as the CLI does, before any thread starts (the early children's readers too)
    # what `infra-audit run` starts before its imports (pipeline/cli.py), started the same way here
    parsed.early(parsed)
    from pipeline import lazy_packages

    lazy_packages.defer()  # as the CLI does for a command that runs the graph (pipeline/cli.py)
    from langgraph.checkpoint.sqlite import SqliteSaver

    import agents.offline.challenge_numbers as numbers
    import pipeline.cluster as cluster_module
    import pipeline.commands.run as run_command
    import pipeline.context as context
    import pipeline.nodes as nodes
    import pipeline.render as render

    t_imports = time.perf_counter()
    run_command.start_early = lambda args: None  # type: ignore[assignment]  (started above: not twice)
    # The work each graph node delegates to, wrapped where the nodes look it up (the node functions
    # themselves are wiring and change shape; these do not).
    wrap(spans, nodes, "research_offline", lambda concern, *_, **__: f"research:{concern}")
    wrap(spans, nodes, "_challenge", lambda task, *_, **__: f"challenge:{task.stance}")
    wrap(spans, nodes, "synthesize", "synthesize")
    wrap(spans, render, "write_outputs", "render")
    wrap(spans, context, "build_inventory", "parse:run")
    wrap(spans, cluster_module, "open_cluster", "cluster:open")  # the run command's, before the graph
    wrap(spans, numbers, "run_all", "recount:independent-commands")
    try:  # the run's own saver (each value once, the last step kept), where the tree has one
        from pipeline.checkpoints import LatestSaver as saver_class
    except ImportError:
        saver_class = SqliteSaver
    for method in ("put", "put_writes", "delete_thread"):
        wrap(spans, saver_class, method, f"checkpoint:{method}")
    children = Children(T_START)
    if timeline:
        children.install()
        for node in ("inventory_node", "research_node", "challenge_node", "synthesize_node", "render_node"):
            wrap(spans, nodes, node, f"node:{node.removesuffix('_node')}")
    if not checkpoint:
        run_command.make_store = lambda args: None  # type: ignore[assignment,return-value]
    t_setup = time.perf_counter()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        rc = cli.main(argv)
    t_end = time.perf_counter()
    db = work / "state" / "runs" / "bench.sqlite"  # the run's checkpoints (pipeline/runs.py)
    phases = {
        "import": t_imports - t0,
        "parse": spans.total("parse:run"),
        "checks (5 research branches, wall)": spans.wall("research:"),
        "challenger: numbers": spans.total("challenge:numbers"),
        "  of which independent commands (rg, jq)": spans.total("recount:independent-commands"),
        "challenger: intent": spans.total("challenge:intent"),
        "challengers (wall, in parallel)": spans.wall("challenge:"),
        "synthesis": spans.total("synthesize"),
        "render": spans.total("render"),
    }
    accounted = (
        phases["parse"]
        + phases["checks (5 research branches, wall)"]
        + phases["challengers (wall, in parallel)"]
        + phases["synthesis"]
        + phases["render"]
    )
    phases["graph, checkpoints, CLI (rest of run)"] = (t_end - t_setup) - accounted
    phases["  of which opening the cluster (a snapshot's load)"] = spans.total("cluster:open")
    phases["checkpoint writes (thread time, overlaps the above)"] = sum(
        spans.total(f"checkpoint:{m}") for m in ("put", "put_writes", "delete_thread")
    )
    phases["garbage collector (inside the phases above)"] = sum(clock.seconds)
    out: dict[str, Any] = {
        "rc": rc,
        "phases": {k: round(v, 4) for k, v in phases.items()},
        "spans": spans.summary(),
        "gc": clock.summary(),
        "not_timed": spans.missing,
        "heavy_imports": [m for m in HEAVY if m in sys.modules],
        "run_s": t_end - t_setup,
        "sqlite_bytes": db.stat().st_size if db.exists() else 0,
        "report_bytes": {p.name: p.stat().st_size for p in sorted((work / "out").glob("*"))},
    }
    if timeline:
        since = [  # (first start, last end) of each label, in seconds from this process's start
            (label, *_first_last(found)) for label, found in spans.spans.items()
        ]
        out["timeline"] = {label: [start, end] for label, start, end in sorted(since, key=lambda r: r[1])}
        out["recount_children"] = children.seen
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mode", choices=("parse", "audit"))
    parser.add_argument("estate")
    parser.add_argument("--cluster")
    parser.add_argument("--work", type=Path, help="directory for the report and the run store (audit mode)")
    parser.add_argument("--no-checkpoint", action="store_true", help="audit mode: run without a run store")
    parser.add_argument("--split", action="store_true", help="parse mode: divide the parse into its parts")
    parser.add_argument(
        "--timeline", action="store_true", help="audit mode: when each phase and recount child ran"
    )
    args = parser.parse_args()
    if args.mode == "parse":
        out = parse_only(args.estate, args.cluster, args.split)
    elif args.work is None:
        parser.error("audit mode needs --work DIR")
    else:
        out = audit(
            args.estate, args.cluster, args.work, checkpoint=not args.no_checkpoint, timeline=args.timeline
        )
    out["in_process_s"] = time.perf_counter() - T_START
    out["in_process_cpu_s"] = time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the ones waited for: rg, the recount's
    out["children_cpu_s"] = round(children.ru_utime + children.ru_stime, 3)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    json.dump(out, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
