"""Flags shared by the commands that read an estate and, optionally, a cluster."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.concerns import CONCERN_CODES, Concern, parse_concern
from domain.errors import SettingsError
from tools.clock import CLOCK_FORMS, format_clock, parse_clock

if TYPE_CHECKING:
    from rich.console import Console

    from domain.identity import Severity
    from pipeline.runs import RunStore
    from pipeline.settings import RunSettings
    from pipeline.state import AuditState


def add_estate_flags(parser: argparse.ArgumentParser, *, path_optional: bool = False) -> None:
    parser.add_argument(
        "path",
        nargs="?" if path_optional else None,
        help="root of the estate (the infrastructure repo) to audit"
        + ("; with --replay, the recorded one by default" if path_optional else ""),
    )
    parser.add_argument(
        "--cluster",
        metavar="live|DIR",
        help="also read a cluster: 'live' for the kubeconfig context, or a snapshot directory",
    )
    parser.add_argument("--context", help="kubeconfig context to use with --cluster live (like kubectl)")
    parser.add_argument(
        "--kubeconfig", help="kubeconfig path(s); defaults to $KUBECONFIG, then ~/.kube/config"
    )
    add_kube_timeout_flag(parser)
    add_chart_flags(parser)


def add_chart_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--chart-cache",
        metavar="DIR",
        help="Helm charts to render releases with (default: $INFRA_AUDIT_CHART_CACHE, else "
        "~/.cache/infra-audit/charts); fill it with 'infra-audit charts import' or --fetch-charts",
    )
    parser.add_argument(
        "--fetch-charts",
        action="store_true",
        help="pull charts missing from the cache from their repositories (network; read-only GETs)",
    )


def add_kube_timeout_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kube-timeout",
        type=float,
        metavar="SECONDS",
        help="longest wait for one Kubernetes API request (default 20; connecting: at most 5)",
    )


def add_date_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--date",
        type=clock_arg,
        metavar="DATE",
        help="the audit clock, YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ: every time-based check "
        "judges at it (default: a snapshot's capture time; now for a live cluster; else today)",
    )


def clock_arg(text: str) -> str:
    try:
        return format_clock(parse_clock(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time in the form {CLOCK_FORMS}"
        ) from None


def concern_arg(text: str) -> Concern:
    """``--concern``: a name or a code (R1..R5, as 'infra-audit checks' shows them), any case."""
    concern = parse_concern(text)
    if concern is None:
        valid = ", ".join(f"{code} {name}" for name, code in CONCERN_CODES.items())
        raise argparse.ArgumentTypeError(f"unknown concern {text!r}; valid: {valid} (a code or a name)")
    return concern


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", metavar="DIR", help="write audit.md, audit.json and audit.sarif here")
    add_state_dir_flag(parser)
    parser.add_argument(
        "--keep-runs",
        metavar="N",
        type=int,
        help="after the run, keep the newest N runs of this estate in the run store "
        "(default: $INFRA_AUDIT_KEEP_RUNS, else 10; 0 keeps none)",
    )


def add_gate_flags(parser: argparse.ArgumentParser) -> None:
    """``--fail-on`` and ``--baseline``: what makes the command exit 1 for a CI job."""
    parser.add_argument(
        "--fail-on",
        type=severity_arg,
        metavar="SEVERITY",
        help="exit 1 when an open finding is at or above SEVERITY (critical, high, medium, low, info; "
        "or 5..1); without it the exit code does not depend on the findings",
    )
    parser.add_argument(
        "--baseline",
        metavar="AUDIT_JSON",
        help="an older audit.json: findings are marked new or not since it, and only new ones gate",
    )


def severity_arg(text: str) -> Severity:
    from domain.identity import SEVERITY_NAMES, parse_severity  # lazy: --help loads no pydantic

    severity = parse_severity(text)
    if severity is None:
        raise argparse.ArgumentTypeError(
            f"unknown severity {text!r}; valid: {', '.join(SEVERITY_NAMES)} (or 5..1)"
        )
    return severity


def add_state_dir_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where run checkpoints live (default: $INFRA_AUDIT_HOME or ~/.local/state/infra-audit)",
    )


def prune_runs(console: Console, store: RunStore | None, settings: RunSettings) -> None:
    """After a run: keep the newest ``settings.keep_runs`` runs of its estate, and say what went."""
    from tools.sizes import format_size

    if store is None:  # a run without a store (bench/phases.py measures one)
        return

    before = store.disk_usage()
    pruned = store.prune(settings.keep_runs, estate=settings.estate)
    if pruned:
        console.print(
            f"pruned {len(pruned)} older run(s) of this estate from {store.state_dir} "
            f"({format_size(before - store.disk_usage())} freed; keeping {settings.keep_runs}: --keep-runs)",
            highlight=False,
        )


def refuse_writes_into(read: dict[str, Path | None], writes: dict[str, str | None]) -> None:
    """Refuse any place a command writes (``--out``, ``--state-dir``, ``--record``) inside what it
    reads (the estate, a snapshot directory): infra-audit never writes to what it audits, and the
    next audit would read what it wrote there. One line, exit 2."""
    for flag, target in writes.items():
        if not target:
            continue
        where = Path(target).expanduser().resolve()
        for what, root in read.items():
            if root is not None and root.is_dir() and where.is_relative_to(root.resolve()):
                raise SettingsError(
                    f"{flag} {target!r} is inside the audited {what}: infra-audit never writes to what it "
                    "audits (and the next audit would read it); write it elsewhere"
                )


def estate_settings(args: argparse.Namespace, **more: Any) -> RunSettings:
    """The run settings of a command's estate flags (``add_estate_flags``), plus ``more``."""
    from pipeline.settings import RunSettings

    return RunSettings.from_env(
        args.env,
        **{
            "estate": args.path,
            "cluster": args.cluster,
            "context": args.context,
            "kubeconfig": args.kubeconfig,
            "kube_timeout": args.kube_timeout,
            "chart_cache": getattr(args, "chart_cache", None),
            "fetch_charts": getattr(args, "fetch_charts", None) or None,
            **more,
        },
    )


