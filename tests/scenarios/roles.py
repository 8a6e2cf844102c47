"""Scripted challengers and synthesizer, shared by every estate's scenario.

They judge what their prompt lists, the way the prompts ask: the numbers challenger compares each
headline number with the value of the evidence it cites and corrects a mismatch with that
measurement; the intent challenger reads the decision records it is given and drops or trims the
findings they cover, citing ``path:line`` from what ``repo_read`` showed it; the synthesizer groups
the final backlog into themes that span two concerns or more. Every decision is a function of the
request, so a re-run (fewer findings, other ids) is answered as sensibly as the first run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fakes import ScriptError

from domain.concerns import CONCERNS
from scenarios.common import (
    Agent,
    Conversation,
    backlog,
    cited_values,
    concerns_of,
    explore,
    judged,
    submit,
)

Call = tuple[str, dict[str, Any]]


# --- numbers ----------------------------------------------------------------------------------------


def numbers_challenger(
    calls: Sequence[Call], why: str, gaps: Sequence[str] = (), framings: Sequence[str] = ()
) -> Agent:
    """Re-measures with ``calls``, then corrects every headline that its own evidence contradicts.

    ``why`` is what the re-measurement showed about the difference, for the verdict's reason.
    """

    def verdicts(convo: Conversation) -> dict[str, Any]:
        values = cited_values(convo.system)
        own = [convo.call(name, args).evidence for name, args in calls]
        out = []
        for finding in judged(convo.system):
            stated = next(((v, ev) for _, v, ev in finding.claims if v is not None), None)
            measured = values.get(stated[1][0]) if stated else None
            if stated is not None and measured is not None and measured != stated[0]:
                out.append(
                    {
                        "finding": finding.id,
                        "action": "CORRECTED",
                        "reason": (
                            f"The headline says {stated[0]:g} but its own evidence {stated[1][0]} measures "
                            f"{measured:g}; {why} ({', '.join(own)})."
                        ),
                        "evidence": [stated[1][0], *own],
                        "measured_value": measured,
                    }
                )
                continue
            out.append(
                {
                    "finding": finding.id,
                    "action": "CONFIRMED",
                    "reason": "The headline number is the value of the evidence it cites; scope and "
                    "denominator match the title.",
                }
            )
        return {"verdicts": out, "gaps": list(gaps), "framings": list(framings)}

    return Agent(
        "numbers challenger",
        [
            explore("Re-measuring the numbers that look larger than their evidence.", *calls),
            submit("submit_verdicts", verdicts, "One verdict per finding."),
        ],
    )


# --- intent -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A decision written down in the estate and the finding it covers.

    ``needle`` is text on the line that ``documented_at`` must point at; the line number is read
    from the ``repo_read`` result, as an agent would. With ``subjects`` the decision covers only
    those subjects of the finding (CORRECTED, removed), when the finding's refs show ``ref``;
    without, the whole finding is by design (DROPPED).
    """

    check: str
    path: str
    needle: str
    reason: str
    subjects: tuple[str, ...] = ()
    ref: str | None = None


@dataclass(frozen=True)
class IntentScript:
    search: Call
    decisions: Sequence[Decision]
    gaps: Sequence[str] = ()
    framings: Sequence[str] = field(default_factory=tuple)

    def reads(self) -> list[Call]:
        paths = dict.fromkeys(d.path for d in self.decisions)
        return [("repo_read", {"path": p}) for p in paths]


def intent_challenger(script: IntentScript) -> Agent:
    reads = script.reads()

    def verdicts(convo: Conversation) -> dict[str, Any]:
        out = []
        for finding in judged(convo.system):
            decision = next((d for d in script.decisions if d.check == finding.check), None)
            applies = decision is not None and (decision.ref is None or decision.ref in finding.refs)
            if decision is None or not applies:
                out.append(
                    {
                        "finding": finding.id,
                        "action": "CONFIRMED",
                        "reason": "No decision record, accepted risk or comment covers it; the "
                        "intent search found nothing about it.",
                    }
                )
                continue
            read = convo.call("repo_read", {"path": decision.path})
            where = f"{decision.path}:{read.line_of(decision.needle)}"
            verdict: dict[str, Any] = {
                "finding": finding.id,
                "reason": decision.reason,
                "evidence": [read.evidence],
                "documented_at": where,
            }
            if decision.subjects:
                stated = next(v for _, v, _ in finding.claims if v is not None)
                verdict.update(
                    action="CORRECTED",
                    removed_subjects=list(decision.subjects),
                    measured_value=stated - len(decision.subjects),
                )
            else:
                verdict["action"] = "DROPPED"
            out.append(verdict)
        return {"verdicts": out, "gaps": list(script.gaps), "framings": list(script.framings)}

    return Agent(
        "intent challenger",
        [
            explore("Looking for decisions taken on purpose and accepted risks.", script.search),
            explore("Reading the decision records the search found.", *reads),
            submit("submit_verdicts", verdicts, "One verdict per finding."),
        ],
    )


