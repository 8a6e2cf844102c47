"""Token and cost accounting, and the run's budgets: money to the cent, unknown prices never invented."""

from __future__ import annotations

import threading

import pytest

from agents.llm.accounting import PRICES, Accountant, price_for
from agents.llm.protocol import Usage
from agents.llm.settings import DEFAULT_MODEL, Price, RunBudget

pytestmark = pytest.mark.unit

USAGE = Usage(
    input_tokens=12_345,
    output_tokens=6_789,
    cache_creation_input_tokens=20_000,
    cache_read_input_tokens=100_000,
)


def test_cost_of_a_known_model_to_the_cent() -> None:
    # Sonnet list price: $3 in, $15 out, $3.75 cache write, $0.30 cache read per million tokens.
    # 12,345*3 + 6,789*15 + 20,000*3.75 + 100,000*0.30 = 243,870 micro-dollars.
    accountant = Accountant()
    accountant.record("research:security", "claude-sonnet-4-6", USAGE, tool_calls=2)
    (row,) = accountant.usage_rows()
    assert row.cost_usd == pytest.approx(0.24387)
    assert round(row.cost_usd, 2) == 0.24
    assert (
        row.input_tokens,
        row.output_tokens,
        row.cache_write_tokens,
        row.cache_read_tokens,
        row.tool_calls,
    ) == (
        12_345,
        6_789,
        20_000,
        100_000,
        2,
    )
    assert accountant.totals().cost_usd == pytest.approx(0.24387)
    assert accountant.notes() == []


def test_prices_match_families_and_snapshots_only() -> None:
    assert price_for("claude-sonnet-4-5-20250929") == PRICES["claude-sonnet-4-5"]
    assert price_for("claude-opus-4-20250514") == PRICES["claude-opus-4"]
    assert price_for("claude-opus-4-5").input == 5.0  # type: ignore[union-attr]
    assert price_for("claude-opus-4-1-20250805").output == 75.0  # type: ignore[union-attr]
    assert price_for("claude-3-7-sonnet-latest") == PRICES["claude-3-7-sonnet"]
    for unknown in (
        "claude-opus-4-7",
        DEFAULT_MODEL,
        "claude-sonnet-5",
        "scripted",
        "qwen3:32b",
        "claude-opus-4x",
    ):
        assert price_for(unknown) is None, unknown
    override = Price(input=1, output=2, cache_write=1.25, cache_read=0.1)
    assert price_for("qwen3:32b", override) == override


def test_unknown_model_cost_is_none_never_invented() -> None:
    accountant = Accountant()
    accountant.record("research:security", "claude-sonnet-4-6", USAGE)
    accountant.record("research:reliability", "scripted", USAGE)
    totals = accountant.totals()
    assert totals.cost_usd is None
    assert totals.known_cost_usd == pytest.approx(0.24387)
    assert totals.unpriced_models == ["scripted"]
    assert accountant.cost_known("research:security") and not accountant.cost_known("research:reliability")
    assert not accountant.cost_known()
    (note,) = accountant.notes()
    assert "cost unknown for scripted" in note and "only the token budget" in note


def test_price_override_wins() -> None:
    accountant = Accountant(price_override=Price(input=1, output=1, cache_write=1, cache_read=1))
    accountant.record("a", "claude-sonnet-4-6", Usage(input_tokens=500_000, output_tokens=500_000))
    assert accountant.totals().cost_usd == pytest.approx(1.0)


def test_budget_exhausted_by_tokens() -> None:
    accountant = Accountant(RunBudget(max_tokens_per_run=1_000))
    accountant.record("a", "scripted", Usage(input_tokens=400, output_tokens=100))
    assert accountant.check_budget() is None
    accountant.record("b", "scripted", Usage(input_tokens=200, cache_read_input_tokens=300))
    assert accountant.check_budget() == "token budget spent: 1,000 of 1,000 tokens"


def test_budget_exhausted_by_dollars() -> None:
    accountant = Accountant(RunBudget(max_usd_per_run=0.40))
    accountant.record("a", "claude-sonnet-4-6", USAGE)
    assert accountant.check_budget() is None
    accountant.record("b", "claude-sonnet-4-6", USAGE)
    assert accountant.check_budget() == "dollar budget spent: $0.49 of $0.40"


def test_unknown_price_leaves_only_the_token_budget() -> None:
    accountant = Accountant(RunBudget(max_usd_per_run=0.01, max_tokens_per_run=10_000_000))
    for _ in range(50):
        accountant.record("a", "qwen3:32b", USAGE)
    assert accountant.check_budget() is None
    assert accountant.totals().cost_usd is None


def test_tool_calls_left_and_rows_sorted() -> None:
    accountant = Accountant(RunBudget(max_tool_calls_per_agent=5))
    accountant.record("research:security", "scripted", Usage(), tool_calls=3)
    accountant.record("challenge:intent", "scripted", Usage(), tool_calls=9)
    assert accountant.tool_calls_left("research:security") == 2
    assert accountant.tool_calls_left("challenge:intent") == 0
    assert accountant.tool_calls_left("synthesize") == 5
    assert [r.agent for r in accountant.usage_rows()] == ["challenge:intent", "research:security"]


def test_accountant_is_thread_safe() -> None:
    accountant = Accountant()
    one = Usage(input_tokens=1, output_tokens=2, cache_creation_input_tokens=3, cache_read_input_tokens=4)
    start = threading.Barrier(8)

    def work(agent: str) -> None:
        start.wait()
        for _ in range(2_000):
            accountant.record(agent, "claude-haiku-4-5", one, tool_calls=1)

    threads = [threading.Thread(target=work, args=(f"agent-{i % 4}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    totals = accountant.totals()
    assert (totals.calls, totals.tool_calls, totals.tokens) == (16_000, 16_000, 160_000)
    assert [r.tool_calls for r in accountant.usage_rows()] == [4_000] * 4
    # Haiku 4.5: (1*1 + 2*5 + 3*1.25 + 4*0.10) / 1e6 per reply = 15.15e-6
    assert totals.cost_usd == pytest.approx(16_000 * 15.15e-6)
