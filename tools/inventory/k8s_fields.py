"""The defensive field reads every Kubernetes mapper shares: a value of the wrong type counts as absent.

Objects come from hand-written YAML, Terraform ``kubernetes_manifest``, rendered charts and live
clusters, so any field can be missing or of the wrong type; nothing here raises on bad input.
"""

from __future__ import annotations

from typing import Any


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """A string field; an int or float written unquoted becomes its text; anything else is absent."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def str_list(value: Any) -> list[str]:
    return [text for item in as_list(value) if (text := as_str(item)) is not None]


def str_map(value: Any) -> dict[str, str]:
    """Labels and selectors: string keys, scalar values as text (YAML ``true`` as ``"true"``)."""
    out: dict[str, str] = {}
    for key, item in as_map(value).items():
        text = ("true" if item else "false") if isinstance(item, bool) else as_str(item)
        if isinstance(key, str) and text is not None:
            out[key] = text
    return out


def dig(obj: Any, path: tuple[str, ...]) -> Any:
    """The value under the mapping keys of ``path``, or None when a step is missing or not a mapping."""
    for key in path:
        obj = as_map(obj).get(key)
    return obj
