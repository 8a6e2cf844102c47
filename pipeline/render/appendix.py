"""The verification appendix: every numeric claim next to the command that reproduces it.

This is where the report keeps its promise that no number stands without evidence, so it is strict
about what it shows: the result comes from the evidence (never from the claim), the challenger's
recount (``<id>.r``) is shown beside it, and a claim that no evidence reproduces is flagged in bold
rather than hidden; when the challenge changed the number, the row says so.
"""

from __future__ import annotations

from agents.offline.challenge_numbers import INDEPENDENT, LISTED, command_for, recomputed
from domain.concerns import role_of
from domain.evidence import Evidence
from domain.findings import Claim, Finding
from pipeline.render.text import code, inline, num

RECOUNT_SUFFIX = ".r"

Row = list[str]


def _value(claim: Claim, ev: Evidence) -> float | None:
    """The number ``ev`` gives for ``claim``: its main value, or the named measure."""
    return ev.measures.get(claim.measure) if claim.measure else ev.value


def _reading(claim: Claim, ev: Evidence) -> str:
    value = _value(claim, ev)
    if value is not None:
        return num(value)
    return f"no {claim.measure} measured" if claim.measure else f"no value ({ev.status})"


def _measuring(claim: Claim, evidence: dict[str, Evidence]) -> Evidence | None:
    """The evidence that carries the claim's number.

    By contract it is the first one cited, but a claim can also cite evidence that only supports it
    (the intent challenger's docs search, a file read) and a merge may reorder the list. So, in
    order: the first cited evidence (or its recount) that gives the claim's value, then the first
    research evidence that gives a number, then any that gives a number, then the first that exists.
    """
    cited = [ev for eid in claim.evidence if (ev := evidence.get(eid)) is not None]

    def reproduces(ev: Evidence) -> bool:
        recount = evidence.get(ev.id + RECOUNT_SUFFIX)
        return claim.value in (_value(claim, ev), _value(claim, recount) if recount else None)

    numeric = [ev for ev in cited if _value(claim, ev) is not None]
    research = [ev for ev in numeric if role_of(ev.agent) != "challenge"]
    for pool in ([ev for ev in numeric if reproduces(ev)], research, numeric, cited):
        if pool:
            return pool[0]
    return None


def appendix_row(f: Finding, claim: Claim, evidence: dict[str, Evidence]) -> Row:
    """Claim, command, result: the independent command and what it printed at audit time, with
    ``infra-audit check`` as a second line; a claim no command recounts lists its refs instead."""
    text = f"{f.id}: {inline(claim.text)}"
    ev = _measuring(claim, evidence)
    if ev is None:
        missing = ", ".join(code(e) for e in claim.evidence)
        return [text, f"evidence {missing} is not in the ledger", "**not reproducible**"]
    measure = f", {claim.measure}" if claim.measure else ""
    recount = evidence.get(ev.id + RECOUNT_SUFFIX)
    independent = recount is not None and recount.tool == INDEPENDENT and recomputed(recount, claim)
    if recount is not None and independent:
        command = f"{code(command_for(recount, claim))}<br>check: {code(ev.command)}"
        kubectl = (recount.args.get("kubectl") or {}).get(claim.measure or "count")
        if kubectl:  # a snapshot's jq command: the kubectl form a reader runs on the live cluster
            command = command.replace("<br>check:", f"<br>live: {code(kubectl)}<br>check:", 1)
        rendered_by = recount.args.get("rendered_by")
        if rendered_by:  # a command that runs helm template: what served it in the recount
            command = command.replace("<br>check:", f"<br>{inline(str(rendered_by))}<br>check:", 1)
        result = f"{_reading(claim, recount)} ({code(recount.id)}{measure}); the check: {_reading(claim, ev)}"
        values = [_value(claim, recount)]
    elif recount is not None and recount.tool in (INDEPENDENT, LISTED):
        refs = ", ".join(code(r) for r in f.refs) or "no refs"
        if claim.measure:
            refs = f"a part of {f.id}'s count, among its refs"
        command = f"listed, not recomputed: {refs}<br>check: {code(ev.command)}"
        result = f"{_reading(claim, ev)} ({code(ev.id)}{measure}); listed"
        values = [_value(claim, ev)]
    else:
        command = code(ev.command)
        result = f"{_reading(claim, ev)} ({code(ev.id)}{measure})"
        values = [_value(claim, ev)]
        if recount is not None:
            result += f"; re-run: {_reading(claim, recount)}"
            values.append(_value(claim, recount))
    if claim.value is not None and claim.value not in values:
        if f.status in ("corrected", "reframed"):
            result += (
                f"; the claim's {num(claim.value)} is after the challenge (see the corrections up front)"
            )
        else:
            result += f"; **does not reproduce the claim's {num(claim.value)}**"
    return [text, command, result]


def ledger_line(ev: Evidence) -> str:
    line = f"{code(ev.id)} — {ev.tool}: {code(ev.command)} · sha256 {code(ev.sha256[:12])}"
    if ev.status != "ok":
        line += f" · {ev.status}"
    return line + (" (truncated)" if ev.truncated else "")
