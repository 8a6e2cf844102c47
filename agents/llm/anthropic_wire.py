"""The Anthropic Messages wire format of our neutral requests: pure JSON shaping, no SDK.

``AnthropicModel`` sends what ``request_body`` builds; the tests' scripted server and function model
read the same shape. The bytes are stable: cassettes match request bodies exactly.
"""

from __future__ import annotations

from typing import Any

from agents.llm.protocol import Message, ModelRequest, TextBlock, ToolChoice, ToolUseBlock

EPHEMERAL: dict[str, str] = {"type": "ephemeral"}


def block(b: Any) -> dict[str, Any]:
    if isinstance(b, TextBlock):
        return {"type": "text", "text": b.text}
    if isinstance(b, ToolUseBlock):
        return {"type": "tool_use", "id": b.id, "name": b.name, "input": b.input}
    return {
        "type": "tool_result",
        "tool_use_id": b.tool_use_id,
        "content": b.content,
        **({"is_error": True} if b.is_error else {}),
    }


def message(m: Message) -> dict[str, Any]:
    return {"role": m.role, "content": [block(b) for b in m.content]}


def tool_choice(choice: ToolChoice) -> dict[str, Any]:
    wire: dict[str, Any] = {"type": choice.mode}
    if choice.name is not None:
        wire["name"] = choice.name
    if not choice.parallel:
        wire["disable_parallel_tool_use"] = True
    return wire


def request_body(request: ModelRequest, model: str, max_tokens: int) -> dict[str, Any]:
    """The JSON body of the Messages call (without ``stream``), with three cache breakpoints."""
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": max_tokens,
        "messages": cache_last_turn([message(m) for m in request.messages]),
    }
    if request.system:  # the API refuses an empty text block
        body["system"] = [{"type": "text", "text": request.system, "cache_control": EPHEMERAL}]
    if request.tools:
        tools = [tool.model_dump() for tool in request.tools]
        tools[-1]["cache_control"] = EPHEMERAL
        body["tools"] = tools
    if request.tool_choice is not None:
        body["tool_choice"] = tool_choice(request.tool_choice)
    return body


def cache_last_turn(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A third cache breakpoint on the conversation's last block, so each turn re-reads the last prefix.

    System and tools are the first two breakpoints (of the API's four). The agent loop re-sends the
    whole conversation every turn; marking its end lets the next turn read all of it from the cache.
    The caller's messages are not modified.
    """
    if not messages or not isinstance(messages[-1].get("content"), list) or not messages[-1]["content"]:
        return messages
    last = dict(messages[-1])
    blocks = [dict(b) for b in last["content"]]
    blocks[-1]["cache_control"] = EPHEMERAL
    last["content"] = blocks
    return [*messages[:-1], last]
