"""Node bodies of the audit graph. Each node reads the state, uses the run context, returns an update.

This is the one place where ``except Exception`` is allowed: a research branch or a challenger that
crashes is recorded (a failed concern, a gap) and the rest of the audit goes on. Synthesis and
rendering are not guarded: if they fail, the run stops and ``infra-audit resume`` picks it up from the
last checkpoint.
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph.runtime import Runtime

from agents.findings import ConcernResult, RawFinding
from agents.offline.challenge_intent import challenge_intent
from agents.offline.challenge_numbers import challenge_numbers
from agents.offline.research import research_offline
from agents.offline.synthesize import synthesize
from pipeline.context import RunContext
from pipeline.state import AuditState, ResearchTask

log = logging.getLogger(__name__)


def inventory_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.progress("inventory", "estate", "parsing")
    inventory = ctx.inventory()
    counts = {k: v for k, v in inventory.code.counts().items() if v}
    counts["files_scanned"] = inventory.files_scanned
    if inventory.live is not None:
        counts["live_nodes"] = len(inventory.live.nodes)
        counts["live_pods"] = len(inventory.live.pods)
        counts["live_workloads"] = len(inventory.live.workloads)
        counts["links"] = len(inventory.links)
    ctx.progress("inventory", "estate", f"{inventory.files_scanned} files")
    return {"inventory_counts": counts}


def research_node(task: ResearchTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.progress("research", task.concern, "running checks")
    try:
        result = research_offline(task.concern, ctx.check_context())
    except Exception as exc:  # the node boundary: a crash becomes a recorded failure of this concern
        log.exception("research %s failed", task.concern)
        result = ConcernResult(concern=task.concern, status="failed", error=f"{type(exc).__name__}: {exc}")
        ctx.progress("research", task.concern, f"failed: {result.error}")
    else:
        ctx.progress("research", task.concern, f"{len(result.findings)} findings")
    return {"results": {task.concern: result}}


def _to_challenge(state: AuditState) -> list[RawFinding]:
    """Findings of the concerns researched in this run (a rerun challenges only its own concern)."""
    return [
        f
        for concern in state.concerns
        if (result := state.results.get(concern)) is not None and result.status == "ok"
        for f in result.findings
    ]


def challenge_numbers_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.progress("challenge", "numbers", "re-running evidence")
    try:
        verdicts, evidence = challenge_numbers(_to_challenge(state), state.results, ctx)
    except Exception as exc:  # the node boundary
        log.exception("numbers challenger failed")
        return {
            "gaps": [
                f"The numbers challenger failed ({type(exc).__name__}: {exc}); claims were not recounted."
            ]
        }
    ctx.progress("challenge", "numbers", f"{len(verdicts)} verdicts")
    return {"verdicts": verdicts, "challenge_evidence": evidence}


def challenge_intent_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.progress("challenge", "intent", "reading decisions")
    try:
        outcome = challenge_intent(_to_challenge(state), ctx, state.date)
    except Exception as exc:  # the node boundary
        log.exception("intent challenger failed")
        return {
            "gaps": [f"The intent challenger failed ({type(exc).__name__}: {exc}); decisions were not read."]
        }
    ctx.progress("challenge", "intent", f"{len(outcome.verdicts)} verdicts")
    return {
        "verdicts": outcome.verdicts,
        "challenge_evidence": outcome.evidence,
        "gaps": outcome.gaps,
    }


def synthesize_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.progress("synthesize", "report", "merging and ranking")
    report = synthesize(state, ctx)
    ctx.progress("synthesize", "report", f"{len(report.findings)} findings")
    return {"report": report}


def render_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    from pipeline.render import write_reports

    ctx = runtime.context
    if state.report is None or ctx.settings.out is None:
        return {}
    written = write_reports(state.report, ctx.settings.out)
    ctx.progress("render", "report", f"wrote {len(written)} files")
    return {"written": [str(p) for p in written]}
