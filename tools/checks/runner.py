"""Run checks over the inventory and record each result as evidence in the ledger.

When the audit lost part of the cluster (a snapshot file that did not load, a list the server
refused), a check that read a population fed by what was lost says so (``Detection.incomplete``)
instead of reporting a clean count. Which lists a detection reads is observed, not declared: it runs
against the live state behind a recorder, so a new check needs nothing to get this right.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.checks.spec import CheckContext, CheckSpec, Concern, Detection, get_detector, load_catalog
from tools.evidence import Evidence
from tools.inventory.inventory import LiveState
from tools.inventory.live import fields_fed_by, lost_note, lost_resources
from tools.results import ToolResult, ToolStatus

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
    if detection.incomplete:
        lines.append(f"population incomplete: {detection.incomplete}")
    lines += [f"{k} = {v:g}" for k, v in sorted(detection.measures.items())]
    for loc in detection.locations[:MAX_LISTED]:
        lines.append(f"{loc.ref}  {loc.subject}" + (f"  ({loc.detail})" if loc.detail else ""))
    if len(detection.locations) > MAX_LISTED:
        lines.append(f"... {len(detection.locations) - MAX_LISTED} more locations")
    return "\n".join(lines)


def check_command(ctx: CheckContext, check_id: str) -> str:
    return f"{ctx.command_prefix} {check_id}"


class _LiveReads:
    """The live state as a detection sees it, noting which of its lists the detection reads."""

    def __init__(self, live: LiveState) -> None:
        self._live = live
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._live, name)


def detect(spec: CheckSpec, ctx: CheckContext) -> Detection:
    """Run one detection; mark it incomplete when it read a population the audit lost."""
    live = ctx.inventory.live
    lost = lost_resources(live.issues) if live is not None else {}
    if not lost or live is None:
        return get_detector(spec.id)(ctx)
    reads = _LiveReads(live)
    watched = ctx.inventory.model_copy(update={"live": reads})  # no validation: the recorder stands in
    detection = get_detector(spec.id)(dataclasses.replace(ctx, inventory=watched))
    notes = [lost_note(r, issues) for r, issues in sorted(lost.items()) if fields_fed_by(r) & reads.read]
    return detection.model_copy(update={"incomplete": "; ".join(notes)}) if notes else detection


def check_result(spec: CheckSpec, ctx: CheckContext) -> tuple[ToolResult, Detection]:
    """Run one detection and shape it as a tool result (not yet recorded)."""
    detection = detect(spec, ctx)
    return ToolResult(
        tool="check",
        args={"id": spec.id},
        status=ToolStatus.OK if detection.count else ToolStatus.NO_DATA,
        command=check_command(ctx, spec.id),
        output=render_detection(spec, detection),
        data=detection.model_dump(mode="json"),
        value=float(detection.count) if detection.applicable else None,
        measures=dict(detection.measures),
    ), detection


def run_check(spec: CheckSpec, ctx: CheckContext, agent: str | None = None) -> CheckOutcome:
    result, detection = check_result(spec, ctx)
    evidence: Evidence = ctx.toolbox.ledger.record(result, agent=agent or spec.concern)
    return CheckOutcome(check=spec.id, detection=detection, evidence=evidence.id)


def run_checks(ctx: CheckContext, concern: Concern | None = None) -> list[CheckOutcome]:
    """Run the checks owned by ``concern`` (or all), in catalog order."""
    return [run_check(s, ctx) for s in load_catalog() if concern is None or s.concern == concern]
