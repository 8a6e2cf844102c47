"""How many numeric claims of the bundled estates reproduce through a standard-tool command.

Runs the offline audit of each bundled estate (as ``make demo`` does, clock 2026-11-20;
k3s-platform at its snapshot's 2026-11-28; the chart estates with their charts imported into a
temporary cache, as ``make estate-charts`` does) and prints,
per estate, the numeric claims of the backlog whose number the numbers challenger recounted with a
catalog command (``reproduce:``), out of all of them, and the checks whose claims are listed.

    .venv/bin/python bench/appendix_share.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from agents.offline.challenge_numbers import INDEPENDENT, key_of, recount_id
from domain.report import AuditReport
from pipeline.audit import run_audit
from pipeline.cli import main as cli
from pipeline.settings import RunSettings

REPO = Path(__file__).resolve().parent.parent
ESTATES = {
    "homelab": "examples/homelab/cluster",
    "gitops-base": None,
    "k3s-platform": "examples/k3s-platform/cluster",
    "flux-homelab": None,
    "argocd-homelab": None,
}
DATES = {"k3s-platform": "2026-11-28"}
"""The audit clock per estate: the demo's, but k3s-platform's snapshot was captured 2026-11-28."""
CHART_ESTATES = ("flux-homelab", "argocd-homelab")
CHART_REFS = {
    "oci://ghcr.io/example-org/charts/podkit:3.7.2": "podkit-3.7.2.tgz",
    "oci://ghcr.io/example-org/charts/podkit:4.0.1": "podkit-4.0.1.tgz",
    "oci://ghcr.io/example-org/charts/raw:2.0.0": "raw-2.0.0.tgz",
}
"""The refs the chart estates pull their charts from (the Makefile's estate-charts)."""


def import_charts(cache: Path) -> None:
    for ref, archive in sorted(CHART_REFS.items()):
        packaged = REPO / "examples" / "charts" / "packaged" / archive
        assert cli(["charts", "import", str(packaged), "--as", ref, "--chart-cache", str(cache)]) == 0


def audit(estate: str, cache: Path) -> AuditReport:
    charts = {"chart_cache": cache} if estate in CHART_ESTATES else {}
    settings = RunSettings(
        estate=REPO / "examples" / estate,
        estate_label=f"examples/{estate}",
        cluster=ESTATES[estate],
        date=DATES.get(estate, "2026-11-20"),
        workdir=REPO,
        **charts,
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
    with tempfile.TemporaryDirectory(prefix="chart-cache-") as tmp:
        cache = Path(tmp)
        import_charts(cache)
        for estate in ESTATES:
            reproduced, total, listed = share(audit(estate, cache))
            print(f"{estate}: {reproduced}/{total} numeric claims reproduce through a command "
                  f"({reproduced / total:.0%}); listed: {' '.join(sorted(set(listed)))}")  # fmt: skip


if __name__ == "__main__":
    main()
