"""Tool argument bounds live in the signatures, so the schema a model reads carries them.

They used to be clamped inside the function bodies and described only in prose: a model asking
for 5,000 results silently got 1,000. Now the schema says the range, and an argument outside it is
an error result naming the field, which the model can act on.
"""

from __future__ import annotations

import pytest
from estates import GITOPS

from domain.results import ToolStatus
from tools.evidence import Ledger
from tools.registry import Toolbox, default_specs
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

BOUNDS = {
    ("repo_search", "context"): (0, 10),
    ("repo_search", "max_results"): (1, 1000),
    ("repo_read", "start"): (1, None),
    ("repo_read", "max_lines"): (1, 2000),
    ("repo_list", "max_entries"): (1, 5000),
}


def test_every_numeric_bound_is_in_the_schema_with_a_description() -> None:
    specs = {s.name: s for s in default_specs()}
    for (tool, param), (low, high) in BOUNDS.items():
        prop = specs[tool].input_schema()["properties"][param]
        assert prop.get("minimum") == low and prop.get("maximum") == high, (tool, param, prop)
        assert prop.get("description"), (tool, param)
    end = specs["repo_read"].input_schema()["properties"]["end"]
    assert {"type": "integer", "minimum": 1} in end["anyOf"] and {"type": "null"} in end["anyOf"]
    # no integer parameter of any tool is left without a range
    for spec in specs.values():
        for name, prop in spec.input_schema()["properties"].items():
            if prop.get("type") == "integer":
                assert "minimum" in prop, (spec.name, name)


@pytest.mark.parametrize(
    ("tool", "args", "field"),
    [
        ("repo_search", {"pattern": "kind", "max_results": 5000}, "max_results"),
        ("repo_search", {"pattern": "kind", "context": -1}, "context"),
        ("repo_read", {"path": "README.md", "max_lines": 0}, "max_lines"),
        ("repo_list", {"max_entries": 100_000}, "max_entries"),
    ],
)
def test_an_argument_out_of_range_is_an_error_naming_the_field(
    tool: str, args: dict[str, object], field: str
) -> None:
    box = Toolbox(Jail(GITOPS), None, Ledger())
    evidence = box.call(tool, args)
    assert evidence.status is ToolStatus.ERROR
    assert evidence.error is not None and evidence.error.startswith(
        f"invalid arguments for {tool}: {field}: "
    )


def test_the_bounds_hold_at_their_edges() -> None:
    box = Toolbox(Jail(GITOPS), None, Ledger())
    assert (
        box.call("repo_search", {"pattern": "kind", "max_results": 1000, "context": 10}).status
        is ToolStatus.OK
    )
    assert box.call("repo_list", {"max_entries": 1}).status is ToolStatus.OK
