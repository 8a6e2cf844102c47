"""``infra-audit inventory PATH``: parse an estate (and a cluster) and print what was found."""

from __future__ import annotations

import argparse
import sys

from pipeline.commands.common import add_estate_flags, estate_settings

# A few representative reads, shown by --evidence until the audit pipeline uses the ledger itself.
DEMO_REPO_CALLS: list[tuple[str, dict[str, object]]] = [
    ("repo_count", {"pattern": ":latest", "fixed": True}),
    ("repo_count", {"pattern": "ignore_changes", "fixed": True}),
    ("repo_search", {"pattern": "null_resource|terraform_data", "glob": "*.tf"}),
]
DEMO_KUBE_CALLS: list[tuple[str, dict[str, object]]] = [
    ("kube_top", {"what": "nodes"}),
    (
        "kube_get",
        {
            "resource": "pods",
            "all_namespaces": True,
            "fields": ["metadata.namespace", "metadata.name", "status.phase"],
        },
    ),
]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("inventory", help="parse an estate (and a cluster) and print the inventory")
    add_estate_flags(parser)
    parser.add_argument("--json", action="store_true", help="print the whole inventory as JSON")
    parser.add_argument(
        "--evidence",
        action="store_true",
        help="also run a few read-only tool calls and show their evidence (id, command, output)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.cluster import open_cluster
    from pipeline.console import evidence_panel, inventory_summary, make_console
    from pipeline.read_progress import ReadProgress
    from tools.evidence import Ledger
    from tools.inventory.build import build_inventory
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    settings = estate_settings(args)
    with ReadProgress() as reads:
        backend = open_cluster(settings, reads)
        inventory = build_inventory(settings.estate, cluster=backend, charts=settings.chart_options())
    if args.json:
        sys.stdout.write(inventory.model_dump_json(indent=2) + "\n")
        return 0
    console = make_console()
    inventory_summary(console, inventory)
    if args.evidence:
        toolbox = Toolbox(
            Jail(settings.estate, file_cap=settings.file_cap), backend, Ledger(settings.output_cap)
        )
        console.print("\n[bold]Evidence of a few read-only tool calls[/bold]")
        calls = DEMO_REPO_CALLS + (DEMO_KUBE_CALLS if backend is not None else [])
        for name, call_args in calls:
            evidence_panel(console, toolbox.call(name, dict(call_args), agent="demo"))
    return 0
