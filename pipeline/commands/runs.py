"""``infra-audit runs``: the run store (checkpoints kept for ``resume``), listed, deleted, pruned.

infra-audit runs                         list: id, estate, start (UTC), status, size
infra-audit runs delete RUN_ID...        delete these runs
infra-audit runs prune [--keep N] [--estate PATH]
                                         keep the newest N runs of each estate (or of one)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands.common import add_state_dir_flag, make_store


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("runs", help="list the runs kept for 'resume', delete or prune them")
    add_state_dir_flag(parser)
    parser.set_defaults(func=list_runs)
    actions = parser.add_subparsers(dest="runs_action", metavar="ACTION")
    delete = actions.add_parser("delete", help="delete runs by id (their checkpoints and settings)")
    delete.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="ids as 'infra-audit runs' lists them")
    add_state_dir_flag(delete)
    delete.set_defaults(func=delete_runs)
    prune = actions.add_parser("prune", help="keep the newest N runs of each estate, delete the rest")
    prune.add_argument(
        "--keep",
        metavar="N",
        type=_count,
        help="runs to keep per estate (default: $INFRA_AUDIT_KEEP_RUNS, else 10; 0 deletes all)",
    )
    prune.add_argument("--estate", metavar="PATH", help="prune only the runs of this estate")
    add_state_dir_flag(prune)
    prune.set_defaults(func=prune_runs)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of runs (0 or more)")
    return int(text)


def list_runs(args: argparse.Namespace) -> int:
    from rich.table import Table

    from pipeline.console import make_console
    from tools.sizes import format_size

    store = make_store(args)
    runs = store.runs()
    console = make_console()
    if not runs:
        console.print(f"no runs in {store.state_dir}", highlight=False)
        return 0
    table = Table(box=None, header_style="bold")
    for column in ("run id", "estate", "started (UTC)", "status", "size"):
        table.add_column(column, justify="right" if column == "size" else "left")
    for run in runs:
        started = run.created[:19].replace("T", " ")
        table.add_row(run.run_id, run.estate, started, run.status, format_size(run.size))
    console.print(table)
    console.print(
        f"{len(runs)} run(s), {format_size(store.disk_usage())} in {store.state_dir}", highlight=False
    )
    return 0


def delete_runs(args: argparse.Namespace) -> int:
    from pipeline.console import make_console
    from tools.sizes import format_size

    store = make_store(args)
    freed = store.delete(args.run_ids)
    make_console().print(
        f"deleted {len(set(args.run_ids))} run(s) from {store.state_dir}: {format_size(freed)} freed",
        highlight=False,
    )
    return 0


def prune_runs(args: argparse.Namespace) -> int:
    from pipeline.console import make_console
    from tools.sizes import format_size

    keep = args.keep if args.keep is not None else args.env.keep_runs_count()
    store = make_store(args)
    before = store.disk_usage()
    estate = str(Path(args.estate).resolve()) if args.estate else None
    pruned = store.prune(keep, estate=estate)
    console = make_console()
    for run in pruned:
        console.print(f"deleted {run.run_id} ({run.estate}, {run.created[:10]})", highlight=False)
    console.print(
        f"kept the newest {keep} run(s) per estate; deleted {len(pruned)}, "
        f"{format_size(before - store.disk_usage())} freed",
        highlight=False,
    )
    return 0
