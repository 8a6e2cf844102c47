"""Rank A and Rank B, checked against rows of the reference audit (seeds/000) and the edges."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.ranking import leaders, rank_a, rank_b

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("impact", "effort", "risk", "fatigue", "a", "b"),
    [
        (5, 3, 2, True, 60, 45),  # seed F01/F02: probes, NFS exports
        (4, 2, 1, True, 80, 48),  # seed F03: Renovate
        (5, 3, 1, True, 75, 45),  # seed F05: OOMKill alerts
        (4, 3, 4, False, 24, 12),  # seed F12 as Rank A; Rank B without toil
        (
            4,
            5,
            4,
            False,
            8,
            4,
        ),  # seed F18 prints Rank B 8, which no weight of 1 or 3 gives; the formula says 4
        (1, 5, 5, False, 1, 1),
        (5, 1, 1, True, 125, 75),
    ],
)
def test_formulas(impact: int, effort: int, risk: int, fatigue: bool, a: int, b: int) -> None:
    assert rank_a(impact, effort, risk) == a
    assert rank_b(impact, effort, fatigue) == b


@pytest.mark.parametrize("bad", [0, 6, -1])
def test_scales_are_one_to_five(bad: int) -> None:
    with pytest.raises(ValueError, match="must be 1-5"):
        rank_a(bad, 3, 3)
    with pytest.raises(ValueError, match="must be 1-5"):
        rank_b(3, bad, False)


@dataclass
class Row:
    id: str
    rank_a: int
    rank_b: int


def test_leaders_break_ties_by_the_other_rank_then_id() -> None:
    rows = [Row("F03", 60, 10), Row("F01", 60, 45), Row("F02", 60, 45), Row("F04", 80, 1), Row("F05", 1, 99)]
    assert leaders(rows, "a", n=4) == ["F04", "F01", "F02", "F03"]
    assert leaders(rows, "b", n=2) == ["F05", "F01"]
