"""Severity and stable identity of findings, and what follows from them: the gate and the comparison.

* **Severity** comes from impact alone: 5 critical, 4 high, 3 medium, 2 low, 1 info.
* **A finding's key** is its rule: the first catalog check it comes from, or for a finding no check
  produced (a model's), ``LLM-<PREFIX>-<hash>`` of its concern and its title without numbers. Never
  the run-local backlog number (``F14`` of one run is ``F21`` of the next).
* **An occurrence's key** is the rule + the subject (``Deployment/home/homepage``), + the file for a
  file-level subject (``password assignment`` in ``stacks/db/main.tf``): line numbers move, subjects
  and files do not. The same subject twice in one file counts twice (``#2``).
* **The comparison** of two backlogs by key: new, fixed, changed (count, severity or subjects),
  unchanged. A finding counts as *new* for the gate when its key is new or it gained subjects.

Nothing here reads a file or the clock; ``compare`` and ``blocking`` are pure functions of findings.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.concerns import CONCERN_INFO, Concern

if TYPE_CHECKING:
    from domain.findings import Finding, Location


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def level(self) -> int:
        """1 (info) .. 5 (critical): the impact it comes from."""
        return _ORDER.index(self) + 1


_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
SEVERITY_NAMES = tuple(s.value for s in reversed(_ORDER))
"""critical, high, medium, low, info: as flags and tables list them."""


def severity_of(impact: int) -> Severity:
    """5 critical, 4 high, 3 medium, 2 low, 1 info (impact is 1..5; outside is clamped)."""
    return _ORDER[min(max(impact, 1), 5) - 1]


def parse_severity(text: str) -> Severity | None:
    """A severity from its name (any case) or its level ``1``..``5``; None when it is neither."""
    wanted = text.strip().lower()
    if wanted.isdigit() and 1 <= int(wanted) <= 5:
        return _ORDER[int(wanted) - 1]
    return next((s for s in _ORDER if s.value == wanted), None)


# ------------------------------------------------------------------------------- identity

_KUBE_OBJECT = re.compile(r"^[A-Z][A-Za-z0-9]*/\S")
"""``Deployment/home/homepage``, ``Namespace/argocd``: a subject that names itself cluster-wide."""
_CODE_REF = re.compile(r"^(?P<path>[^\s:][^:]*?):[1-9]\d*$")
_WORDS = re.compile(r"[a-z][a-z'-]*")


def llm_rule_id(concern: Concern, title: str) -> str:
    """The stable rule of a finding no check produced: its concern's prefix and a hash of the words of
    its title (numbers left out, so '7 of 12 ...' and '8 of 12 ...' are one rule)."""
    words = " ".join(_WORDS.findall(title.lower()))
    digest = hashlib.sha256(words.encode()).hexdigest()[:8].upper()
    return f"LLM-{CONCERN_INFO[concern].prefix}-{digest}"


def rule_of(checks: Sequence[str], concerns: Sequence[Concern], title: str) -> str:
    """A finding's rule and key: its first check, else the stable LLM rule of its first concern."""
    if checks:
        return checks[0]
    return llm_rule_id(concerns[0] if concerns else "reliability", title)


def code_file(ref: str) -> str | None:
    """The file of a ``path:line`` ref; None for a live ref or ``-``."""
    match = _CODE_REF.match(ref)
    return match["path"] if match else None


def names_an_object(subject: str) -> bool:
    """A subject that names a cluster object (``Deployment/home/homepage``), the same wherever it is seen."""
    return _KUBE_OBJECT.match(" ".join(subject.split())) is not None


def occurrence_key(rule: str, location: Location) -> str:
    """``rule|subject``, or ``rule|subject|file`` for a subject that is not a cluster object."""
    subject = " ".join(location.subject.split())
    file = code_file(location.ref)
    if file is None or _KUBE_OBJECT.match(subject):
        return f"{rule}|{subject}"
    return f"{rule}|{subject}|{file}"


def occurrence_keys(rule: str, locations: Iterable[Location]) -> list[str]:
    """Every occurrence's key, in order; a repeated key gets ``#2``, ``#3``. Inside ``keys_once``, the
    keys of one list of locations are worked out once."""
    memo = _KEYS.get()
    if memo is not None and type(locations) is list:
        found = memo.get((rule, id(locations)))
        if found is not None and found[0] is locations and len(found[1]) == len(locations):
            return list(found[1])
    seen: Counter[str] = Counter()
    keys = []
    for loc in locations:
        key = occurrence_key(rule, loc)
        seen[key] += 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    if memo is not None and type(locations) is list:
        memo[(rule, id(locations))] = (locations, keys)  # the list kept: its id is not reused meanwhile
    return list(keys) if memo is not None else keys


