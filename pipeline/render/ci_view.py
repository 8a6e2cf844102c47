"""The CI parts of the Markdown view: the baseline line of the backlog and the suppressions table."""

from __future__ import annotations

from domain.findings import Finding
from domain.report import AuditReport
from pipeline.render.text import code, inline

STATES = {
    "applied": "applied",
    "expired": "**expired**: the finding is back on",
    "unmatched": "matched no finding",
}


def baseline_line(report: AuditReport, findings: list[Finding]) -> str | None:
    """Against a baseline: how many findings are new (marked **new** in the table) and what was fixed."""
    if report.baseline is None:
        return None
    new = [f.id for f in findings if f.new]
    fixed = ", ".join(code(k) for k in report.baseline.fixed) or "none"
    return (
        f"Compared with the baseline {code(report.baseline.path)} (run {code(report.baseline.run_id)}, "
        f"{report.baseline.date}): **{len(new)} new** ({', '.join(new) or 'none'}; marked **new**), "
        f"fixed since: {fixed}."
    )


def suppression_rows(report: AuditReport) -> list[list[str]]:
    """One row per suppression: kind, check, where, what it took out, reason, until, state."""
    rows = []
    for s in report.suppressions:
        subjects = ", ".join(code(x) for x in s.subjects) or (code(s.subject) if s.subject else "—")
        rows.append(
            [
                "inline" if s.kind == "inline" else "accepted risk",
                code(s.check),
                code(s.where),
                subjects,
                inline(s.reason),
                str(s.until) if s.until else "—",
                STATES[s.state],
            ]
        )
    return rows
