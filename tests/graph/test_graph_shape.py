"""The compiled graph's shape, as a reviewed snapshot (docs/graph.mmd is the same diagram)."""

from __future__ import annotations

import pytest
from estates import REPO
from snapshot import assert_snapshot

from pipeline.graph import compile_graph

pytestmark = pytest.mark.graph


def test_graph_diagram_is_the_documented_one() -> None:
    diagram = compile_graph().get_graph().draw_mermaid()
    assert_snapshot("graph.mmd", diagram, path=REPO / "docs" / "graph.mmd")


def test_research_fans_out_and_both_challengers_join_before_synthesis() -> None:
    graph = compile_graph().get_graph()
    edges = {(e.source, e.target, e.conditional) for e in graph.edges}
    assert ("inventory", "research", True) in edges  # Send fan-out, one branch per concern
    assert {("research", "challenge_numbers", False), ("research", "challenge_intent", False)} <= edges
    assert {("challenge_numbers", "synthesize", False), ("challenge_intent", "synthesize", False)} <= edges
    assert ("synthesize", "render", False) in edges
