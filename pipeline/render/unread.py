"""What the audit did not read, grouped by why, for the report and the terminal alike.

A long list stays readable: entries are grouped by reason in a fixed order, and a group names at most
``cap`` entries, then says how many more there are (``audit.json`` lists all of them). Snapshot files
that did not load are never capped: an audit that lost a resource type must name the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.audit import Unread
from tools.inventory.live import lost_note, lost_resources
from tools.inventory.models import ParseIssue, SkipReason

CAP = 20

REASONS: dict[SkipReason, str] = {
    "syntax": "does not parse",
    "encoding": "not UTF-8 text",
    "too_large": "over the size cap",
    "too_deep": "nested too deep",
    "alias_bomb": "YAML aliases expand past the bound (an alias bomb)",
    "unreadable": "cannot be read",
    "unsupported": "a format that is not parsed",
    "query_failed": "cluster lists refused or failed",
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
    """(where: ``path`` or ``path:line``, what: the message and the resource type lost)."""
    more: int


def entry(issue: ParseIssue) -> tuple[str, str]:
    where = f"{issue.path}:{issue.line}" if issue.line else issue.path
    lost = f" (lost: {issue.resource})" if issue.resource and issue.reason in _WHOLE_FILE else ""
    return where, f"{issue.message}{lost}"


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


def lost_lines(cluster: Sequence[ParseIssue]) -> list[str]:
    """``pods: not read (…)``, one per resource type the cluster side lost."""
    return [lost_note(resource, issues) for resource, issues in sorted(lost_resources(cluster).items())]
