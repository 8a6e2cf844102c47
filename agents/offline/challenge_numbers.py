"""The numbers challenger: recount every number a claim cites through an independent command.

It does not re-run our own parser, which could not catch our own parser's mistakes: a check's number
is recounted by the standard-tool command its catalog row declares (``reproduce:``; rg at the estate
root, jq over the cluster's objects, ``python3 -c``), run through the sandbox with an argv list
(``tools/checks/reproduce_run.py``). Any other tool call a claim cites (an LLM's ``repo.count``,
``kube.get``) is already a standard-tool command and is re-executed through a fresh ledger.

A claim whose command prints another number is CORRECTED with the measured value, and the verdict
shows both commands. A check whose own count and command disagree is also a gap: one of the two is
wrong, and a deterministic disagreement is a bug to fix, not a judgement. A number no command
reproduces exactly (structural HCL counts) is *listed*: its ``path:line`` refs, not recomputed.
Recount evidence gets the original id with a ``.r`` suffix, so the appendix shows both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from agents.context import AgentContext
from agents.offline.recounter import (
    AGENT,
    INDEPENDENT,
    LISTED,
    Recounter,
    _n,
    claimed,
    cluster_facts,
    live_refs,
    recount_id,
)
from agents.offline.render_facts import rendered_releases, rendered_rules
from domain.evidence import Evidence
from domain.findings import Claim, ConcernResult, RawFinding, Verdict
from domain.results import ToolStatus
from tools.checks.reproduce import MAIN

STANCE = "numbers"

__all__ = [
    "AGENT",
    "INDEPENDENT",
    "LISTED",
    "challenge_numbers",
    "cluster_facts",
    "command_for",
    "key_of",
    "live_refs",
    "recomputed",
    "recount_id",
    "rendered_releases",
    "rendered_rules",
]


def key_of(claim: Claim) -> str:
    return claim.measure or MAIN


def measured(evidence: Evidence, measure: str | None) -> float | None:
    return evidence.value if measure is None else evidence.measures.get(measure)


def recomputed(evidence: Evidence, claim: Claim) -> bool:
    """Whether the recount has a command for this claim's number (else the claim is listed)."""
    if evidence.tool == LISTED:
        return False
    if evidence.tool == INDEPENDENT:
        return key_of(claim) in evidence.args.get("commands", {})
    return True


def command_for(evidence: Evidence, claim: Claim) -> str:
    """The command that printed the claim's number in a recount."""
    commands = evidence.args.get("commands") if evidence.tool == INDEPENDENT else None
    if not isinstance(commands, dict):
        return evidence.command
    return str(commands.get(key_of(claim), evidence.command))


@dataclass
class _Tally:
    checked: list[str] = field(default_factory=list)
    wrong: list[tuple[Claim, float | None, Evidence]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    listed: int = 0


def challenge_numbers(
    findings: list[RawFinding], results: Mapping[str, ConcernResult], ctx: AgentContext
) -> tuple[list[Verdict], list[Evidence], list[str]]:
    """Verdicts, the recount evidence, and the gaps: checks whose own count their command contradicts."""
    index = {ev.id: ev for r in results.values() for ev in r.evidence}
    recounter = ctx.recounter()
    recounter.start_round()
    try:
        return _challenge(findings, index, recounter)
    finally:
        recounter.end_round()


def _challenge(
    findings: list[RawFinding], index: Mapping[str, Evidence], recounter: Recounter
) -> tuple[list[Verdict], list[Evidence], list[str]]:
    recounter.ahead(claimed(findings, index))
    verdicts: list[Verdict] = []
    gaps: dict[tuple[str, str], str] = {}
    for finding in findings:
        recounter.ctx.progress("challenge", STANCE, finding.id, detail=True)
        tally = _Tally()
        for claim in finding.claims:
            if claim.value is None:
                continue
            original = index.get(claim.evidence[0])
            if original is None:
                tally.missing.append(claim.evidence[0])
                continue
            again = recounter.rerun(original)
            tally.checked.append(again.id)
            if not recomputed(again, claim):
                tally.listed += 1
                own = measured(original, claim.measure)
                if original.tool == "check" and own != claim.value:
                    # no command recounts it, but the claim misquotes the check's recorded number
                    tally.wrong.append((claim, own, original))
                    tally.checked.append(original.id)  # the number the correction stands on
                continue
            value = measured(again, claim.measure)
            if again.status == ToolStatus.ERROR and value is None:
                gaps.setdefault((original.id, key_of(claim)), _failed(original, again, claim))
                continue
            if value != claim.value:
                tally.wrong.append((claim, value, again))
            own = measured(original, claim.measure)
            if original.tool == "check" and own != value:
                gaps.setdefault((original.id, key_of(claim)), _disagrees(original, again, claim, own, value))
        verdicts.append(_verdict(finding, tally, index))
    return verdicts, recounter.ledger.items(), list(gaps.values())


def _verdict(finding: RawFinding, tally: _Tally, index: Mapping[str, Evidence]) -> Verdict:
    if tally.wrong:
        actual = tally.wrong[0][1]
        details = "; ".join(_wrong(c, v, ev, index) for c, v, ev in tally.wrong)
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="CORRECTED",
            reason=f"Recount: {details}.",
            evidence=tally.checked,
            measured_value=actual,
        )
    if tally.missing and not tally.checked:
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="DROPPED",
            reason=f"No claim can be reproduced: evidence {', '.join(tally.missing)} is not in the ledger.",
        )
    recounted = len(tally.checked) - tally.listed
    reason = f"Recounted {recounted} number(s) with independent commands; every one reproduces."
    if tally.listed:
        reason += f" {tally.listed} listed by path:line, not recomputed."
    if not tally.checked:
        reason = "No numeric claim to recount."
    return Verdict(
        finding=finding.id, challenger=STANCE, action="CONFIRMED", reason=reason, evidence=tally.checked
    )


def _wrong(claim: Claim, value: float | None, ev: Evidence, index: Mapping[str, Evidence]) -> str:
    stated = f"'{claim.text}' stated {_n(claim.value)}"
    if ev.tool == "check":  # a listed number: the claim misquotes the check's own evidence
        return f"{stated}, its evidence `{ev.command}` (listed, not recomputed) gives {_n(value)}"
    return f"{stated} (`{_stated_by(claim, index)}`), `{command_for(ev, claim)}` prints {_n(value)}"


def _stated_by(claim: Claim, index: Mapping[str, Evidence]) -> str:
    original = index.get(claim.evidence[0])
    return original.command if original is not None else claim.evidence[0]


def _disagrees(
    original: Evidence, again: Evidence, claim: Claim, own: float | None, value: float | None
) -> str:
    what = f"{original.args.get('id')}" + (f" ({claim.measure})" if claim.measure else "")
    return (
        f"{what}: the check counts {_n(own)} but its standard-tool command `{command_for(again, claim)}` "
        f"prints {_n(value)}; one of the two is wrong (a bug in the check or in its catalog command)."
    )


def _failed(original: Evidence, again: Evidence, claim: Claim) -> str:
    return (
        f"{original.args.get('id')}: the recount command `{command_for(again, claim)}` failed "
        f"({again.error}); the number was not recounted."
    )
