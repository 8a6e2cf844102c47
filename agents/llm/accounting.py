"""Token use and cost, per agent and per run, and the run's budgets.

Every model reply is recorded here by the agent loop (``Accountant.record``). The report's usage
table comes from ``usage_rows``; the loop asks ``check_budget`` before each turn and ends the agent
cleanly (one forced submission turn) when the run's budget is spent.

Prices are list prices in USD per million tokens, as Anthropic published them; we believe them
current as of February 2026, which is when this table was written. Models released later (the
installed SDK already lists ``claude-sonnet-5-5``, ``claude-opus-4-7``, ...) are deliberately
absent: their cost is *unknown*, never guessed, and only the token budget holds such a run unless
the user passes a price (``ModelSettings.price``), which wins over the table. Long-context
surcharges (Sonnet above 200k input tokens), batch discounts and regional endpoints are not
modelled: the cost shown is the standard-tier list price.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from agents.llm.settings import Price, RunBudget
from domain.report import AgentUsage

if TYPE_CHECKING:
    from agents.llm.protocol import Usage

_OPUS_4_5 = Price(input=5.0, output=25.0, cache_write=6.25, cache_read=0.50)
_OPUS_4 = Price(input=15.0, output=75.0, cache_write=18.75, cache_read=1.50)
_SONNET = Price(input=3.0, output=15.0, cache_write=3.75, cache_read=0.30)
_HAIKU_4_5 = Price(input=1.0, output=5.0, cache_write=1.25, cache_read=0.10)
_HAIKU_3_5 = Price(input=0.80, output=4.0, cache_write=1.0, cache_read=0.08)
_HAIKU_3 = Price(input=0.25, output=1.25, cache_write=0.30, cache_read=0.03)

PRICES: dict[str, Price] = {
    "claude-opus-4-6": _OPUS_4_5,
    "claude-opus-4-5": _OPUS_4_5,
    "claude-opus-4-1": _OPUS_4,
    "claude-opus-4-0": _OPUS_4,
    "claude-opus-4": _OPUS_4,
    "claude-3-opus": _OPUS_4,
    "claude-sonnet-4-6": _SONNET,
    "claude-sonnet-4-5": _SONNET,
    "claude-sonnet-4-0": _SONNET,
    "claude-sonnet-4": _SONNET,
    "claude-3-7-sonnet": _SONNET,
    "claude-3-5-sonnet": _SONNET,
    "claude-haiku-4-5": _HAIKU_4_5,
    "claude-3-5-haiku": _HAIKU_3_5,
    "claude-3-haiku": _HAIKU_3,
}
"""Model family (an id prefix) -> list price, as published by Anthropic (believed current 2026-02)."""

# A family matches its own id, a dated snapshot of it ("-20250929") or its "-latest" alias, and
# nothing else: "claude-opus-4" must not price "claude-opus-4-7", which it does not know.
_SUFFIX = re.compile(r"(-\d{8}|-latest)?")


def price_for(model: str, override: Price | None = None) -> Price | None:
    """The price of ``model``: the override if given, else the table's family, else None (unknown)."""
    if override is not None:
        return override
    for family in sorted(PRICES, key=len, reverse=True):
        if model.startswith(family) and _SUFFIX.fullmatch(model[len(family) :]):
            return PRICES[family]
    return None


class RunTotals(BaseModel):
    """The run's usage. ``cost_usd`` is None when some usage was on a model with no known price."""

    model_config = ConfigDict(extra="forbid")

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    tokens: int = Field(default=0, description="Every token counted against the token budget.")
    tool_calls: int = 0
    calls: int = Field(default=0, description="Model replies recorded.")
    cost_usd: float | None = 0.0
    known_cost_usd: float = Field(default=0.0, description="Cost of the usage whose price is known.")
    unpriced_models: list[str] = Field(default_factory=list)


@dataclass
class _Tally:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True
    tool_calls: int = 0
    calls: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.cache_read_tokens + self.cache_write_tokens