_KEYS: ContextVar[dict[tuple[str, int], tuple[list[Location], list[str]]] | None] = ContextVar(
    "occurrence_keys", default=None
)


@contextmanager
def keys_once() -> Iterator[None]:
    """Within, ``occurrence_keys`` of the same list of locations (not changed meanwhile) is worked out
    once: rendering reads each finding's keys for audit.json and again to place it in audit.sarif (35k
    of the 46k locations at 10k pods)."""
    token = _KEYS.set({})
    try:
        yield
    finally:
        _KEYS.reset(token)


def subject_of(key: str) -> str:
    """The readable part of an occurrence key: ``subject`` or ``subject (file)``."""
    parts = key.split("|")
    return f"{parts[1]} ({parts[2]})" if len(parts) > 2 else parts[1] if len(parts) > 1 else key


# ---------------------------------------------------------------------------- comparison

ChangeKind = Literal["new", "fixed", "changed", "unchanged"]


class FindingChange(BaseModel):
    """One finding's fate between two audits, by its stable key."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="The finding's stable key (its rule).")
    kind: ChangeKind
    title: str = Field(description="The newer audit's title, or the older's for a fixed finding.")
    old_id: str | None = Field(default=None, description="Backlog id in the older audit (run-local).")
    new_id: str | None = Field(default=None, description="Backlog id in the newer audit (run-local).")
    old_severity: Severity | None = None
    new_severity: Severity | None = None
    old_count: float | None = None
    new_count: float | None = None
    added: list[str] = Field(default_factory=list, description="Occurrence keys only the newer audit has.")
    removed: list[str] = Field(default_factory=list, description="Occurrence keys only the older one has.")

    @property
    def gates(self) -> bool:
        """Counts for a gate on new findings: a new key, or subjects it did not have before."""
        return self.kind == "new" or bool(self.added)

    @property
    def severity(self) -> Severity:
        return self.new_severity or self.old_severity or Severity.INFO


def count_of(finding: Finding) -> float:
    """The headline number of a finding, else its number of occurrences."""
    value = finding.claims[0].value if finding.claims else None
    return value if value is not None else float(len(finding.occurrences))


def compare(old: Sequence[Finding], new: Sequence[Finding]) -> list[FindingChange]:
    """Every key of either backlog, in the newer one's order, then the fixed ones in the older's."""
    before = {f.rule: f for f in old if f.status != "dropped"}
    after = {f.rule: f for f in new if f.status != "dropped"}
    changes = []
    for key, f in after.items():
        was = before.get(key)
        if was is None:
            changes.append(
                FindingChange(
                    key=key,
                    kind="new",
                    title=f.title,
                    new_id=f.id,
                    new_severity=f.severity,
                    new_count=count_of(f),
                    added=list(f.occurrences),
                )
            )
            continue
        added = [k for k in f.occurrences if k not in set(was.occurrences)]
        removed = [k for k in was.occurrences if k not in set(f.occurrences)]
        same = was.severity == f.severity and count_of(was) == count_of(f) and not added and not removed
        changes.append(
            FindingChange(
                key=key,
                kind="unchanged" if same else "changed",
                title=f.title,
                old_id=was.id,
                new_id=f.id,
                old_severity=was.severity,
                new_severity=f.severity,
                old_count=count_of(was),
                new_count=count_of(f),
                added=added,
                removed=removed,
            )
        )
    for key, was in before.items():
        if key not in after:
            changes.append(
                FindingChange(
                    key=key,
                    kind="fixed",
                    title=was.title,
                    old_id=was.id,
                    old_severity=was.severity,
                    old_count=count_of(was),
                    removed=list(was.occurrences),
                )
            )
    return changes


def at_or_above(severity: Severity, threshold: Severity | None) -> bool:
    return threshold is not None and severity.level >= threshold.level


def blocking(findings: Sequence[Finding], threshold: Severity | None, *, only_new: bool) -> list[Finding]:
    """The open findings a ``--fail-on threshold`` gate fails on: not dropped (a suppressed subject is
    no longer in its finding), at or above the threshold, and (against a baseline) new. Empty without a
    threshold."""
    if threshold is None:
        return []
    return [
        f
        for f in findings
        if f.status != "dropped"
        and at_or_above(f.severity, threshold)
        and (f.new is not False if only_new else True)
    ]
