"""Terminal rendering with rich: inventory summaries and evidence. Presentation only, no logic."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domain.evidence import Evidence
from tools.inventory.inventory import Inventory

UNWRAPPED = 100_000
"""Columns of a console that is not a terminal: in effect, no limit."""


def make_console() -> Console:
    """The console of a command. On a terminal, rich's own (its width, its colours). Anywhere else (a
    pipe, a file, CI) no line is wrapped: rich's default of 80 columns split the ``$ infra-audit
    check ...`` lines of the evidence, which could then not be pasted back."""
    console = Console()
    if console.is_terminal:
        return console
    return Console(width=UNWRAPPED, soft_wrap=True)


def inventory_summary(console: Console, inventory: Inventory) -> None:
    code = inventory.code
    console.print(f"[bold]Estate[/bold] {inventory.root}: {inventory.files_scanned} files scanned")
    table = Table(title="Inventory (code)", show_lines=False)
    table.add_column("records")
    table.add_column("count", justify="right")
    for name, count in code.counts().items():
        if count and name != "issues":
            table.add_row(name.replace("_", " "), str(count))
    console.print(table)

    kinds = Counter(f"{w.kind} ({w.origin})" for w in code.workloads)
    containers = [c for w in code.workloads for c in w.containers]
    console.print(
        "Workloads: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(kinds.items()))
        + f"; containers: {sum(not c.init for c in containers)}, "
        + f"init containers: {sum(c.init for c in containers)}"
    )
    if code.issues:
        console.print(f"[yellow]{len(code.issues)} file(s) reported and skipped:[/yellow]")
        for issue in code.issues:
            where = f"{issue.path}:{issue.line}" if issue.line else issue.path
            console.print(f"  [yellow]{where}[/yellow] {issue.message}")

    live = inventory.live
    if live is not None:
        info = live.cluster
        console.print(
            f"[bold]Cluster[/bold] {info.name} ({info.backend}"
            + (f", captured {info.captured_at}" if info.captured_at else "")
            + f"): {len(live.nodes)} nodes, {len(live.pods)} pods, {len(live.workloads)} workloads, "
            f"{len(live.objects)} objects"
        )
        console.print(f"Linked code and live workloads: {len(inventory.links)}")
        if live.issues:
            console.print(f"[yellow]{len(live.issues)} snapshot file(s) reported and skipped[/yellow]")
        for unread in live.unread:
            console.print(
                f"[yellow]not read from the cluster:[/yellow] {escape(unread.resource)} "
                f"({escape(unread.reason)}); the checks that need it are incomplete",
                highlight=False,
            )


def evidence_panel(console: Console, evidence: Evidence, max_lines: int = 12) -> None:
    value = "" if evidence.value is None else f"  value={evidence.value:g}"
    console.print(f"[bold cyan]{evidence.id}[/bold cyan] {evidence.tool} [{evidence.status}]{value}")
    console.print(f"  $ {evidence.command}", markup=False, highlight=False)
    text = evidence.output if evidence.status != "error" else f"error: {evidence.error}"
    lines = text.splitlines()
    for line in lines[:max_lines]:
        console.print(f"  | {line}", markup=False, highlight=False)
    if len(lines) > max_lines or evidence.truncated:
        console.print(f"  | ... ({len(lines)} lines, sha256 {evidence.sha256[:12]})", markup=False)
