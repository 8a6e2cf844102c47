"""Scoring, in plain Python: never the model's arithmetic.

Rank A = Impact x (6 - Effort) x (6 - Risk): big wins that are cheap and safe to try.
Rank B = Impact x (6 - Effort) x FatigueWeight, FatigueWeight = 3 for daily/weekly toil, else 1:
what hurts the operator every week.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

FATIGUE_WEIGHT = 3


class Scored(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def rank_a(self) -> int: ...
    @property
    def rank_b(self) -> int: ...


def _check_scale(**values: int) -> None:
    for name, value in values.items():
        if not 1 <= value <= 5:
            raise ValueError(f"{name} must be 1-5, got {value}")


def rank_a(impact: int, effort: int, risk: int) -> int:
    _check_scale(impact=impact, effort=effort, risk=risk)
    return impact * (6 - effort) * (6 - risk)


def rank_b(impact: int, effort: int, fatigue: bool) -> int:
    _check_scale(impact=impact, effort=effort)
    return impact * (6 - effort) * (FATIGUE_WEIGHT if fatigue else 1)


def leaders(findings: Iterable[Scored], rank: str, n: int = 8) -> list[str]:
    """Ids of the top ``n`` by ``rank`` ('a' or 'b'); ties broken by the other rank, then by id."""
    other = "b" if rank == "a" else "a"
    ordered = sorted(
        findings,
        key=lambda f: (-getattr(f, f"rank_{rank}"), -getattr(f, f"rank_{other}"), f.id),
    )
    return [f.id for f in ordered[:n]]
