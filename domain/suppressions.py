"""Suppressions: a finding's subject that the estate says to ignore, with why and until when.

Two kinds, one record: an inline comment next to the code (``# infra-audit:ignore CHECK-ID
reason="..." until=YYYY-MM-DD``, in any comment syntax the catalog reads) and an accepted risk of
``.infra-audit.yaml``. Both are listed in the report (``AuditReport.suppressions``) with their reason
and what became of them: ``applied`` (it took a subject out), ``expired`` (its date passed: the
finding is back on), ``unmatched`` (no finding of that check at that place).
"""

from __future__ import annotations

from datetime import date as Date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SuppressionKind = Literal["inline", "accepted"]
SuppressionState = Literal["applied", "expired", "unmatched"]


class Suppression(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SuppressionKind = Field(
        description="inline (a comment in the code) or accepted (.infra-audit.yaml)."
    )
    check: str = Field(description="The check id it suppresses.")
    where: str = Field(description="path:line of the comment or the accepted-risk entry.")
    reason: str
    until: Date | None = None
    subject: str | None = Field(
        default=None, description="The subject it names (accepted risks); inline ones apply to their line."
    )
    state: SuppressionState = "unmatched"
    subjects: list[str] = Field(default_factory=list, description="The subjects it took out of findings.")
