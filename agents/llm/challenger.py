"""An LLM challenger, with one of two stances: 'numbers' (distrust numbers and facts) or 'intent'
(distrust intent and scope). It re-runs or refines evidence, reads the estate's docs, and submits one
verdict per finding through ``submit_verdicts``, plus gaps and alternative framings.

Whatever the model says, the mechanical recount (``agents/offline/challenge_numbers``) also runs in
LLM mode (verdicts of stance ``recount``), so a number that does not reproduce cannot survive.

A finding no verdict covers stays: a submission missing verdicts is rejected once (the model can
add them); sent again still missing some, it is accepted and each finding it left out gets a
CONFIRMED of this stance whose reason says it was not judged, and a gap line names them. A
challenger that ends with no accepted submission (rejections, budget, turns, no submission) falls
back to its stance's deterministic outcome (for numbers, the recount that already ran beside it),
and a gap line says it fell back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.challenge import ChallengeOutcome
from agents.context import AgentContext
from agents.llm.loop import Submission, run_role
from agents.offline.decision_match import off_topic
from agents.stances import STANCES, StanceSpec
from domain.findings import ConcernResult, RawFinding, Verdict, VerdictDraft
from tools.checks.spec import load_topics, spec_by_id

REFS_SHOWN = 10


class VerdictsSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdicts: list[VerdictDraft] = Field(description="Exactly one verdict per finding you were given.")
    gaps: list[str] = Field(default_factory=list, description="What the researchers missed, one line each.")
    framings: list[str] = Field(default_factory=list, description="Alternative framings worth keeping.")


def stance_variables(stance: StanceSpec, stances: Mapping[str, StanceSpec] = STANCES) -> dict[str, Any]:
    """What the challenger prompt says of its stance, and of the others it works beside."""
    return {
        "stance": {"name": stance.name, "role": stance.role, "distrust": stance.distrust},
        "others": [s.known_as for s in stances.values() if s.name != stance.name],
        "stance_partial": stance.partial,
    }


def make_check(
    stance: StanceSpec,
    ids: set[str],
    cited: Callable[[str, str], str | None] | None = None,
) -> Callable[[VerdictsSubmission, set[str]], list[str]]:
    """The submission's checks. Missing verdicts reject it once; after that they are not a problem
    (the findings left out stand as CONFIRMED, see ``unjudged``). ``cited(finding, documented_at)``
    says why a cited doc line cannot hold a decision on the finding's topic (``off_topic``)."""
    told: list[bool] = []

    def check(payload: VerdictsSubmission, seen: set[str]) -> list[str]:
        problems = []
        given = [v.finding for v in payload.verdicts]
        unknown = sorted(set(given) - ids)
        missing = sorted(ids - set(given))
        twice = sorted({f for f in given if given.count(f) > 1})
        if unknown:
            problems.append(f"no such finding: {', '.join(unknown)}")
        if missing and not told:
            told.append(True)
            problems.append(
                f"no verdict for: {', '.join(missing)} (CONFIRMED when it stands; a finding you leave "
                "out stands as CONFIRMED)"
            )
        if twice:
            problems.append(f"more than one verdict for: {', '.join(twice)}")
        for v in payload.verdicts:
            bad = [e for e in v.evidence if e not in seen]
            if bad:
                problems.append(
                    f"{v.finding}: evidence {', '.join(bad)} is not in the ledger; cite ids you have seen"
                )
            if v.action == "CORRECTED" and (v.measured_value is None or not v.evidence):
                problems.append(
                    f"{v.finding}: CORRECTED needs measured_value and the evidence that measured it"
                )
            if v.action == "REFRAMED" and not v.framing:
                problems.append(f"{v.finding}: REFRAMED needs the new framing")
            if v.action == "DROPPED" and not (v.evidence or v.documented_at):
                problems.append(f"{v.finding}: DROPPED needs evidence or documented_at (path:line)")
            if (
                stance.cites_documents
                and v.action in ("DROPPED", "REFRAMED")
                and not v.documented_at
                and not v.evidence
            ):
                problems.append(f"{v.finding}: say where the decision is written (documented_at path:line)")
            takes_out = v.action in ("DROPPED", "REFRAMED") or bool(v.removed_subjects)
            why = cited(v.finding, v.documented_at) if cited and v.documented_at and takes_out else None
            if why:
                problems.append(
                    f"{v.finding}: documented_at {why}, the topic of this finding; cite the line that "
                    "states the decision on it, or keep the finding"
                )
        return problems

    return check


