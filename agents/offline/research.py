"""Offline research: run a concern's checks and turn every positive result into a finding.

A finding's claims cite the check's evidence (and any tool calls the detection made), so the
challengers can re-run them. Checks that found nothing, or had nothing to read, produce no finding;
the latter are reported as gaps by the synthesizer.
"""

from __future__ import annotations

from string import Formatter
from typing import Any

from domain.concerns import CONCERN_CODES, Concern
from domain.evidence import Evidence
from domain.findings import Claim, ConcernResult, RawFinding
from tools.checks.runner import CheckOutcome, run_checks
from tools.checks.spec import CheckContext, CheckSpec, jq_weight, spec_by_id
from tools.evidence import Ledger


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


class _TitleFormatter(Formatter):
    """``{count:is|are}`` picks the singular form when the value is 1, the plural otherwise."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            singular, plural = format_spec.split("|", 1)
            return singular if str(value) == "1" else plural
        return str(super().format_field(value, format_spec))


def format_title(spec: CheckSpec, count: int, total: int | None, measures: dict[str, float]) -> str:
    values = _Defaulting({k: f"{v:g}" for k, v in measures.items()})
    values.update(count=count, total="?" if total is None else total)
    return _TitleFormatter().vformat(spec.title, (), values)


def finding_from_outcome(concern: Concern, seq: int, outcome: CheckOutcome) -> RawFinding:
    spec = spec_by_id(outcome.check)
    det = outcome.detection
    title = format_title(spec, det.count, det.total, det.measures)
    cited = [outcome.evidence, *det.evidence]
    claims = [Claim(text=title, value=float(det.count), evidence=cited)]
    for name, value in sorted(det.measures.items()):
        claims.append(
            Claim(
                text=f"{name.replace('_', ' ')}: {value:g}",
                value=value,
                evidence=[outcome.evidence],
                measure=name,
            )
        )
    return RawFinding(
        id=f"{CONCERN_CODES[concern]}#{seq}",
        concern=concern,
        check=spec.id,
        title=title,
        summary=spec.rationale,
        recommendation=spec.recommendation,
        impact=spec.impact,
        effort=spec.effort,
        risk=spec.risk,
        fatigue=spec.fatigue,
        claims=claims,
        total=det.total,
        locations=list(det.locations),
        extra_concerns=list(spec.concerns[1:]),
    )


def cited_evidence(findings: list[RawFinding], ledger: Ledger) -> list[Evidence]:
    ids = sorted({eid for f in findings for c in f.claims for eid in c.evidence})
    return [ev for eid in ids if (ev := ledger.get(eid)) is not None]


def _positive(outcome: CheckOutcome) -> bool:
    return outcome.detection.applicable and outcome.detection.count > 0


def research_offline(concern: Concern, ctx: CheckContext) -> ConcernResult:
    """The concern's checks, and a finding for each that counted something. ``ctx.counted`` is given
    the evidence of each such check as it ends; with a cluster, the checks a jq filter recounts then
    run first, the heaviest filters first (``jq_weight``), so that the recount's jq engine has them
    while the rest run (the findings keep the catalog's order)."""
    counted = ctx.counted

    def hand_on(outcome: CheckOutcome) -> None:
        if counted is not None and _positive(outcome):
            evidence = ctx.toolbox.ledger.get(outcome.evidence)
            if evidence is not None:
                counted(evidence)

    with_cluster = counted is not None and ctx.inventory.live is not None
    outcomes = run_checks(ctx, concern, then=hand_on, weight=jq_weight if with_cluster else None)
    positives = [o for o in outcomes if _positive(o)]
    findings = [finding_from_outcome(concern, i, o) for i, o in enumerate(positives, start=1)]
    return ConcernResult(
        concern=concern,
        status="ok",
        findings=findings,
        evidence=cited_evidence(findings, ctx.toolbox.ledger),
        checks_run=len(outcomes),
        skipped={
            o.check: o.detection.note or "nothing to read" for o in outcomes if not o.detection.applicable
        },
    )
