"""The renderer seam: what an output format is, and what it renders from.

A ``Renderer`` has a name (``markdown``), the file it writes (``audit.md``) and a pure function from
``RunOutputs`` to text (or to its UTF-8 bytes, whole or in pieces, which are written as they are).
Register one in ``pipeline/render/__init__.py``'s ``RENDERERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.evidence import Evidence
from domain.report import AuditReport


@dataclass(frozen=True)
class RunOutputs:
    """Everything a run leaves for its outputs: the report, and the raw record of its calls."""

    report: AuditReport
    ledger: Sequence[Evidence] = ()
    """Every tool call of this process (the report keeps only the cited ones)."""
    model_calls: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    """One row per model call: agent, stop reason, tokens."""


@dataclass(frozen=True)
class Renderer:
    name: str
    filename: str
    render: Callable[[RunOutputs], str | bytes | tuple[bytes, ...]]
    """The output's text, or its UTF-8 bytes, or those in pieces (written one after the other)."""
