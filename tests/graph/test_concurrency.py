"""``--max-concurrency`` limits the agents that run at once, and nothing else (not checkpoint writes)."""

from __future__ import annotations

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
