"""Render an audit to disk: ``audit.md`` (for people), ``audit.json`` (for tools), ``audit.sarif`` (for CI).

Reports are written atomically because a run can be killed at any moment (and then resumed): each
file is written to a temp file in the output directory, synced, and renamed over the old one with
``os.replace``, so a reader sees the previous report or the new one, never half of one. All three
are rendered before the first is written, so a rendering bug writes nothing at all.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from domain.errors import UserError
from domain.report import AuditReport
from pipeline.render.json_out import load_report, render_json
from pipeline.render.markdown import render_markdown
from pipeline.render.sarif import render_sarif

__all__ = ["load_report", "render_json", "render_markdown", "render_sarif", "write_reports"]

REPORT_FILES = ("audit.md", "audit.json", "audit.sarif")


def write_reports(report: AuditReport, out_dir: Path) -> list[Path]:
    """Write the three reports into ``out_dir`` (created if missing); returns their paths in order."""
    rendered = (render_markdown(report), render_json(report), render_sarif(report))
    texts = dict(zip(REPORT_FILES, rendered, strict=True))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = [write_atomic(out_dir / name, text) for name, text in texts.items()]
        _sync_dir(out_dir)
    except OSError as exc:
        raise UserError(f"cannot write the reports to {out_dir}: {exc.strerror or exc}") from None
    return written


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temp file in the same directory and a rename.

    The temp file is created with ``O_EXCL`` and mode 0666 (so the umask applies, as it would to a
    plain write) and removed if anything fails before the rename.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def _sync_dir(directory: Path) -> None:
    """Make the renames durable (POSIX); a no-op where directories cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
