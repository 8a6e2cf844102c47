"""Progress of a live cluster's reads: one bar per resource kind whose list takes more than one page.

``LiveBackend`` pages every list (``limit``/``continue``) and reports each page here. A list that fits
in one page shows nothing, so a small cluster reads silently; a large one gets a bar per paged kind
(``pods 3,500/10,028``), on **stderr** and only when stderr is a terminal: a pipe, a CI log or a test
sees nothing, and stdout (reports, ``--json``) never does.

Inside ``infra-audit run`` on a terminal, the run's own live table already holds the screen (two rich
live displays on one terminal overwrite each other), so the reads are shown there instead, in the
``inventory cluster`` row, which that table draws only on a terminal.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from agents.context import ProgressFn


class ReadProgress:
    """The ``on_page`` of a ``LiveBackend``; a context manager that clears its bars when the command ends."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console if console is not None else Console(stderr=True)
        self.row: ProgressFn | None = None
        """The run's live table, when it is on a terminal: the reads go to its row instead of bars."""
        self._bars: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._open: set[str] = set()
        """Kinds whose list is between its first and its last page."""
        self._lock = threading.Lock()

    @property
    def shown(self) -> bool:
        return self.row is not None or self.console.is_terminal

    def __call__(self, kind: str, fetched: int, remaining: int | None, *, done: bool) -> None:
        if not self.shown:
            return
        with self._lock:
            if done and kind not in self._open:
                return  # a list of one page: nothing to follow
            if done:
                self._open.discard(kind)
            else:
                self._open.add(kind)
            total = fetched if done else (fetched + remaining if remaining is not None else None)
            if self.row is not None:
                of = f"/{total:,}" if total is not None else ""
                self.row("inventory", "cluster", f"read {kind} {fetched:,}{of}", detail=True)
                return
            bars = self._start()
            if kind not in self._tasks:
                self._tasks[kind] = bars.add_task(kind, total=total)
            bars.update(self._tasks[kind], completed=fetched, total=total)

    def _start(self) -> Progress:
        if self._bars is None:
            self._bars = Progress(
                TextColumn("reading [bold]{task.description}[/bold]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._bars.start()
        return self._bars

    def into(self, row: ProgressFn) -> None:
        """From now on, report to ``row`` (the run's live table) instead of bars of its own."""
        self.close()
        self.row = row

    def close(self) -> None:
        with self._lock:
            if self._bars is not None:
                self._bars.stop()
                self._bars = None
                self._tasks.clear()  # their ids belong to the bars just stopped

    def __enter__(self) -> ReadProgress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
