"""What the audit did not read, for the report and the terminal alike: files grouped by why, and the
cluster resource types lost.

A long list stays readable: files are grouped by reason in a fixed order, and a group names at most
``cap`` entries, then says how many more there are (``audit.json`` lists all of them). Snapshot files
that did not load are never capped: an audit that lost a resource type must name the file. The
resource types themselves (``Unread.resources``, one ``UnreadResource`` each, whatever the cause) are
one line each, ``lost_lines``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.report import Unread
from domain.unread import ParseIssue, SkipReason, UnreadResource

CAP = 20

REASONS: dict[SkipReason, str] = {
    "syntax": "does not parse",
    "encoding": "not UTF-8 text",
    "too_large": "over the size cap",
    "too_deep": "nested too deep",
    "alias_bomb": "YAML aliases expand past the bound (an alias bomb)",
    "unreadable": "cannot be read",
    "unsupported": "a format that is not parsed",
    "skipped_object": "objects skipped (no type or name)",
    "note": "read, with a caveat",
}
"""Group labels, in the order the groups are shown."""

_WHOLE_FILE = frozenset(REASONS) - {"skipped_object", "note"}


@dataclass(frozen=True)
class Group:
    side: str
    """``estate`` or ``cluster``."""
    label: str
    entries: list[tuple[str, str]]
    """(where: ``path`` or ``path:line``, what: the message)."""
    more: int


def entry(issue: ParseIssue) -> tuple[str, str]:
    return (f"{issue.path}:{issue.line}" if issue.line else issue.path), issue.message


def groups(unread: Unread, cap: int = CAP) -> list[Group]:
    """Estate groups, then cluster groups, each in ``REASONS`` order; cluster files never capped."""
    out: list[Group] = []
    for side, issues in (("estate", unread.estate), ("cluster", unread.cluster)):
        for reason, label in REASONS.items():
            chosen = [i for i in issues if i.reason == reason]
            if not chosen:
                continue
            limit = len(chosen) if side == "cluster" and reason in _WHOLE_FILE else cap
            out.append(Group(side, label, [entry(i) for i in chosen[:limit]], max(0, len(chosen) - limit)))
    return out


def lost_lines(resources: Sequence[UnreadResource]) -> list[str]:
    """``pods (x/core.v1.pods.json:58: truncated JSON ...)``, one per resource type not read."""
    return [f"{u.resource} ({u.reason})" for u in resources]
