"""Flags shared by the commands that read an estate and, optionally, a cluster."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

if TYPE_CHECKING:
    from pipeline.runs import RunStore
    from pipeline.state import AuditState


def add_estate_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="root of the estate (the infrastructure repo) to audit")
    parser.add_argument(
        "--cluster",
        metavar="live|DIR",
        help="also read a cluster: 'live' for the kubeconfig context, or a snapshot directory",
    )
    parser.add_argument("--context", help="kubeconfig context to use with --cluster live (like kubectl)")
    parser.add_argument(
        "--kubeconfig", help="kubeconfig path(s); defaults to $KUBECONFIG, then ~/.kube/config"
    )


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", help="write audit.md, audit.json and audit.sarif here")
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where run checkpoints live (default: $INFRA_AUDIT_HOME or ~/.local/state/infra-audit)",
    )


def make_store(args: argparse.Namespace) -> RunStore:
    # imported here: pipeline.runs pulls in langgraph, which inventory/tool/check/--help never need
    from pipeline.runs import RunStore, default_state_dir

    return RunStore(Path(args.state_dir) if args.state_dir else default_state_dir())


def finish(console: Console, state: AuditState) -> int:
    """Print where the report went, what was not read, and a one-line verdict.

    Exit 1 when a concern failed or the cluster side lost a resource type (the audit is incomplete in a
    way a count of 0 would hide); an estate file that does not parse is reported and is not a failure.
    """
    from pipeline.console import unread_summary
    from pipeline.render.unread import lost_lines

    report = state.report
    if report is None:
        console.print("[red]the run ended without a report[/red]")
        return 1
    console.print(
        f"{len(report.findings)} findings ({sum(len(r.findings) for r in report.concerns.values())} raw, "
        f"{len(report.corrections)} corrections); Rank A leaders: {', '.join(report.leaders_a[:3])}"
    )
    if report.meta.usage:
        tokens = sum(
            u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens
            for u in report.meta.usage
        )
        costs = [u.cost_usd for u in report.meta.usage]
        cost = (
            "price unknown"
            if any(c is None for c in costs)
            else f"estimated ${sum(c or 0.0 for c in costs):.2f}"
        )
        console.print(
            f"model {report.meta.model}: {tokens:,} tokens, {cost} (per agent in the report header)"
        )
    unread_summary(console, report.unread)
    for path in state.written:
        console.print(f"wrote {path}")
    if not state.written:
        console.print("no --out given: nothing written (the run is kept; rerun with --out to write it)")
    if report.meta.concerns_failed:
        console.print(f"[red]failed concerns: {', '.join(report.meta.concerns_failed)}[/red]")
        return 1
    return 1 if lost_lines(report.unread.cluster) else 0


@contextmanager
def closing_model(model: Any) -> Iterator[None]:
    """Close the model client's HTTP connections when the command ends (no keep-alive sockets leak)."""
    try:
        yield
    finally:
        if model is not None and hasattr(model, "close"):
            model.close()
