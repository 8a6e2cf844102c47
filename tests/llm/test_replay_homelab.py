"""The scripted homelab audit, replayed from ``cassettes/scripted-homelab-full.yaml`` with no network.

The cassette was recorded against the scripted server (``tests/scenarios/homelab.py``): these tests
prove what the LLM path does with such traffic, end to end through the real SDK, the agent loop,
both challengers, the mechanical recount, synthesis and rendering. They prove nothing about a
model. That the replay matches at all proves the prompts rendered byte-identically to the recording.
"""

from __future__ import annotations

from typing import Any

import pytest
from estates import ground_truth
from replays import CASSETTES, CliRun, conversation, last_tool_results
from scenarios import homelab
from scenarios.common import SCRIPTED_MODEL, check_evidence, researcher_key

from domain.concerns import CONCERNS
from domain.findings import Claim, Finding, RawFinding, Verdict
from domain.report import AuditReport
from tools.evidence import evidence_id

pytestmark = pytest.mark.vcr

CASSETTE = CASSETTES / "scripted-homelab-full.yaml"
AGENTS = [
    "challenge:intent",
    "challenge:numbers",
    *sorted(f"research:{c}" for c in CONCERNS),
    "synthesize",
]


def raw(report: AuditReport, check: str) -> RawFinding:
    return next(f for r in report.concerns.values() for f in r.findings if f.check == check)


def verdicts(report: AuditReport, finding: str) -> dict[str, Verdict]:
    return {v.challenger: v for v in report.verdicts if v.finding == finding}


def final_claim(report: AuditReport, check: str) -> tuple[Finding, Claim] | None:
    first = check_evidence(check)
    for finding in report.findings:
        if check in finding.checks:
            return finding, next(c for c in finding.claims if c.evidence[0] == first and c.measure is None)
    return None


def test_the_report_says_llm_mode_the_model_and_what_each_agent_used(homelab_replay: CliRun) -> None:
    md, meta = homelab_replay.markdown, homelab_replay.report.meta
    assert "**Status**: LLM: scripted-test-model" in md
    assert (meta.mode, meta.model) == ("llm", SCRIPTED_MODEL)
    assert [u.agent for u in meta.usage] == AGENTS
    for usage in meta.usage:
        assert usage.input_tokens > 0 and usage.output_tokens > 0
        assert usage.cost_usd is None  # the scripted model has no price: unknown, never guessed
        assert f"| {usage.agent} | {usage.input_tokens:,} | {usage.output_tokens:,} |" in md
    assert md.count("unknown price") == len(AGENTS) + 1  # every agent, and the total
    # 5 calls of offered tools; the refused kubectl_delete is error evidence but not an offered tool
    # every call the loop ran counts, refused ones included: the same figure the tool budget uses
    assert {u.agent: u.tool_calls for u in meta.usage}["research:security"] == 6


@pytest.mark.parametrize("item", ground_truth("homelab")["findings"], ids=lambda i: i["check"])
def test_every_check_ends_with_its_true_count(homelab_replay: CliRun, item: dict[str, Any]) -> None:
    """After both challengers and the recount, each catalog finding carries the ground-truth count."""
    found = final_claim(homelab_replay.report, item["check"])
    if item["count"] == 0:
        assert found is None, f"{item['check']} must not be in the final report"
    else:
        assert found is not None and found[1].value == item["count"], found


def test_the_over_count_is_corrected_by_the_recount_and_the_numbers_challenger(
    homelab_replay: CliRun,
) -> None:
    report = homelab_replay.report
    evidence = {e.id: e for e in report.evidence}
    stated = raw(report, "MNT-IMAGE-LATEST")
    check_id = check_evidence("MNT-IMAGE-LATEST")
    assert stated.claims[0].value == homelab.OVERCOUNT == 12
    assert stated.claims[0].evidence[0] == check_id and evidence[check_id].value == 6
    judged = verdicts(report, stated.id)
    recount, numbers = judged["recount"], judged["numbers"]
    # the reader's script counts the Terraform images independently (issue 11) and prints 6: the
    # recount corrects the misquote with its own measured value, citing the command
    assert (recount.action, recount.measured_value) == ("CORRECTED", 6)
    assert recount.evidence == [f"{check_id}.r"]
    assert evidence[f"{check_id}.r"].tool == "reproduce" and evidence[f"{check_id}.r"].value == 6
    assert (
        "reproduce_scripts/objects_count.py examples/homelab MNT-IMAGE-LATEST cluster` prints 6"
        in recount.reason
    )
    own = evidence_id(*homelab.LATEST_LINES)
    assert (numbers.action, numbers.measured_value, numbers.evidence) == ("CORRECTED", 6, [check_id, own])
    assert evidence[own].tool == "repo_search" and evidence[own].agent == "challenge:numbers"
    assert judged["intent"].action == "CONFIRMED"
    finding, claim = final_claim(report, "MNT-IMAGE-LATEST") or pytest.fail("no final :latest finding")
    assert (finding.status, claim.value) == ("corrected", 6)
    assert finding.title.startswith("6 of 27 containers use :latest")
    assert {(c.challenger, c.action) for c in report.corrections if c.finding == stated.id} == {
        ("recount", "CORRECTED"),
        ("numbers", "CORRECTED"),
    }


