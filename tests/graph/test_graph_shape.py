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


def test_research_and_challengers_fan_out_and_synthesis_waits_for_both() -> None:
    graph = compile_graph().get_graph()
    edges = {(e.source, e.target, e.conditional) for e in graph.edges}
    assert ("inventory", "research", True) in edges  # Send fan-out, one branch per concern
    assert ("research", "challenge_round", False) in edges  # the barrier after every branch
    assert ("challenge_round", "challenge", True) in edges  # Send fan-out, one per stance
    assert ("challenge", "synthesize", False) in edges
    assert ("synthesize", "render", False) in edges
