"""The term search of the intent challenger (``agents/offline/decision_match.py``).

A clause is tested against every term of every topic, so a cheap substring test on the folded text
skips the terms that cannot occur before any regex runs. The test must never skip a term the
case-insensitive regex would find: every character ``re`` matches to an ASCII letter or digit (dotted
and dotless i, the long s, the Kelvin sign) is checked here.
"""

from __future__ import annotations

import re
import string
import sys

import pytest

from agents.offline import decision_match as dm
from tools.checks.spec import TopicSpec

pytestmark = pytest.mark.unit

LIMITS = TopicSpec(
    key="memory-limits", stated=("no memory limit",), negated=("memory limit",), on_decision="drop"
)


def test_every_character_re_matches_to_an_ascii_one_survives_the_fold() -> None:
    ascii_chars = string.ascii_letters + string.digits + "-_ ./"
    any_of = re.compile(f"[{re.escape(ascii_chars)}]", re.IGNORECASE)
    candidates = [chr(i) for i in range(sys.maxunicode + 1) if any_of.fullmatch(chr(i))]
    assert "\u0131" in candidates and "\u212a" in candidates  # dotless i, Kelvin sign
    for letter in ascii_chars:
        pattern = re.compile(re.escape(letter), re.IGNORECASE)
        for char in filter(pattern.fullmatch, candidates):
            assert dm._may_occur(dm._fold(f"x{char}y"), letter), (letter, hex(ord(char)))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("No memory limit on purpose.", True),
        ("NO MEMORY LİMİT ON PURPOSE.", True),  # dotted capital I: re matches it to i
        ("no memory lımıt on purpose", True),  # dotless i
        ("no memory limits here", False),  # whole words only
        ("nothing about that", False),
    ],
)
def test_names_topic_finds_what_the_regex_finds(text: str, found: bool) -> None:
    assert dm.names_topic(text, [LIMITS]) is found
    by_regex = any(
        re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", dm._flat(text), re.IGNORECASE)
        for t in (*LIMITS.stated, *LIMITS.negated)
    )
    assert by_regex is found


def test_a_term_is_compiled_once() -> None:
    dm._word.cache_clear()
    for _ in range(3):
        dm._occurrences("a memory limit, another memory limit", "memory limit")
    assert dm._occurrences("a memory limit, another Memory Limit", "memory limit") == [(2, 14), (24, 36)]
    info = dm._word.cache_info()
    assert (info.misses, info.hits) == (1, 3)
