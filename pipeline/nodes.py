"""Node bodies of the audit graph. Each node reads the state, uses the run context, returns an update.

No node catches exceptions. The graph wires a retry policy (``NODE_RETRY``: model outages only,
never a rejected request) and an error handler on research and on both challengers; the handlers
here are the one boundary where a crash becomes a recorded failure (a failed concern, a gap) and
the rest of the audit goes on. A crash shows as one line (the exception class, its first line and
the file its redacted traceback was written to), never as a traceback in the terminal. A replay
that has no recorded answer is not a crash of one branch: it stops the run (one line, as any
error), since every other branch would miss too. Synthesis and rendering have no handler: if they
fail, the run stops and ``infra-audit resume`` picks it up from the last checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import tempfile
import traceback
from pathlib import Path
from typing import Any

from langgraph.errors import NodeError
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.challenge import ChallengeOutcome
from agents.offline.recounter import claimed
from agents.offline.research import research_offline
from agents.offline.synthesize import synthesize
from agents.stances import STANCES
from domain.errors import ModelError
from domain.evidence import Evidence
from domain.findings import ConcernResult, RawFinding
from pipeline.context import RunContext
from pipeline.state import AuditState, ChallengeTask, ResearchTask
from tools.gc_pause import gc_paused, gc_paused_together
from tools.pathnames import shown
from tools.redact import redact_text

log = logging.getLogger(__name__)


def inventory_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.progress("inventory", "estate", "parsing")
    ctx.recounter().warm_early()  # with a cluster, the recount's jq engine parses it meanwhile
    inventory = ctx.inventory()
    counts = {k: v for k, v in inventory.code.counts().items() if v}
    counts["files_scanned"] = inventory.files_scanned
    topology = None
    if inventory.live is not None:
        from tools.checks.topology import cluster_topology

        topology = cluster_topology(inventory.live)
        counts["live_nodes"] = len(inventory.live.nodes)
        counts["live_pods"] = len(inventory.live.pods)
        counts["live_workloads"] = len(inventory.live.workloads)
        counts["links"] = len(inventory.links)
    ctx.progress("inventory", "estate", f"{inventory.files_scanned} files")
    ctx.recounter().warm()  # the recount's batch child reads the estate while the research runs
    gaps: list[str] = []
    if not any(n for name, n in inventory.code.counts().items() if name != "issues"):
        where = ctx.settings.display_estate
        ctx.progress("inventory", "warning", f"nothing auditable in {where}: no infrastructure code found")
        gaps.append(
            f"The estate {where} holds no infrastructure code infra-audit reads (Terraform/Terragrunt, "
            f"Kubernetes YAML, Kustomize, Helm, Flux, Argo CD): {inventory.files_scanned} files scanned, "
            "no records; the checks of code had nothing to read."
        )
    if inventory.live is not None:
        from pipeline.cluster import before_capture

        captured = inventory.live.cluster.captured_at
        if (gap := before_capture(ctx.settings.date, captured)) is not None:
            ctx.progress(
                "inventory",
                "warning",
                f"the audit clock {ctx.settings.date} is before the capture {captured}",
            )
            gaps.append(gap)
    return {"inventory_counts": counts, "gaps": gaps, "topology": topology}


def research_node(task: ResearchTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    with ctx.agent_slot():
        update = _research(task, ctx)
    if ctx.model is not None:
        # the numbers challenger's commands for the model's claims start now, beside the other
        # branches (after the slot: planning them reads the cluster's types and the inventory once)
        result: ConcernResult = update["results"][task.concern]
        ctx.recounter().early(claimed(result.findings, {ev.id: ev for ev in result.evidence}))
    return update


def _research(task: ResearchTask, ctx: RunContext) -> dict[str, Any]:
    if ctx.model is not None:
        from agents.llm.researcher import research_llm

        ctx.progress("research", task.concern, f"researching with {ctx.model.model}")
        result = research_llm(task.concern, ctx)
    else:
        ctx.progress("research", task.concern, "running checks")
        recounter = ctx.recounter()

        def counted(evidence: Evidence) -> None:
            # the numbers challenger's commands for this check start now, beside the checks still to
            # run (at 10k pods its jq engine otherwise idled until a whole branch had ended)
            recounter.early([evidence])

        with gc_paused_together():  # the branches' checks, side by side: no collection re-scans their results
            result = research_offline(task.concern, dataclasses.replace(ctx.check_context(), counted=counted))
    ctx.progress("research", task.concern, f"{len(result.findings)} findings")
    return {"results": {task.concern: result}}


def _stop_on_replay_miss(exc: BaseException) -> None:
    if isinstance(exc, ModelError) and exc.failure == "replay":
        raise exc


def crash_line(ctx: RunContext, node: str, who: str, exc: BaseException) -> str:
    """One line for a crash: class, first line of the message, and where the traceback was written.

    An exception can echo estate text (a parser error quoting a line): both are redacted.
    """
    where = ctx.traceback_dir or Path(tempfile.gettempdir()) / "infra-audit-tracebacks" / (
        ctx.run_id or "run"
    )
    path = where / f"traceback-{node}-{who}.txt"
    try:
        where.mkdir(parents=True, exist_ok=True)
        path.write_text(redact_text("".join(traceback.format_exception(exc))), encoding="utf-8")
        written = f"traceback in {path}"
    except OSError as problem:
        written = f"traceback not written: {problem.strerror or type(problem).__name__}"
    message = " ".join(redact_text(str(exc)).split())
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{type(exc).__name__}{': ' + message if message else ''} ({written})"


def research_failed(task: ResearchTask, error: NodeError, runtime: Runtime[RunContext]) -> Command[str]:
    """The research branch crashed (after any retries): record the concern as failed, go on.

    The edge research -> challenge_round belongs to the research node and does not fire for its
    error handler, so the handler routes there itself: without it, a run whose every research
    branch failed (one concern, or an unreachable model) ended with no report. A failed and a
    finished branch of the same step trigger the barrier once."""
    exc = error.error
    _stop_on_replay_miss(exc)
    log.debug("research %s failed", task.concern, exc_info=exc)
    result = ConcernResult(
        concern=task.concern, status="failed", error=redact_text(f"{type(exc).__name__}: {exc}")
    )
    line = crash_line(runtime.context, "research", task.concern, exc)
    runtime.context.progress("research", task.concern, f"failed: {line}")
    return Command(update={"results": {task.concern: result}}, goto="challenge_round")


def _to_challenge(task: ChallengeTask, results: dict[str, ConcernResult]) -> list[RawFinding]:
    """Findings of the concerns researched in this run (a rerun challenges only its own concern)."""
    return [
        f
        for concern in task.concerns
        if (result := results.get(concern)) is not None and result.status == "ok"
        for f in result.findings
    ]


def challenge_round(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """A barrier: every research branch has finished; the challengers start from here, judging the
    state's results, which they read from the run context (``ChallengeTask``)."""
    runtime.context.research = dict(state.results)
    return {}