# --- synthesizer ------------------------------------------------------------------------------------

THEMES: tuple[tuple[str, str], ...] = (
    ("Versions that move by themselves", r"latest|unpinned|version|Renovate|Dependabot|no ref|deprecated"),
    ("Guardrails that only watch", r"polic|NetworkPolicy|Pod Security|privileged|root|RBAC|admission"),
    ("Recovery nobody has rehearsed", r"backup|restore|single|unseal|PodDisruption"),
    ("Code that no longer describes the cluster", r"drift|ignore_changes|unmanaged|imperative|sync|Flux"),
)
_CORRECTION = re.compile(r"^- (R\d#\d+) (CONFIRMED|CORRECTED|DROPPED|REFRAMED): ", re.M)


def synthesizer(gaps: Sequence[str]) -> Agent:
    """Writes themes, one deep dive per concern, rollouts for dangerous items and next moves."""

    def synthesis(convo: Conversation) -> dict[str, Any]:
        view = backlog(convo.system)
        if not view.findings:
            raise ScriptError("the synthesizer was given an empty backlog")
        themes = []
        for title, pattern in THEMES:
            ids = [i for i, (t, _) in view.findings.items() if re.search(pattern, t, re.I)]
            if len(concerns_of(view, ids)) >= 2:
                named = "; ".join(f"{i} ({view.findings[i][0]})" for i in ids[:3])
                themes.append({"title": title, "summary": f"Across concerns: {named}.", "findings": ids})
        changed = _CORRECTION.findall(convo.system.split("## What the challengers changed", 1)[-1])
        dives = {}
        for concern in CONCERNS:
            owned = [i for i, (_, cs) in view.findings.items() if cs[0] == concern]
            if not owned:
                continue
            first = owned[0]
            code = f"R{CONCERNS.index(concern) + 1}"
            touched = sorted({rid for rid, _ in changed if rid.startswith(code + "#")})
            dives[concern] = (
                f"Start with {first} ({view.findings[first][0]}): it ranks highest among the "
                f"{len(owned)} {concern} finding(s) ({', '.join(owned)})."
                + (
                    f" The challengers changed {', '.join(touched)} before ranking; read the corrections."
                    if touched
                    else " Every finding of this concern stood as stated."
                )
            )
        dangerous = [
            {
                "finding": i,
                "rollout": f"Do not apply {i} estate-wide in one change: start with one namespace, watch "
                "admission reports and pod restarts for a week, widen namespace by namespace, and keep "
                "the previous manifest to revert.",
            }
            for i in view.dangerous
        ]
        return {
            "themes": themes,
            "deep_dives": dives,
            "dangerous": dangerous,
            "gaps": list(gaps),
            "next_moves": _moves(view),
        }

    return Agent("synthesizer", [submit("submit_synthesis", synthesis, "The prose of the report.")])


def _moves(view: Any) -> list[dict[str, str]]:
    placed: list[str] = []

    def pick(candidates: Sequence[str]) -> str | None:
        chosen = next((i for i in candidates if i not in placed), None)
        if chosen is not None:
            placed.append(chosen)
        return chosen

    both = [i for i in view.leaders_a if i in view.leaders_b]
    plan = [
        ("Week 1", both or list(view.leaders_a), "leads both rankings: the clear first fix"),
        ("Week 2", list(view.leaders_b), "removes the weekly toil that Rank B weighs"),
        ("Month 2", list(view.dangerous), "is dangerous to execute: staged, one scope at a time"),
        ("Month 3+", list(reversed(view.findings)), "is structural work once the rest is done"),
    ]
    moves = []
    for when, candidates, why in plan:
        chosen = pick(candidates)
        if chosen is not None:
            moves.append({"when": when, "finding": chosen, "text": f"{chosen} {why}."})
    return moves
