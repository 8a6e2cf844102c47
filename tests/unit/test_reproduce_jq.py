"""The recount's jq engine (``tools/checks/reproduce_jq.py``, its child ``jq_child.py``): the cluster's
listings parsed once by libjq, each program run over them prints what a jq child given their JSON
prints, every catalog command through it prints what it prints alone, and an engine that cannot run
(no libjq to call, stuck) leaves each program to a child of its own, with the same numbers."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import jq
import pytest
from estates import HOMELAB, HOMELAB_SNAPSHOT

from agents.offline.challenge_numbers import cluster_facts
from tools.checks import reproduce_batch, reproduce_jq, reproduce_run
from tools.checks.reproduce import ReproSpec, Where, every_option
from tools.checks.reproduce_jq import JqEngine, JqWork
from tools.checks.reproduce_run import Listings, run_spec
from tools.checks.spec import catalog_types, load_catalog
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


def _cluster_jq() -> list[ReproSpec]:
    """Every jq command of the catalog, once each."""
    found: dict[ReproSpec, None] = {}
    for check in load_catalog():
        for spec in check.reproduce.values():
            found.update((s, None) for s in every_option(spec) if s.jq is not None)
    return list(found)


def _where(backend: SnapshotBackend) -> Where:
    return Where(
        estate=str(HOMELAB),
        cluster=str(HOMELAB_SNAPSHOT),
        now="2025-01-01T00:00:00Z",
        snapshot_dirs=("cluster",),
        **cluster_facts(backend),
    )


def _no_child(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("a jq program ran in a child of its own")


@pytest.fixture(scope="module")
def alone() -> list[Any]:
    """What every catalog jq command prints alone over the home-lab snapshot (a jq child each), once
    for the tests that compare with it."""
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    return [run_spec(s, Jail(HOMELAB), _where(backend), backend, Listings()) for s in _cluster_jq()]


@pytest.mark.parametrize("memfd", [True, False], ids=["in-memory-file", "pipe"])
def test_every_catalog_jq_command_prints_the_same_through_the_engine_as_alone(
    memfd: bool, alone: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    specs = _cluster_jq()
    if not memfd:  # a system without memfd_create: each type through the pipe
        monkeypatch.delattr(os, "memfd_create")
    listings = Listings()
    engine = JqEngine(backend, listings, catalog_types(jq_only=True))
    monkeypatch.setattr(reproduce_batch, "_jq_alone", _no_child)
    try:
        reproduce_batch.jq_ahead(specs, Jail(HOMELAB), _where(backend), backend, listings, engine)
    finally:
        engine.close()
    assert len(listings.jq) == len({(s.resources, s.code, s.jq) for s in specs})
    monkeypatch.setattr(reproduce_run, "run_piped", _no_child)
    assert [run_spec(s, Jail(HOMELAB), _where(backend), backend, listings) for s in specs] == alone
    assert sum(p.value is not None for p in alone) >= len(specs) * 3 // 4  # numbers, not failures
    assert {r for s in specs for r in s.resources} <= set(catalog_types(jq_only=True))


PROGRAM = (
    '[1, 1.0, 1.5, 1e3, 12345678901234567890, -0, 1/3, "é ☃ \\u0000x", null, true, false,'
    ' {"a": [1, {"b": 2.5}], "": [], "k\\u0000é": 1}, ($now | length), length]'
)


def test_values_come_back_as_the_jq_module_gives_them() -> None:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    engine = JqEngine(backend, Listings(), ["pods", "namespaces"])
    try:
        args = {"now": "2025-01-01T00:00:00Z"}
        got = engine.run(PROGRAM, ["pods", "namespaces"], args, 30)
        empty = engine.run("empty", ["pods"], {}, 30)
        failed = engine.run('error("no")', ["pods"], {}, 30)
        after = engine.run(". | map(length)", ["namespaces", "pods"], {}, 30)
        text = Listings()
        listed = b"[" + text.text(backend, "namespaces") + b"," + text.text(backend, "pods") + b"]"
    finally:
        engine.close()
    assert got == jq.compile(PROGRAM, args=args).input_text("[[], []]").first()
    assert got is not None and got[-1] == 2 and got[1] == 1
    assert got[4] == int(12345678901234567890.0)  # through a double, as the module converts it
    assert isinstance(got[1], int) and isinstance(got[2], float)
    assert empty is None and failed is None  # nothing printed, an error: no value, the engine goes on
    assert after == jq.compile(". | map(length)").input_text(listed.decode()).first()
    assert after == [20, 46]  # the home-lab snapshot's namespaces and pods


def _child_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    child = tmp_path / "jq_child.py"
    child.write_text(text, encoding="utf-8")
    monkeypatch.setattr(reproduce_jq, "CHILD", child)


def test_an_engine_without_libjq_leaves_each_program_to_a_child_of_its_own(
    tmp_path: Path, alone: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    specs = _cluster_jq()
    _child_script(tmp_path, monkeypatch, "import sys\nsys.exit(3)\n")  # as jq_child.py where bind() fails
    ran: list[str] = []
    real = reproduce_batch._jq_alone

    def counted(program: str, *args: Any) -> Any:
        ran.append(program)
        return real(program, *args)

    monkeypatch.setattr(reproduce_batch, "_jq_alone", counted)
    listings = Listings()
    engine = JqEngine(backend, listings, catalog_types(jq_only=True))
    reproduce_batch.jq_ahead(specs, Jail(HOMELAB), _where(backend), backend, listings, engine)
    assert len(ran) == 1  # the one program, in a child of its own
    assert engine.run("1", ["pods"], {}, 5) is None  # closed: nothing more goes to it
    monkeypatch.setattr(reproduce_run, "run_piped", _no_child)
    assert [run_spec(s, Jail(HOMELAB), _where(backend), backend, listings) for s in specs] == alone


def test_a_stuck_engine_is_ended_at_its_time_and_answers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _child_script(tmp_path, monkeypatch, "import time\ntime.sleep(120)\n")
    engine = JqEngine(SnapshotBackend(HOMELAB_SNAPSHOT), Listings(), ["namespaces"])
    child = engine._child
    assert child is not None
    started = time.monotonic()
    assert engine.run("length", ["namespaces"], {}, 0.5) is None
    assert time.monotonic() - started < 30
    assert child.proc.wait(timeout=10) != 0  # killed (reaped by a thread of its own), not left running
    assert engine.run("length", ["namespaces"], {}, 0.5) is None


def test_filters_sent_as_branches_end_run_once_and_the_challenge_sends_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    specs = [s for s in _cluster_jq() if s.code is None]
    programs: list[str] = []
    real = JqEngine.run

    def recorded(self: JqEngine, program: str, *args: Any) -> Any:
        programs.append(program)
        return real(self, program, *args)

    monkeypatch.setattr(JqEngine, "run", recorded)
    monkeypatch.setattr(reproduce_batch, "_jq_alone", _no_child)
    listings, work, where = Listings(), JqWork(), _where(backend)
    # no engine started: a branch's filters wait for the challenge's one program
    work.submit(specs[:3], Jail(HOMELAB), where, backend, listings, early=True)
    work.wait()
    assert programs == [] and listings.jq == {}
    work.start(backend, listings)
    work.submit(specs[:3], Jail(HOMELAB), where, backend, listings, early=True)
    work.submit(specs[2:6], Jail(HOMELAB), where, backend, listings, early=True)
    work.submit(specs, Jail(HOMELAB), where, backend, listings)
    work.wait()
    work.close()
    assert len(programs) == 3
    for spec in specs:  # each filter in exactly one program
        assert sum(spec.jq in p for p in programs) == 1 or sum(s.jq == spec.jq for s in specs) > 1
    assert specs[0].jq in programs[0] and specs[5].jq in programs[1] and specs[-1].jq in programs[2]
    assert specs[2].jq not in programs[1]  # sent with the first branch already
    assert len(listings.jq) == len({(s.resources, s.code, s.jq) for s in specs})