def challenge_llm(
    stance: StanceSpec,
    findings: list[RawFinding],
    results: Mapping[str, ConcernResult],
    ctx: AgentContext,
    stances: Mapping[str, StanceSpec] = STANCES,
) -> ChallengeOutcome:
    budget = ctx.llm()[2]
    evidence = {ev.id: ev for r in results.values() for ev in r.evidence}
    toolbox = ctx.toolbox()
    cited = sorted({e for f in findings for c in f.claims for e in c.evidence})
    variables = {
        **stance_variables(stance, stances),
        "date": ctx.date,
        "run_id": ctx.run_id,
        "estate": ctx.estate_summary(ctx.inventory()),
        "findings": [
            {
                "id": f.id,
                "concern": f.concern,
                "check": f.check,
                "title": f.title,
                "claims": [c.model_dump(include={"text", "value", "evidence"}) for c in f.claims],
                "refs": f.refs[:REFS_SHOWN],
            }
            for f in findings
        ],
        "evidence": [
            {"id": e, "tool": evidence[e].tool, "command": evidence[e].command, "value": evidence[e].value}
            for e in cited
            if e in evidence
        ],
        "tools": [{"name": s.name, "summary": s.summary} for s in toolbox.specs],
        "max_tool_calls": budget.max_tool_calls_per_agent,
    }
    ids = {f.id for f in findings}
    run = run_role(
        ctx,
        role="challenge",
        who=stance.name,
        template="challenger.md.j2",
        variables=variables,
        prompt=f"Challenge these {len(findings)} findings. One verdict each.",
        submission=Submission(
            name="submit_verdicts",
            description="Submit one verdict per finding, plus gaps and alternative framings, once.",
            schema=VerdictsSubmission,
            check=make_check(stance, ids, _citations(findings, ctx)),
        ),
        toolbox=toolbox,
        seen=set(evidence),
    )
    if run.payload is None:
        return fall_back(stance, run.stopped, findings, results, ctx)
    verdicts = [Verdict(challenger=stance.name, **v.model_dump()) for v in run.payload.verdicts]
    left_out = unjudged(stance, findings, verdicts)
    own = sorted({e for v in verdicts for e in v.evidence if e not in evidence})
    gaps = list(run.payload.gaps)
    if left_out:
        gaps.append(
            f"The {stance.name} challenger gave no verdict for {', '.join(v.finding for v in left_out)}; "
            "they stand as CONFIRMED, not judged."
        )
    return ChallengeOutcome(
        verdicts=[*verdicts, *left_out],
        evidence=[ev for e in own if (ev := ctx.ledger.get(e)) is not None],
        gaps=gaps,
        framings=list(run.payload.framings),
    )


def _citations(findings: list[RawFinding], ctx: AgentContext) -> Callable[[str, str], str | None]:
    """``cited(finding, where)``: why ``where`` cannot hold a decision on that finding's topic, or None."""
    checks = {f.id: f.check for f in findings}
    jail = ctx.toolbox().jail
    table = load_topics()

    def cited(finding: str, where: str) -> str | None:
        check = checks.get(finding)
        topics = [table[t] for t in spec_by_id(check).topics] if check else []
        return off_topic(jail, where, topics)

    return cited


def unjudged(stance: StanceSpec, findings: list[RawFinding], verdicts: list[Verdict]) -> list[Verdict]:
    """A CONFIRMED of this stance for every finding no verdict covers, saying it was not judged."""
    judged = {v.finding for v in verdicts}
    return [
        Verdict(
            finding=f.id,
            challenger=stance.name,
            action="CONFIRMED",
            reason=f"Not judged: the {stance.name} challenger gave no verdict; the finding stands.",
        )
        for f in findings
        if f.id not in judged
    ]


def fall_back(
    stance: StanceSpec,
    stopped: str,
    findings: list[RawFinding],
    results: Mapping[str, ConcernResult],
    ctx: AgentContext,
) -> ChallengeOutcome:
    """No accepted submission: the stance's deterministic outcome, and a gap that says so."""
    if stance.beside_model is not None:
        # the offline function already ran beside the model (relabelled); it is the fallback
        outcome = ChallengeOutcome()
        what = f"its deterministic {stance.beside_model} verdicts stand"
    else:
        outcome = stance.offline(findings, results, ctx)
        what = f"its verdicts are the deterministic {stance.name} challenger's"
    outcome.gaps.insert(0, f"The {stance.name} challenger did not submit ({stopped}); fell back: {what}.")
    return outcome
