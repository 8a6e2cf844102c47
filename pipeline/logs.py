"""Log lines on the terminal: one line each, ``infra-audit: warning: ...``, redacted.

Libraries log too (the kubernetes client logs a failing kubeconfig ``exec`` plugin's stderr, which
can hold a token; urllib3 logs its retries). Without a handler, Python's last-resort handler prints
those raw. ``setup()`` (called once by the CLI) installs one handler on the root logger that puts
every record through the redactor and onto one line; debug and info stay silent.
"""

from __future__ import annotations

import logging
import sys

from tools.redact import redact_text


class _OneRedactedLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = " ".join(redact_text(record.getMessage()).split())
        return f"infra-audit: {record.levelname.lower()}: {record.name}: {text}"


class _Handler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests redirect it), and marks our handler
    so that setting up twice in one process adds it once."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        return None


def setup(level: int = logging.WARNING) -> None:
    root = logging.getLogger()
    if any(isinstance(h, _Handler) for h in root.handlers):
        return
    handler = _Handler()
    handler.setFormatter(_OneRedactedLine())
    root.addHandler(handler)
    root.setLevel(level)
    # urllib3 warns of every retry it makes; the one-line error that follows says what failed
    logging.getLogger("urllib3").setLevel(logging.ERROR)
