"""Graph-level runs of the LLM path with no HTTP: the scenarios' scripts behind a ``FunctionModel``.

The same route scripts that the scripted server plays (``tests/scenarios``) answer ``ModelRequest``s
directly, so a test can run the whole graph in a fraction of a second and look at every request an
agent was sent: which tools it was offered, whether the tool choice was forced, what it read back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from estates import ESTATES, REPO
from fakes import Router
from scenarios import gitops
from scenarios.common import SCRIPTED_MODEL, Script, as_model_function

from agents.llm.protocol import ModelReply, ModelRequest, ToolResultBlock, Usage
from agents.llm.scripted import FunctionModel
from agents.llm.settings import ModelSettings, RunBudget
from domain.concerns import Concern
from pipeline.audit import run_audit
from pipeline.settings import RunSettings
from pipeline.state import AuditState

DATE = "2026-11-20"


def llm_settings(
    *,
    estate: str = "gitops-base",
    cluster: str | None = None,
    concerns: tuple[Concern, ...] = ("maintenance",),
    budget: RunBudget | None = None,
    out: Path | None = None,
) -> RunSettings:
    return RunSettings(
        estate=ESTATES[estate],
        estate_label=f"examples/{estate}",
        cluster=cluster,
        concerns=concerns,
        date=DATE,
        workdir=REPO,
        mode="llm",
        llm=ModelSettings(model=SCRIPTED_MODEL, budget=budget or RunBudget()),
        out=out,
    )


@dataclass
class GraphRun:
    state: AuditState
    model: FunctionModel

    def requests(self, agent: str) -> list[ModelRequest]:
        return [r for r in self.model.requests if r.agent == agent]


def tools_of(request: ModelRequest) -> list[str]:
    return [t.name for t in request.tools]


def results_of(request: ModelRequest) -> list[ToolResultBlock]:
    """The tool_result blocks of the request's last user turn."""
    return request.messages[-1].tool_results


def run_graph(
    overrides: Mapping[str, Script] | None = None,
    *,
    base: Router | None = None,
    tokens_per_reply: int | None = None,
    run_id: str = "graph",
    **settings: Any,
) -> GraphRun:
    """The whole graph on a scenario's routes (gitops-base by default), some routes replaced.

    ``tokens_per_reply`` makes every reply report that many input tokens, so a token budget is
    spent after a known number of replies whatever the prompts' sizes.
    """
    router = base or gitops.router()
    routes = {**router.routes, **(overrides or {})}
    answer = as_model_function(Router(routes))

    def fn(request: ModelRequest) -> ModelReply:
        reply = answer(request)
        if tokens_per_reply is not None:
            reply = reply.model_copy(update={"usage": Usage(input_tokens=tokens_per_reply)})
        return reply

    model = FunctionModel(fn, model=SCRIPTED_MODEL)
    state = run_audit(llm_settings(**settings), run_id, model=model)
    return GraphRun(state, model)
