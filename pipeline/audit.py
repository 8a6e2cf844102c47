"""Start, resume and re-run audits: the glue between the CLI, the run store and the compiled graph."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from agents.context import ProgressFn
from agents.llm.accounting import Accountant
from agents.llm.settings import ModelSettings
from agents.stances import STANCES
from domain.concerns import CONCERN_CODES, Concern
from domain.errors import SettingsError
from domain.report import AuditReport
from pipeline.cluster import open_cluster, settle_clock
from pipeline.context import RunContext
from pipeline.graph import compile_graph, node_retry
from pipeline.runs import FINISHED, RunStore
from pipeline.settings import RunSettings
from pipeline.state import AuditState
from tools.evidence import Ledger
from tools.kube.backend import KubeBackend

if TYPE_CHECKING:
    from agents.llm.protocol import ModelClient

# LangGraph's ``max_concurrency`` is the size of ONE thread pool that runs the tasks of a step AND
# saves each finished task's writes to the checkpointer (``pregel/_loop.py`` ``put_writes`` submits
# to the same pool). Set to 1, a finished research branch's writes waited behind the four branches
# still queued, and a run killed mid-step lost every finished branch. So the pool always has a
# thread per task of the widest step plus spare ones for the checkpoint writes, and
# ``--max-concurrency`` is a limit of our own on agents (``RunContext.agent_slot``).
SPARE_THREADS = 2


def _config(run_id: str, widest_step: int | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"configurable": {"thread_id": run_id}}
    if widest_step is not None:
        config["max_concurrency"] = max(widest_step, len(STANCES)) + SPARE_THREADS
    return config


def _context(
    settings: RunSettings,
    progress: ProgressFn | None,
    model: ModelClient | None,
    run_id: str,
    backend: KubeBackend | None = None,
    store: RunStore | None = None,
) -> RunContext:
    """The run context. ``model`` is set in llm mode (built by the CLI from the environment).

    ``settings.date`` is the run's settled clock; ``backend`` is the cluster when already open.
    A crashing node writes its traceback beside the report (``--out``), else in the run store."""
    assert settings.date is not None, "the clock is settled before a run starts"
    tracebacks = settings.resolve(settings.out) if settings.out else None
    if tracebacks is None and store is not None:
        tracebacks = store.traceback_dir(run_id)
    ctx = RunContext(
        settings=settings,
        ledger=Ledger(settings.output_cap),
        backend=backend if backend is not None else open_cluster(settings),
        run_id=run_id,
        date=settings.date,
        traceback_dir=tracebacks,
        freeze_heap=True,  # released when the graph returns (_invoke)
    )
    if model is not None:
        options = settings.llm or ModelSettings()
        if options.anonymize:  # the names of the estate's namespaces and workloads never reach the model
            from agents.llm.anonymize import AnonymizingModel, estate_pseudonyms

            model = AnonymizingModel(model, lambda: estate_pseudonyms(ctx.inventory()))
        ctx.model = model
        ctx.budget = options.budget
        ctx.accountant = Accountant(options.budget, price_override=options.price)
    if progress is not None:
        ctx.progress = progress
    return ctx


def _invoke(
    state: AuditState | None, run_id: str, ctx: RunContext, saver: BaseCheckpointSaver[Any] | None
) -> AuditState:
    app = compile_graph(saver, retry=node_retry(ctx.settings.retry_wait))
    try:
        out = app.invoke(state, _config(run_id, len(ctx.settings.concerns)), context=ctx)
    finally:
        ctx.release_heap()
    return AuditState.model_validate(out)


def initial_state(settings: RunSettings, run_id: str) -> AuditState:
    assert settings.date is not None, "the clock is settled before a run starts"
    return AuditState(
        run_id=run_id,
        date=settings.date,
        mode=settings.mode,
        concerns=list(settings.concerns),
    )


def run_audit(
    settings: RunSettings,
    run_id: str,
    store: RunStore | None = None,
    progress: ProgressFn | None = None,
    model: ModelClient | None = None,
    backend: KubeBackend | None = None,
) -> AuditState:
    """A full audit. With a store, every step is checkpointed and the run can be resumed by id.

    ``backend`` is the cluster of ``settings`` when the caller has opened it already."""
    backend = backend if backend is not None else open_cluster(settings)
    settings = settle_clock(settings, backend)  # before it is saved: a resume judges at the same time
    state = initial_state(settings, run_id)
    ctx = _context(settings, progress, model, run_id, backend, store)
    if store is None:
        return _invoke(state, run_id, ctx, None)
    # A run id given again starts that run afresh (its old checkpoints are dropped): otherwise the
    # reducers would append the new verdicts to the old run's.
    store.save(run_id, settings)
    with store.checkpoints(run_id) as saver:
        state = _invoke(state, run_id, ctx, saver)
    store.finish(run_id, run_status(state))
    return state


def resume_audit(
    run_id: str, store: RunStore, progress: ProgressFn | None = None, model: ModelClient | None = None
) -> AuditState:
    """Continue a killed run from its last checkpoint; finished research branches are not run again."""
    settings = store.load(run_id)
    with store.checkpoints(run_id) as saver:
        snapshot = compile_graph(saver).get_state(_config(run_id))
        if not snapshot.values:
            raise SettingsError(f"run {run_id!r} has no checkpoint to resume from")
        if settings.date is None:  # a run saved before the clock was part of its settings
            settings = settings.model_copy(update={"date": str(snapshot.values["date"])})
        ctx = _context(settings, progress, model, run_id, store=store)
        ctx.research = dict(snapshot.values.get("results") or {})  # for challengers the checkpoint still owes
        if not snapshot.next:
            return AuditState.model_validate(snapshot.values)
        state = _invoke(None, run_id, ctx, saver)
    store.finish(run_id, run_status(state))
    return state


def run_status(state: AuditState) -> str:
    """What ``infra-audit runs`` says of a run whose graph ran to its end."""
    failed = state.report.meta.concerns_failed if state.report is not None else {}
    return f"{FINISHED}, failed: {', '.join(failed)}" if failed else FINISHED


def concern_of(raw_id: str) -> Concern | None:
    code = raw_id.partition("#")[0]
    for concern, c in CONCERN_CODES.items():
        if c == code:
            return concern
    return None


def rerun_state(report: AuditReport, concerns: list[Concern], run_id: str) -> AuditState:
    """State for re-running ``concerns``: other concerns' results and verdicts carried over as they are."""
    keep = {c: r for c, r in report.concerns.items() if c not in concerns}
    verdicts = [v for v in report.verdicts if concern_of(v.finding) not in concerns]
    cited = {eid for v in verdicts for eid in v.evidence}
    carried = {ev.id for r in keep.values() for ev in r.evidence}
    challenge_evidence = [ev for ev in report.evidence if ev.id in cited and ev.id not in carried]
    return AuditState(
        run_id=run_id,
        date=report.meta.date,
        mode=report.meta.mode,
        concerns=concerns,
        results=keep,
        verdicts=verdicts,
        challenge_evidence=challenge_evidence,
    )


def rerun_audit(
    report: AuditReport,
    settings: RunSettings,
    concerns: list[Concern],
    progress: ProgressFn | None = None,
    model: ModelClient | None = None,
) -> AuditState:
    """Re-run some concerns of a finished audit and re-synthesize; other concerns stay byte-identical."""
    run_id = f"{report.meta.run_id}-rerun-{'-'.join(concerns)}"
    ctx = _context(settings, progress, model, run_id)
    return _invoke(rerun_state(report, concerns, run_id), run_id, ctx, None)


def settings_for_rerun(
    report: AuditReport, out: Path | None, estate: str | None, workdir: Path
) -> RunSettings:
    label = estate or report.meta.estate
    path = Path(label)
    if not path.is_absolute():
        path = workdir / path
    if not path.is_dir():
        raise SettingsError(
            f"the audited estate {label!r} is not a directory here; pass --estate PATH to say where it is"
        )
    return RunSettings(
        estate=path.resolve(),
        estate_label=label,
        cluster=report.meta.cluster,
        out=out,
        date=report.meta.date,
        mode=report.meta.mode,
        workdir=workdir,
    )
