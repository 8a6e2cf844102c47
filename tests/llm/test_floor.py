"""The deterministic floor and the rejection cap of the LLM agents, on the whole graph.

A researcher's submission cannot remove a catalog result: what it leaves out is restored from the
checks and the concern's note says so. A challenger's finding with no verdict stands as CONFIRMED,
and a gap says which were not judged. An agent whose submissions are rejected ``MAX_REJECTED``
times, or that sends the same rejected submission again, ends, and its role falls back to the
deterministic path, recorded as such; the other agents are untouched.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphs import llm_settings, results_of, run_graph
from scenarios.common import (
    INTENT_KEY,
    NUMBERS_KEY,
    Agent,
    Conversation,
    catalog,
    catalog_finding,
    check_evidence,
    explore,
    judged,
    researcher_key,
    submit,
)

from agents.llm.loop import MAX_REJECTED
from pipeline.audit import run_audit
from tools.evidence import evidence_id

pytestmark = pytest.mark.graph

MAINTENANCE = researcher_key("maintenance")
AGENT = "research:maintenance"
CHECKS = [
    "MNT-IMAGE-LATEST",
    "MNT-HELM-UNPINNED",
    "MNT-NO-DEP-BOT",
    "MNT-NO-CI-VALIDATION",
    "MNT-ALERTS-NOT-WIRED",
]
RENOVATE = ("repo_list", {"glob": "*renovate*"})
FOREVER = 60


def researcher(build: Any) -> Agent:
    return Agent("researcher", [submit("submit_findings", build)])


def test_an_empty_submission_keeps_every_catalog_finding_and_says_so() -> None:
    run = run_graph({MAINTENANCE: researcher(lambda convo: {"findings": []})})
    result = run.state.results["maintenance"]
    assert [f.check for f in result.findings] == CHECKS
    assert [f.id for f in result.findings] == [f"R3#{i}" for i in range(1, 6)]
    assert result.note == (
        f"the maintenance researcher's submission left out {', '.join(CHECKS)}; restored from the "
        "deterministic checks"
    )
    report = run.state.report
    assert report is not None and f"R3 maintenance: {result.note}." in report.gaps
    assert sorted(c for f in report.findings for c in f.checks) == sorted(CHECKS)  # into the backlog


def test_a_partial_submission_keeps_its_findings_and_restores_only_the_rest() -> None:
    def partial(convo: Conversation) -> dict[str, Any]:
        rows = catalog(convo.system)
        latest = catalog_finding(rows["MNT-IMAGE-LATEST"], title="Moving tags everywhere")
        # a merge: one finding for both pinning checks, its claims citing both results
        latest["claims"][0]["evidence"].append(rows["MNT-HELM-UNPINNED"].evidence)
        own = {**catalog_finding(rows["MNT-NO-DEP-BOT"]), "check": None, "title": "Nobody bumps versions"}
        return {"findings": [latest, own]}

    run = run_graph({MAINTENANCE: researcher(partial)})
    result = run.state.results["maintenance"]
    assert [(f.id, f.check, f.title) for f in result.findings[:2]] == [
        ("R3#1", "MNT-IMAGE-LATEST", "Moving tags everywhere"),
        ("R3#2", None, "Nobody bumps versions"),
    ]
    # MNT-HELM-UNPINNED is merged into R3#1 and MNT-NO-DEP-BOT refined by R3#2 (their claims cite
    # the results' evidence): neither is restored
    assert [(f.id, f.check) for f in result.findings[2:]] == [
        ("R3#3", "MNT-NO-CI-VALIDATION"),
        ("R3#4", "MNT-ALERTS-NOT-WIRED"),
    ]
    assert result.note == (
        "the maintenance researcher's submission left out MNT-NO-CI-VALIDATION, MNT-ALERTS-NOT-WIRED; "
        "restored from the deterministic checks"
    )
    restored = result.findings[2]
    assert restored.claims[0].evidence[0] == check_evidence("MNT-NO-CI-VALIDATION")


def test_a_full_submission_restores_nothing() -> None:
    def full(convo: Conversation) -> dict[str, Any]:
        return {"findings": [catalog_finding(row) for row in catalog(convo.system).values()]}

    result = run_graph({MAINTENANCE: researcher(full)}).state.results["maintenance"]
    assert result.note is None and [f.check for f in result.findings] == CHECKS


def test_missing_verdicts_are_rejected_once_then_stand_as_confirmed_with_a_gap() -> None:
    def first_only(convo: Conversation) -> dict[str, Any]:
        first = judged(convo.system)[0]
        return {"verdicts": [{"finding": first.id, "action": "CONFIRMED", "reason": "Checked."}]}

    run = run_graph({NUMBERS_KEY: Agent("lazy", [submit("submit_verdicts", first_only)] * 2)})
    _, second = run.requests("challenge:numbers")
    (rejection,) = results_of(second)
    assert rejection.is_error and "no verdict for: R3#2, R3#3, R3#4, R3#5" in rejection.content
    numbers = [v for v in run.state.verdicts if v.challenger == "numbers"]
    assert [(v.finding, v.action) for v in numbers] == [(f"R3#{i}", "CONFIRMED") for i in range(1, 6)]
    assert numbers[0].reason == "Checked."
    for v in numbers[1:]:
        assert v.reason == "Not judged: the numbers challenger gave no verdict; the finding stands."
    gap = (
        "The numbers challenger gave no verdict for R3#2, R3#3, R3#4, R3#5; they stand as CONFIRMED, "
        "not judged."
    )
    assert run.state.report is not None and gap in run.state.report.gaps
    assert len(run.requests("challenge:numbers")) == 2


def _bad_verdicts(convo: Conversation) -> dict[str, Any]:
    """The smollm2 run's numbers challenger: an invented finding id, REFRAMED with no framing."""
    return {
        "verdicts": [
            {"finding": "R9#1", "action": "CONFIRMED", "reason": "ok"},
            *({"finding": f.id, "action": "REFRAMED", "reason": "ok"} for f in judged(convo.system)),
        ]
    }


