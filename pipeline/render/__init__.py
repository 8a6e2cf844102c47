"""Render an audit to disk: ``audit.md`` (for people), ``audit.json`` (for tools), ``audit.sarif`` (for CI)
and ``transcript.jsonl`` (every tool and model call).

Each output is a ``Renderer`` (``pipeline/render/output.py``): a name, a file name and a function of
the run's outputs. ``RENDERERS`` is the registry: adding an output format is its module and one line
there, and every run writes it.

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
from pipeline.render import json_out, markdown, sarif, transcript
from pipeline.render.json_out import load_report, render_json
from pipeline.render.markdown import render_markdown
from pipeline.render.output import Renderer, RunOutputs
from pipeline.render.sarif import placing_once, render_sarif

__all__ = [
    "RENDERERS",
    "Renderer",
    "RunOutputs",
    "load_report",
    "render_json",
    "render_markdown",
    "render_sarif",
    "write_outputs",
    "write_reports",
]

RENDERERS: dict[str, Renderer] = {
    "markdown": markdown.RENDERER,
    "json": json_out.RENDERER,
    "sarif": sarif.RENDERER,
    "transcript": transcript.RENDERER,
}
REPORT_FORMATS = ("markdown", "json", "sarif")
"""The three reports of the audit itself; the transcript is about the run."""


def write_reports(report: AuditReport, out_dir: Path) -> list[Path]:
    """Write the three reports into ``out_dir`` (created if missing); returns their paths in order."""
    return write_outputs(RunOutputs(report=report), out_dir, REPORT_FORMATS)


def write_outputs(outputs: RunOutputs, out_dir: Path, formats: tuple[str, ...] | None = None) -> list[Path]:
    """Render every registered output (or ``formats``), then write them all; returns the paths in order."""
    chosen = [RENDERERS[name] for name in (formats or tuple(RENDERERS))]
    with placing_once():  # audit.md and audit.sarif both need each finding's placed locations
        texts = {r.filename: r.render(outputs) for r in chosen}
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = [write_atomic(out_dir / name, text) for name, text in texts.items()]
        _sync_dir(out_dir)
    except OSError as exc:
        raise UserError(f"cannot write the reports to {out_dir}: {exc.strerror or exc}") from None
    return written


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write ``text`` (or UTF-8 bytes, as they are) to ``path`` through a temp file in the same
    directory and a rename.

    The temp file is created with ``O_EXCL`` and mode 0666 (so the umask applies, as it would to a
    plain write) and removed if anything fails before the rename.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as raw:
            raw.write(text.encode("utf-8") if isinstance(text, str) else text)
            raw.flush()
            os.fsync(raw.fileno())
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
