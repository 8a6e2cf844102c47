"""Run the CLI in-process as a user would, from the repo root, with no model credential unless given."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Sequence

import pytest
from estates import REPO

from pipeline.cli import main

MODEL_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")


def cli(argv: Sequence[str], monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    """Exit code and everything printed (stdout and stderr together); ``env`` sets variables."""
    out = io.StringIO()
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "400")
    for name in MODEL_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(list(argv))
    return code, out.getvalue()


def killed(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -c script args`` from the repo root, which must end killed by SIGKILL (a run killed
    mid-graph, for the resume tests): exit code 137, or the test fails with the child's stderr."""
    child = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 137, child.stderr[-2000:]
    return child
