"""Test doubles that stand in for services this machine cannot reach.

``anthropic_server`` is a scripted Anthropic-compatible HTTP server; it is not a model, and anything
recorded against it is scripted traffic.
"""

from .anthropic_server import RecordedRequest, ScriptedAnthropicServer, redact
from .script import (
    Fault,
    Reply,
    Router,
    ScriptError,
    Text,
    ToolUse,
    Usage,
    assistant_turns,
    by_turn,
    drop,
    fail,
    first_system_line,
    reply,
    slow,
    text,
    tool_use,
)

__all__ = [
    "Fault",
    "RecordedRequest",
    "Reply",
    "Router",
    "ScriptError",
    "ScriptedAnthropicServer",
    "Text",
    "ToolUse",
    "Usage",
    "assistant_turns",
    "by_turn",
    "drop",
    "fail",
    "first_system_line",
    "redact",
    "reply",
    "slow",
    "text",
    "tool_use",
]
