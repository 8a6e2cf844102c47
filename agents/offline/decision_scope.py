"""Whom a decision written in the estate is about: the subject a finding's location names, whether a
decision's unit covers it (a doc naming it, a comment in code sitting on its record), and whether a
topic's decision can be about that subject's state (``only_where``)."""

from __future__ import annotations

import re

from agents.offline.decision_match import Match
from agents.offline.decisions import Decision
from domain.findings import Location
from tools.checks.spec import TopicSpec
from tools.inventory import indexes
from tools.inventory.inventory import Inventory

_CONTAINER_OF = frozenset({"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet", "Pod"})
"""Kinds whose subjects may name a container after the workload (``Kind/ns/workload/container``)."""


def subject_name(subject: str) -> str:
    """The workload (or object) a subject is about: ``name`` of ``Kind/ns/name``; for a container
    (``Kind/ns/workload/container``), its workload's name, which is what a decision names
    (app-template's containers are all called ``app``)."""
    parts = subject.split("/")
    if len(parts) == 4 and parts[0] in _CONTAINER_OF:
        return parts[2].lower()
    return parts[-1].lower()


def covers(decision: Decision, found: Match, loc: Location, inventory: Inventory) -> bool:
    """Is this subject what the decision is about?

    In docs, the subject must be one the decision names where it states the topic (its accepting
    sentence, else its title, else its statement): a passing mention elsewhere decides nothing. A
    namespace must be named as one ("the velero namespace"). In code, the comment block must sit on
    or just above the record the location belongs to.
    """
    name = subject_name(loc.subject)
    if decision.is_doc:
        if loc.subject.startswith("Namespace/"):
            return _names_namespace(found.sentence, name) or _names_namespace(decision.title, name)
        return name in found.names
    path, _, line_text = loc.ref.rpartition(":")
    if path != decision.path or not line_text.isdigit():
        return False
    line = int(line_text)
    start = _enclosing_start(inventory, path, line)
    block_end = decision.lines[-1][0]
    # the block sits right above the record (a blank line between at most), or inside it above the line
    return start - 2 <= block_end < start or start <= decision.line <= line


def _names_namespace(text: str, name: str) -> bool:
    quoted = rf"`?{re.escape(name)}`?"
    pattern = rf"(?<![\w-]){quoted}\s+namespace\b|\bnamespace\s+{quoted}(?![\w-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


ENCLOSING_LISTS = ("resources", "escape_hatches", "ignore_changes", "policies", "helm_releases")
"""Code records besides workloads whose block a ref inside it belongs to (a finding cites the offending
line, ``timestamp()`` or ``validationFailureAction``, not the block's first line)."""


def _enclosing_start(inventory: Inventory, path: str, line: int) -> int:
    """First line of the record that holds ``path:line``: the workload around a container (the nearest
    starting above it: a YAML document has no end line, and the file's first workload is not the
    record of every line below it), else the nearest Terraform block or object of ``ENCLOSING_LISTS``
    that starts at or above it."""
    spans = indexes.workload_spans(inventory.code).get(path, ())
    best = max(
        (first for first, last in spans if first <= line and (last is None or line <= last)), default=line
    )
    if best < line:
        return best
    starts = [
        source.line
        for name in ENCLOSING_LISTS
        for record in getattr(inventory.code, name)
        if (source := getattr(record, "source", None)) is not None
        and getattr(source, "path", None) == path
        and isinstance(getattr(source, "line", None), int)
        and source.line <= line
        and (getattr(source, "end_line", None) is None or line <= source.end_line)
    ]
    return max(starts, default=best)


def applies(topic: TopicSpec, loc: Location) -> bool:
    """Whether a decision on ``topic`` can be about this subject's state (``only_where``: manual sync
    explains an application out of sync, not one that is degraded)."""
    return topic.only_where is None or re.search(topic.only_where, loc.detail or "") is not None
