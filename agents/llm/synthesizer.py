"""The LLM synthesizer: writes the prose of the report over a backlog Python already computed.

The ranked table, the scores, the leaders and the appendix stay computed in Python (offline
synthesis runs first). The model writes themes, per-concern deep-dive prose, dangerous-to-execute
rollout notes, gaps and next moves, through ``submit_synthesis``. Finding ids are checked, a theme
must hit at least two concerns (computed here from the findings, not taken from the model), and
nothing the model writes changes a number.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from agents.context import AgentContext
from agents.llm.loop import Submission, run_role
from domain.concerns import CONCERN_CODES, CONCERNS, Concern
from domain.findings import NextMove, Theme, When
from domain.report import AuditReport


class ThemeDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str
    summary: str = Field(description="One or two sentences: the hook, grounded in the findings.")
    findings: list[str] = Field(min_length=1, description="Finding ids (F01...) in this theme.")


class DangerNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    finding: str
    rollout: str = Field(description="Why a naive fix is dangerous and the staged rollout that is safe.")


class MoveDraft(BaseModel):
    model_config = ConfigDict(extra="forbid")

    when: When
    finding: str
    text: str


class SynthesisSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    themes: list[ThemeDraft] = Field(description="Cross-cutting themes, each hitting at least two concerns.")
    deep_dives: dict[Concern, str] = Field(
        description="A paragraph per concern, from the given findings only."
    )
    dangerous: list[DangerNote] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)
    next_moves: list[MoveDraft] = Field(description="Week 1, Week 2, Month 2, Month 3+ moves, by finding id.")


def make_check(report: AuditReport) -> Callable[[SynthesisSubmission, set[str]], list[str]]:
    concerns = {f.id: set(f.concerns) for f in report.findings}

    def check(payload: SynthesisSubmission, seen: set[str]) -> list[str]:
        problems = []
        for theme in payload.themes:
            unknown = [f for f in theme.findings if f not in concerns]
            if unknown:
                problems.append(f"theme '{theme.title}': no finding {', '.join(unknown)}")
            hit = set().union(*(concerns.get(f, set()) for f in theme.findings))
            if len(hit) < 2:
                problems.append(
                    f"theme '{theme.title}' hits {len(hit)} concern(s); a theme must hit at least two"
                )
        for finding in [*(d.finding for d in payload.dangerous), *(m.finding for m in payload.next_moves)]:
            if finding not in concerns:
                problems.append(f"no finding {finding}")
        return problems

    return check


def synthesize_llm(report: AuditReport, ctx: AgentContext) -> AuditReport:

    variables = {
        "date": ctx.date,
        "run_id": ctx.run_id,
        "estate": ctx.estate_summary(ctx.inventory()),
        "findings": [
            {
                "id": f.id,
                "title": f.title,
                "concerns": [CONCERN_CODES[c] for c in f.concerns],
                "impact": f.impact,
                "effort": f.effort,
                "risk": f.risk,
                "rank_a": f.rank_a,
                "rank_b": f.rank_b,
                "status": f.status,
                "summary": f.summary,
                "refs": f.refs[:5],
            }
            for f in report.findings
        ],
        "corrections": [
            c.model_dump(include={"finding", "stated", "actual", "action"}) for c in report.corrections
        ],
        "gaps": report.gaps,
        "framings": report.framings,
        "leaders_a": report.leaders_a,
        "leaders_b": report.leaders_b,
        "dangerous": [{"id": f.id, "note": f.dangerous} for f in report.findings if f.dangerous],
    }
    run = run_role(
        ctx,
        role="synthesize",
        who=None,
        template="synthesizer.md.j2",
        variables=variables,
        prompt="Write the themes, the deep dives, the rollout notes, the gaps and the next moves.",
        submission=Submission(
            name="submit_synthesis",
            description="Submit the prose of the report, once.",
            schema=SynthesisSubmission,
            check=make_check(report),
        ),
        explore=False,
    )
    if run.payload is None:
        return report.model_copy(
            update={
                "gaps": [*report.gaps, f"The synthesizer did not submit ({run.stopped}); prose is offline."]
            }
        )
    payload = run.payload
    by_id = {f.id: f for f in report.findings}
    rollout = {d.finding: d.rollout for d in payload.dangerous}
    themes = [
        Theme(
            title=t.title,
            summary=t.summary,
            concerns=sorted({c for f in t.findings for c in by_id[f].concerns}, key=CONCERNS.index),
            findings=t.findings,
        )
        for t in payload.themes
    ]
    return report.model_copy(
        update={
            "themes": themes,
            "narratives": {c: payload.deep_dives[c] for c in CONCERNS if c in payload.deep_dives},
            "findings": [
                f.model_copy(update={"dangerous": rollout[f.id]}) if f.id in rollout else f
                for f in report.findings
            ],
            "gaps": [*report.gaps, *payload.gaps],
            "next_moves": [NextMove(when=m.when, finding=m.finding, text=m.text) for m in payload.next_moves],
        }
    )
