"""Rules of the agent loop that the cassettes rely on, checked with a function model and no HTTP.

* A tool the toolbox does not have (a write verb) and a path outside the estate are refused by the
  tools and recorded in the ledger as error evidence, like any call.
* An identical call made by two agents in parallel is answered from the shared ledger, but it is
  not the second agent's loop: what an agent reads must not depend on which thread ran first, or
  a recorded request would not match on replay.
* When the mechanical recount and the LLM numbers challenger both correct a number, the recount's
  measured value is the one the report keeps.
"""

from __future__ import annotations

from typing import Any

import pytest
from estates import HOMELAB, REPO
from graphs import DATE, llm_settings, results_of, run_graph
from scenarios import homelab
from scenarios.common import (
    NUMBERS_KEY,
    SCRIPTED_MODEL,
    Agent,
    Conversation,
    as_model_function,
    catalog,
    catalog_finding,
    check_evidence,
    explore,
    judged,
    researcher_key,
    submit,
)

from agents.llm.accounting import Accountant
from agents.llm.researcher import research_llm
from agents.llm.scripted import FunctionModel
from agents.llm.settings import RunBudget
from domain.findings import ConcernResult
from pipeline.cluster import open_cluster
from pipeline.context import RunContext
from tools.evidence import Ledger, evidence_id

pytestmark = pytest.mark.graph

SHARED = ("repo_count", {"pattern": "image:", "fixed": True})


def test_refused_calls_are_error_evidence_in_the_ledger() -> None:
    settings = llm_settings(estate="homelab", cluster="examples/homelab/cluster", concerns=("security",))
    ctx = RunContext(
        settings=settings, ledger=Ledger(), backend=open_cluster(settings), run_id=homelab.RUN_ID, date=DATE
    )
    ctx.model = FunctionModel(as_model_function(homelab.router()), model=SCRIPTED_MODEL)
    ctx.accountant, ctx.budget = Accountant(), RunBudget()
    result: ConcernResult = research_llm("security", ctx)
    write = ctx.ledger.get(evidence_id(*homelab.WRITE_ATTEMPT))
    escape = ctx.ledger.get(evidence_id(*homelab.ESCAPE_ATTEMPT))
    assert write is not None and escape is not None
    assert (write.tool, write.status, write.agent) == ("kubectl_delete", "error", "research:security")
    assert write.error is not None and write.error.startswith("unknown tool 'kubectl_delete'")
    assert (escape.tool, escape.status) == ("repo_read", "error")
    assert (
        escape.error == "'../../etc/passwd' uses '..' to leave the estate root; use a path inside the estate"
    )
    assert result.status == "ok" and result.note is None and len(result.findings) == 12
    assert HOMELAB == REPO / homelab.ESTATE  # the scenario audits the bundled estate


def test_another_agents_identical_call_is_not_this_agents_loop() -> None:
    def same_call(name: str) -> Agent:
        return Agent(
            name,
            [
                explore("Counting images.", SHARED),
                submit(
                    "submit_findings",
                    lambda c: {"findings": [catalog_finding(r) for r in catalog(c.system).values()]},
                ),
            ],
        )

    run = run_graph(
        {researcher_key(c): same_call(c) for c in ("reliability", "maintenance")},
        concerns=("reliability", "maintenance"),
    )
    answers = [
        results_of(run.requests(f"research:{c}")[1])[0].content for c in ("reliability", "maintenance")
    ]
    assert answers[0] == answers[1]  # the same evidence, whichever thread asked first
    assert answers[0].startswith(f"evidence {evidence_id(*SHARED)} | repo_count | status ok | value ")
    assert "you already ran this exact call" not in answers[0]


def test_the_recounts_correction_wins_over_a_different_llm_correction() -> None:
    """The researcher over-counts; the recount measures 2, the LLM numbers challenger 'measures' more.

    BUG (agents/offline/synthesize.py, ``apply_verdicts``): verdicts are applied recount, numbers,
    intent, and each CORRECTED sets the number, so the LLM's correction overrides the recount's.
    """
    every_latest = ("repo_count", {"pattern": "latest", "fixed": True})

    def overcount(convo: Conversation) -> dict[str, Any]:
        rows = catalog(convo.system)
        latest = rows["MNT-IMAGE-LATEST"]
        wrong = {"claims": [{"text": "5 containers use :latest", "value": 5, "evidence": [latest.evidence]}]}
        return {"findings": [catalog_finding(r, **(wrong if r is latest else {})) for r in rows.values()]}

    def numbers(convo: Conversation) -> dict[str, Any]:
        counted = convo.call(*every_latest)
        verdicts = []
        for finding in judged(convo.system):
            if finding.check == "MNT-IMAGE-LATEST":
                verdicts.append(
                    {
                        "finding": finding.id,
                        "action": "CORRECTED",
                        "reason": "Counted every 'latest' in the estate.",
                        "evidence": [counted.evidence],
                        "measured_value": counted.value,
                    }
                )
            else:
                verdicts.append({"finding": finding.id, "action": "CONFIRMED", "reason": "Stands."})
        return {"verdicts": verdicts}

    run = run_graph(
        {
            researcher_key("maintenance"): Agent("over-counter", [submit("submit_findings", overcount)]),
            NUMBERS_KEY: Agent(
                "numbers", [explore("Counting.", every_latest), submit("submit_verdicts", numbers)]
            ),
        }
    )
    report = run.state.report
    assert report is not None
    by_stance = {v.challenger: v for v in report.verdicts if v.finding == "R3#1"}
    recount, llm = by_stance["recount"], by_stance["numbers"]
    assert (recount.action, recount.measured_value) == ("CORRECTED", 2)
    assert llm.action == "CORRECTED" and llm.measured_value not in (None, 2, 5)  # backed by its own count
    final = next(f for f in report.findings if "MNT-IMAGE-LATEST" in f.checks)
    headline = next(c for c in final.claims if c.evidence[0] == check_evidence("MNT-IMAGE-LATEST"))
    assert headline.value == recount.measured_value, (
        f"final {headline.value:g}: the LLM's {llm.measured_value:g} overrode the recount's 2"
    )
