"""Run checks over the inventory and record each result as evidence in the ledger.

When the cluster could not be read whole (``LiveState.unread``: types refused or failed live, types a
snapshot's writer could not read, snapshot dumps that did not load), each check runs against a view
of the inventory that notes which live record lists it reads. Which lists a detection reads is
observed, not declared, so a new check needs nothing to get this right. A check that read records
an unread type feeds does not report a clean answer: a 0 becomes "unknown" (not applicable, with a
note naming the types, so the report lists it as a gap), and a positive count is kept as a lower
bound with the same note, unless the check counts what something does *not* cover (workloads with no
PodDisruptionBudget) and an unread kind is one that covers (``covered_by``: PodDisruptionBudget): then
the count is no lower bound (an unread budget may cover a counted workload) and it is unknown too.
Likewise, when Helm releases of the estate were not rendered (their charts
not in the cache), a check that read the code's workloads keeps its count and says in its note that
its population excludes their workloads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

from pydantic import BaseModel, ConfigDict

from domain.concerns import Concern, agent_label
from domain.evidence import Evidence
from domain.results import ToolResult, ToolStatus
from domain.unread import EVERY_KIND
from tools.checks.spec import CheckContext, CheckSpec, Detection, get_detector, load_catalog
from tools.clock import format_clock
from tools.inventory.inventory import Inventory, LiveState
from tools.inventory.live import lost_to
from tools.inventory.live_models import UnreadResource
from tools.inventory.scope import deployed_view

MAX_LISTED = 200


class CheckOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check: str
    detection: Detection
    evidence: str


def render_detection(spec: CheckSpec, detection: Detection) -> str:
    if not detection.applicable:
        return f"{spec.id}: not applicable ({detection.note or 'nothing to read'})"
    total = f" of {detection.total}" if detection.total is not None else ""
    lines = [f"{spec.id}: {detection.count}{total}"]
    lines += [f"{k} = {v:g}" for k, v in sorted(detection.measures.items())]
    for loc in detection.locations[:MAX_LISTED]:
        lines.append(f"{loc.ref}  {loc.subject}" + (f"  ({loc.detail})" if loc.detail else ""))
    if len(detection.locations) > MAX_LISTED:
        lines.append(f"... {len(detection.locations) - MAX_LISTED} more locations")
    return "\n".join(lines)


class _Watched:
    """An inventory (or its live state) seen by one check: every attribute forwarded, its name noted."""

    def __init__(self, target: Any, read: set[str], live: Any = None, code: Any = None) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_read", read)
        object.__setattr__(self, "_live", live)
        object.__setattr__(self, "_code", code)

    def __getattr__(self, name: str) -> Any:
        if name == "live" and self._live is not None:
            return self._live
        if name == "code" and self._code is not None:
            return self._code
        self._read.add("workloads" if name == "links" else name)  # links join live workloads
        return getattr(self._target, name)


def _detect(spec: CheckSpec, ctx: CheckContext) -> tuple[Detection, list[UnreadResource], int]:
    """Run the detection; with an incomplete cluster, also the unread types whose records it read;
    with Helm releases not rendered, how many of them its population of code workloads excludes."""
    live: LiveState | None = ctx.inventory.live
    code = ctx.inventory.code
    missed = sum(not r.rendered for r in code.helm_renders)
    if (live is None or not live.unread) and not missed:
        return get_detector(spec.id)(ctx), [], 0
    read: set[str] = set()
    code_read: set[str] = set()
    watched = _Watched(
        ctx.inventory,
        read,
        live=_Watched(live, read) if live is not None and live.unread else None,
        code=_Watched(code, code_read) if missed else None,
    )
    detection = get_detector(spec.id)(dataclasses.replace(ctx, inventory=cast(Inventory, watched)))
    unread = lost_to(read, live.unread) if live is not None and live.unread else []
    return detection, unread, missed if "workloads" in code_read else 0


def _excluding(detection: Detection, missed: int) -> Detection:
    note = f"its population excludes the workloads of {missed} Helm releases not rendered (see the gaps)"
    return detection.model_copy(update={"note": f"{detection.note}; {note}" if detection.note else note})


def _incomplete(spec: CheckSpec, detection: Detection, unread: list[UnreadResource]) -> Detection:
    what = "; ".join(f"{u.resource} ({u.reason})" for u in unread)
    if detection.count == 0 or not detection.applicable:
        note = f"unknown: the cluster's {what} could not be read"
        return detection.model_copy(update={"applicable": False, "note": note})
    covering = [u for u in unread if spec.covered_by and (u.kind == EVERY_KIND or u.kind in spec.covered_by)]
    if covering:
        kinds = ", ".join(sorted({u.resource for u in covering}))
        note = (
            f"unknown: the cluster's {what} could not be read, and an unread {kinds} may cover "
            f"what the check counts ({detection.count} counted without them)"
        )
        return detection.model_copy(update={"applicable": False, "note": note})
    note = f"incomplete, a lower bound: the cluster's {what} could not be read"
    return detection.model_copy(update={"note": f"{detection.note}; {note}" if detection.note else note})


def check_command(ctx: CheckContext, spec: CheckSpec) -> str:
    """The command that reproduces a check; one that judges time carries the run's clock."""
    if spec.clock and ctx.now is not None:
        return f"{ctx.command_prefix} --date {format_clock(ctx.now)} {spec.id}"
    return f"{ctx.command_prefix} {spec.id}"


