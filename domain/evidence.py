"""A piece of evidence: one recorded tool call, with the command that reproduces it.

The ledger that records them (content-addressed ids, capping, repeats) is ``tools/evidence.py``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.results import ToolStatus


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(description="Stable id, cite it in claims.")
    tool: str
    args: dict[str, Any]
    command: str = Field(description="Command line that reproduces the result.")
    status: ToolStatus
    output: str = Field(description="Redacted output, capped.")
    truncated: bool
    sha256: str = Field(description="sha256 of the full redacted output.")
    value: float | None = None
    measures: dict[str, float] = Field(default_factory=dict, description="Further named numbers.")
    error: str | None = None
    agent: str | None = Field(
        default=None, description="Who made the call: a concern, a challenger, a check."
    )
