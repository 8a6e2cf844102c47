"""Scaling: at 4x the cluster, no check and no cluster load may take more than 6x the time (issue 13).

A lookup that scans a list per item grows with the square of the cluster: 16x the time at 4x the
objects. A linear one grows 4x. The bound sits between, generous enough for a noisy shared machine,
and the sizes are deterministic: the home-lab estate with a cluster snapshot generated from its own
(``bench/cluster_snapshot.py``: every namespace copied with fresh uids, ReplicaSets added), at
``BASE`` and ``FACTOR * BASE`` copies. Each time is a run repeated until it takes ``MIN_SAMPLE`` at the
small size (the same count at the big one); the two sizes alternate, and a ratio that looks over
``SCREEN`` in one sample is measured again: the fastest of ``RUNS`` samples at each size (noise on a
shared machine only adds time), up to ``ATTEMPTS`` times, the lowest ratio counting. Linear code
with a sort in it (n log n) measures 4-5.6x here; a scan per item measures 16-20x. This compares
ratios, never wall time against a constant.

The catalog's jq commands, which the numbers challenger runs over the cluster to recount a check,
are held to the same bound: a filter that looks each pod's ReplicaSet up in a list of every
ReplicaSet is a scan per item too (86 s of jq at 10k pods before it looked them up by key). So are
the reader's scripts that join the code with the cluster (``joined_count.py``): REL-PVC-NO-BACKUP's
asked every backup job about every claim (a 60 s timeout at 10k pods before it looked them up).

Memory is held the same way, without a clock: the bytes of every check's result (a detail that names
every copy in every copy's location is 16x at 4x the cluster), and the peak of Python's allocations
(``tracemalloc``) while the cluster loads and links.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from estates import HOMELAB

from bench.cluster_snapshot import generate
from tests.reader_scripts import calls, script_module
from tools.checks.reproduce import ReproSpec, every_option, merge_filter, snapshot_file
from tools.checks.runner import check_result
from tools.checks.spec import CheckContext, load_catalog
from tools.clock import parse_clock
from tools.evidence import Ledger
from tools.inventory.build import build_inventory, link
from tools.inventory.live import load_live_state
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = [pytest.mark.unit, pytest.mark.slow]

BASE = 3
FACTOR = 4
BOUND = 6.0
SCREEN = 3.0
RUNS = 5
ATTEMPTS = 3
MIN_SAMPLE = 0.02
CLOCK = "2026-11-20T09:00:00Z"

Run = Callable[[], object]


def _sample(run: Run, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        run()
    return time.perf_counter() - start


def _repeat(run: Run) -> int:
    """How many runs make one sample of at least ``MIN_SAMPLE``."""
    repeat = 1
    while _sample(run, repeat) < MIN_SAMPLE and repeat < 4096:
        repeat *= 2
    return repeat


def growth(small: Run, big: Run) -> float:
    """Time of ``big`` over time of ``small``: one sample, or the measure above when it looks high.
    The cyclic collector is off while it measures: a full collection walks every object of both
    sizes, whichever sample it lands in, and that is not the growth of the code measured."""
    gc.collect()
    gc.disable()
    try:
        return _growth(small, big)
    finally:
        gc.enable()


def _growth(small: Run, big: Run) -> float:
    small(), big()  # first runs build what later ones share (indexes, caches)
    repeat = _repeat(small)
    ratio = _sample(big, repeat) / _sample(small, repeat)
    if ratio <= SCREEN:
        return ratio
    ratios = []
    for _ in range(ATTEMPTS):
        smalls, bigs = [], []
        for _ in range(RUNS):
            smalls.append(_sample(small, repeat))
            bigs.append(_sample(big, repeat))
        ratios.append(min(bigs) / min(smalls))
        if ratios[-1] <= BOUND:
            break
    return min(ratios)


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    made = {}
    for copies in (BASE, FACTOR * BASE):
        made[copies] = tmp_path_factory.mktemp(f"cluster-x{copies}")
        generate(made[copies], copies)
    return made


@pytest.fixture(scope="module")
def larger(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """``RESULT_BASE`` and ``FACTOR`` times as many copies: sizes where both are past the CPU's
    caches (a walk over the small size's objects ran from cache, 6-7x faster per object)."""
    made = {}
    for copies in (RESULT_BASE, FACTOR * RESULT_BASE):
        made[copies] = tmp_path_factory.mktemp(f"cluster-r{copies}")
        generate(made[copies], copies)
    return made


def _context(snapshot: Path) -> CheckContext:
    backend = SnapshotBackend(snapshot)
    return CheckContext(
        build_inventory(HOMELAB, cluster=backend),
        Toolbox(Jail(HOMELAB), backend, Ledger()),
        command_prefix="infra-audit check examples/homelab",
        now=parse_clock(CLOCK),
    )


def test_the_generated_sizes_are_what_the_ratio_assumes(snapshots: dict[int, Path]) -> None:
    small, big = (_context(snapshots[c]).inventory.live for c in (BASE, FACTOR * BASE))
    assert small is not None and big is not None
    assert len(big.pods) == FACTOR * len(small.pods)
    assert len(big.workloads) == FACTOR * len(small.workloads)
    # every namespaced object is copied; only the cluster-wide ones (and nodes, by pods) are not
    assert 3.5 * len(small.objects) < len(big.objects) <= FACTOR * len(small.objects)


def test_no_check_grows_faster_than_linearly(snapshots: dict[int, Path]) -> None:
    small, big = (_context(snapshots[c]) for c in (BASE, FACTOR * BASE))
    too_slow = {}
    for spec in load_catalog():
        ratio = growth(lambda s=spec: check_result(s, small), lambda s=spec: check_result(s, big))
        if ratio > BOUND:
            too_slow[spec.id] = round(ratio, 1)
    assert too_slow == {}


def test_loading_and_linking_the_cluster_grows_linearly(snapshots: dict[int, Path]) -> None:
    code = build_inventory(HOMELAB).code

    def load(snapshot: Path) -> Run:
        return lambda: link(code, load_live_state(SnapshotBackend(snapshot)))

    assert growth(load(snapshots[BASE]), load(snapshots[FACTOR * BASE])) <= BOUND


def _jq_commands() -> list[tuple[str, ReproSpec]]:
    """Every jq command of the catalog (``otherwise:`` and ``sum:`` parts included), by check and key."""
    return [
        (f"{check.id} {key}", option)
        for check in load_catalog()
        for key, spec in check.reproduce.items()
        for option in every_option(spec)
        if option.jq is not None
    ]


def _slurped(backend: SnapshotBackend, spec: ReproSpec) -> str:
    """The text the numbers challenger gives jq for ``spec``: each named type's objects as a List."""
    types = {t.qualified: t for t in backend.api_resources()}
    lists = [backend.list_objects(types[n]) if n in types else [] for n in spec.resources]
    return "[" + ",".join(json.dumps({"items": items}, default=str) for items in lists) + "]"


def test_no_recount_command_grows_faster_than_linearly(snapshots: dict[int, Path]) -> None:
    import jq  # the library the recount runs its jq commands with (in a child process there)

    commands = _jq_commands()
    assert len(commands) > 20  # the walk found the catalog's jq commands
    backends = [SnapshotBackend(snapshots[c]) for c in (BASE, FACTOR * BASE)]
    args = {"code": [], "now": CLOCK, "server": "v1.30.0"}  # no code: every live workload is live-only
    too_slow = {}
    for name, spec in commands:
        program = jq.compile(merge_filter(spec.jq or "."), args=args)
        small, big = (_slurped(b, spec) for b in backends)
        ratio = growth(
            lambda p=program, t=small: p.input_text(t).first(),
            lambda p=program, t=big: p.input_text(t).first(),
        )
        if ratio > BOUND:
            too_slow[name] = round(ratio, 1)
    assert too_slow == {}


def _joined_count() -> ModuleType:
    """The reader's script that joins the code with the cluster, imported as it imports its siblings."""
    return script_module("joined_count")


def _calls(run: Run) -> int:
    """The Python and C function calls ``run`` makes (``sys.setprofile``): the work, without a clock."""
    return calls(run)


def test_no_recount_script_does_more_than_linear_work(larger: dict[int, Path]) -> None:
    """The reader's scripts that join the code with the cluster, by the calls they make: a clock does
    not tell them apart here (a linear walk over 4x the parsed objects measured 6-10x the time, from
    the CPU's caches); the calls of a scan per item grow 16x (REL-PVC-NO-BACKUP's, before it asked
    only the jobs that can cover a claim, and REL-NO-PDB's budgets of every namespace)."""
    script = _joined_count()
    commands = [
        (f"{check.id} {key}", option)
        for check in load_catalog()
        for key, spec in check.reproduce.items()
        for option in every_option(spec)
        if option.script == "joined_count.py" and option.resources
    ]
    assert len(commands) > 10  # the walk found the catalog's joined commands
    too_much = {}
    for name, spec in commands:
        counted = spec.args[0]
        count = script.JOINED.get(counted)
        if count is None:  # a count of objects_count.py's over the joined objects
            count = lambda e, c=script.CHECKS[counted]: c(e.objs)  # noqa: E731
        small, big = (
            script.Estate(
                HOMELAB,
                ("cluster",),  # the snapshot inside the estate, as the recount skips it
                script.read_live(
                    [
                        str(larger[c] / snapshot_file(r))
                        for r in spec.resources
                        if (larger[c] / snapshot_file(r)).is_file()
                    ]
                ),
            )
            for c in (RESULT_BASE, FACTOR * RESULT_BASE)
        )
        calls = [_calls(lambda f=count, e=estate: f(e)) for estate in (small, big)]
        if calls[1] > BOUND * calls[0]:
            too_much[name] = calls
    assert too_much == {}


SLACK = 2_000
"""Bytes a check's result may have beyond ``BOUND`` times its small size (a count, a note)."""


RESULT_BASE = 12
"""Copies for the result sizes: a detail may name up to 10 copies (MNT-LIVE-DUPLICATE-WORKLOAD's
tags) before it counts the rest, so the sizes start past that."""


def test_no_check_result_grows_faster_than_linearly(larger: dict[int, Path]) -> None:
    small, big = (_context(larger[c]) for c in (RESULT_BASE, FACTOR * RESULT_BASE))
    too_big = {}
    for spec in load_catalog():
        sizes = [len(check_result(spec, ctx)[1].model_dump_json()) for ctx in (small, big)]
        if sizes[1] > BOUND * sizes[0] + SLACK:
            too_big[spec.id] = sizes
    assert too_big == {}


def _peak(run: Run) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        kept = run()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del kept
    return peak


def test_loading_and_linking_the_cluster_needs_linear_memory(snapshots: dict[int, Path]) -> None:
    code = build_inventory(HOMELAB).code

    def load(snapshot: Path) -> Run:
        return lambda: link(code, load_live_state(SnapshotBackend(snapshot)))

    small, big = _peak(load(snapshots[BASE])), _peak(load(snapshots[FACTOR * BASE]))
    assert big <= BOUND * small, (small, big)
