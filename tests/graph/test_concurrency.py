"""``--max-concurrency`` limits the agents that run at once, and nothing else (not checkpoint writes)."""

from __future__ import annotations

import gc
import threading

import pytest
from estates import GITOPS, REPO

import pipeline.nodes as nodes
from domain.concerns import CONCERNS, Concern
from domain.findings import ConcernResult
from pipeline.audit import run_audit
from pipeline.settings import RunSettings
from tools.checks.spec import CheckContext

pytestmark = pytest.mark.graph


def settings(max_concurrency: int | None) -> RunSettings:
    return RunSettings(
        estate=GITOPS,
        estate_label="examples/gitops-base",
        date="2026-11-20",
        workdir=REPO,
        max_concurrency=max_concurrency,
    )


def test_one_at_a_time_never_overlaps(monkeypatch: pytest.MonkeyPatch) -> None:
    real = nodes.research_offline
    lock = threading.Lock()
    running: list[str] = []
    most = 0

    def research(concern: Concern, ctx: CheckContext) -> ConcernResult:
        nonlocal most
        with lock:
            running.append(concern)
            most = max(most, len(running))
        try:
            return real(concern, ctx)
        finally:
            with lock:
                running.remove(concern)

    monkeypatch.setattr(nodes, "research_offline", research)
    state = run_audit(settings(1), "one")
    assert most == 1
    assert state.report is not None and sorted(state.report.concerns) == sorted(CONCERNS)


def test_by_default_all_five_research_branches_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each branch waits at a barrier for the other four: the run only completes if all five overlap."""
    real = nodes.research_offline
    barrier = threading.Barrier(len(CONCERNS), timeout=30)

    def research(concern: Concern, ctx: CheckContext) -> ConcernResult:
        barrier.wait()
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", research)
    state = run_audit(settings(None), "all")
    assert state.report is not None
    assert all(r.status == "ok" for r in state.report.concerns.values())


def test_the_collector_is_paused_while_any_branch_runs_its_checks_and_resumed_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The five branches' checks run side by side with the collector paused (a full collection
    re-scanned every result they had made: docs/performance.md), however they start and end; it is
    on again once the last one ends."""
    real = nodes.research_offline
    barrier = threading.Barrier(len(CONCERNS), timeout=30)
    order = {concern: i for i, concern in enumerate(CONCERNS)}
    leave = [threading.Event() for _ in CONCERNS]
    seen: list[bool] = []

    def research(concern: Concern, ctx: CheckContext) -> ConcernResult:
        seen.append(gc.isenabled())
        barrier.wait()  # all five inside
        result = real(concern, ctx)
        index = order[concern]
        if index + 1 < len(leave):
            leave[index + 1].wait(timeout=30)  # the last concern leaves first, the first one last
        seen.append(gc.isenabled())
        leave[index].set()
        return result

    monkeypatch.setattr(nodes, "research_offline", research)
    assert gc.isenabled()
    state = run_audit(settings(None), "gc")
    assert seen == [False] * (2 * len(CONCERNS))
    assert gc.isenabled()
    assert state.report is not None and all(r.status == "ok" for r in state.report.concerns.values())
