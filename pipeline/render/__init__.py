"""Render an audit to disk: ``audit.md`` (for people), ``audit.json`` (for tools), ``audit.sarif`` (for CI)
and ``transcript.jsonl`` (every tool and model call).

Each output is a ``Renderer`` (``pipeline/render/output.py``): a name, a file name and a function of
the run's outputs. ``RENDERERS`` is the registry: adding an output format is its module and one line
there, and every run writes it.

Reports are written atomically because a run can be killed at any moment (and then resumed): each
file is written to a temp file in the output directory, synced, and renamed over the old one with
``os.replace``, so a reader sees the previous report or the new one, never half of one. Every output
is rendered and written to its temp file before the first is renamed, so a rendering bug replaces
nothing (its temp files are removed, and a directory made for them). One output's text is held at a
time: at 10k pods ``audit.json`` is 30 MiB, and it was held while the others rendered.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from domain.errors import UserError
from domain.identity import keys_once
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
    """Render every registered output (or ``formats``), each to a temp file, then rename them all into
    place; returns the paths in order."""
    chosen = [RENDERERS[name] for name in (formats or tuple(RENDERERS))]
    made = _missing(out_dir)
    pending: list[tuple[Path, Path]] = []  # (temp file, its path)
    replaced = 0
    try:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            with placing_once(), keys_once():  # audit.md and audit.sarif place each finding, audit.json
                # and audit.sarif read its occurrence keys: each worked out once
                for renderer in chosen:
                    path = out_dir / renderer.filename
                    pending.append((_write_temp(path, renderer.render(outputs)), path))
            while pending:
                tmp, path = pending[0]
                os.replace(tmp, path)
                pending.pop(0)
                replaced += 1
            _sync_dir(out_dir)
        except BaseException:
            for tmp, _ in pending:
                with contextlib.suppress(OSError):
                    tmp.unlink()
            if not replaced:  # nothing of this call stays
                for directory in made:
                    with contextlib.suppress(OSError):
                        directory.rmdir()
            raise
    except OSError as exc:
        raise UserError(f"cannot write the reports to {out_dir}: {exc.strerror or exc}") from None
    return [out_dir / r.filename for r in chosen]


def _missing(directory: Path) -> list[Path]:
    """``directory`` and its parents that do not exist yet, deepest first."""
    missing: list[Path] = []
    while not directory.exists() and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    return missing


def write_atomic(path: Path, text: str | bytes | tuple[bytes, ...]) -> Path:
    """Write ``text`` to ``path`` through a temp file in the same directory and a rename."""
    os.replace(_write_temp(path, text), path)
    return path


def _write_temp(path: Path, text: str | bytes | tuple[bytes, ...]) -> Path:
    """``text`` (UTF-8 bytes written as they are, pieces one after the other) in a synced temp file
    beside ``path``, created with ``O_EXCL`` and mode 0666 (so the umask applies, as it would to a
    plain write) and removed if anything fails."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as raw:
            for piece in (text,) if not isinstance(text, tuple) else text:
                raw.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return tmp


def _sync_dir(directory: Path) -> None:
    """Make the renames durable (POSIX); a no-op where directories cannot be opened."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
