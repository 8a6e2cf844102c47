"""The LLM researcher of one concern: starts from the catalog's results, explores, submits findings.

The deterministic checks of the concern run first (their results are evidence the model may cite);
then the model explores with the read-only tools and submits through ``submit_findings``, whose
schema is ``FindingDraft``. Every claim must cite evidence the agent has seen: the catalog's or its
own tool calls'. If the model never submits, the concern falls back to the deterministic findings,
and the result says so.

The catalog is a floor: every positive catalog result stays a finding. A submitted finding refines
a result when its ``check`` is that check or a claim cites the result's evidence (a merge); a
result no submitted finding refines is added back as its deterministic finding (ids continue the
sequence), and the result's note names what was restored. A model may refine, split or merge the
catalog's results, never omit one; only a challenger's verdict with evidence drops a finding.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from agents.context import AgentContext
from agents.llm.loop import Submission, run_role
from agents.offline.research import cited_evidence, finding_from_outcome, format_title
from domain.concerns import CONCERN_CODES, Concern
from domain.findings import ConcernResult, FindingDraft, RawFinding
from tools.checks.runner import CheckOutcome, run_checks
from tools.checks.spec import load_catalog, spec_by_id

SAMPLE = 8


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


def keep_floor(
    concern: Concern, findings: list[RawFinding], positives: list[CheckOutcome]
) -> tuple[list[RawFinding], list[str]]:
    """The submitted findings plus the deterministic finding of every positive result none refines."""
    checks = {f.check for f in findings}
    cited = {e for f in findings for c in f.claims for e in c.evidence}
    missing = [o for o in positives if o.check not in checks and o.evidence not in cited]
    start = len(findings) + 1
    restored = [finding_from_outcome(concern, seq, o) for seq, o in enumerate(missing, start=start)]
    return [*findings, *restored], [o.check for o in missing]


def research_llm(concern: Concern, ctx: AgentContext) -> ConcernResult:
    budget = ctx.llm()[2]
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
    run = run_role(
        ctx,
        role="research",
        who=concern,
        template="researcher.md.j2",
        variables=variables,
        prompt=f"Audit the {concern} concern of this estate. Start from the catalog results above.",
        submission=Submission(
            name="submit_findings",
            description="Submit every finding of this concern, once. Claims cite evidence ids you have seen.",
            schema=FindingsSubmission,
            check=check_submission,
        ),
        toolbox=toolbox,
        seen={o.evidence for o in outcomes},
    )
    code = CONCERN_CODES[concern]
    positives = [o for o in outcomes if o.detection.applicable and o.detection.count > 0]
    note: str | None
    if run.payload is None:
        findings = [finding_from_outcome(concern, i, o) for i, o in enumerate(positives, start=1)]
        note = (
            f"the {concern} researcher did not submit ({run.stopped}); findings are the deterministic checks"
        )
    else:
        submitted = [
            RawFinding(id=f"{code}#{i}", concern=concern, **draft.model_dump())
            for i, draft in enumerate(run.payload.findings, start=1)
        ]
        findings, restored = keep_floor(concern, submitted, positives)
        note = (
            f"the {concern} researcher's submission left out {', '.join(restored)}; restored from the "
            "deterministic checks"
            if restored
            else None
        )
    return ConcernResult(
        concern=concern,
        status="ok",
        findings=findings,
        evidence=cited_evidence(findings, ctx.ledger),
        checks_run=len(outcomes),
        skipped={
            o.check: o.detection.note or "nothing to read" for o in outcomes if not o.detection.applicable
        },
        note=note,
    )
