"""Running ``infra-audit`` in-process against a cassette, and reading what a cassette holds.

A replay is ``infra-audit run ... --replay CASSETTE`` from the repository root (estate paths are part
of the prompts, so they are given exactly as recorded), with no model credentials in the
environment and every socket connection refused: vcrpy must answer every request from the
cassette, or the run fails.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import pytest
import yaml
from estates import REPO
from fakes import first_system_line

from domain.report import AuditReport
from pipeline.cli import main
from pipeline.render.json_out import load_report

CASSETTES = REPO / "cassettes"
DATE = "2026-11-20"
MODEL_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
HOMELAB_ARGV = (
    "run",
    "examples/homelab",
    "--cluster",
    "examples/homelab/cluster",
    "--run-id",
    "scripted-homelab",
    "--date",
    DATE,
)
GITOPS_ARGV = ("run", "examples/gitops-base", "--run-id", "scripted-gitops", "--date", DATE)


class NetworkUsed(RuntimeError):
    """A replay opened a socket: something was not answered from the cassette."""


@dataclass
class CliRun:
    """What one in-process ``infra-audit`` call left behind."""

    code: int
    out: Path
    stdout: str
    stderr: str

    @cached_property
    def report(self) -> AuditReport:
        return load_report(self.out / "audit.json")

    @cached_property
    def data(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.out / "audit.json").read_text(encoding="utf-8"))
        return loaded

    @cached_property
    def markdown(self) -> str:
        return (self.out / "audit.md").read_text(encoding="utf-8")


@contextlib.contextmanager
def offline_cli() -> Iterator[None]:
    """Repository root as cwd, no model credentials, and no socket may connect (not even loopback)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NetworkUsed(f"a replay tried to open a connection: {args[-1:]!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(REPO)
        mp.setenv("COLUMNS", "200")
        for name in MODEL_ENV:
            mp.delenv(name, raising=False)
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        yield


def run_cli(argv: list[str], out: Path) -> CliRun:
    """``infra-audit ARGV --out OUT`` in-process and offline, capturing what it prints."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with offline_cli(), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([*argv, "--out", str(out)])
    return CliRun(code, out, stdout.getvalue(), stderr.getvalue())


def replay(argv: tuple[str, ...], cassette: Path, work: Path) -> CliRun:
    """Replay ``cassette`` with the ``infra-audit run`` arguments it was recorded with."""
    return run_cli([*argv, "--replay", str(cassette), "--state-dir", str(work / "state")], work / "out")


@cache
def load_cassette(path: Path) -> dict[str, Any]:
    """A cassette as data (read once per session: treat it as read-only)."""
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return document


def conversation(path: Path, route: str) -> list[dict[str, Any]]:
    """The request bodies one agent sent, in turn order."""
    bodies = [i["request"]["body"]["json"] for i in load_cassette(path)["interactions"]]
    return sorted((b for b in bodies if first_system_line(b) == route), key=lambda b: len(b["messages"]))


def last_tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool_result blocks of a request's last user turn."""
    return [b for b in body["messages"][-1]["content"] if b.get("type") == "tool_result"]
