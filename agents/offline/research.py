"""Offline research: run a concern's checks and turn every positive result into a finding.

A finding's claims cite the check's evidence (and any tool calls the detection made), so the
challengers can re-run them. Checks that found nothing, or had nothing to read, produce no finding;
the latter are reported as gaps by the synthesizer. A check that read a population the audit lost in
part (``Detection.incomplete``) says so: its finding's summary starts with it, and the concern's
note (a gap in the report) names every such check, including those that counted 0.
"""

from __future__ import annotations

from string import Formatter
from typing import Any

from agents.findings import Claim, ConcernResult, RawFinding
from tools.checks.runner import CheckOutcome, run_checks
from tools.checks.spec import CONCERN_CODES, CheckContext, CheckSpec, Concern, spec_by_id
from tools.evidence import Evidence, Ledger


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
    summary = spec.rationale
    if det.incomplete:
        summary = f"Counted over an incomplete population ({det.incomplete}). {summary}"
    return RawFinding(
        id=f"{CONCERN_CODES[concern]}#{seq}",
        concern=concern,
        check=spec.id,
        title=title,
        summary=summary,
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


def research_offline(concern: Concern, ctx: CheckContext) -> ConcernResult:
    outcomes = run_checks(ctx, concern)
    positives = [o for o in outcomes if o.detection.applicable and o.detection.count > 0]
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
        note=incomplete_note(outcomes),
    )


def incomplete_note(outcomes: list[CheckOutcome]) -> str | None:
    """One sentence per lost population: which checks read it, so a 0 from them is not taken as clean."""
    by_why: dict[str, list[str]] = {}
    for o in outcomes:
        if o.detection.applicable and o.detection.incomplete:
            by_why.setdefault(o.detection.incomplete, []).append(o.check)
    if not by_why:
        return None
    return "; ".join(
        f"{', '.join(checks)} counted over an incomplete population ({why}), so a count of 0 there "
        "is not a clean result"
        for why, checks in sorted(by_why.items())
    )
