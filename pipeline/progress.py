"""The live progress display: one row per graph step and research branch, updated from node threads.

On a terminal it is a rich Live table; elsewhere (CI, a pipe) it prints one plain line per milestone
of a branch (started, its result, failed), never one per recount or agent turn, so logs stay readable.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from domain.concerns import CONCERN_CODES, Concern


class Progress:
    def __init__(self, console: Console, concerns: list[Concern]) -> None:
        self.console = console
        self._rows: dict[tuple[str, str], tuple[str, float]] = {}
        self._order: list[tuple[str, str]] = [("inventory", "estate")]
        self._order += [("research", c) for c in concerns]
        self._order += [
            ("challenge", "numbers"),
            ("challenge", "intent"),
            ("synthesize", "report"),
            ("render", "report"),
        ]
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._live: Live | None = None

    def __call__(self, node: str, who: str, message: str, *, detail: bool = False) -> None:
        with self._lock:
            key = (node, who)
            if key not in self._order:
                self._order.append(key)
            self._rows[key] = (message, time.monotonic() - self._start)
            if self._live is not None:
                self._live.update(self._table())
                return
        if detail:
            return  # a log gets a branch's milestones, not a line per recount or agent turn
        label = f"{node} {CONCERN_CODES.get(who, '')} {who}".replace("  ", " ")  # type: ignore[call-overload]
        self.console.print(f"[dim]{label}:[/dim] {message}", highlight=False)

    @property
    def live(self) -> bool:
        """Whether the table is drawn live on a terminal (else milestones are printed as lines)."""
        return self._live is not None

    def _table(self) -> Table:
        table = Table(show_header=True, header_style="bold", box=None)
        table.add_column("step")
        table.add_column("branch")
        table.add_column("status")
        table.add_column("t", justify="right")
        for key in self._order:
            message, at = self._rows.get(key, ("waiting", 0.0))
            table.add_row(key[0], key[1], message, f"{at:.1f}s" if key in self._rows else "")
        return table

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self._live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(exc_type, exc, tb)
            self._live = None
