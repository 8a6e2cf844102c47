"""The LLM researcher of one concern: starts from the catalog's results, explores, submits findings.

The deterministic checks of the concern run first (their results are evidence the model may cite);
then the model explores with the read-only tools and submits through ``submit_findings``, whose
schema is ``FindingDraft``. Every claim must cite evidence the agent has seen: the catalog's or its
own tool calls'. If the model never submits, the concern falls back to the deterministic findings,
and the result says so.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agents.findings import Claim, ConcernResult, RawFinding
from agents.llm.accounting import usage_line
from agents.llm.loop import Submission, run_agent
from agents.llm.prompts import render
from agents.offline.research import cited_evidence, finding_from_outcome, format_title, incomplete_note
from pipeline.context import RunContext
from tools.checks.runner import CheckOutcome, run_checks
from tools.checks.spec import CONCERN_CODES, Concern, Location, load_catalog, spec_by_id

SAMPLE = 8


class FindingDraft(BaseModel):
    """One finding, as the researcher submits it."""

    model_config = ConfigDict(extra="forbid")

    check: str | None = Field(
        default=None, description="The catalog check id this finding comes from, or null."
    )
    title: str = Field(
        description="One-line headline with the key number, e.g. '12 of 29 workloads have no probe'."
    )
    summary: str = Field(description="Why it matters in this estate, two or three sentences.")
    recommendation: str = Field(description="What to do, concretely.")
    impact: int = Field(ge=1, le=5, description="1 cosmetic .. 5 outage or breach.")
    effort: int = Field(ge=1, le=5, description="1 an hour .. 5 weeks.")
    risk: int = Field(ge=1, le=5, description="Risk of the fix itself: 1 safe .. 5 can break production.")
    fatigue: bool = Field(description="True when the unfixed state causes daily or weekly manual toil.")
    claims: list[Claim] = Field(min_length=1, description="The first claim is the headline number.")
    total: int | None = Field(default=None, description="What the headline number is out of, if anything.")
    locations: list[Location] = Field(
        default_factory=list, description="Every affected place (path:line or live ref)."
    )
    extra_concerns: list[Concern] = Field(
        default_factory=list, description="Other concerns this finding hits."
    )


class FindingsSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    findings: list[FindingDraft] = Field(description="Every finding of this concern, most important first.")


def check_submission(payload: FindingsSubmission, seen: set[str]) -> list[str]:
    """Claims cite evidence the agent has seen; check ids exist. Messages say what to do."""
    known = {s.id for s in load_catalog()}
    problems = []
    for i, finding in enumerate(payload.findings, start=1):
        if finding.check is not None and finding.check not in known:
            problems.append(
                f"finding {i}: check {finding.check!r} is not in the catalog; use null for a new finding"
            )
        for claim in finding.claims:
            for eid in claim.evidence:
                if eid not in seen:
                    problems.append(
                        f"finding {i}, claim '{claim.text[:80]}': evidence {eid} is not one of your tool "
                        "calls or "
                        "the catalog's results; run a tool that shows it and cite that evidence id"
                    )
    return problems


def _check_rows(outcomes: list[CheckOutcome]) -> tuple[list[dict[str, object]], list[str]]:
    rows: list[dict[str, object]] = []
    skipped: list[str] = []
    for outcome in outcomes:
        det = outcome.detection
        if not det.applicable:
            skipped.append(f"{outcome.check}: {det.note or 'nothing to read'}")
            continue
        spec = spec_by_id(outcome.check)
        rows.append(
            {
                "id": outcome.check,
                "title": format_title(spec, det.count, det.total, det.measures),
                "count": det.count,
                "total": det.total,
                "evidence": outcome.evidence,
                "command": "",
                "sample": [f"{loc.ref}  {loc.subject}" for loc in det.locations[:SAMPLE]],
            }
        )
    return rows, skipped


def research_llm(concern: Concern, ctx: RunContext) -> ConcernResult:
    model, accountant, budget = ctx.llm()
    check_ctx = ctx.check_context()
    outcomes = run_checks(check_ctx, concern)
    rows, skipped = _check_rows(outcomes)
    for row in rows:
        evidence = ctx.ledger.get(str(row["evidence"]))
        row["command"] = evidence.command if evidence else ""
    toolbox = check_ctx.toolbox
    inventory = ctx.inventory()
    variables = {
        "concern": concern,
        "concern_code": CONCERN_CODES[concern],
        "date": ctx.date,
        "run_id": ctx.run_id,
        "estate": ctx.estate_summary(inventory),
        "checks": rows,
        "skipped": skipped,
        "tools": [{"name": s.name, "summary": s.summary} for s in toolbox.specs],
        "max_tool_calls": budget.max_tool_calls_per_agent,
    }
    agent = f"research:{concern}"
    run = run_agent(
        agent=agent,
        client=model,
        system=render("researcher.md.j2", **variables),
        prompt=f"Audit the {concern} concern of this estate. Start from the catalog results above.",
        toolbox=toolbox,
        tools=toolbox.specs,
        submission=Submission(
            name="submit_findings",
            description="Submit every finding of this concern, once. Claims cite evidence ids you have seen.",
            schema=FindingsSubmission,
            check=check_submission,
        ),
        accountant=accountant,
        budget=budget,
        seen={o.evidence for o in outcomes},
        on_turn=lambda run: ctx.progress(
            "research", concern, f"turn {run.turns}: {usage_line(accountant, agent)}"
        ),
    )
    code = CONCERN_CODES[concern]
    if run.payload is None:
        positives = [o for o in outcomes if o.detection.applicable and o.detection.count > 0]
        findings = [finding_from_outcome(concern, i, o) for i, o in enumerate(positives, start=1)]
        note = (
            f"the {concern} researcher did not submit ({run.stopped}); findings are the deterministic checks"
        )
    else:
        findings = [
            RawFinding(id=f"{code}#{i}", concern=concern, **draft.model_dump())
            for i, draft in enumerate(run.payload.findings, start=1)
        ]
        note = None
    return ConcernResult(
        concern=concern,
        status="ok",
        findings=findings,
        evidence=cited_evidence(findings, ctx.ledger),
        checks_run=len(outcomes),
        skipped={
            o.check: o.detection.note or "nothing to read" for o in outcomes if not o.detection.applicable
        },
        note="; ".join(n for n in (note, incomplete_note(outcomes)) if n) or None,
    )
