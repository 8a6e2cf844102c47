"""Run checks over the inventory and record each result as evidence in the ledger."""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict

from tools.checks.spec import CheckContext, CheckSpec, Concern, Detection, get_detector, load_catalog
from tools.clock import format_clock
from tools.evidence import Evidence
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
    lines += [f"{k} = {v:g}" for k, v in sorted(detection.measures.items())]
    for loc in detection.locations[:MAX_LISTED]:
        lines.append(f"{loc.ref}  {loc.subject}" + (f"  ({loc.detail})" if loc.detail else ""))
    if len(detection.locations) > MAX_LISTED:
        lines.append(f"... {len(detection.locations) - MAX_LISTED} more locations")
    return "\n".join(lines)


def check_command(ctx: CheckContext, spec: CheckSpec) -> str:
    """The command that reproduces a check; one that judges time carries the run's clock."""
    if spec.clock and ctx.now is not None:
        return f"{ctx.command_prefix} --date {format_clock(ctx.now)} {spec.id}"
    return f"{ctx.command_prefix} {spec.id}"


def check_result(spec: CheckSpec, ctx: CheckContext) -> tuple[ToolResult, Detection]:
    """Run one detection and shape it as a tool result (not yet recorded)."""
    if not spec.clock:
        ctx = replace(ctx, now=None)  # a check that does not say it judges time cannot read the clock
    detection = get_detector(spec.id)(ctx)
    return ToolResult(
        tool="check",
        args={"id": spec.id},
        status=ToolStatus.OK if detection.count else ToolStatus.NO_DATA,
        command=check_command(ctx, spec),
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
