"""``infra-audit checks`` lists the catalog; ``infra-audit check PATH ID`` runs one check."""

from __future__ import annotations

import argparse
from pathlib import Path

from domain.concerns import CONCERN_CODES
from domain.errors import SettingsError
from pipeline.commands.common import add_date_flag, add_estate_flags, concern_arg, estate_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("checks", help="list the deterministic check catalog")
    parser.add_argument(
        "--concern",
        type=concern_arg,
        help="only the checks of this concern, by code or name (R1 or reliability)",
    )
    parser.set_defaults(func=list_checks)
    one = sub.add_parser("check", help="run one check on an estate and print its evidence")
    add_estate_flags(one)
    one.add_argument("check_id", help="a check id from 'infra-audit checks', e.g. REL-PROBE-ANY")
    add_date_flag(one)
    one.set_defaults(func=run_one)


def list_checks(args: argparse.Namespace) -> int:
    from rich.table import Table

    from pipeline.console import make_console
    from tools.checks.spec import load_catalog

    table = Table(title="infra-audit checks")
    for column in ("id", "concerns", "I", "E", "R", "toil", "reads", "title"):
        table.add_column(column)
    for spec in load_catalog():
        if args.concern and spec.concern != args.concern:
            continue
        table.add_row(
            spec.id,
            "+".join(CONCERN_CODES[c] for c in spec.concerns),
            str(spec.impact),
            str(spec.effort),
            str(spec.risk),
            "yes" if spec.fatigue else "",
            spec.reads,
            spec.title,
        )
    make_console().print(table)
    return 0


def run_one(args: argparse.Namespace) -> int:
    from pipeline.console import evidence_panel, make_console
    from pipeline.context import RunContext
    from tools.checks.runner import run_check
    from tools.checks.spec import spec_by_id
    from tools.evidence import Ledger

    try:
        spec = spec_by_id(args.check_id)
    except KeyError:
        raise SettingsError(f"unknown check {args.check_id!r}; list them with 'infra-audit checks'") from None
    from pipeline.cluster import open_cluster, settle_clock

    settings = estate_settings(
        args, estate=Path(args.path).resolve(), estate_label=args.path, date=args.date, workdir=Path.cwd()
    )
    from pipeline.read_progress import ReadProgress

    with ReadProgress() as reads:
        backend = open_cluster(settings, reads)
        settings = settle_clock(settings, backend)
        ctx = RunContext(settings=settings, ledger=Ledger(settings.output_cap), backend=backend)
        outcome = run_check(spec, ctx.check_context(), agent="cli")
    evidence = ctx.ledger.get(outcome.evidence)
    assert evidence is not None
    evidence_panel(make_console(), evidence, max_lines=400)
    return 0
