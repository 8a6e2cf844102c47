"""What an audit did not read, and why: a file skipped (``ParseIssue``) or a cluster type lost.

Parsers and the cluster backends produce these; the report lists them (``AuditReport.unread``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


SkipReason = Literal[
    "syntax",
    "encoding",
    "too_large",
    "too_deep",
    "alias_bomb",
    "unreadable",
    "unsupported",
    "skipped_object",
    "note",
]
"""Why something was not read: it does not parse (``syntax``, a truncated file included), its text is
not UTF-8 (``encoding``), it is over a size cap, nested too deep, its YAML aliases expand past the
bound (``alias_bomb``), the OS refused it (``unreadable``), it is a format not parsed
(``unsupported``), an object inside a file that was read has no type or name (``skipped_object``);
``note`` is read, with a caveat. (A cluster resource type not read is an ``UnreadResource``.)"""


class ParseIssue(_Model):
    """A file not read, or not read whole, and why. Files are reported and skipped."""

    path: str = Field(description="Shown path relative to the estate or snapshot root, or cluster:NAME/...")
    line: int | None = None
    message: str
    reason: SkipReason = "syntax"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


EVERY_KIND = "*"
"""The kind of an ``UnreadResource`` when what was lost cannot be told: discovery failed, or a snapshot
dump whose name does not say its type did not load. Every check that read the cluster is incomplete."""


class UnreadResource(_Model):
    """A resource type the audit meant to read and could not: a list the cluster refused, failed or timed
    out, a type a snapshot's writer could not read, or a snapshot dump that did not load."""

    resource: str = Field(description="The type, e.g. pods or jobs.batch.")
    kind: str = Field(description="Its kind, e.g. Pod: what the checks that need it read ('*': any).")
    reason: str
