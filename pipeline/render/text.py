"""Markdown text primitives shared by the view and the templates.

They live apart from the view so the escaping rules exist once: a table cell escapes ``|`` and
flattens newlines (a raw newline ends a table row), a code span picks a backtick fence the content
cannot close. Everything here is a pure function of its input, which keeps the report byte-stable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from domain.concerns import CONCERN_CODES

_CODES: dict[str, str] = {str(k): v for k, v in CONCERN_CODES.items()}
_WS = re.compile(r"\s*\n\s*")
_RUN = re.compile(r"`+")


def inline(text: str) -> str:
    """One line of text: newlines (with their indentation) become single spaces."""
    return _WS.sub(" ", text.strip())


def cell(text: str) -> str:
    """A GFM table cell: one line, ``|`` escaped (also inside code spans, as GFM requires)."""
    return inline(text).replace("|", "\\|")


def code(text: str) -> str:
    """A code span that survives backticks in ``text`` (CommonMark: a longer fence, padded)."""
    text = inline(text)
    longest = max((len(m) for m in _RUN.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def num(value: float | int) -> str:
    """A number as people write it: ``115`` not ``115.0``, ``0.75`` not ``7.5e-01``."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:g}"


def concern_code(concern: str) -> str:
    """``reliability`` -> ``R1``; an unknown name is shown as it is rather than hidden."""
    return _CODES.get(concern, concern)


def concern_label(concern: str) -> str:
    """``reliability`` -> ``R1 Reliability``."""
    return f"{concern_code(concern)} {concern.capitalize()}"


def concern_order(by_concern: Mapping[str, str]) -> list[tuple[str, str]]:
    """Items keyed by concern in R1..R5 order (unknown keys last, by name): the order people read."""
    rank = {c: i for i, c in enumerate(_CODES)}
    return sorted(by_concern.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0]))


def codes(concerns: Sequence[str], sep: str = "+") -> str:
    """Concern codes in the finding's own order (the first is the owning concern)."""
    return sep.join(concern_code(c) for c in concerns)


def refs_compact(refs: Sequence[str], limit: int) -> str:
    """The first ``limit`` refs as code spans, then ``+N more``; a dash when there are none."""
    if not refs:
        return "—"
    shown = ", ".join(code(r) for r in refs[:limit])
    rest = len(refs) - limit
    return f"{shown} +{rest} more" if rest > 0 else shown