def test_a_documented_choice_is_dropped_citing_where_it_is_written(homelab_replay: CliRun) -> None:
    report = homelab_replay.report
    stated = raw(report, "SCA-CPU-LIMIT")
    assert stated.title == "25 of 36 containers have no CPU limit" and stated.claims[0].value == 25
    judged = verdicts(report, stated.id)
    assert judged["recount"].action == "CONFIRMED"  # the number is right; the finding is not
    intent = judged["intent"]
    read = evidence_id("repo_read", {"path": "docs/decisions/0002-no-cpu-limits.md"})
    assert (intent.action, intent.documented_at, intent.evidence) == (
        "DROPPED",
        "docs/decisions/0002-no-cpu-limits.md:6",
        [read],
    )
    truth = next(i for i in ground_truth("homelab")["must_not_report"] if i["check"] == "SCA-CPU-LIMIT")
    assert intent.documented_at == truth["documented_at"]
    read_evidence = next(e for e in report.evidence if e.id == read)
    assert read_evidence.agent == "challenge:intent"
    assert "6: All CPU limits are removed cluster-wide on purpose" in read_evidence.output
    assert final_claim(report, "SCA-CPU-LIMIT") is None
    assert stated.id in next(s for s in report.summaries if s.concern == "scalability").dropped


def test_refused_tool_calls_come_back_as_error_evidence_and_the_run_goes_on(homelab_replay: CliRun) -> None:
    turns = conversation(CASSETTE, researcher_key("security"))
    answers = {r["content"].split(" | ")[1]: r for r in last_tool_results(turns[1])}
    write, escape = answers["kubectl_delete"], answers["repo_read"]
    assert write["is_error"] and escape["is_error"]
    assert write["content"].startswith(f"evidence {evidence_id(*homelab.WRITE_ATTEMPT)} | kubectl_delete | ")
    assert "unknown tool 'kubectl_delete'; available: kube_api_resources" in write["content"]
    assert escape["content"].startswith(f"evidence {evidence_id(*homelab.ESCAPE_ATTEMPT)} | repo_read | ")
    assert "uses '..' to leave the estate root" in escape["content"]
    security = homelab_replay.report.concerns["security"]
    assert security.status == "ok" and security.note is None and len(security.findings) == 12


def test_a_claim_citing_unseen_evidence_is_rejected_then_resubmitted(homelab_replay: CliRun) -> None:
    turns = conversation(CASSETTE, researcher_key("security"))
    assert len(turns) == 5
    (rejection,) = last_tool_results(turns[3])
    assert rejection["is_error"] is True
    assert rejection["content"].startswith("Submission rejected, nothing was recorded. Fix these and submit")
    assert (
        f"evidence {homelab.NEVER_SEEN} is not one of your tool calls or the catalog's results; "
        "run a tool that shows it and cite that evidence id"
    ) in rejection["content"]
    report = homelab_replay.report
    secrets = next(f for f in report.concerns["security"].findings if f.check is None)
    assert secrets.claims[1].evidence == [homelab.NEVER_SEEN]
    assert next(e for e in report.evidence if e.id == homelab.NEVER_SEEN).tool == "kube_describe"


def test_a_finding_no_check_covers_comes_from_reading_a_runbook(homelab_replay: CliRun) -> None:
    report = homelab_replay.report
    vault = next(f for f in report.concerns["reliability"].findings if f.check is None)
    assert vault.title == "Vault is unsealed by hand after every restart of vault-0"
    assert vault.claims[0].evidence == [evidence_id(*homelab.VAULT_RUNBOOK)]
    assert verdicts(report, vault.id)["recount"].action == "CONFIRMED"  # kube_get recounts 1 StatefulSet
    final = next(f for f in report.findings if vault.id in f.raw_ids)
    assert (final.checks, final.status, final.refs) == ([], "confirmed", ["docs/runbooks/vault-unseal.md:18"])


def test_each_challenger_gives_one_verdict_per_finding_mostly_confirmed(homelab_replay: CliRun) -> None:
    report = homelab_replay.report
    ids = sorted(f.id for r in report.concerns.values() for f in r.findings)
    for stance in ("recount", "numbers", "intent"):
        given = [v for v in report.verdicts if v.challenger == stance]
        assert sorted(v.finding for v in given) == ids, stance
        confirmed = sum(v.action == "CONFIRMED" for v in given)
        if stance == "intent":  # one verdict other than CONFIRMED per decision the estate documents
            assert confirmed == len(ids) - len(homelab.INTENT.decisions)
        else:
            assert confirmed >= len(ids) - 6, stance
    for gap in (
        "No finding times a restore: the backup CronJobs are counted, never exercised.",
        homelab.INTENT.gaps[0],
    ):
        assert gap in report.gaps
    assert "Count moving tags per running container, not per grep hit." in report.framings


def test_synthesis_writes_themes_rollouts_and_next_moves(homelab_replay: CliRun) -> None:
    report, md = homelab_replay.report, homelab_replay.markdown
    assert len(report.themes) >= 2
    for theme in report.themes:
        assert len(theme.concerns) >= 2 and f"**{theme.title}**" in md
    assert sorted(report.narratives) == sorted(CONCERNS)
    dangerous = [f for f in report.findings if f.dangerous]
    assert dangerous and all(
        (f.dangerous or "").startswith(f"Do not apply {f.id} estate-wide") for f in dangerous
    )
    assert [m.when for m in report.next_moves] == ["Week 1", "Week 2", "Month 2", "Month 3+"]
    assert f"{report.next_moves[0].finding}: {report.next_moves[0].text}" in md


def test_the_deep_dive_prose_of_the_synthesizer_is_in_audit_md(homelab_replay: CliRun) -> None:
    """BUG (pipeline/render): ``AuditReport.narratives`` is never rendered; audit.md drops the prose."""
    md = homelab_replay.markdown
    missing = [c for c, text in homelab_replay.report.narratives.items() if text not in md]
    assert not missing, f"deep-dive prose of {missing} is in audit.json but not in audit.md"
