"""Build and compile the audit graph. This file only wires; node bodies live in ``agents/nodes.py``.

    START -> inventory -Send x N-> research[concern] -> challenge_numbers -+-> synthesize -> render -> END
                                                     -> challenge_intent  -+

Research branches run in parallel and write ``results[concern]``; the two challengers run in parallel
once every branch has finished; synthesis joins them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

from agents import nodes
from pipeline.context import RunContext
from pipeline.state import AuditState, ResearchTask

# Our own types that checkpoints may hold; anything else is refused on load.
CHECKPOINT_TYPES = [
    ("pipeline.state", "AuditState"),
    ("pipeline.state", "ResearchTask"),
    ("agents.findings", "ConcernResult"),
    ("agents.findings", "RawFinding"),
    ("agents.findings", "Claim"),
    ("agents.findings", "Verdict"),
    ("agents.findings", "Finding"),
    ("agents.findings", "Theme"),
    ("agents.findings", "NextMove"),
    ("agents.audit", "AuditReport"),
    ("agents.audit", "RunMeta"),
    ("agents.audit", "AgentUsage"),
    ("agents.audit", "Correction"),
    ("agents.audit", "ConcernSummary"),
    ("tools.checks.spec", "Location"),
    ("tools.evidence", "Evidence"),
    ("tools.results", "ToolStatus"),
]


def fan_out(state: AuditState) -> list[Send]:
    return [
        Send("research", ResearchTask(concern=c, run_id=state.run_id, date=state.date)) for c in state.concerns
    ]


def build_graph() -> StateGraph[AuditState, RunContext, Any, Any]:
    graph = StateGraph(AuditState, context_schema=RunContext)
    graph.add_node("inventory", nodes.inventory_node)
    # A Send target takes its own input (a ResearchTask), not the graph state; LangGraph's overloads
    # tie a node's input type to the state type, so this one line cannot be typed without the ignore.
    graph.add_node("research", nodes.research_node, input_schema=ResearchTask)  # type: ignore[call-overload]
    graph.add_node("challenge_numbers", nodes.challenge_numbers_node)
    graph.add_node("challenge_intent", nodes.challenge_intent_node)
    graph.add_node("synthesize", nodes.synthesize_node)
    graph.add_node("render", nodes.render_node)
    graph.add_edge(START, "inventory")
    graph.add_conditional_edges("inventory", fan_out, ["research"])
    graph.add_edge("research", "challenge_numbers")
    graph.add_edge("research", "challenge_intent")
    graph.add_edge(["challenge_numbers", "challenge_intent"], "synthesize")
    graph.add_edge("synthesize", "render")
    graph.add_edge("render", END)
    return graph


def checkpointer(path: Path) -> SqliteSaver:
    """A SQLite checkpointer that only deserializes our own types."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    return SqliteSaver(conn, serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES))


def compile_graph(saver: BaseCheckpointSaver[Any] | None = None) -> Any:
    return build_graph().compile(checkpointer=saver)
