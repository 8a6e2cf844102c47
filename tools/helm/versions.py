"""Chart versions: which cached version a version as written means (exact, a range, or none).

The subset of SemVer constraints charts use: exact (``1.2.3``, ``v1.2.3``), wildcards (``*``, ``1.x``,
``1.2.*``), comparisons (``>=1.2``, ``<2``, ``>``, ``<=``, ``=``), ``^`` and ``~``, ANDed by commas or
spaces and ORed by ``||``. Pre-releases only match a constraint that names one. A constraint this does
not understand matches nothing (the release is reported as not rendered; never guessed).
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_TERM = re.compile(r"^(>=|<=|>|<|=|\^|~)?\s*v?([0-9xX*]+(?:\.[0-9xX*]+){0,2}(?:-[0-9A-Za-z.-]+)?)$")

Key = tuple[int, int, int, tuple[int, str]]


def parse(version: str) -> Key | None:
    match = _VERSION.match(version.strip())
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor or 0), int(patch or 0), (0, pre) if pre else (1, ""))


def newest_matching(versions: list[str], constraint: str | None) -> str | None:
    """The newest of ``versions`` that ``constraint`` allows (None or empty: the newest release)."""
    keyed = [(key, v) for v in versions if (key := parse(v)) is not None]
    allowed = [(key, v) for key, v in keyed if matches(key, constraint)]
    return max(allowed)[1] if allowed else None


def matches(key: Key, constraint: str | None) -> bool:
    text = (constraint or "").strip()
    if not text or text in ("*", "x", "X"):
        return key[3][0] == 1
    return any(_all_of(key, part) for part in text.split("||"))


def _all_of(key: Key, text: str) -> bool:
    terms = [t for t in re.split(r"[,\s]+", re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", text.strip())) if t]
    if not terms:
        return False
    wants_pre = any("-" in t for t in terms)
    if key[3][0] == 0 and not wants_pre:
        return False
    return all(_term(key, t) for t in terms)


def _term(key: Key, term: str) -> bool:
    match = _TERM.match(term)
    if match is None:
        return False
    op, text = match.group(1) or "=", match.group(2)
    base, _, pre = text.partition("-")
    parts = base.split(".")
    wild = next((i for i, p in enumerate(parts) if p in ("x", "X", "*")), len(parts))
    nums = [int(p) for p in parts[:wild]] + [0] * (3 - wild)
    bound: Key = (nums[0], nums[1], nums[2], (0, pre) if pre else (1, ""))
    fixed = min(wild, len(parts))
    if op == "=" and fixed < 3:  # 1.x, 1.2: the same leading parts
        return list(key[:fixed]) == nums[:fixed]
    upper: Key | None = None
    if op == "^":
        level = next((i for i, n in enumerate(nums) if n != 0), 2) if fixed == 3 else max(fixed - 1, 0)
        upper = _bump(nums, level)
    elif op == "~":
        upper = _bump(nums, 1 if fixed >= 2 else 0)
    if upper is not None:
        return bound <= key < upper
    return {
        "=": key[:3] == bound[:3] and key[3] == bound[3],
        ">=": key >= bound,
        "<=": key <= bound,
        ">": key > bound,
        "<": key < (bound[0], bound[1], bound[2], (0, "")),
    }[op]


def _bump(nums: list[int], level: int) -> Key:
    out = [*nums[:level], nums[level] + 1, *([0] * (2 - level))]
    return (out[0], out[1], out[2], (0, ""))
