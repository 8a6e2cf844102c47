"""Sizes in user-facing text, in one style: binary units, as in '2 MiB', '1.5 KiB', '512 B'.

Every size limit of the tools (a file too big to read or parse) is defined in these units and
named with ``format_size``, so a message, a help text and the docs say the same thing.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB


def format_size(size: int) -> str:
    """``size`` bytes as text: whole units when exact ('2 MiB'), else one decimal ('2.4 MiB')."""
    for unit, scale in (("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if size % scale == 0 else f"{value:.1f} {unit}"
    return f"{size} B"
