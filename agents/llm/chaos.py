"""``ChaosModel``: a scripted ``ModelClient`` that plays, per agent and turn, what real models get wrong.

Beside ``ScriptedModel`` and ``FunctionModel`` (``agents/llm/scripted.py``). A well-behaved function
answers every request, except the turns a plan names: ``plan["research:security"] = {0: empty()}``
makes that agent's first request get an empty reply. Each fault is a function of the request that
returns the bad reply, or raises what a provider raises for it (``ModelRejected`` with the failure
``too_large`` or ``context_overflow``): the failure modes of a real instruct model, as the
Anthropic provider hands them to the loop. Replies are relabelled ``chaos``, and every request is
recorded, per agent, for assertions on exact request counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from agents.llm.protocol import ContentBlock, ModelReply, ModelRequest, TextBlock, ToolUseBlock
from agents.llm.scripted import RecordingModel
from domain.errors import ModelRejected

Fault = Callable[[ModelRequest], ModelReply]
Plan = Mapping[str, Mapping[int, Fault]]


class ChaosModel(RecordingModel):
    """``answer`` for every request, except an agent's turns that ``plan`` replaces by a fault."""

    ENDPOINT = "chaos"

    def __init__(
        self, answer: Callable[[ModelRequest], ModelReply], plan: Plan, model: str = "chaos"
    ) -> None:
        super().__init__(model)
        self._answer = answer
        self._plan = plan

    def requests_of(self, agent: str) -> list[ModelRequest]:
        with self._lock:
            return [r for r in self.requests if r.agent == agent]

    def complete(self, request: ModelRequest) -> ModelReply:
        with self._lock:
            turn = sum(r.agent == request.agent for r in self.requests)
            self.requests.append(request)
        fault = self._plan.get(request.agent, {}).get(turn)
        return self.relabel(fault(request) if fault is not None else self._answer(request))


def _reply(*content: ContentBlock, stop: str | None) -> ModelReply:
    return ModelReply(model="chaos", content=list(content), stop_reason=stop)


def _call(name: str, tool_input: dict[str, Any], turn_id: str, **extra: Any) -> ToolUseBlock:
    return ToolUseBlock(id=f"toolu_chaos_{turn_id}", name=name, input=tool_input, **extra)


def malformed(name: str, raw: str = '{"findings": [{"title": "cut') -> Fault:
    """A call of ``name`` whose input is not JSON (as ``AnthropicModel`` marks one it cannot parse)."""
    return lambda request: _reply(
        _call(name, {}, "malformed", invalid_input=f"malformed JSON: {raw}"), stop="tool_use"
    )


def call(name: str, tool_input: dict[str, Any] | Callable[[ModelRequest], dict[str, Any]]) -> Fault:
    """One tool call: an unknown tool, arguments of the wrong type, or a submission with invented
    ids or none at all, depending on ``name`` and ``tool_input`` (a function of the request, if the
    input must be read from it)."""

    def fault(request: ModelRequest) -> ModelReply:
        shown = tool_input(request) if callable(tool_input) else tool_input
        return _reply(_call(name, dict(shown), f"call_{len(request.messages)}"), stop="tool_use")

    return fault


def cut_off(name: str, tool_input: dict[str, Any]) -> Fault:
    """``stop_reason: max_tokens`` inside a call: what arrived of its input parses (a partial parse)."""
    return lambda request: _reply(
        TextBlock(text="Submitting."), _call(name, tool_input, "cut"), stop="max_tokens"
    )


def refusal(text: str = "") -> Fault:
    """``stop_reason: refusal``, with whatever text came before it (none: an empty content list)."""
    return lambda request: _reply(*([TextBlock(text=text)] if text else []), stop="refusal")


def pause(text: str = "Let me think about the catalog results first.") -> Fault:
    """``stop_reason: pause_turn``: a turn the server paused, to be sent back to carry on."""
    return lambda request: _reply(TextBlock(text=text), stop="pause_turn")


def empty() -> Fault:
    """An empty content list with ``end_turn``."""
    return lambda request: _reply(stop="end_turn")


def text_only(text: str = "I have reviewed the estate and everything looks fine.") -> Fault:
    """Text and no tool call, even on a turn whose tool choice forced one."""
    return lambda request: _reply(TextBlock(text=text), stop="end_turn")


def too_large() -> Fault:
    """The provider's ``ModelRejected(failure="too_large")``: an HTTP 413."""

    def fault(request: ModelRequest) -> ModelReply:
        raise ModelRejected(f"{request.agent}: model chaos: HTTP 413 request_too_large", failure="too_large")

    return fault


def context_overflow() -> Fault:
    """The provider's ``ModelRejected(failure="context_overflow")``: the 400 for a prompt too long."""

    def fault(request: ModelRequest) -> ModelReply:
        raise ModelRejected(
            f"{request.agent}: model chaos: HTTP 400 prompt is too long", failure="context_overflow"
        )

    return fault
