"""The typed result every sandboxed tool returns.

Tool failures are data: a tool never raises for a bad query, it returns ``status="error"`` with an
``error`` text that names the query and says what to change. ``no_data`` means the query ran and found
nothing (zero matches, an empty list), which is itself evidence.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ToolStatus(StrEnum):
    OK = "ok"
    ERROR = "error"
    NO_DATA = "no_data"


class ToolResult(BaseModel):
    """What one tool call produced, already redacted."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(description="Registry name of the tool, e.g. 'repo.search' or 'kube.get'.")
    args: dict[str, Any] = Field(description="The arguments the tool was called with.")
    status: ToolStatus
    command: str = Field(description="A command line a person can paste to reproduce this result.")
    output: str = Field(default="", description="Redacted, human-readable output (may be capped).")
    data: Any = Field(default=None, description="Redacted structured payload, JSON-serialisable.")
    value: float | None = Field(default=None, description="The numeric value, where there is one.")
    measures: dict[str, float] = Field(
        default_factory=dict, description="Further named numbers (e.g. a check's 'oomkilled')."
    )
    error: str | None = Field(default=None, description="What went wrong and how to change the query.")
    truncated: bool = Field(default=False, description="True when output was capped.")

    @classmethod
    def fail(cls, tool: str, args: dict[str, Any], command: str, error: str) -> ToolResult:
        return cls(tool=tool, args=args, status=ToolStatus.ERROR, command=command, error=error)
