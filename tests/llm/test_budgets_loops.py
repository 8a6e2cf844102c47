"""Budgets, loops and submissions of the agent loop, on the whole graph with a function model.

Each test replaces one agent of the gitops-base scenario with a script that misbehaves in one way
(spends its tool calls, repeats itself, never submits, submits garbage) and asserts what the loop
sends next and what the report keeps. The loop's rules are in ``agents/llm/loop.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fakes import reply, text
from graphs import results_of, run_graph, tools_of
from scenarios.common import (
    INTENT_KEY,
    NUMBERS_KEY,
    Agent,
    Conversation,
    catalog,
    catalog_finding,
    explore,
    judged,
    researcher_key,
    submit,
)

from agents.llm.loop import MAX_REPEATS
from agents.llm.protocol import ToolChoice
from agents.llm.settings import RunBudget

pytestmark = pytest.mark.graph

MAINTENANCE = researcher_key("maintenance")
AGENT = "research:maintenance"
RENOVATE = ("repo_list", {"glob": "*renovate*"})
LATEST = ("repo_count", {"pattern": ":latest", "fixed": True})
FORCED = ToolChoice(mode="tool", name="submit_findings", parallel=False)
AUTO = ToolChoice(mode="auto")
LOOP_NOTE = "you already ran this exact call; answered from the ledger (a loop: change the query)"


def catalog_submission(convo: Conversation) -> dict[str, Any]:
    return {"findings": [catalog_finding(row) for row in catalog(convo.system).values()]}


def confirm_all(tool: str = "submit_verdicts") -> Agent:
    """A challenger that judges at once: one CONFIRMED per finding, no tool call."""

    def verdicts(convo: Conversation) -> dict[str, Any]:
        found = [{"finding": f.id, "action": "CONFIRMED", "reason": "Stands."} for f in judged(convo.system)]
        return {"verdicts": found, "gaps": [], "framings": []}

    return Agent("quick challenger", [submit(tool, verdicts)])


def test_at_max_tool_calls_the_last_turn_offers_only_the_forced_submission() -> None:
    spender = Agent(
        "spender",
        [
            explore("Two calls, the whole budget.", RENOVATE, LATEST),
            submit("submit_findings", catalog_submission),
        ],
    )
    run = run_graph({MAINTENANCE: spender}, budget=RunBudget(max_tool_calls_per_agent=2))
    first, last = run.requests(AGENT)
    assert first.tool_choice == AUTO and "repo_search" in tools_of(first)
    assert tools_of(last) == ["submit_findings"] and last.tool_choice == FORCED
    assert run.state.results["maintenance"].note is None and run.state.results["maintenance"].findings


def test_a_repeated_call_is_answered_from_the_ledger_and_three_loops_force_the_last_turn() -> None:
    looping = Agent(
        "looper",
        [
            *(explore("Once more.", LATEST) for _ in range(MAX_REPEATS + 1)),
            submit("submit_findings", catalog_submission),
        ],
    )
    run = run_graph({MAINTENANCE: looping})
    requests = run.requests(AGENT)
    assert len(requests) == MAX_REPEATS + 2
    answers = [results_of(r)[0].content for r in requests[1:]]
    first_line = answers[0].split("\n", 1)[0]
    assert LOOP_NOTE not in first_line
    for repeat in answers[1:]:
        head = repeat.split("\n", 1)[0]
        assert head == f"{first_line} | {LOOP_NOTE}"  # same evidence id, same value, flagged
        assert repeat.split("\n", 1)[1] == answers[0].split("\n", 1)[1]
    assert all(r.tool_choice == AUTO for r in requests[:-1])
    assert tools_of(requests[-1]) == ["submit_findings"] and requests[-1].tool_choice == FORCED


def test_a_spent_token_budget_sends_the_next_agents_straight_to_their_last_turn() -> None:
    """1,000 tokens a reply, 1,500 for the run: the researcher's third turn and everyone after is final."""
    researcher = Agent(
        "researcher",
        [
            explore("One call.", RENOVATE),
            explore("Another.", LATEST),
            submit("submit_findings", catalog_submission),
        ],
    )
    run = run_graph(
        {MAINTENANCE: researcher, NUMBERS_KEY: confirm_all(), INTENT_KEY: confirm_all()},
        budget=RunBudget(max_tokens_per_run=1_500),
        tokens_per_reply=1_000,
    )
    research = run.requests(AGENT)
    assert [r.tool_choice for r in research] == [AUTO, AUTO, FORCED]
    for agent, tool in (
        ("challenge:numbers", "submit_verdicts"),
        ("challenge:intent", "submit_verdicts"),
        ("synthesize", "submit_synthesis"),
    ):
        (only,) = run.requests(agent)
        forced = ToolChoice(mode="tool", name=tool, parallel=False)
        assert tools_of(only) == [tool] and only.tool_choice == forced, agent
    report = run.state.report
    assert report is not None and report.themes and report.narratives  # the forced turns still submitted