def cluster_dir(cluster: str | None) -> Path | None:
    """The snapshot directory of ``--cluster``, or None for a live cluster or none."""
    return Path(cluster).expanduser() if cluster and cluster != "live" else None


def make_store(args: argparse.Namespace) -> RunStore:
    # imported here: pipeline.runs pulls in langgraph, which inventory/tool/check/--help never need
    from pipeline.runs import RunStore

    return RunStore(Path(args.state_dir) if args.state_dir else args.env.state_dir())


def finish(console: Console, state: AuditState, fail_on: Severity | None = None) -> int:
    """Print where the report went, what was not read, the gate, and a one-line verdict.

    Exit 4 when a concern failed or a cluster resource type was not read, live or from a snapshot alike
    (the audit is incomplete in a way a count of 0 would hide), whatever the gate says; else 1 when
    ``--fail-on`` finds an open finding at or above it (new ones only, against a baseline); else 0.
    A file that does not parse is reported and is not a failure.
    """
    from pipeline.console import unread_summary
    from pipeline.gate import EXIT_INCOMPLETE, exit_code, gate_findings

    report = state.report
    if report is None:
        console.print("[red]the run ended without a report[/red]")
        return EXIT_INCOMPLETE
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
    if report.baseline is not None:
        new = [f.id for f in report.findings if f.new]
        console.print(
            f"against the baseline {report.baseline.path} ({report.baseline.run_id}): {len(new)} new "
            f"finding(s){' (' + ', '.join(new) + ')' if new else ''}, {len(report.baseline.fixed)} fixed",
            highlight=False,
        )
    if fail_on is not None:
        blocked = gate_findings(report, fail_on)
        scope = "new " if report.baseline is not None else ""
        verdict = f"[red]failed[/red]: {', '.join(blocked)}" if blocked else "[green]passed[/green]"
        console.print(
            f"gate --fail-on {fail_on}: {len(blocked)} open {scope}finding(s) at or above; {verdict}"
        )
    if report.meta.concerns_failed:
        console.print(f"[red]failed concerns: {', '.join(report.meta.concerns_failed)}[/red]")
    return exit_code(report, fail_on)


@contextmanager
def closing_model(model: Any) -> Iterator[None]:
    """Close the model client's HTTP connections when the command ends (no keep-alive sockets leak)."""
    try:
        yield
    finally:
        if model is not None and hasattr(model, "close"):
            model.close()
