"""The CI gate: a baseline marks what is new, ``--fail-on`` turns open findings into an exit code.

Exit codes of ``run``, ``resume`` and ``rerun`` (the README's table): 0 the audit is complete and no
open finding reaches ``--fail-on`` (or none was given: an audit is a report); 1 the gate failed;
4 the audit is incomplete (a concern failed, a cluster resource type was not read), whatever the gate
says, so a passing gate never hides a failed concern. 2 (usage) and 3 (safety) come from the errors.
"""

from __future__ import annotations

from pathlib import Path

from domain.identity import Severity, blocking, compare
from domain.report import AuditReport, BaselineRef

EXIT_GATE = 1
EXIT_INCOMPLETE = 4


def with_baseline(report: AuditReport, baseline: AuditReport, label: str) -> AuditReport:
    """``report`` with every finding marked new or not since ``baseline`` (by stable key and subjects)."""
    changes = {c.key: c for c in compare(baseline.findings, report.findings)}
    findings = [
        f.model_copy(update={"new": changes[f.rule].gates, "new_occurrences": changes[f.rule].added})
        if f.rule in changes
        else f
        for f in report.findings
    ]
    ref = BaselineRef(
        path=label,
        run_id=baseline.meta.run_id,
        date=baseline.meta.date,
        fixed=[c.key for c in changes.values() if c.kind == "fixed"],
    )
    return report.model_copy(update={"findings": findings, "baseline": ref})


def load_baseline(path: Path) -> AuditReport:
    """The baseline's report; a missing or invalid one is a one-line error (exit 2)."""
    from pipeline.render.json_out import load_report

    return load_report(path)


def gate_findings(report: AuditReport, fail_on: Severity | None) -> list[str]:
    """Backlog ids the gate fails on (new ones only when the report has a baseline)."""
    return [f.id for f in blocking(report.findings, fail_on, only_new=report.baseline is not None)]


def exit_code(report: AuditReport, fail_on: Severity | None) -> int:
    """4 incomplete (never hidden by the gate), else 1 when the gate fails, else 0."""
    if report.meta.concerns_failed or report.unread.resources:
        return EXIT_INCOMPLETE
    return EXIT_GATE if gate_findings(report, fail_on) else 0
