"""The test models: a scripted queue that fails loudly on an unplanned request, and a function model.

Both relabel every reply with their own name, so nothing they produce can pass for a real model's.
"""

from __future__ import annotations

from typing import Any

import pytest

from agents.llm.protocol import ModelReply, ModelRequest, TextBlock, ToolChoice, ToolDef, Usage, user_text
from agents.llm.scripted import FunctionModel, ScriptedModel
from domain.errors import ModelUnavailable

pytestmark = pytest.mark.unit

TOOLS = [
    ToolDef(name="repo_search", description="Search.", input_schema={"type": "object"}),
    ToolDef(name="submit_findings", description="Submit.", input_schema={"type": "object"}),
]


def request(**overrides: Any) -> ModelRequest:
    values: dict[str, Any] = {
        "agent": "research:security",
        "system": "You audit infrastructure.",
        "messages": [user_text("Audit the security concern.")],
        "tools": TOOLS,
        "tool_choice": ToolChoice(mode="auto"),
    }
    values.update(overrides)
    return ModelRequest(**values)


def reply(text: str, model: str = "claude-opus-4-5") -> ModelReply:
    return ModelReply(
        model=model, content=[TextBlock(text=text)], usage=Usage(input_tokens=3, output_tokens=1)
    )


def test_scripted_model_plays_its_queue_and_labels_replies() -> None:
    boom = ModelUnavailable("overloaded")
    scripted = ScriptedModel([reply("one"), boom, reply("two")])
    assert scripted.complete(request()).text == "one"
    with pytest.raises(ModelUnavailable):
        scripted.complete(request())
    second = scripted.complete(request(agent="challenge:numbers"))
    assert (second.text, second.model, scripted.model) == ("two", "scripted", "scripted")
    assert [r.agent for r in scripted.requests] == [
        "research:security",
        "research:security",
        "challenge:numbers",
    ]
    assert scripted.remaining == 0


def test_scripted_model_fails_loudly_on_an_unplanned_request() -> None:
    scripted = ScriptedModel([])
    with pytest.raises(AssertionError) as caught:
        scripted.complete(request(agent="synthesize", messages=[user_text("Merge the findings.")]))
    text = str(caught.value)
    assert "unplanned request" in text and "'synthesize'" in text and "Merge the findings." in text
    assert "tools [repo_search, submit_findings]" in text and len(scripted.requests) == 1


def test_function_model_answers_from_the_request() -> None:
    model = FunctionModel(lambda req: reply(f"{req.agent} asked {len(req.messages)}"))
    answer = model.complete(request())
    assert (answer.text, answer.model) == ("research:security asked 1", "function")
    assert model.requests == [request()]