def check_result(spec: CheckSpec, ctx: CheckContext) -> tuple[ToolResult, Detection]:
    """Run one detection and shape it as a tool result (not yet recorded)."""
    if not spec.clock:
        # a check that does not say it judges time cannot read the clock
        ctx = dataclasses.replace(ctx, now=None)
    # every check counts only what is deployed: records nothing deploys (test/, examples/, ...) are left out
    ctx = dataclasses.replace(ctx, inventory=deployed_view(ctx.inventory))
    detection, unread, missed = _detect(spec, ctx)
    if unread:
        detection = _incomplete(spec, detection, unread)
    if missed:
        detection = _excluding(detection, missed)
    output = render_detection(spec, detection)
    if (unread or missed) and detection.applicable:
        output += f"\n{detection.note}"
    return ToolResult(
        tool="check",
        args={"id": spec.id},
        status=ToolStatus.OK if detection.count else ToolStatus.NO_DATA,
        command=check_command(ctx, spec),
        output=output,
        data=detection.model_dump(mode="json"),
        value=float(detection.count) if detection.applicable else None,
        measures=dict(detection.measures),
    ), detection


def run_check(spec: CheckSpec, ctx: CheckContext, agent: str | None = None) -> CheckOutcome:
    result, detection = check_result(spec, ctx)
    who = agent or agent_label("research", spec.concern)
    evidence: Evidence = ctx.toolbox.ledger.record(result, agent=who)
    return CheckOutcome(check=spec.id, detection=detection, evidence=evidence.id)


def run_checks(
    ctx: CheckContext,
    concern: Concern | None = None,
    then: Callable[[CheckOutcome], None] | None = None,
    weight: Callable[[CheckSpec], int] | None = None,
) -> list[CheckOutcome]:
    """Run the checks owned by ``concern`` (or all); the outcomes in catalog order. ``then`` is given
    each outcome as its check ends; the checks ``weight`` weighs more run before the others (in
    catalog order among equals)."""
    specs = [s for s in load_catalog() if concern is None or s.concern == concern]
    order = sorted(range(len(specs)), key=lambda i: -weight(specs[i])) if weight else range(len(specs))
    outcomes: dict[int, CheckOutcome] = {}
    for i in order:
        outcomes[i] = outcome = run_check(specs[i], ctx)
        if then is not None:
            then(outcome)
    return [outcomes[i] for i in range(len(specs))]
