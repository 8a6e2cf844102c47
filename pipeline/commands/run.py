"""``infra-audit run PATH``: the full audit.

With an Anthropic credential (or ``ANTHROPIC_BASE_URL`` pointing at an Anthropic-compatible server)
the research, challenge and synthesis nodes are LLM agents; without one, or with ``--offline``, the
same graph runs offline, and the command says which. ``--record`` writes the model's traffic to a
cassette, ``--replay`` runs from one with no network and no key.
"""

from __future__ import annotations

import argparse
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.errors import SettingsError
from pipeline.commands.common import (
    add_date_flag,
    add_estate_flags,
    add_gate_flags,
    add_run_flags,
    closing_model,
    cluster_dir,
    concern_arg,
    finish,
    make_store,
    prune_runs,
    refuse_writes_into,
)
from pipeline.commands.model_flags import add_model_flags, model_settings

if TYPE_CHECKING:
    from pipeline.recorded_run import RecordedRun


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("run", help="audit an estate (and optionally a cluster) and write the report")
    add_estate_flags(parser, path_optional=True)
    add_run_flags(parser)
    add_gate_flags(parser)
    parser.add_argument(
        "--concern",
        action="append",
        type=concern_arg,
        dest="concerns",
        help="research only this concern, by code or name (R1 or reliability, ...; repeatable); "
        "default: all five",
    )
    parser.add_argument("--run-id", help="id for this run (default: a timestamp); used by 'resume'")
    add_date_flag(parser)
    add_model_flags(parser, recording=True)
    # cli.main runs ``early`` first, then defers what the graph imports and never uses
    parser.set_defaults(func=run, graph=True, early=start_early)


def _replay_arguments(args: argparse.Namespace) -> tuple[str | None, RecordedRun | None]:
    """Refuse flag combinations that cannot work; fill a replay's arguments from its cassette header.

    Returns the model the cassette was recorded with and its recorded run (None when not replaying).
    """
    from pipeline.recorded_run import reconcile, recorded_run
    from pipeline.recording import read_label

    if args.replay and args.record:
        raise SettingsError("--record and --replay cannot be used together: a replay sends nothing to record")
    if args.replay and args.offline:
        raise SettingsError(
            "--offline and --replay cannot be used together: a replay runs the recorded model"
        )
    replay_model, recorded = None, None
    if args.replay:
        label = read_label(Path(args.replay))
        recorded = recorded_run(label, Path(args.replay))
        if recorded is not None:
            reconcile(args, recorded, Path(args.replay))
        replay_model = str(label.get("model") or "") or None
    if args.path is None:
        raise SettingsError("the estate PATH is required (with --replay, a cassette whose header records it)")
    return replay_model, recorded


def refuse_bad_suppressions(settings: Any, backend: Any) -> None:
    """Parse the estate's suppressions (inline and accepted risks) once before the graph runs, so one
    with no reason or a bad date stops the command at once (one line, exit 2), not after the audit."""
    from agents.offline.suppressions import accepted_list, scan
    from pipeline.context import RunContext
    from tools.evidence import Ledger

    ctx = RunContext(settings=settings, ledger=Ledger(settings.output_cap), backend=backend)
    day = settings.clock.date()
    scan(ctx, day)
    accepted_list(ctx, day, [])


def start_early(args: argparse.Namespace) -> None:
    """Right after the arguments are parsed, before anything heavy is imported: a big snapshot's biggest
    dumps start being staged by a child (``tools/kube/snapshot_farm.py``), and a big estate starts
    being parsed by another (``tools/inventory/parse_early.py``); both modules are standard library
    only. A run that fetches charts parses in process: fetching is the run's to do and report."""
    snapshot = cluster_dir(args.cluster)
    if snapshot is not None:
        from tools.kube.snapshot_farm import Farm

        Farm.early(snapshot)
    if args.path and not getattr(args, "fetch_charts", None):  # a replay may take its path from the cassette
        from tools.inventory.parse_early import EarlyParse

        with suppress(RuntimeError):  # no home directory to expand "~" in: the run will say so
            EarlyParse.start(Path(args.path).expanduser())


def _chart_cache(args: argparse.Namespace) -> Path:
    """The chart cache the run's settings will name (``RunSettings.chart_options``: the flag, else the
    environment's, relative to the working directory), for the child parsing early. It is compared
    with the settled one when the parse is taken: were they to differ, the estate is parsed again."""
    path = args.env.chart_cache_for(getattr(args, "chart_cache", None))
    return path if path.is_absolute() else Path.cwd() / path