def challenge_node(task: ChallengeTask, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """One challenger. With a model, the numbers stance also runs the mechanical recount ('recount')."""
    with runtime.context.agent_slot():
        return _challenge(task, runtime.context)


def _challenge(task: ChallengeTask, ctx: RunContext) -> dict[str, Any]:
    spec = STANCES[task.stance]
    if ctx.research is None:
        raise RuntimeError("no research results to challenge: challenge_round or a resume hands them over")
    results = ctx.research
    findings = _to_challenge(task, results)
    outcome = ChallengeOutcome()
    if ctx.model is None or spec.beside_model is not None:
        ctx.progress("challenge", spec.name, spec.progress)
        # offline, as the research: no collection re-scans what the recount builds (not beside a
        # model's challengers: their calls' garbage would wait, frozen, until the run ends)
        with gc_paused_together() if ctx.model is None else contextlib.nullcontext():
            offline = spec.offline(findings, results, ctx)
        if ctx.model is not None and spec.beside_model is not None:
            offline.verdicts = [
                v.model_copy(update={"challenger": spec.beside_model}) for v in offline.verdicts
            ]
        outcome.add(offline)
    if ctx.model is not None:
        from agents.llm.challenger import challenge_llm

        ctx.progress("challenge", spec.name, f"challenging with {ctx.model.model}")
        outcome.add(challenge_llm(spec, findings, results, ctx))
    ctx.progress("challenge", spec.name, f"{len(outcome.verdicts)} verdicts")
    return {
        "verdicts": outcome.verdicts,
        "challenge_evidence": outcome.evidence,
        "gaps": outcome.gaps,
        "framings": outcome.framings,
    }


def challenge_failed(task: ChallengeTask, error: NodeError, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """A challenger crashed (after any retries): its verdicts are missing, which the report says."""
    exc = error.error
    stance = task.stance
    _stop_on_replay_miss(exc)
    log.debug("%s challenger failed", stance, exc_info=exc)
    runtime.context.progress(
        "challenge", stance, f"failed: {crash_line(runtime.context, 'challenge', stance, exc)}"
    )
    what = STANCES[stance].failure
    return {"gaps": [redact_text(f"The {stance} challenger failed ({type(exc).__name__}: {exc}); {what}.")]}


def synthesize_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = runtime.context
    ctx.progress("synthesize", "report", "merging and ranking")
    from pipeline.suppressing import with_suppressions

    state, suppressions = with_suppressions(state, ctx)
    with gc_paused():  # the findings and their locations, built to last the run: nothing to collect
        report = synthesize(state, ctx)
    if ctx.model is not None:
        from agents.llm.synthesizer import synthesize_llm

        ctx.progress("synthesize", "report", f"writing with {ctx.model.model}")
        report = synthesize_llm(report, ctx)
    if ctx.model is not None and ctx.accountant is not None:
        meta = report.meta.model_copy(update={"model": ctx.model.model, "usage": ctx.accountant.usage_rows()})
        report = report.model_copy(update={"meta": meta})
    if state.topology is not None:
        report = report.model_copy(update={"topology": state.topology})
    from pipeline.anchors import anchor, repo_path

    estate = ctx.settings.estate
    meta = report.meta.model_copy(update={"repo_path": repo_path(estate), "anchor": anchor(estate)})
    report = report.model_copy(update={"suppressions": suppressions(report), "meta": meta})
    if ctx.settings.baseline is not None:
        from pipeline.gate import load_baseline, with_baseline

        baseline = load_baseline(ctx.settings.resolve(ctx.settings.baseline))
        report = with_baseline(report, baseline, str(ctx.settings.baseline))
    ctx.progress("synthesize", "report", f"{len(report.findings)} findings")
    return {"report": report}


def render_node(state: AuditState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    from pipeline.render import RunOutputs, write_outputs

    ctx = runtime.context
    if state.report is None or ctx.settings.out is None:
        return {}
    model_calls = ctx.accountant.calls if ctx.accountant is not None else []
    outputs = RunOutputs(report=state.report, ledger=ctx.ledger.items(), model_calls=model_calls)
    ctx.let_go()  # the report is made: the inventory and the cluster's objects are not read again
    with gc_paused():  # the reports' texts and the view they are made from: nothing to collect
        written = write_outputs(outputs, ctx.settings.out)
    ctx.progress("render", "report", f"wrote {len(written)} files")
    return {"written": [shown(p) for p in written]}
