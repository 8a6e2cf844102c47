"""The per-kind progress of a live cluster's paged lists (``pipeline/read_progress.py``).

Bars on a terminal only, for lists of more than one page; nothing in a pipe or a test; never stdout;
inside a run on a terminal, the run's own table row instead of bars.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from pipeline.read_progress import ReadProgress

pytestmark = pytest.mark.unit

PAGED = [("pods", 500, 700, False), ("pods", 1000, 200, False), ("pods", 1200, 0, True)]
ONE_PAGE = [("namespaces", 12, 0, True), ("nodes", 0, 0, True)]


def feed(reads: ReadProgress, calls: list[tuple[str, int, int | None, bool]]) -> None:
    for kind, fetched, remaining, done in calls:
        reads(kind, fetched, remaining, done=done)


def test_a_terminal_gets_a_bar_per_paged_kind_on_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    screen = io.StringIO()
    with ReadProgress(Console(file=screen, force_terminal=True, color_system=None, width=100)) as reads:
        feed(reads, ONE_PAGE)
        assert screen.getvalue() == ""  # a list of one page draws nothing
        feed(reads, PAGED)
    drawn = screen.getvalue()
    assert "reading pods" in drawn and "1200/1200" in drawn
    assert "namespaces" not in drawn and "nodes" not in drawn
    assert capsys.readouterr() == ("", "")  # not stdout (and the bars went to the console given)


def test_not_a_terminal_draws_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    screen = io.StringIO()
    with ReadProgress(Console(file=screen, force_terminal=False)) as reads:
        assert not reads.shown
        feed(reads, ONE_PAGE + PAGED)
    assert screen.getvalue() == ""
    assert capsys.readouterr() == ("", "")


def test_the_default_display_is_stderr_and_silent_under_test(capsys: pytest.CaptureFixture[str]) -> None:
    with ReadProgress() as reads:
        assert reads.console.stderr and not reads.shown
        feed(reads, PAGED)
    assert capsys.readouterr() == ("", "")


def test_inside_a_run_the_reads_go_to_its_table_row() -> None:
    rows: list[tuple[str, str, str, bool]] = []

    def row(node: str, who: str, message: str, *, detail: bool = False) -> None:
        rows.append((node, who, message, detail))

    screen = io.StringIO()
    with ReadProgress(Console(file=screen, force_terminal=True)) as reads:
        reads("pods", 500, 700, done=False)  # before the run's table starts: a bar
        reads.into(row)
        feed(reads, [*ONE_PAGE, ("pods", 1000, 200, False), ("pods", 1200, 0, True)])
        feed(reads, [("events", 500, None, False), ("events", 640, 0, True)])
    assert rows == [
        ("inventory", "cluster", "read pods 1,000/1,200", True),
        ("inventory", "cluster", "read pods 1,200/1,200", True),
        ("inventory", "cluster", "read events 500", True),  # the server did not say how many remain
        ("inventory", "cluster", "read events 640/640", True),
    ]
    assert "1000/1200" not in screen.getvalue()  # the bars stopped when the table took over


def test_bars_closed_and_started_again_follow_the_new_lists() -> None:
    screen = io.StringIO()
    reads = ReadProgress(Console(file=screen, force_terminal=True, color_system=None, width=100))
    feed(reads, [("events", 500, 100, False), ("events", 600, 0, True), *PAGED])
    reads.close()
    screen.truncate(0)
    feed(reads, PAGED)  # the second bars have no task of the first ones
    reads.close()
    assert "reading pods" in screen.getvalue() and "1200/1200" in screen.getvalue()
