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


def sarif_line(report: AuditReport, findings: list[Finding]) -> str | None:
    """The subjects audit.sarif leaves out (a live object with no code record, or a missing thing in an
    estate with no root configuration file): code scanning needs a file to point at."""
    from pipeline.render.sarif import not_in_sarif

    left = not_in_sarif(findings, report.meta.anchor)
    if not left:
        return None
    parts = ", ".join(f"{fid} ({len(subjects)})" for fid, subjects in left.items())
    total = sum(len(s) for s in left.values())
    return (
        f"Not in `audit.sarif` ({total} subjects with no file to point at: live objects no code defines): "
        f"{parts}; they are in this table and `audit.json`."
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
