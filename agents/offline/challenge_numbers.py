"""The numbers challenger: re-execute every piece of evidence a claim cites and recount.

It trusts nothing from the research phase's reasoning: the estate's code is parsed again from disk
into a fresh inventory, checks run again on it, and tool calls run again through a fresh ledger (so
nothing is answered from the research cache). The cluster is the one reading of this run (loaded
once, issue 13): the fresh inventory links the new parse to the run's ``LiveState`` instead of
reading the cluster again, which at 10,000 pods cost as much as the first load and could see a
cluster that had moved on since. A claim whose value does not reproduce cannot survive: the
finding is CORRECTED with the measured value and the new evidence. Re-run evidence gets the
original id with a ``.r`` suffix, so the appendix shows both.
"""

from __future__ import annotations

from collections.abc import Mapping

from agents.context import AgentContext
from domain.concerns import agent_label
from domain.evidence import Evidence
from domain.findings import ConcernResult, RawFinding, Verdict
from domain.results import ToolResult, ToolStatus
from tools.checks.runner import check_result
from tools.checks.spec import CheckContext, spec_by_id
from tools.evidence import Ledger
from tools.inventory.build import build_inventory

STANCE = "numbers"
AGENT = agent_label("challenge", "numbers")


def recount_id(eid: str) -> str:
    return f"{eid}.r"


class Recounter:
    """Re-executes evidence against a fresh parse of the estate (and the run's cluster state); each
    piece at most once."""

    def __init__(self, ctx: AgentContext) -> None:
        self.ctx = ctx
        self.ledger = Ledger(ctx.output_cap)
        self._check_ctx: CheckContext | None = None

    def check_context(self) -> CheckContext:
        if self._check_ctx is None:
            live = self.ctx.inventory().live if self.ctx.backend is not None else None
            fresh = build_inventory(
                self.ctx.estate, cluster=self.ctx.backend, live=live, charts=self.ctx.chart_options
            )
            self._check_ctx = self.ctx.check_context(inventory=fresh, ledger=self.ledger)
        return self._check_ctx

    def rerun(self, original: Evidence) -> Evidence:
        rid = recount_id(original.id)
        known = self.ledger.get(rid)
        if known is not None:
            return known
        if original.tool == "check":
            result, _ = check_result(spec_by_id(str(original.args["id"])), self.check_context())
        else:
            evidence = self.check_context().toolbox.call(original.tool, dict(original.args), agent=AGENT)
            result = ToolResult(
                tool=evidence.tool,
                args=evidence.args,
                status=evidence.status,
                command=evidence.command,
                output=evidence.output,
                value=evidence.value,
                measures=evidence.measures,
                error=evidence.error,
                truncated=evidence.truncated,
            )
        return self.ledger.record(result, agent=AGENT, eid=rid)


def measured(evidence: Evidence, measure: str | None) -> float | None:
    return evidence.value if measure is None else evidence.measures.get(measure)


def challenge_numbers(
    findings: list[RawFinding], results: Mapping[str, ConcernResult], ctx: AgentContext
) -> tuple[list[Verdict], list[Evidence]]:
    index = {ev.id: ev for r in results.values() for ev in r.evidence}
    recounter = Recounter(ctx)
    verdicts: list[Verdict] = []
    for finding in findings:
        ctx.progress("challenge", STANCE, finding.id, detail=True)
        checked: list[str] = []
        wrong: list[tuple[str, float | None, float | None, str]] = []
        missing: list[str] = []
        for claim in finding.claims:
            if claim.value is None:
                continue
            original = index.get(claim.evidence[0])
            if original is None:
                missing.append(claim.evidence[0])
                continue
            again = recounter.rerun(original)
            checked.append(again.id)
            value = measured(again, claim.measure)
            if again.status == ToolStatus.ERROR or value != claim.value:
                wrong.append((claim.text, claim.value, value, again.id))
        verdicts.append(_verdict(finding, checked, wrong, missing))
    return verdicts, recounter.ledger.items()


def _verdict(
    finding: RawFinding,
    checked: list[str],
    wrong: list[tuple[str, float | None, float | None, str]],
    missing: list[str],
) -> Verdict:
    if wrong:
        actual = wrong[0][2]
        details = "; ".join(f"'{t}' stated {_n(s)}, re-run gives {_n(a)}" for t, s, a, _ in wrong)
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="CORRECTED",
            reason=f"Recount: {details}.",
            evidence=checked,
            measured_value=actual,
        )
    if missing and not checked:
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="DROPPED",
            reason=f"No claim can be reproduced: evidence {', '.join(missing)} is not in the ledger.",
        )
    reason = f"Re-ran {len(checked)} piece(s) of evidence against a fresh parse; every number reproduces."
    if not checked:
        reason = "No numeric claim to recount."
    return Verdict(finding=finding.id, challenger=STANCE, action="CONFIRMED", reason=reason, evidence=checked)


def _n(value: float | None) -> str:
    return "nothing" if value is None else f"{value:g}"
