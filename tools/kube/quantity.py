"""Kubernetes resource quantities (``250m``, ``1.5``, ``16318704Ki``, ``2Gi``, ``1e3``, ``1534289123n``).

Both ``kubectl top`` and the live-state inventory compare usage with allocatable, and metrics-server
reports CPU in nanocores while nodes report cores or millicores: one exact parser keeps those numbers
comparable. Values are computed with ``Decimal`` so ``0.1`` cores is exactly 100m.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$")


def parse_quantity(value: str | int | float | None) -> Decimal | None:
    """The quantity in base units (cores, bytes); None for None or a string that is not a quantity."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    m = _QUANTITY.match(value.strip())
    if not m:
        return None
    number, exponent, suffix = m.groups()
    try:
        base = Decimal(number)
        if exponent:
            return base * (Decimal(10) ** int(exponent[1:]))
    except InvalidOperation:
        return None
    if suffix in _BINARY:
        return base * _BINARY[suffix]
    return base * _DECIMAL[suffix or ""]


def cpu_millicores(value: str | int | float | None) -> int | None:
    """CPU in whole millicores, rounded up like the API server rounds requests (``1534289123n`` -> 1535)."""
    q = parse_quantity(value)
    if q is None:
        return None
    milli = q * 1000
    return int(milli.to_integral_value(rounding="ROUND_CEILING"))


def memory_bytes(value: str | int | float | None) -> int | None:
    """Memory in whole bytes (``16318704Ki`` -> 16710352896); a fractional byte rounds up."""
    q = parse_quantity(value)
    if q is None:
        return None
    return int(q.to_integral_value(rounding="ROUND_CEILING"))


def format_millicores(milli: int) -> str:
    return f"{milli}m"


def format_bytes(value: int) -> str:
    """``kubectl top`` style: whole mebibytes (``734003200`` -> ``700Mi``)."""
    return f"{value // 2**20}Mi"
