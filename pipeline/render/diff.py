"""``infra-audit diff OLD NEW``: two audits compared by stable finding key, as Markdown, JSON or SARIF.

The comparison is ``domain.identity.compare`` (new, fixed, changed, unchanged); this module only lays
it out. The SARIF form is the newer audit's SARIF with each result's ``baselineState`` set (``new``,
``updated`` or ``unchanged``), which is how code-scanning tools read a comparison.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from domain.identity import FindingChange, Severity, at_or_above, compare, subject_of
from domain.report import SCHEMA_VERSION, AuditReport
from pipeline.render.text import cell, num

KINDS = ("new", "changed", "fixed", "unchanged")
SUBJECTS_SHOWN = 10
BASELINE_STATES = {"new": "new", "changed": "updated", "unchanged": "unchanged", "fixed": "absent"}
"""A change's SARIF ``baselineState``."""


class AuditDiff(BaseModel):
    """``diff --format json``: the comparison of two audit.json files."""

    model_config = ConfigDict(extra="forbid")

    schema_version: str = SCHEMA_VERSION
    old_run: str
    new_run: str
    counts: dict[str, int] = Field(description="Findings per kind: new, changed, fixed, unchanged.")
    changes: list[FindingChange]


def diff_of(old: AuditReport, new: AuditReport) -> AuditDiff:
    changes = compare(old.findings, new.findings)
    counts = {kind: sum(c.kind == kind for c in changes) for kind in KINDS}
    return AuditDiff(old_run=old.meta.run_id, new_run=new.meta.run_id, counts=counts, changes=changes)


def gating(diff: AuditDiff, fail_on: Severity | None) -> list[FindingChange]:
    """The changes a ``--fail-on`` gate fails on: new findings, or findings with new subjects, at or
    above the threshold."""
    return [c for c in diff.changes if c.gates and at_or_above(c.severity, fail_on)]


def render_diff_json(diff: AuditDiff) -> str:
    return diff.model_dump_json(indent=2) + "\n"


def render_diff_markdown(diff: AuditDiff) -> str:
    lines = [
        f"# infra-audit diff: {diff.old_run} → {diff.new_run}",
        "",
        ", ".join(f"{diff.counts[k]} {k}" for k in KINDS),
        "",
        "Findings are matched by their stable key (the check, or `LLM-...` for a model's own finding), "
        "never by their backlog number; subjects by check + subject (+ file).",
    ]
    for kind in KINDS:
        rows = [c for c in diff.changes if c.kind == kind]
        if not rows:
            continue
        lines += ["", f"## {kind.capitalize()} ({len(rows)})", ""]
        lines += ["| Key | Severity | Count | Old → new id | Title |", "|---|---|---:|---|---|"]
        for c in rows:
            lines.append(
                f"| {cell(c.key)} | {cell(_severity(c))} | {cell(_count(c))} | "
                f"{c.old_id or '—'} → {c.new_id or '—'} | {cell(c.title)} |"
            )
        if kind == "changed":
            lines += [""] + [line for c in rows for line in _subjects(c)]
    return "\n".join(lines).rstrip() + "\n"


def _severity(c: FindingChange) -> str:
    if c.old_severity and c.new_severity and c.old_severity != c.new_severity:
        return f"{c.old_severity} → {c.new_severity}"
    return str(c.new_severity or c.old_severity)


def _count(c: FindingChange) -> str:
    if c.old_count is not None and c.new_count is not None and c.old_count != c.new_count:
        return f"{num(c.old_count)} → {num(c.new_count)}"
    value = c.new_count if c.new_count is not None else c.old_count
    return num(value) if value is not None else "—"


def _subjects(c: FindingChange) -> list[str]:
    out = []
    for label, keys in (("new", c.added), ("gone", c.removed)):
        if keys:
            out.append(f"- `{c.key}` {label}: {_listed(keys)}")
    return out


def _listed(keys: Sequence[str]) -> str:
    shown = ", ".join(subject_of(k) for k in keys[:SUBJECTS_SHOWN])
    rest = len(keys) - SUBJECTS_SHOWN
    return f"{shown} +{rest} more" if rest > 0 else shown


def render_diff_sarif(diff: AuditDiff, new: AuditReport) -> str:
    from pipeline.render.sarif import render_sarif

    states = {c.key: BASELINE_STATES[c.kind] for c in diff.changes}
    log = json.loads(render_sarif(new, baseline_states=states))
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
