"""One audit clock: a live cluster and a snapshot of the same objects give the same findings.

The emulator serves the bundled homelab snapshot on 127.0.0.1; the same offline audit runs once
against it (``--cluster live``) and once against the snapshot directory, with the same ``--date``.
Every check's result, every finding and every verdict must be the same, apart from what names the
backend (the ``--cluster`` of a command, evidence ids that hash it). Before the clock came from the
run settings, the live run judged CronJobs against the wall clock: 3 of 3 stale, against 1 of 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from estates import HOMELAB, HOMELAB_SNAPSHOT, REPO
from kube_emulator import KubeEmulator

from domain.report import AuditReport
from pipeline.audit import run_audit
from pipeline.settings import RunSettings

pytestmark = pytest.mark.unit

DATE = "2026-11-20"


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    emu = KubeEmulator(HOMELAB_SNAPSHOT)
    emu.start()
    yield emu.kubeconfig(
        tmp_path_factory.mktemp("clock") / "config", context="homelab-admin", cluster="homelab"
    )
    emu.stop()


def audit(cluster: str, kubeconfig: Path, date: str | None = DATE) -> AuditReport:
    settings = RunSettings(
        estate=HOMELAB,
        estate_label="examples/homelab",
        cluster=cluster,
        kubeconfig=str(kubeconfig),
        context="homelab-admin",
        date=date,
        workdir=REPO,
    )
    state = run_audit(settings, run_id="clock")
    assert state.report is not None
    return state.report


def checks(report: AuditReport) -> dict[str, tuple[Any, ...]]:
    """Every check's result, keyed by check id, without the backend-specific command."""
    return {
        str(ev.args["id"]): (ev.status, ev.value, ev.output, ev.measures, ev.sha256)
        for result in report.concerns.values()
        for ev in result.evidence
        if ev.tool == "check"
    }


def findings(report: AuditReport) -> list[dict[str, Any]]:
    return [
        {
            **f.model_dump(exclude={"claims"}),
            "claims": [c.model_dump(exclude={"evidence"}) for c in f.claims],
        }
        for f in report.findings
    ]


def test_live_and_snapshot_of_the_same_objects_give_the_same_findings(kubeconfig: Path) -> None:
    live = audit("live", kubeconfig)
    snapshot = audit(str(HOMELAB_SNAPSHOT), kubeconfig)
    assert live.meta.date == snapshot.meta.date == DATE

    live_checks, snapshot_checks = checks(live), checks(snapshot)
    assert live_checks == snapshot_checks
    stale = live_checks["REL-LIVE-CRONJOB-STALE"]
    assert stale[1] == 1.0 and "immich-db-backup" in stale[2] and "mysql-backup" not in stale[2]
    assert "7.9 d before the audit clock 2026-11-20;" in stale[2]

    assert findings(live) == findings(snapshot)
    assert [v.model_dump(exclude={"evidence"}) for v in live.verdicts] == [
        v.model_dump(exclude={"evidence"}) for v in snapshot.verdicts
    ]


def test_the_command_of_a_time_based_check_carries_the_clock(kubeconfig: Path) -> None:
    report = audit("live", kubeconfig)
    commands = {
        str(ev.args["id"]): ev.command
        for result in report.concerns.values()
        for ev in result.evidence
        if ev.tool == "check"
    }
    assert commands["REL-LIVE-CRONJOB-STALE"] == (
        "infra-audit check examples/homelab --cluster live --context homelab-admin "
        "--date 2026-11-20 REL-LIVE-CRONJOB-STALE"
    )
    # a check that does not judge time has no --date: its command is the same on any day
    assert commands["REL-LIVE-JOB-FAILED"] == (
        "infra-audit check examples/homelab --cluster live --context homelab-admin REL-LIVE-JOB-FAILED"
    )
