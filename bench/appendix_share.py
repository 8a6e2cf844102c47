"""How many numeric claims of the bundled estates reproduce through a standard-tool command.

Runs the offline audit of each bundled estate (as ``make demo`` does, clock 2026-11-20;
k3s-platform at its snapshot's 2026-11-28) and prints,
per estate, the numeric claims of the backlog whose number the numbers challenger recounted with a
catalog command (``reproduce:``), out of all of them, and the checks whose claims are listed.

    .venv/bin/python bench/appendix_share.py
"""

from __future__ import annotations

from pathlib import Path

from agents.offline.challenge_numbers import INDEPENDENT, key_of, recount_id
from domain.report import AuditReport
from pipeline.audit import run_audit
from pipeline.settings import RunSettings

REPO = Path(__file__).resolve().parent.parent
ESTATES = {
    "homelab": "examples/homelab/cluster",
    "gitops-base": None,
    "k3s-platform": "examples/k3s-platform/cluster",
}
DATES = {"k3s-platform": "2026-11-28"}
"""The audit clock per estate: the demo's, but k3s-platform's snapshot was captured 2026-11-28."""


def audit(estate: str) -> AuditReport:
    settings = RunSettings(
        estate=REPO / "examples" / estate,
        estate_label=f"examples/{estate}",
        cluster=ESTATES[estate],
        date=DATES.get(estate, "2026-11-20"),
        workdir=REPO,
    )
    report = run_audit(settings, run_id=f"share-{estate}").report
    assert report is not None
    return report


def share(report: AuditReport) -> tuple[int, int, list[str]]:
    index = {ev.id: ev for ev in report.evidence}
    reproduced, total, listed = 0, 0, []
    for finding in report.findings:
        for claim in finding.claims:
            if claim.value is None:
                continue
            total += 1
            again = index.get(recount_id(claim.evidence[0]))
            if again is not None and again.tool == INDEPENDENT and key_of(claim) in again.args["commands"]:
                reproduced += 1
            else:
                original = index.get(claim.evidence[0])
                check = original.args.get("id", original.tool) if original is not None else "?"
                listed.append(f"{check}" + (f":{claim.measure}" if claim.measure else ""))
    return reproduced, total, listed


def main() -> None:
    for estate in ESTATES:
        reproduced, total, listed = share(audit(estate))
        print(f"{estate}: {reproduced}/{total} numeric claims reproduce through a command "
              f"({reproduced / total:.0%}); listed: {' '.join(sorted(set(listed)))}")  # fmt: skip


if __name__ == "__main__":
    main()