def test_an_agent_that_never_submits_falls_back_to_the_checks_and_says_so(tmp_path: Path) -> None:
    silent = Agent("silent", [lambda convo: reply(text("I think the estate looks fine."))] * 3)
    run = run_graph({MAINTENANCE: silent}, out=tmp_path)
    requests = run.requests(AGENT)
    assert len(requests) == 3 and requests[-1].tool_choice == FORCED
    assert requests[1].messages[-1].text.startswith("Continue with a tool call, or submit")
    assert requests[2].messages[-1].text == "Submit now with submit_findings: this is your last turn."
    result = run.state.results["maintenance"]
    assert (
        result.note
        == "the maintenance researcher did not submit (no-submission); findings are the deterministic checks"
    )
    assert [f.check for f in result.findings] == [
        "MNT-IMAGE-LATEST",
        "MNT-HELM-UNPINNED",
        "MNT-NO-DEP-BOT",
        "MNT-NO-CI-VALIDATION",
        "MNT-ALERTS-NOT-WIRED",
    ]
    gap = f"R3 maintenance: {result.note}."
    assert run.state.report is not None and gap in run.state.report.gaps
    assert f"- {gap}" in (tmp_path / "audit.md").read_text(encoding="utf-8")


def test_an_invalid_submission_is_rejected_with_a_message_and_a_valid_one_accepted() -> None:
    def broken(convo: Conversation) -> dict[str, Any]:
        good = catalog_submission(convo)
        good["findings"][0] = {**good["findings"][0], "impact": 9, "owner": "platform team"}
        del good["findings"][1]["claims"]
        return good

    def fix(convo: Conversation) -> Any:
        (answer,) = convo.last_results()
        if not answer.startswith("Submission rejected"):
            raise AssertionError(answer)
        return submit("submit_findings", catalog_submission)(convo)

    careless = Agent("careless", [submit("submit_findings", broken), fix])
    run = run_graph({MAINTENANCE: careless})
    _, second = run.requests(AGENT)
    (rejection,) = results_of(second)
    assert rejection.is_error is True
    # our frame and the field paths; the wording of each problem is pydantic's, and not asserted
    head = "Submission rejected, nothing was recorded. Fix and submit again: "
    assert rejection.content.startswith(head)
    problems = rejection.content.removeprefix(head).split("; ")
    paths = [p.split(": ")[0] for p in problems]
    assert paths == ["findings.0.impact", "findings.0.owner", "findings.1.claims"]
    result = run.state.results["maintenance"]
    assert result.note is None and len(result.findings) == 5 and result.findings[0].impact != 9


def test_usage_rows_of_the_accountant_are_in_audit_json(tmp_path: Path) -> None:
    run = run_graph(out=tmp_path, tokens_per_reply=1_234)
    usage = json.loads((tmp_path / "audit.json").read_text(encoding="utf-8"))["meta"]["usage"]
    calls: dict[str, int] = {}
    for request in run.model.requests:
        calls[request.agent] = calls.get(request.agent, 0) + 1
    assert {row["agent"]: row["input_tokens"] for row in usage} == {a: n * 1_234 for a, n in calls.items()}
    assert all(row["cost_usd"] is None for row in usage)
    tool_calls = {row["agent"]: row["tool_calls"] for row in usage}
    assert tool_calls == {
        "challenge:intent": 3,
        "challenge:numbers": 1,
        "research:maintenance": 1,
        "synthesize": 0,
    }
