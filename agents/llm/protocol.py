"""The small protocol between the agents and any model: typed requests and replies, nothing SDK-shaped.

Three implementations stand behind it: ``AnthropicModel`` (the only module that imports the
``anthropic`` SDK, ``agents/llm/anthropic_model.py``), ``ScriptedModel`` (a queue of replies) and
``FunctionModel`` (a function of the request), the last two for tests. Agents see only
``ModelClient.complete``.

Messages use the Anthropic Messages shape (role + content blocks) because it is what the API and
every Anthropic-compatible server speak; the agents build them with the helpers below.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextBlock(_Model):
    type: Literal["text"] = "text"
    text: str


class ToolUseBlock(_Model):
    type: Literal["tool_use"] = "tool_use"
    id: str
    name: str
    input: dict[str, Any]


ContentBlock = Annotated[TextBlock | ToolUseBlock, Field(discriminator="type")]


class Usage(_Model):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


class ToolDef(_Model):
    """A tool as the model sees it: name, description and JSON schema of the input."""

    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str
    input_schema: dict[str, Any]


class ModelRequest(_Model):
    agent: str = Field(description="Who is asking, for usage accounting and logs (e.g. 'research:security').")
    system: str
    messages: list[dict[str, Any]]
    tools: list[ToolDef] = Field(default_factory=list)
    tool_choice: dict[str, Any] | None = Field(
        default=None, description="Anthropic tool_choice: {'type': 'auto'|'any'|'tool'|'none', 'name': ...}."
    )
    max_tokens: int = 8192


class ModelReply(_Model):
    model: str
    content: list[ContentBlock]
    stop_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)

    @property
    def tool_uses(self) -> list[ToolUseBlock]:
        return [b for b in self.content if isinstance(b, ToolUseBlock)]

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    def as_message(self) -> dict[str, Any]:
        """The assistant turn to append to the conversation."""
        return {"role": "assistant", "content": [b.model_dump() for b in self.content]}


class ModelClient(Protocol):
    """Anything that answers a ModelRequest. Raises ``ModelUnavailable`` or ``ModelRejected`` on failure."""

    @property
    def model(self) -> str: ...

    def complete(self, request: ModelRequest) -> ModelReply: ...


def user_text(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"type": "text", "text": text}]}


def tool_results(results: list[tuple[str, str, bool]]) -> dict[str, Any]:
    """One user turn answering every tool_use of the previous turn: (tool_use_id, text, is_error)."""
    return {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": tid,
                "content": text,
                **({"is_error": True} if err else {}),
            }
            for tid, text, err in results
        ],
    }
