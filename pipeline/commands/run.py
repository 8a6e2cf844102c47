"""``infra-audit run PATH``: the full audit. Without an API key it runs offline and says so."""

from __future__ import annotations

import argparse
import os
from datetime import date
from pathlib import Path

from rich.console import Console

from pipeline.audit import run_audit
from pipeline.commands.common import add_estate_flags, add_run_flags, finish, make_store
from pipeline.progress import Progress
from pipeline.runs import new_run_id
from pipeline.settings import RunSettings
from tools.checks.spec import CONCERNS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("run", help="audit an estate (and optionally a cluster) and write the report")
    add_estate_flags(parser)
    add_run_flags(parser)
    parser.add_argument("--concern", action="append", choices=CONCERNS, dest="concerns",
                        help="research only this concern (repeatable); default: all five")
    parser.add_argument("--run-id", help="id for this run (default: a timestamp); used by 'resume'")
    parser.add_argument("--date", type=_iso_date, help="audit date YYYY-MM-DD written in the report (default: today)")
    parser.add_argument("--offline", action="store_true", help="never call a model, even with an API key")
    parser.set_defaults(func=run)


def _iso_date(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def run(args: argparse.Namespace) -> int:
    console = Console()
    has_key = bool(os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("ANTHROPIC_AUTH_TOKEN"))
    if not has_key or args.offline:
        why = "--offline given" if args.offline else "no ANTHROPIC_API_KEY set"
        console.print(f"[yellow]Running offline ({why}): deterministic checks and challengers, no model.[/yellow]")
    else:
        console.print("[yellow]LLM agents are not available in this version; running offline.[/yellow]")
    settings = RunSettings.from_env(
        estate=Path(args.path).resolve(),
        estate_label=args.path,
        cluster=args.cluster,
        context=args.context,
        kubeconfig=args.kubeconfig,
        out=Path(args.out) if args.out else None,
        concerns=tuple(dict.fromkeys(args.concerns)) if args.concerns else None,
        date=args.date,
        mode="offline",
        workdir=Path.cwd(),
    )
    from tools.inventory.build import check_root

    check_root(args.path)
    run_id = args.run_id or new_run_id()
    store = make_store(args)
    console.print(f"run id: [bold]{run_id}[/bold] (resume with 'infra-audit resume {run_id}')")
    with Progress(console, list(settings.concerns)) as progress:
        state = run_audit(settings, run_id, store, progress)
    return finish(console, state)