def run(args: argparse.Namespace) -> int:
    if args.path:  # before the heavy imports: the child parsing early waits for its chart cache
        from tools.inventory.parse_early import EarlyParse

        with suppress(RuntimeError):  # no home directory to expand "~" in: the settings will say so
            EarlyParse.choose(Path(args.path).expanduser(), _chart_cache(args))
    from pipeline import models
    from pipeline.audit import run_audit
    from pipeline.cluster import open_cluster, settle_clock
    from pipeline.console import make_console
    from pipeline.gate import load_baseline
    from pipeline.progress import Progress
    from pipeline.read_progress import ReadProgress
    from pipeline.recorded_run import RUN_KEY, RecordedRun
    from pipeline.recording import cassette
    from pipeline.runs import check_run_id, new_run_id
    from pipeline.settings import RunSettings

    console = make_console()
    replay_model, replayed = _replay_arguments(args)
    if args.run_id:
        check_run_id(args.run_id)  # it names files: refused before anything runs or is printed
    mind = models.choose(
        args.env,
        offline=args.offline,
        replay=bool(args.replay),
        record=bool(args.record),
        provider=args.provider,
    )
    from tools.inventory.build import check_root

    check_root(args.path)
    if args.baseline:
        load_baseline(Path(args.baseline))  # a bad baseline is refused before the audit runs
    refuse_writes_into(
        {"estate": Path(args.path), "snapshot": cluster_dir(args.cluster)},
        {"--out": args.out, "--state-dir": args.state_dir, "--record": args.record},
    )
    options = model_settings(args, args.env, replay_model)  # the flags are checked whatever the mode
    if replayed is not None:  # a Vertex request's path names the recorded region and project
        options = options.model_copy(update={"region": replayed.region, "project": replayed.project})
    model = None
    if mind.mode == "llm":
        model = models.build_model(options, args.env, replay=bool(args.replay))
        settled = getattr(model, "settings", None)  # a cloud client settles its region and project
        if settled is not None:
            options = options.model_copy(update={"region": settled.region, "project": settled.project})
        console.print(f"[green]LLM agents on {model.model} ({mind.why}).[/green]")
    else:
        console.print(
            f"[yellow]Running offline ({mind.why}): deterministic checks and challengers, no model.[/yellow]"
        )
    settings = RunSettings.from_env(
        args.env,
        estate=Path(args.path).resolve(),
        estate_label=args.path,
        cluster=args.cluster,
        context=args.context,
        kubeconfig=args.kubeconfig,
        kube_timeout=args.kube_timeout,
        chart_cache=getattr(args, "chart_cache", None),
        fetch_charts=getattr(args, "fetch_charts", None) or None,
        out=Path(args.out) if args.out else None,
        concerns=tuple(dict.fromkeys(args.concerns)) if args.concerns else None,
        date=args.date,
        mode=mind.mode,
        llm=options if mind.mode == "llm" else None,
        max_concurrency=args.max_concurrency,
        workdir=Path.cwd(),
        keep_runs=args.keep_runs,
        fail_on=args.fail_on,
        baseline=Path(args.baseline) if args.baseline else None,
    )
    reads = ReadProgress()  # a live cluster's paged lists, per kind (stderr, a terminal only)
    backend = open_cluster(settings, reads)
    settings = settle_clock(settings, backend)  # one clock for the checks, the report and a recording
    refuse_bad_suppressions(settings, backend)  # a suppression with no reason: before the audit runs
    run_id = args.run_id or new_run_id()
    store = make_store(args)
    console.print(f"run id: [bold]{run_id}[/bold] (resume with 'infra-audit resume {run_id}')")
    if args.replay:
        recording: Any = cassette(Path(args.replay), "replay")
    elif args.record and model is not None:
        recorded = RecordedRun(
            command="run",
            estate=args.path,
            cluster=args.cluster,
            context=args.context,
            run_id=run_id,
            date=str(settings.date),
            provider=options.provider,
            region=options.region,
            project=options.project,
            model=model.model,
            challenger_model=options.challenger_model,
            synthesizer_model=options.synthesizer_model,
            request_timeout=args.request_timeout,
            concerns=settings.concerns,
            stream=options.stream,
            anonymize=options.anonymize,
            budget=options.budget,
            price=options.price,
        )
        label = models.label_for(model, model.endpoint, str(settings.date), options.provider)
        recording = cassette(
            Path(args.record), "record", {**label, RUN_KEY: recorded.model_dump(mode="json")}
        )
    else:
        recording = nullcontext()
    with closing_model(model), recording, reads, Progress(console, list(settings.concerns)) as progress:
        if progress.live:
            reads.into(progress)  # its table holds the terminal: the reads go in its cluster row
        state = run_audit(settings, run_id, store, progress, model=model, backend=backend)
    code = finish(console, state, settings.fail_on)
    prune_runs(console, store, settings)
    return code