def test_the_same_rejected_submission_again_ends_the_agent_and_falls_back_to_its_stance() -> None:
    run = run_graph({INTENT_KEY: Agent("stuck", [submit("submit_verdicts", _bad_verdicts)] * FOREVER)})
    assert len(run.requests("challenge:intent")) == 2  # rejected, then the same again: a loop
    offline = run_audit(llm_settings().model_copy(update={"mode": "offline", "llm": None}), "offline")
    intent = [v for v in run.state.verdicts if v.challenger == "intent"]
    assert intent == [v for v in offline.verdicts if v.challenger == "intent"] and intent
    report = run.state.report
    assert report is not None
    fell_back = (
        "The intent challenger did not submit (the same rejected submission again); fell back: its "
        "verdicts are the deterministic intent challenger's."
    )
    assert fell_back in report.gaps
    # the others are intact: the researcher's submission, the model's numbers verdicts, the prose
    assert run.state.results["maintenance"].note is None
    assert [v.action for v in run.state.verdicts if v.challenger == "numbers"] == ["CONFIRMED"] * 5
    assert report.themes and report.narratives


def test_three_different_rejected_submissions_end_the_agent_at_the_cap() -> None:
    def varied(convo: Conversation) -> dict[str, Any]:
        bad = _bad_verdicts(convo)
        bad["gaps"] = [f"attempt {convo.turn}"]  # a different input each time: not a loop, still wrong
        return bad

    run = run_graph({NUMBERS_KEY: Agent("stubborn", [submit("submit_verdicts", varied)] * FOREVER)})
    assert len(run.requests("challenge:numbers")) == MAX_REJECTED == 3
    assert not [v for v in run.state.verdicts if v.challenger == "numbers"]
    assert len([v for v in run.state.verdicts if v.challenger == "recount"]) == 5
    report = run.state.report
    assert report is not None
    assert (
        "The numbers challenger did not submit (3 submissions rejected); fell back: its deterministic "
        "recount verdicts stand." in report.gaps
    )
    assert not any(g.startswith("attempt") for g in report.gaps)
    assert len(run.requests("challenge:intent")) > 1 and report.themes


def test_a_researcher_resubmitting_the_same_rejected_findings_falls_back_to_the_checks() -> None:
    def unseen(convo: Conversation) -> dict[str, Any]:
        finding = catalog_finding(next(iter(catalog(convo.system).values())))
        finding["claims"][0]["evidence"] = ["E-invented"]
        return {"findings": [finding]}

    run = run_graph({MAINTENANCE: Agent("stuck", [submit("submit_findings", unseen)] * FOREVER)})
    assert len(run.requests(AGENT)) == 2
    result = run.state.results["maintenance"]
    assert result.note == (
        "the maintenance researcher did not submit (the same rejected submission again); findings are "
        "the deterministic checks"
    )
    assert [f.check for f in result.findings] == CHECKS


def test_the_same_submission_after_a_call_that_shows_its_evidence_is_not_a_loop() -> None:
    shown = evidence_id(*RENOVATE)

    def citing(convo: Conversation) -> dict[str, Any]:
        findings = [catalog_finding(row) for row in catalog(convo.system).values()]
        findings[0]["claims"][0]["evidence"].append(shown)
        return {"findings": findings}

    agent = Agent(
        "eager",
        [
            submit("submit_findings", citing),
            explore("Showing it.", RENOVATE),
            submit("submit_findings", citing),
        ],
    )
    run = run_graph({MAINTENANCE: agent})
    assert len(run.requests(AGENT)) == 3
    result = run.state.results["maintenance"]
    assert result.note is None and shown in result.findings[0].claims[0].evidence
