"""Terminal rendering with rich: inventory summaries and evidence. Presentation only, no logic."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from domain.evidence import Evidence
from domain.report import Unread
from pipeline.render.unread import groups, lost_lines
from tools.inventory.inventory import Inventory

UNWRAPPED = 100_000
"""Columns of a console that is not a terminal: in effect, no limit."""
TERMINAL_CAP = 10
"""Files of one group the terminal names (``audit.json`` has all)."""


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
    from tools.helm.summary import render_line

    if (line := render_line(code.helm_renders)) is not None:
        console.print(line, highlight=False)
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
    unread_summary(
        console,
        Unread(
            estate=code.issues,
            cluster=live.issues if live is not None else [],
            resources=live.unread if live is not None else [],
        ),
    )


def unread_summary(console: Console, unread: Unread, cap: int = TERMINAL_CAP) -> None:
    """What was not read: files grouped by why (every snapshot file that did not load is named), then
    one line per cluster resource type not read."""
    if unread.estate or unread.cluster:
        console.print(
            f"[yellow]Not read: {len(unread.estate)} in the estate, {len(unread.cluster)} on the cluster "
            "side, reported and skipped:[/yellow]"
        )
    for group in groups(unread, cap):
        console.print(f"  {group.side}, {group.label}:", markup=False, highlight=False)
        for where, what in group.entries:  # file names and messages are data: never rich markup
            console.print(f"    {where}: {what}", markup=False, highlight=False)
        if group.more:
            console.print(f"    ... and {group.more} more (all in audit.json, 'unread')", markup=False)
    for line in lost_lines(unread.resources):
        console.print(
            f"[red]The cluster was read incompletely:[/red] {escape(line)}; the checks that read it are "
            "unknown or a lower bound",
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
