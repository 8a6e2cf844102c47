"""The small protocol between the agents and any model: typed requests and replies, nothing SDK-shaped.

Providers stand behind it (``agents/llm/providers.py`` names them): ``AnthropicModel`` (the only
module that imports the ``anthropic`` SDK, ``agents/llm/anthropic_model.py``, whose wire format is
``agents/llm/anthropic_wire.py``), ``ScriptedModel`` (a queue of replies), ``FunctionModel`` (a
function of the request) and ``ChaosModel`` (real models' failure modes, ``agents/llm/chaos.py``);
``AnonymizingModel`` (``agents/llm/anonymize.py``) wraps any of them. Agents see only
``ModelClient.complete``.

Requests and replies are provider-neutral typed values: a conversation is a list of ``Message``s
(a role and typed blocks: text, a tool call, a tool result), tools are ``ToolDef``s, and the tool
choice is a ``ToolChoice``. Each provider turns them into its own wire format and back.
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
    invalid_input: str | None = Field(
        default=None,
        exclude=True,
        description="Set when the model's input was not a JSON object (malformed or truncated JSON): "
        "what it sent, capped. ``input`` is then empty, and the call is answered, never run. Local "
        "only: never sent back to a model.",
    )


class ToolResultBlock(_Model):
    type: Literal["tool_result"] = "tool_result"
    tool_use_id: str
    content: str
    is_error: bool = False


ContentBlock = Annotated[TextBlock | ToolUseBlock, Field(discriminator="type")]
"""What a model replies with."""

MessageBlock = Annotated[TextBlock | ToolUseBlock | ToolResultBlock, Field(discriminator="type")]
"""What a conversation holds: the model's blocks, and our tool results."""


class Message(_Model):
    """One turn of a conversation."""

    role: Literal["user", "assistant"]
    content: list[MessageBlock]

    @property
    def text(self) -> str:
        return "".join(b.text for b in self.content if isinstance(b, TextBlock))

    @property
    def tool_results(self) -> list[ToolResultBlock]:
        return [b for b in self.content if isinstance(b, ToolResultBlock)]


class ToolChoice(_Model):
    """Which tool the model may or must call: any it likes (``auto``), or one by ``name`` (``tool``)."""

    mode: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    parallel: bool = Field(default=True, description="False: at most one tool call in the reply.")


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
    messages: list[Message]
    tools: list[ToolDef] = Field(default_factory=list)
    tool_choice: ToolChoice | None = None
    max_tokens: int = 8192
    model: str | None = Field(
        default=None, description="A model other than the client's for this request (a role's own model)."
    )


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

    def as_message(self) -> Message:
        """The assistant turn to append to the conversation."""
        return Message(role="assistant", content=list(self.content))


class ModelClient(Protocol):
    """Anything that answers a ModelRequest. Raises ``ModelUnavailable`` or ``ModelRejected`` on failure."""

    @property
    def model(self) -> str: ...

    @property
    def endpoint(self) -> str:
        """Where requests go, without credentials: what a recording says it was recorded against."""

    def complete(self, request: ModelRequest) -> ModelReply: ...

    def close(self) -> None:
        """Give back connections; the client is not used after this."""


def user_text(text: str) -> Message:
    return Message(role="user", content=[TextBlock(text=text)])


def tool_results(results: list[tuple[str, str, bool]]) -> Message:
    """One user turn answering every tool call of the previous turn: (tool_use_id, text, is_error)."""
    return Message(
        role="user",
        content=[ToolResultBlock(tool_use_id=tid, content=text, is_error=err) for tid, text, err in results],
    )
