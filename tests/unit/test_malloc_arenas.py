"""A graph run caps glibc's malloc arenas before its threads start (issue 13: 1,013 -> 819 MB peak at
10k pods); other commands and other platforms are left as they were."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import tools.malloc_arenas as arenas
from pipeline import cli

pytestmark = pytest.mark.unit


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_cap_takes_on_linux() -> None:
    assert arenas.limit_arenas() is True


class _Mallopt:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.argtypes: object = None
        self.restype: object = None

    def __call__(self, option: int, value: int) -> int:
        self.calls.append((option, value))
        return 1


def test_the_arenas_are_capped_and_the_mmap_threshold_fixed(monkeypatch: pytest.MonkeyPatch) -> None:
    mallopt = _Mallopt()
    monkeypatch.setattr(arenas.sys, "platform", "linux")
    monkeypatch.setattr(arenas.ctypes, "CDLL", lambda *_: type("C", (), {"mallopt": mallopt})())
    assert arenas.limit_arenas() is True
    # glibc's option numbers: M_ARENA_MAX -8, M_MMAP_THRESHOLD -3 (a fixed one is never raised)
    assert mallopt.calls == [(-8, 2), (-3, 256 * 1024)]


def test_elsewhere_nothing_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arenas.sys, "platform", "darwin")
    monkeypatch.setattr(arenas.ctypes, "CDLL", lambda *_: pytest.fail("no C library is opened"))
    assert arenas.limit_arenas() is False


@pytest.mark.parametrize(("argv", "capped"), [(["run"], True), (["checks"], False)])
def test_only_a_graph_command_caps_them(
    argv: list[str], capped: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[int] = []

    def record(n: int = arenas.ARENAS) -> bool:
        calls.append(n)
        return True

    monkeypatch.setattr(arenas, "limit_arenas", record)
    args = [*argv, str(tmp_path / "missing")] if argv == ["run"] else argv
    cli.main(args)  # a run of a missing estate stops with a user error, after the cap
    assert calls == ([arenas.ARENAS] if capped else [])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_the_heap_is_trimmed_on_linux_and_left_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(arenas.trim(), bool)  # glibc's malloc_trim(0), called for real
    calls: list[int] = []

    class _Trim:
        argtypes: object = None
        restype: object = None

        def __call__(self, pad: int) -> int:
            calls.append(pad)
            return 1

    monkeypatch.setattr(arenas.ctypes, "CDLL", lambda *_: type("C", (), {"malloc_trim": _Trim()})())
    assert arenas.trim() is True and calls == [0]
    monkeypatch.setattr(arenas.sys, "platform", "darwin")
    assert arenas.trim() is False and calls == [0]
