"""Bounded loading of untrusted JSON and YAML: the estate's files and a cluster snapshot's dumps alike.

A file in an estate or a snapshot is data from someone else. Three shapes of it cost far more than
their size, and are refused here, at load, with a typed ``LoadError`` the callers turn into a
reported skip (a ``ParseIssue``), so that nothing above a loader ever walks them:

* **Nesting.** 1,000 levels of ``[`` take 2 KiB and exhaust Python's recursion in ``json.loads`` or
  in any code that walks the value (the redactor, the mappers, a deep copy). Documents nested deeper
  than ``MAX_DEPTH`` are refused; Kubernetes objects, the deepest CRD schemas included, stay under 50.
* **Alias expansion** (YAML only). ``&a [*b, *b, ...]`` nine times over is a billion strings once
  expanded: loading shares the aliased values (cheap), every walker then expands them (a hang). The
  YAML loader (``yaml_lines``) measures the expanded size of each file from the node graph, once
  per node, and refuses one whose aliases add more than ``MAX_ALIAS_NODES``, or that refers to
  itself (a cycle: ``&a [*a]``).
* **Size.** Callers read at most a cap (the estate's 10 MiB per file, a snapshot's 512 MiB).

Messages are ours (tests assert ``reason`` and ``line``, never a library's wording).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from domain.unread import SkipReason

MAX_DEPTH = 100
"""Deepest nesting of a document (mappings and sequences), counted from 1 at its root."""
MAX_ALIAS_NODES = 1_000_000
"""Most values YAML aliases may add to a file once expanded (over the values written in it)."""


class LoadError(ValueError):
    """A file that is not loaded: ``reason`` says why, ``line`` (1-based) where, when known."""

    def __init__(self, message: str, line: int | None = None, reason: SkipReason = "syntax") -> None:
        super().__init__(message if line is None else f"line {line}: {message}")
        self.message = message
        self.line = line
        self.reason: SkipReason = reason


def too_deep_error(line: int | None = None) -> LoadError:
    return LoadError(f"nested deeper than {MAX_DEPTH} levels; not read", line, "too_deep")


Texts = dict[int, bytes]
"""A List's items' compact JSON texts (orjson's), by the ``id`` of each item of the value loaded."""


def load_json(data: bytes | str) -> Any:
    """The value of a JSON text, or ``LoadError`` (syntax, a truncated text, encoding, nesting)."""
    return _load_json(data, {})


def load_json_finite(data: bytes | str, texts: Texts | None = None) -> tuple[Any, bool]:
    """``load_json``, and whether every number in the text is a finite float or an integer: no
    ``NaN``/``Infinity`` and no literal past a float's range (``1e400``). The hooks run in the C
    parser only for those literals and for floats, which Kubernetes objects hardly hold.

    ``texts``: filled with the compact text the depth check wrote of each item of a List (the bytes
    ``json_text.compact`` would write of it, of their own size), by the item's ``id``, valid while the
    value lives: a snapshot stores each object as that text, and need not write it again."""
    seen: list[str] = []

    def constant(name: str) -> float:
        seen.append(name)
        return _CONSTANTS[name]

    def number(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            seen.append(text)
        return value

    value = _load_json(data, {"parse_constant": constant, "parse_float": number}, texts)
    return value, not seen


_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
"""What ``json.loads`` makes of JSON's non-standard constants by default."""


def _load_json(data: bytes | str, hooks: dict[str, Any], texts: Texts | None = None) -> Any:
    try:
        value = json.loads(data, **hooks)
    except RecursionError:
        raise too_deep_error() from None
    except UnicodeDecodeError as exc:
        raw = data if isinstance(data, bytes) else data.encode()
        raise LoadError("not valid UTF-8", raw.count(b"\n", 0, exc.start) + 1, "encoding") from None
    except json.JSONDecodeError as exc:
        text = exc.doc
        if _truncated(text, exc.pos):
            end = len(text.rstrip())
            line = text.count("\n", 0, end) + 1
            raise LoadError("truncated JSON (the text ends inside a value)", line) from None
        raise LoadError(f"not valid JSON ({exc.msg}, column {exc.colno})", exc.lineno) from None
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _deeper_than(value, MAX_DEPTH, texts):
        raise too_deep_error()
    return value


def _truncated(text: str, pos: int) -> bool:
    """Whether a JSON error means the text stopped early: at its end, or in a string that never closes."""
    rest = text[pos:].strip()
    if not rest:
        return True
    if rest[0] != '"':
        return False
    closing = rest.find('"', 1)
    while closing > 0 and rest[closing - 1] == "\\":
        closing = rest.find('"', closing + 1)
    return closing < 0


def _deeper_than(value: Any, limit: int, texts: Texts | None = None) -> bool:
    """Whether a JSON-like value nests deeper than ``limit``. A List's items (the root's ``items``: a
    snapshot dump's thousands of objects) are each bounded first by their text, and walked only when
    that bound does not settle it (``_item_deeper_than``); everything else is walked."""
    if type(value) is dict and type(value.get("items")) is list and limit >= 2:
        rest = {key: item for key, item in value.items() if key != "items"}
        return _walk_deeper_than(rest, limit) or any(
            _item_deeper_than(item, limit - 2, texts)
            for item in value["items"]  # root, items, the item
        )
    return _walk_deeper_than(value, limit)


def _item_deeper_than(value: Any, limit: int, texts: Texts | None = None) -> bool:
    """``_walk_deeper_than``, settled without the walk when the value's compact JSON text (orjson's,
    written in C) opens at most ``limit`` brackets: a value nests no deeper than the brackets of its
    text, those inside its strings included. A 10k-pod snapshot's objects all settle so (the walk of
    every dump was 0.6 s of CPU, the texts 0.2 s); a value orjson will not write (an integer past 64
    bits, nesting past its own bound of 255) is walked. ``texts``: where the text is kept."""
    if type(value) is not dict and type(value) is not list:
        return False
    try:
        text = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _walk_deeper_than(value, limit)
    if texts is not None:  # a copy of its own size: orjson's bytes keep their whole buffer (4 KiB at least)
        texts[id(value)] = bytes(memoryview(text))
    return text.count(b"[") + text.count(b"{") > limit and _walk_deeper_than(value, limit)


def _walk_deeper_than(value: Any, limit: int) -> bool:
    """Whether a JSON-like value nests deeper than ``limit``; iterative, containers only (exact types:
    a parse makes plain dicts and lists, and the test is a third faster than ``isinstance``)."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        current, depth = pop()
        if depth > limit:
            return True
        inner = depth + 1
        for item in current.values() if type(current) is dict else current:
            if type(item) is dict or type(item) is list:
                push((item, inner))
    return False
