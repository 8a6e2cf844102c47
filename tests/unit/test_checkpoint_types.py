"""Every type a checkpoint holds may be rebuilt from it: the serializer's allow-list names them all.

LangGraph's msgpack serializer rebuilds only the modules and classes it is allowed; any other is
"blocked" and comes back as plain data (a warning, and a resumed run that reads the wrong type). The
list is written by hand in ``pipeline/graph.py``; this test walks the state's fields, computed fields
included (``Finding.severity`` is a ``Severity``), and fails on a type the list lacks.
"""

from __future__ import annotations

import enum
import typing

import pytest
from pydantic import BaseModel

from pipeline.graph import CHECKPOINT_TYPES
from pipeline.state import AuditState

pytestmark = pytest.mark.unit

OURS = ("domain", "pipeline", "agents", "tools")


def reachable(root: type) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()

    def walk(t: object) -> None:
        for arg in typing.get_args(t):
            walk(arg)
        if not isinstance(t, type) or t.__module__.split(".")[0] not in OURS:
            return
        key = (t.__module__, t.__name__)
        if key in found or not issubclass(t, BaseModel | enum.Enum):
            return
        found.add(key)
        if issubclass(t, BaseModel):
            for field in t.model_fields.values():
                walk(field.annotation)
            for computed in t.model_computed_fields.values():
                walk(computed.return_type)

    walk(root)
    return found


def test_every_type_the_state_can_hold_is_allowed() -> None:
    assert reachable(AuditState) - set(CHECKPOINT_TYPES) == set()


def test_the_walk_sees_computed_fields_and_nested_models() -> None:
    seen = reachable(AuditState)
    assert ("domain.identity", "Severity") in seen  # Finding.severity, a computed field
    assert ("domain.topology", "NodeRow") in seen  # AuditReport.topology.nodes