class Accountant:
    """Thread-safe ledger of model usage. Research branches run in parallel and share one instance.

    Tokens against the budget are all of them: uncached input, cache writes, cache reads and output,
    since all are processed (the API documents total input as the sum of the three input kinds).
    The dollar budget applies to the part of the usage whose price is known; with an unknown price
    that part is a lower bound, so the budget can still stop a run, and ``notes`` says the cost is
    incomplete and that the token budget is what holds the rest.
    """

    def __init__(self, budget: RunBudget | None = None, *, price_override: Price | None = None) -> None:
        self.budget = budget or RunBudget()
        self.price_override = price_override
        self._lock = threading.Lock()
        self.calls: list[dict[str, object]] = []
        """Every model call, in order: what the per-run transcript records."""
        self._agents: dict[str, _Tally] = {}
        self._unpriced: set[str] = set()

    def record(
        self, agent: str, model: str, usage: Usage, tool_calls: int = 0, stop_reason: str | None = None
    ) -> None:
        """Add one reply's usage (and the tool calls it asked for) to ``agent``."""
        price = price_for(model, self.price_override)
        with self._lock:
            tally = self._agents.setdefault(agent, _Tally())
            self.calls.append(
                {
                    "agent": agent,
                    "call": tally.calls + 1,
                    "model": model,
                    "stop_reason": stop_reason,
                    "tool_calls": tool_calls,
                    **usage.model_dump(),
                }
            )
            tally.input_tokens += usage.input_tokens
            tally.output_tokens += usage.output_tokens
            tally.cache_read_tokens += usage.cache_read_input_tokens
            tally.cache_write_tokens += usage.cache_creation_input_tokens
            tally.tool_calls += tool_calls
            tally.calls += 1
            if price is None:
                tally.priced = False
                self._unpriced.add(model)
            else:
                tally.cost_usd += price.cost(usage)

    def usage_rows(self) -> list[AgentUsage]:
        """One row per agent, sorted by agent. ``cost_usd`` is the known part (see ``cost_known``)."""
        with self._lock:
            return [
                AgentUsage(
                    agent=agent,
                    input_tokens=t.input_tokens,
                    output_tokens=t.output_tokens,
                    cache_read_tokens=t.cache_read_tokens,
                    cache_write_tokens=t.cache_write_tokens,
                    cost_usd=round(t.cost_usd, 6) if t.priced else None,
                    tool_calls=t.tool_calls,
                )
                for agent, t in sorted(self._agents.items())
            ]

    def cost_known(self, agent: str | None = None) -> bool:
        """Whether every reply of ``agent`` (or of the run) was on a model with a known price."""
        with self._lock:
            tallies: Iterable[_Tally] = (
                self._agents.values() if agent is None else [self._agents.get(agent, _Tally())]
            )
            return all(t.priced for t in tallies)

    def totals(self) -> RunTotals:
        with self._lock:
            tallies = list(self._agents.values())
            unpriced = sorted(self._unpriced)
        known = round(sum(t.cost_usd for t in tallies), 6)
        return RunTotals(
            input_tokens=sum(t.input_tokens for t in tallies),
            output_tokens=sum(t.output_tokens for t in tallies),
            cache_read_tokens=sum(t.cache_read_tokens for t in tallies),
            cache_write_tokens=sum(t.cache_write_tokens for t in tallies),
            tokens=sum(t.tokens for t in tallies),
            tool_calls=sum(t.tool_calls for t in tallies),
            calls=sum(t.calls for t in tallies),
            cost_usd=None if unpriced else known,
            known_cost_usd=known,
            unpriced_models=unpriced,
        )

    def check_budget(self) -> str | None:
        """Why the run's budget is spent, or None while it is not."""
        totals = self.totals()
        if totals.tokens >= self.budget.max_tokens_per_run:
            return f"token budget spent: {totals.tokens:,} of {self.budget.max_tokens_per_run:,} tokens"
        if totals.known_cost_usd >= self.budget.max_usd_per_run:
            qualifier = "" if totals.cost_usd is not None else " (at least; some usage has no known price)"
            return (
                f"dollar budget spent: ${totals.known_cost_usd:.2f}{qualifier} "
                f"of ${self.budget.max_usd_per_run:.2f}"
            )
        return None

    def tool_calls_left(self, agent: str) -> int:
        with self._lock:
            used = self._agents.get(agent, _Tally()).tool_calls
        return max(0, self.budget.max_tool_calls_per_agent - used)

    def notes(self) -> list[str]:
        """What a reader of the usage table must know: which costs are unknown and what held the run."""
        unpriced = self.totals().unpriced_models
        if not unpriced:
            return []
        names = ", ".join(unpriced)
        return [
            f"cost unknown for {names}: no published price known to infra-audit and no price given; "
            f"only the token budget ({self.budget.max_tokens_per_run:,} tokens per run) applies to it"
        ]


def usage_line(accountant: Accountant, agent: str) -> str:
    """One short line for the live display: an agent's tokens and estimated cost so far."""
    row = next((u for u in accountant.usage_rows() if u.agent == agent), None)
    if row is None:
        return "no model call yet"
    tokens = row.input_tokens + row.output_tokens + row.cache_read_tokens + row.cache_write_tokens
    cost = "price unknown" if row.cost_usd is None else f"~${row.cost_usd:.2f}"
    return f"{row.tool_calls} calls, {tokens / 1000:.0f}k tokens, {cost}"
