"""A library's log record reaches the terminal as one redacted line, on the stderr of the moment."""

from __future__ import annotations

import contextlib
import io
import logging

import pytest

from pipeline import logs

pytestmark = pytest.mark.unit


def test_a_library_log_line_is_one_redacted_line() -> None:
    logs.setup()
    logs.setup()  # twice in one process: one handler
    ours = [h for h in logging.getLogger().handlers if isinstance(h, logs._Handler)]
    assert len(ours) == 1
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        logging.getLogger("kubernetes.config.exec_provider").error(
            "exec: process returned 1. stderr: token=ghp_abcdefghijklmnopqrstuvwxyz0123456789\nretry"
        )
        logging.getLogger("urllib3").info("not shown")
    (line,) = err.getvalue().splitlines()
    assert line.startswith("infra-audit: error: kubernetes.config.exec_provider: exec: process returned 1.")
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in line and "<redacted:sha256:" in line
