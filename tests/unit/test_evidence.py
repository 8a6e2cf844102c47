"""The ledger: content-addressed ids, repeats, deterministic attribution."""

from __future__ import annotations

import pytest

from domain.results import ToolResult, ToolStatus
from tools.evidence import Ledger, evidence_id

pytestmark = pytest.mark.unit


def result(value: float = 3) -> ToolResult:
    return ToolResult(
        tool="repo_count",
        args={"pattern": "x"},
        status=ToolStatus.OK,
        command="rg -c x",
        output="3",
        value=value,
    )


def test_the_same_call_has_the_same_id_and_is_a_repeat() -> None:
    ledger = Ledger()
    first, repeated = ledger.call("repo_count", {"pattern": "x"}, result, agent="research:security")
    again, repeated_again = ledger.call(
        "repo_count", {"pattern": "x"}, lambda: result(99), agent="research:security"
    )
    assert first.id == again.id == evidence_id("repo_count", {"pattern": "x"})
    assert (repeated, repeated_again) == (False, True)
    assert again.value == 3  # answered from the ledger, not run again
    assert ledger.repeats == {first.id: 1}


@pytest.mark.parametrize(
    "order", [("research:security", "research:reliability"), ("research:reliability", "research:security")]
)
def test_a_shared_call_is_attributed_the_same_whatever_the_order(order: tuple[str, str]) -> None:
    ledger = Ledger()
    for agent in order:
        ledger.call("repo_count", {"pattern": "x"}, result, agent=agent)
    assert [e.agent for e in ledger.items()] == ["research:reliability"]


def test_output_is_capped_and_hashed_in_full() -> None:
    ledger = Ledger(output_cap=4)
    big = ToolResult(
        tool="repo_read", args={"path": "a"}, status=ToolStatus.OK, command="cat a", output="0123456789"
    )
    ev = ledger.record(big)
    assert ev.output == "0123" and ev.truncated
    import hashlib

    assert ev.sha256 == hashlib.sha256(b"0123456789").hexdigest()


def test_recorded_and_called_evidence_follow_the_same_attribution_rule() -> None:
    ledger = Ledger()
    ledger.call("repo_count", {"pattern": "x"}, result, agent="maintenance")
    ledger.record(
        result().model_copy(update={"tool": "repo_count", "args": {"pattern": "x"}}), agent="declarative"
    )
    assert [e.agent for e in ledger.items()] == ["declarative"]
