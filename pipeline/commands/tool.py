"""``infra-audit tool PATH NAME key=value ...``: run one sandboxed read-only tool and print its evidence.

This is the same path the audit's agents use (validation, redaction, the ledger), so a person can
reproduce or extend any piece of evidence by hand.
"""

from __future__ import annotations

import argparse
import json

from domain.errors import SettingsError
from pipeline.commands.common import add_estate_flags, estate_settings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "tool", help="run one read-only tool (repo_search, kube_get, ...) and print evidence"
    )
    add_estate_flags(parser)
    parser.add_argument("name", nargs="?", help="tool name; omit with --list")
    parser.add_argument(
        "params", nargs="*", metavar="key=value", help="arguments; values are JSON or strings"
    )
    parser.add_argument("--list", action="store_true", help="list the tools and their arguments")
    parser.add_argument("--json", action="store_true", help="print the evidence record as JSON")
    parser.set_defaults(func=run)


def parse_params(params: list[str]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for item in params:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SettingsError(f"tool argument {item!r} is not key=value")
        try:
            parsed[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key] = raw
    return parsed


def run(args: argparse.Namespace) -> int:
    from pipeline.cluster import open_cluster
    from pipeline.console import evidence_panel, make_console
    from tools.evidence import Ledger
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    settings = estate_settings(args)
    toolbox = Toolbox(
        Jail(settings.estate, file_cap=settings.file_cap), open_cluster(settings), Ledger(settings.output_cap)
    )
    console = make_console()
    if args.list or not args.name:
        for spec in toolbox.specs:
            props = spec.input_schema().get("properties", {})
            console.print(f"[bold]{spec.name}[/bold] ({spec.group}): {', '.join(props)}")
            console.print(f"  {spec.description.splitlines()[0]}", markup=False)
        return 0
    evidence = toolbox.call(args.name, parse_params(args.params), agent="cli")
    if args.json:
        print(evidence.model_dump_json(indent=2))
    else:
        evidence_panel(console, evidence, max_lines=200)
    return 0 if evidence.status != "error" else 1
