"""orjson writes the JSON infra-audit stores and renders (``tools/json_text.py``): byte for byte what
the standard library writes with the same options, and where orjson would write something else (a
NaN as null) or refuses (an integer past 64 bits, a lone surrogate), the standard library writes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tools.json_text import compact, floats, indented

pytestmark = pytest.mark.unit

SAME: list[Any] = [
    {},
    [],
    {"a": [], "b": {}, "c": [{}], "d": [[]]},
    {"name": "café ☕ 東京", "quote": 'a "b" \\ c', "ctl": "\x00\x1f\t\n", "sep": "\u2028\u2029"},
    {"n": [0, -1, 2**63 - 1, -(2**63), 1.0, 0.1, 1e16, 1.5e300, 2.5e-12, -0.0, True, False, None]},
    {"small": [1.5e-7, 3e-5, 7.974042475543028e-05], "text": "1e-5 in words"},
    {"nested": {"deep": [{"x": [1, {"y": "z"}]}]}, "tuple": (1, "two")},
    "just a string",
    12,
]

EXACT_ONLY_BY_STDLIB: list[Any] = [
    {"big": 2**64},
    {"s": "\ud800"},
    {"nan": float("nan"), "z": None},
    {"inf": [float("inf"), None]},
]


@pytest.mark.parametrize("value", SAME)
def test_the_text_is_the_standard_librarys(value: Any) -> None:
    assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("value", SAME)
def test_compact_gives_the_same_value(value: Any) -> None:
    assert json.loads(compact(value)) == json.loads(json.dumps(value))


@pytest.mark.parametrize("value", EXACT_ONLY_BY_STDLIB)
def test_what_orjson_cannot_write_exactly_the_standard_library_writes(value: Any) -> None:
    assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
    assert compact(value) == json.dumps(value, separators=(",", ":")).encode("ascii")


def test_floats_are_found_everywhere() -> None:
    assert floats({"a": [1, {"b": (2, float("-inf"))}], "c": 0.5, "d": "0.25"}) in (
        [0.5, float("-inf")],
        [float("-inf"), 0.5],
    )
    assert floats({"a": [1, {"b": (2, None, "nan")}]}) == []


def test_what_a_report_may_share_or_nest_wrongly() -> None:
    """A container met twice is written twice, as the standard library does; one inside itself is
    refused, as the standard library refuses it; a float Enum is written as the standard library
    writes it (its value's text)."""
    import enum

    class Ratio(float, enum.Enum):
        SMALL = 1e-05

    shared = {"x": 1.5, "y": [1e-05]}
    value = {"a": shared, "b": [shared, shared], "r": Ratio.SMALL}
    assert indented(value) == json.dumps(value, indent=2, ensure_ascii=False)
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(ValueError):
        indented(looped)
    with pytest.raises(ValueError):
        json.dumps(looped)


def test_a_value_known_finite_is_not_looked_into() -> None:
    """The snapshot tells ``compact`` its dump held no NaN (``load_json_finite``); a NaN it was not
    told of is written as orjson writes it, which is why the flag is the reader's to give."""
    assert compact({"z": None, "f": 0.5}, finite=True) == b'{"z":null,"f":0.5}'
    assert compact({"n": float("nan")}) == b'{"n":NaN}'


def test_a_type_the_standard_library_refuses_is_refused() -> None:
    """orjson writes a datetime and a dataclass; ``json.dumps`` refuses them, and so does ``indented``:
    its text is the standard library's or nothing."""
    import dataclasses
    import datetime

    @dataclasses.dataclass
    class Point:
        x: int

    for value in ({"at": datetime.datetime(2026, 12, 7, tzinfo=datetime.UTC)}, {"p": Point(1)}):
        with pytest.raises(TypeError):
            json.dumps(value, indent=2, ensure_ascii=False)
        with pytest.raises(TypeError):
            indented(value)
