"""Retries and failures at the node level: which errors are retried, how often, and what is recorded."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from estates import GITOPS, REPO

import pipeline.nodes as nodes
from agents import stances
from domain.concerns import CONCERNS, Concern
from domain.errors import ModelRejected, ModelUnavailable
from domain.findings import ConcernResult
from pipeline.context import RunContext
from pipeline.graph import NODE_RETRY, compile_graph, node_retry, retry_on
from pipeline.settings import RunSettings
from pipeline.state import AuditState
from tools.checks.spec import CheckContext
from tools.evidence import Ledger

pytestmark = pytest.mark.graph

FAST = node_retry(wait=0.001)


def run(**overrides: Any) -> AuditState:
    settings = RunSettings(
        estate=GITOPS, estate_label="examples/gitops-base", date="2026-11-20", workdir=REPO
    )
    ctx = RunContext(settings=settings, ledger=Ledger())
    state = AuditState(run_id="t", date="2026-11-20", mode="offline", concerns=list(CONCERNS))
    out = compile_graph(retry=FAST).invoke(state, {"configurable": {"thread_id": "t"}}, context=ctx)
    return AuditState.model_validate(out)


def test_the_retry_predicate_is_explicit() -> None:
    assert retry_on(ModelUnavailable("529 overloaded")) is True
    assert retry_on(ModelRejected("400 invalid request")) is False
    assert retry_on(ValueError("our bug")) is False
    # one node retry after a long pause; with the SDK's 3 attempts an outage costs 6 requests, not 9
    assert NODE_RETRY.max_attempts == 2 and NODE_RETRY.initial_interval == 30.0
    assert NODE_RETRY.retry_on is retry_on


def test_a_model_outage_is_retried_then_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = nodes.research_offline

    def flaky(concern: Concern, ctx: CheckContext) -> ConcernResult:
        calls.append(concern)
        if concern == "security" and calls.count("security") < 2:
            raise ModelUnavailable("529 overloaded")
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", flaky)
    state = run()
    assert calls.count("security") == 2 and all(calls.count(c) == 1 for c in CONCERNS if c != "security")
    assert all(r.status == "ok" for r in state.results.values())


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (ModelUnavailable("529 overloaded"), 2),
        (ModelRejected("401 invalid x-api-key"), 1),
        (KeyError("x"), 1),
    ],
)
def test_a_concern_that_keeps_failing_is_recorded_and_the_rest_goes_on(
    monkeypatch: pytest.MonkeyPatch, error: Exception, attempts: int
) -> None:
    calls: list[str] = []
    real = nodes.research_offline

    def failing(concern: Concern, ctx: CheckContext) -> ConcernResult:
        calls.append(concern)
        if concern == "maintenance":
            raise error
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", failing)
    state = run()
    assert calls.count("maintenance") == attempts
    failed = state.results["maintenance"]
    assert failed.status == "failed" and failed.error == f"{type(error).__name__}: {error}"
    assert {c for c, r in state.results.items() if r.status == "ok"} == set(CONCERNS) - {"maintenance"}
    assert state.report is not None and state.report.meta.concerns_failed == {"maintenance": failed.error}


def test_a_crashing_challenger_becomes_a_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("recount exploded")

    monkeypatch.setitem(stances.STANCES, "numbers", dataclasses.replace(stances.NUMBERS, offline=broken))
    state = run()
    assert state.report is not None
    assert "The numbers challenger failed (RuntimeError: recount exploded); claims were not recounted." in (
        state.report.gaps
    )
    assert {v.challenger for v in state.report.verdicts} == {"intent"}
    assert state.report.findings


def test_a_failure_text_is_redacted_before_it_is_published(monkeypatch: pytest.MonkeyPatch) -> None:
    real = nodes.research_offline

    def leaking(concern: Concern, ctx: CheckContext) -> ConcernResult:
        if concern == "security":
            raise ValueError('cannot parse line: password = "hunter2-CANARY-TEST"')
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", leaking)
    state = run()
    error = state.results["security"].error or ""
    assert "hunter2-CANARY-TEST" not in error and "<redacted:sha256:" in error
    assert state.report is not None and "hunter2" not in state.report.model_dump_json()
