"""``infra-audit rerun AUDIT.json --concern X``: re-run a concern; the rest stays as it was."""

from __future__ import annotations

import argparse
from pathlib import Path

from domain.errors import SettingsError
from pipeline.commands.common import (
    add_chart_flags,
    add_gate_flags,
    closing_model,
    cluster_dir,
    concern_arg,
    finish,
    refuse_writes_into,
)
from pipeline.commands.model_flags import add_model_flags, model_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("rerun", help="re-run some concerns of a finished audit and re-synthesize")
    parser.add_argument("audit", help="the audit.json of the audit to update")
    parser.add_argument(
        "--concern",
        action="append",
        type=concern_arg,
        dest="concerns",
        help="concern to re-run, by code or name (R5 or security, ...; repeatable; with --replay, the "
        "recorded ones by default)",
    )
    parser.add_argument("--out", metavar="DIR", help="where to write the new report (default: next to AUDIT)")
    parser.add_argument("--estate", metavar="PATH", help="the estate, if not at the path recorded in AUDIT")
    parser.add_argument("--offline", action="store_true", help="re-run without a model, even with an API key")
    parser.add_argument(
        "--replay", metavar="CASSETTE", help="replay the re-run's model traffic from a cassette"
    )
    add_chart_flags(parser)
    add_gate_flags(parser)
    add_model_flags(parser, recording=False)
    parser.set_defaults(func=run, graph=True)  # cli.main defers what the graph imports and never uses


def run(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from pipeline import models
    from pipeline.audit import rerun_audit, settings_for_rerun
    from pipeline.console import make_console
    from pipeline.progress import Progress
    from pipeline.recorded_run import reconcile_rerun, recorded_run
    from pipeline.recording import cassette, read_label
    from pipeline.render.json_out import load_report

    console = make_console()
    if args.replay and args.offline:
        raise SettingsError(
            "--offline and --replay cannot be used together: a replay runs the recorded model"
        )
    label = read_label(Path(args.replay)) if args.replay else {}
    recorded = recorded_run(label, Path(args.replay)) if args.replay else None
    if recorded is not None:
        args.concerns = reconcile_rerun(args.concerns, recorded, Path(args.replay))
        args.provider = args.provider or recorded.provider
    if not args.concerns:
        raise SettingsError("--concern is required: name the concern(s) to re-run")
    model_settings(args, args.env)  # the model flags are checked first, whatever the mode
    report = load_report(Path(args.audit))
    out = Path(args.out) if args.out else Path(args.audit).parent
    settings = settings_for_rerun(report, out, args.estate, Path.cwd())
    refuse_writes_into(
        {"estate": settings.estate, "snapshot": cluster_dir(settings.cluster)},
        {"--out": str(out)},
    )
    concerns = list(dict.fromkeys(args.concerns))
    mind = models.choose(
        args.env, offline=args.offline, replay=bool(args.replay), record=False, provider=args.provider
    )
    # the budget and price flags count as in a run; the re-run concern is researched by the model
    # that wrote the rest of the audit (a replay's recorded one), unless --model says otherwise
    recorded_model = str(label.get("model") or "") or args.model or report.meta.model
    options = model_settings(args, args.env, recorded_model)
    if recorded is not None:  # a Vertex request's path names the recorded region and project
        options = options.model_copy(update={"region": recorded.region, "project": recorded.project})
    if args.baseline:
        load_report(Path(args.baseline))  # a bad baseline is refused before anything runs
    settings = settings.model_copy(
        update={
            "fail_on": args.fail_on,
            "baseline": Path(args.baseline).resolve() if args.baseline else None,
            # --chart-cache, else the environment's, as ``run`` reads it: the same releases render
            "chart_cache": args.env.chart_cache_for(args.chart_cache),
            "fetch_charts": bool(args.fetch_charts),
        }
    )
    settings.refuse_fetching_into_audited()
    if args.max_concurrency is not None:
        settings = settings.model_copy(update={"max_concurrency": args.max_concurrency})
    model = None
    if mind.mode == "llm":
        model = models.build_model(options, args.env, replay=bool(args.replay))
        settings = settings.model_copy(update={"mode": "llm", "llm": options})
    console.print(f"re-running {', '.join(concerns)} ({mind.mode}: {mind.why})")
    recording = cassette(Path(args.replay), "replay") if args.replay else nullcontext()
    with closing_model(model), recording, Progress(console, concerns) as progress:
        state = rerun_audit(report, settings, concerns, progress, model=model)
    return finish(console, state, args.fail_on)
