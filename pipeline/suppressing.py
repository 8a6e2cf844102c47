"""Suppressions in a run: inline ones become verdicts before synthesis; every one is listed after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.report import AuditReport
from domain.suppressions import Suppression
from pipeline.context import RunContext
from pipeline.state import AuditState


def with_suppressions(
    state: AuditState, ctx: RunContext
) -> tuple[AuditState, Callable[[AuditReport], list[Suppression]]]:
    """The state with a ``suppression`` verdict for each finding an inline suppression covers (those of
    an earlier synthesis replaced), and how to list every suppression once the report exists."""
    from datetime import date as Date

    from agents.offline import suppressions as sup
    from domain.concerns import CONCERNS

    today = Date.fromisoformat(state.date[:10])
    inline, evidence = sup.scan(ctx, today)
    if inline:  # the objects the comments sit above (the inventory is still the run's here)
        sup.widen(inline, ctx.inventory().code, ctx.toolbox().jail.read_text)
    raw = [f for c in CONCERNS if (r := state.results.get(c)) and r.status == "ok" for f in r.findings]
    added = sup.verdicts(raw, inline, evidence)
    kept = [v for v in state.verdicts if v.challenger != sup.STANCE]
    update: dict[str, Any] = {"verdicts": [*kept, *added]}
    if evidence is not None:
        update["challenge_evidence"] = [*state.challenge_evidence, evidence]
    records = [i.record for i in inline]

    def listed(report: AuditReport) -> list[Suppression]:
        return [*records, *sup.accepted_list(ctx, today, report.verdicts)]

    return state.model_copy(update=update), listed
