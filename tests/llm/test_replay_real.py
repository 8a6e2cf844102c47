"""The recorded run of a real, tiny model, replayed: ``cassettes/real-smollm2-homelab.yaml``.

SmolLM2-135M-Instruct (Q4_1, llama.cpp, behind ``../shared/local-model/adapter.py``) audited the
home-lab with all five concerns, small budgets (``tests/record_real_cassette.py``). Every reply in the
cassette is that model's own. It is far too small to audit anything: what this proves is that what
our code does with a real model's mistakes holds, on every agent of the graph:

- the deterministic floor: every catalog result of the offline run is still a finding, unless a
  verdict that cites evidence dropped it;
- the verdicts are well formed: each judges a finding that exists, a correction has a value and a
  reframing its framing;
- no agent sent more rejected submissions than the cap, and none sent the same rejected one twice.

It proves nothing about a capable model's audit, and nothing here describes its output as one.
The cassette replays by conversation and turn (``replay_match: turn``): the recorded replies play to
today's prompts, and our code's handling of them runs again.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import first_system_line
from replays import CASSETTES, DATE, CliRun, load_cassette, run_cli

from agents.llm.loop import MAX_REJECTED
from domain.report import AuditReport

pytestmark = pytest.mark.vcr

CASSETTE = CASSETTES / "real-smollm2-homelab.yaml"
REJECTED = "Submission rejected, nothing was recorded"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """``infra-audit run --replay CASSETTE``: the cassette's header gives every other argument."""
    work = tmp_path_factory.mktemp("real-replay")
    return run_cli(["run", "--replay", str(CASSETTE), "--state-dir", str(work / "state")], work / "out")


@pytest.fixture(scope="module")
def floor(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    """The same audit offline: the deterministic floor the model's run stands on."""
    work = tmp_path_factory.mktemp("real-floor")
    run = load_cassette(CASSETTE)["infra_audit"]["run"]
    argv = ["run", run["estate"], "--cluster", run["cluster"], "--date", run["date"], "--offline"]
    done = run_cli([*argv, "--run-id", "floor", "--state-dir", str(work / "state")], work / "out")
    assert done.code == 0, done.stderr
    return done.report


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return str(content)


def _rejected_submissions(body: dict[str, Any]) -> list[str]:
    """The submission inputs (canonical JSON) that the turns of one request show were rejected."""
    results = {
        block["tool_use_id"]: _text(block.get("content"))
        for message in body["messages"]
        if message["role"] == "user" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    }
    return [
        json.dumps(block.get("input"), sort_keys=True)
        for message in body["messages"]
        if message["role"] == "assistant" and isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_use"
        and str(block.get("name", "")).startswith("submit_")
        and results.get(block["id"], "").startswith(REJECTED)
    ]


def test_the_header_says_what_it_is_and_the_run_replays_offline(replayed: CliRun) -> None:
    header = load_cassette(CASSETTE)["infra_audit"]
    assert header["scripted"] == "false" and header["model"] == "smollm2"
    assert replayed.code in (0, 4), replayed.stderr
    assert replayed.report.meta.mode == "llm" and replayed.report.meta.model == "smollm2"
    assert "**Status**: LLM: smollm2" in replayed.markdown
    assert replayed.report.meta.date.startswith(DATE)


def test_the_floor_holds(replayed: CliRun, floor: AuditReport) -> None:
    report = replayed.report
    check_of = {f.id: f.check for r in report.concerns.values() for f in r.findings}
    dropped_with_evidence = {
        check_of.get(v.finding) for v in report.verdicts if v.action == "DROPPED" and v.evidence
    }
    reported = {check for f in report.findings for check in f.checks}
    expected = {check for f in floor.findings for check in f.checks}
    missing = expected - reported - dropped_with_evidence
    assert not missing, f"catalog results the model's run lost: {sorted(missing)}"
    assert expected, "the offline floor is not empty on the home-lab"


def test_the_verdicts_are_well_formed(replayed: CliRun) -> None:
    report = replayed.report
    ids = {f.id for r in report.concerns.values() for f in r.findings}
    for verdict in report.verdicts:
        assert verdict.finding in ids, verdict
        if verdict.action == "CORRECTED":
            assert verdict.measured_value is not None, verdict
        if verdict.action == "REFRAMED":
            assert verdict.framing, verdict
        if verdict.action == "DROPPED":
            assert verdict.evidence or verdict.documented_at, verdict


def test_no_agent_passed_its_rejection_cap_or_repeated_a_rejected_submission() -> None:
    """From the recorded traffic itself: per agent (the first line of its system prompt), the
    rejected submissions its longest request shows, at most the cap and never the same one twice."""
    last: dict[str, dict[str, Any]] = {}
    for item in load_cassette(CASSETTE)["interactions"]:
        body = item["request"]["body"]["json"]
        agent = first_system_line(body)
        if agent not in last or len(body["messages"]) > len(last[agent]["messages"]):
            last[agent] = body
    assert len(last) >= 5, sorted(last)  # the five researchers at least took a turn
    for agent, body in last.items():
        rejected = _rejected_submissions(body)
        assert len(rejected) <= MAX_REJECTED, (agent, len(rejected))
        assert len(rejected) == len(set(rejected)), agent
