"""The live display gets each agent's tool calls, tokens and estimated cost as the run goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from agents.llm.accounting import Accountant, usage_line
from agents.llm.loop import AgentRun, Submission, run_agent
from agents.llm.protocol import ModelReply, TextBlock, ToolUseBlock, Usage
from agents.llm.scripted import ScriptedModel
from agents.llm.settings import Price, RunBudget
from tools.evidence import Ledger
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


class Done(BaseModel):
    note: str


def reply(*blocks: TextBlock | ToolUseBlock) -> ModelReply:
    return ModelReply(model="x", content=list(blocks), usage=Usage(input_tokens=1000, output_tokens=200))


def test_each_turn_reports_calls_tokens_and_cost(tmp_path: Path) -> None:
    (tmp_path / "a.tf").write_text('image = "x:latest"\n')
    toolbox = Toolbox(Jail(tmp_path), None, Ledger())
    model = ScriptedModel(
        [
            reply(ToolUseBlock(id="t1", name="repo_count", input={"pattern": ":latest", "fixed": True})),
            reply(ToolUseBlock(id="t2", name="submit", input={"note": "one"})),
        ]
    )
    accountant = Accountant(
        RunBudget(), price_override=Price(input=3, output=15, cache_write=3.75, cache_read=0.3)
    )
    lines: list[str] = []

    def on_turn(run: AgentRun[Done]) -> None:
        lines.append(f"turn {run.turns}: {usage_line(accountant, 'research:x')}")

    run = run_agent(
        agent="research:x",
        client=model,
        system="You are a test agent.",
        prompt="go",
        toolbox=toolbox,
        tools=toolbox.specs,
        submission=Submission(name="submit", description="submit", schema=Done),
        accountant=accountant,
        budget=RunBudget(),
        on_turn=on_turn,
    )
    assert run.payload == Done(note="one")
    # turn 1: one call, 1.2k tokens at $3/$15 per million = $0.006; turn 2 (the submission): still one call
    assert lines == ["turn 1: 1 calls, 1k tokens, ~$0.01", "turn 2: 1 calls, 2k tokens, ~$0.01"]
    assert usage_line(Accountant(RunBudget()), "nobody") == "no model call yet"


def test_an_unknown_price_is_said_not_guessed() -> None:
    accountant = Accountant(RunBudget())
    accountant.record("a", "some-local-model", Usage(input_tokens=10, output_tokens=5))
    assert usage_line(accountant, "a") == "0 calls, 0k tokens, price unknown"
