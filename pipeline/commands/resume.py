"""``infra-audit resume RUN_ID``: continue a killed run from its last checkpoint."""

from __future__ import annotations

import argparse

from domain.errors import SettingsError
from pipeline.commands.common import add_state_dir_flag, closing_model, finish, make_store, prune_runs


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("resume", help="continue a killed run; finished concerns are not redone")
    parser.add_argument("run_id", help="the run id printed by 'infra-audit run'")
    add_state_dir_flag(parser)
    parser.set_defaults(func=run, graph=True)  # cli.main defers what the graph imports and never uses


def run(args: argparse.Namespace) -> int:
    from agents.llm.settings import ModelSettings
    from pipeline.audit import resume_audit
    from pipeline.console import make_console
    from pipeline.progress import Progress

    console = make_console()
    store = make_store(args)
    settings = store.load(args.run_id)
    model = None
    if settings.mode == "llm":
        from pipeline import models

        provider = settings.llm.provider if settings.llm is not None else None
        mind = models.choose(args.env, offline=False, replay=False, record=False, provider=provider)
        if mind.mode != "llm":
            raise SettingsError(
                f"run {args.run_id!r} used a model: set ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL to resume it"
            )
        model = models.build_model(settings.llm or ModelSettings(), args.env)
    with closing_model(model), Progress(console, list(settings.concerns)) as progress:
        state = resume_audit(args.run_id, store, progress, model=model)
    code = finish(console, state, settings.fail_on)
    prune_runs(console, store, settings)
    return code
