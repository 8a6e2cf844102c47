"""The scripted gitops-base audit (no cluster), replayed from ``cassettes/scripted-gitops-full.yaml``.

A code-only estate: the kube tools are not offered, and a researcher that asks for one anyway is
told that this audit has no cluster. The intent challenger trims two findings with the decisions
it read; every final count must match the estate's ground truth.
"""

from __future__ import annotations

from typing import Any

import pytest
from estates import ground_truth
from replays import CASSETTES, CliRun, conversation, last_tool_results
from scenarios import gitops
from scenarios.common import check_evidence, researcher_key

from tools.evidence import evidence_id

pytestmark = pytest.mark.vcr

CASSETTE = CASSETTES / "scripted-gitops-full.yaml"


@pytest.mark.parametrize("item", ground_truth("gitops-base")["findings"], ids=lambda i: i["check"])
def test_every_check_ends_with_its_true_count(gitops_replay: CliRun, item: dict[str, Any]) -> None:
    report = gitops_replay.report
    final = next((f for f in report.findings if item["check"] in f.checks), None)
    assert final is not None, item["check"]
    claim = next(c for c in final.claims if c.evidence[0] == check_evidence(item["check"]))
    assert claim.value == item["count"], (item["check"], claim.text)


def test_a_code_only_run_says_so_and_refuses_cluster_tools(gitops_replay: CliRun) -> None:
    assert "**Status**: LLM: scripted-test-model" in gitops_replay.markdown
    assert "code only, no cluster" in gitops_replay.markdown
    first, *_ = conversation(CASSETTE, researcher_key("security"))
    assert "kube_get" not in [t["name"] for t in first["tools"]]
    turns = conversation(CASSETTE, researcher_key("security"))
    answer = next(r for r in last_tool_results(turns[1]) if " | kube_get | " in r["content"])
    assert answer["is_error"] is True
    assert answer["content"].startswith(
        f"evidence {evidence_id(*gitops.NETPOL_LIVE)} | kube_get | status error"
    )
    assert "kube_get reads a cluster, and this audit has none; run with --cluster" in answer["content"]
    assert gitops_replay.report.concerns["security"].status == "ok"


def test_the_intent_challenger_trims_what_the_estate_documents(gitops_replay: CliRun) -> None:
    report = gitops_replay.report
    truth = {
        (i["check"], i["subject"]): i["documented_at"] for i in ground_truth("gitops-base")["must_not_report"]
    }
    trimmed = [v for v in report.verdicts if v.challenger == "intent" and v.action != "CONFIRMED"]
    assert len(trimmed) == 2
    raw = {f.id: f for r in report.concerns.values() for f in r.findings}
    for verdict in trimmed:
        assert verdict.action == "CORRECTED" and verdict.documented_at is not None
        for subject in verdict.removed_subjects:
            assert truth[(raw[verdict.finding].check, subject)] == verdict.documented_at
        cited = next(e for e in report.evidence if e.id == verdict.evidence[0])
        assert (cited.tool, cited.agent) == ("repo_read", "challenge:intent")
    assert all(v.action == "CONFIRMED" for v in report.verdicts if v.challenger in ("numbers", "recount"))
