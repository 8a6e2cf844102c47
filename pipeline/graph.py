"""Build and compile the audit graph. This file only wires; node bodies live in ``pipeline/nodes.py``.

    START -> inventory -Send x N-> research[concern] -> challenge_round -Send x 2-> challenge[stance]
          -> synthesize -> render -> END

Research branches run in parallel and write ``results[concern]``; ``challenge_round`` waits for all of
them; the two challengers (numbers, intent) then run in parallel, and synthesis starts when both are
done. Research and challenge are Send targets with a node retry policy and an error handler, so a
branch that fails is recorded and the graph goes on.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy, Send

from agents import stances
from domain.errors import ModelUnavailable
from pipeline import nodes
from pipeline.checkpoints import LatestSaver
from pipeline.context import RunContext
from pipeline.state import AuditState, ChallengeTask, ResearchTask

# Our own types that checkpoints may hold; anything else is refused on load.
CHECKPOINT_TYPES = [
    ("pipeline.state", "AuditState"),
    ("pipeline.state", "ResearchTask"),
    ("pipeline.state", "ChallengeTask"),
    ("domain.findings", "ConcernResult"),
    ("domain.findings", "RawFinding"),
    ("domain.findings", "Claim"),
    ("domain.findings", "Verdict"),
    ("domain.findings", "Finding"),
    ("domain.findings", "Theme"),
    ("domain.findings", "NextMove"),
    ("domain.report", "AuditReport"),
    ("domain.report", "RunMeta"),
    ("domain.report", "AgentUsage"),
    ("domain.report", "Correction"),
    ("domain.report", "ConcernSummary"),
    ("domain.findings", "Location"),
    ("domain.evidence", "Evidence"),
    ("domain.results", "ToolStatus"),
    ("domain.identity", "Severity"),
    ("domain.report", "BaselineRef"),
    ("domain.report", "Unread"),
    ("domain.suppressions", "Suppression"),
    ("domain.topology", "AppRow"),
    ("domain.topology", "ClusterTopology"),
    ("domain.topology", "NodeRow"),
    ("domain.unread", "ParseIssue"),
    ("domain.unread", "UnreadResource"),
]
"""Every type a checkpoint may hold (tests/unit/test_checkpoint_types.py walks the state to check)."""


def retry_on(exc: Exception) -> bool:
    """Only a model outage that outlived the SDK's own retries is worth a node retry."""
    return isinstance(exc, ModelUnavailable)


# Two layers, one per failure class, never stacked further: the SDK retries short blips (408/409/429/
# 5xx, dropped connections; retry-after honoured) up to 3 attempts within seconds; this policy is for
# an outage that outlives them: ONE more attempt of the whole node after a long pause. An outage then
# costs at most 3 x 2 = 6 requests per agent turn, and a rejected request (4xx) exactly one.
NODE_RETRY_WAIT = 30.0


def node_retry(wait: float = NODE_RETRY_WAIT) -> RetryPolicy:
    return RetryPolicy(max_attempts=2, initial_interval=wait, jitter=False, retry_on=retry_on)


NODE_RETRY = node_retry()


def fan_out(state: AuditState) -> list[Send]:
    return [
        Send("research", ResearchTask(concern=c, run_id=state.run_id, date=state.date))
        for c in state.concerns
    ]


def fan_out_challenge(state: AuditState) -> list[Send]:
    """Two independent challengers, in parallel, over the concerns researched in this run."""
    return [
        Send(
            "challenge",
            ChallengeTask(stance=stance, date=state.date, concerns=state.concerns),
        )
        for stance in stances.STANCES
    ]


def build_graph(retry: RetryPolicy = NODE_RETRY) -> StateGraph[AuditState, RunContext, Any, Any]:
    graph = StateGraph(AuditState, context_schema=RunContext)
    graph.add_node("inventory", nodes.inventory_node)
    # A Send target takes its own input (a ResearchTask, a ChallengeTask), not the graph state;
    # LangGraph's overloads tie a node's input type to the state type, so these two lines cannot be
    # typed without the ignore.
    graph.add_node(  # type: ignore[call-overload]
        "research",
        nodes.research_node,
        input_schema=ResearchTask,
        retry_policy=retry,
        error_handler=nodes.research_failed,
    )
    graph.add_node("challenge_round", nodes.challenge_round)
    graph.add_node(  # type: ignore[call-overload]
        "challenge",
        nodes.challenge_node,
        input_schema=ChallengeTask,
        retry_policy=retry,
        error_handler=nodes.challenge_failed,
    )
    graph.add_node("synthesize", nodes.synthesize_node)
    graph.add_node("render", nodes.render_node)
    graph.add_edge(START, "inventory")
    graph.add_conditional_edges("inventory", fan_out, ["research"])
    graph.add_edge("research", "challenge_round")
    graph.add_conditional_edges("challenge_round", fan_out_challenge, ["challenge"])
    graph.add_edge("challenge", "synthesize")
    graph.add_edge("synthesize", "render")
    graph.add_edge("render", END)
    return graph


def checkpointer(path: Path) -> SqliteSaver:
    """A SQLite checkpointer that only deserializes our own types, writes each channel value once and
    keeps the last step (``pipeline/checkpoints.py``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    return LatestSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))


def compile_graph(saver: BaseCheckpointSaver[Any] | None = None, retry: RetryPolicy = NODE_RETRY) -> Any:
    return build_graph(retry).compile(checkpointer=saver)
