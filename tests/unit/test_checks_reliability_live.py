"""Reliability detections over a cluster's runtime state: pods, containers, Jobs, CronJobs, schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from inventory_builder import context, inventory, live_ref, live_state, pod, refs, run, subjects, workload

from tools.checks.detections import reliability_live as rel_live
from tools.checks.spec import Detector
from tools.inventory.models import ContainerStatus, CronJobState, JobState

pytestmark = pytest.mark.unit

LIVE_CHECKS = [
    rel_live.live_crashloop,
    rel_live.live_restarts,
    rel_live.live_cronjob_stale,
    rel_live.live_job_failed,
]


@pytest.mark.parametrize("check", LIVE_CHECKS)
def test_live_checks_not_applicable_without_cluster(tmp_path: Path, check: Detector) -> None:
    d = run(check, inventory(tmp_path, workloads=[workload("Deployment", "a", "x")]))
    assert (d.count, d.applicable, d.note) == (0, False, "no cluster given (run with --cluster)")


def _status(name: str = "c", **fields: Any) -> ContainerStatus:
    return ContainerStatus(name=name, **fields)


def test_crashloop_counts_pods_with_a_failing_container(tmp_path: Path) -> None:
    pods = [
        pod("a", "crash", _status(waiting_reason="CrashLoopBackOff"), owner=("Deployment", "web")),
        pod("a", "pull", _status(waiting_reason="ImagePullBackOff")),
        pod(
            "a",
            "config",
            _status(waiting_reason="CreateContainerConfigError"),
            _status("s", waiting_reason="ErrImagePull"),
        ),
        pod("a", "starting", _status(waiting_reason="ContainerCreating")),
        pod("a", "fine", _status(ready=True)),
    ]
    d = run(rel_live.live_crashloop, inventory(tmp_path, live=live_state(pods=pods)))
    # an image that cannot be pulled is REL-LIVE-IMAGE-PULL's (cluster_traffic.py), not a crash loop
    assert (d.count, d.total) == (2, 5)
    assert refs(d) == ["lab/a/Pod/crash", "lab/a/Pod/config"]
    assert subjects(d) == ["Pod/a/crash", "Pod/a/config"]
    assert d.locations[0].detail == "Deployment/web; c: CrashLoopBackOff"
    assert d.locations[1].detail == "no owner; c: CreateContainerConfigError"


def test_restarts_threshold_and_oomkilled_measure(tmp_path: Path) -> None:
    pods = [
        pod(
            "a",
            "p1",
            _status("app", restart_count=12, last_terminated_reason="OOMKilled"),
            _status("side", restart_count=4),
        ),
        pod("a", "p2", _status("app", restart_count=5, last_terminated_reason="Error")),
        pod("a", "p3", _status("app", restart_count=0)),
    ]
    d = run(rel_live.live_restarts, inventory(tmp_path, live=live_state(pods=pods)))
    assert (d.count, d.total, d.measures) == (2, 4, {"oomkilled": 1.0})
    assert subjects(d) == ["Pod/a/p1/app", "Pod/a/p2/app"]
    assert refs(d) == ["lab/a/Pod/p1", "lab/a/Pod/p2"]
    assert d.locations[0].detail == "12 restarts, last terminated: OOMKilled"


REFERENCE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # builder CAPTURED_AT, a Friday


@pytest.mark.parametrize(
    ("schedule", "interval"),
    [
        ("0 3 * * *", timedelta(days=1)),
        ("@daily", timedelta(days=1)),
        ("*/15 * * * *", timedelta(minutes=15)),
        ("0 4 * * 0", timedelta(days=7)),  # weekly: fire times before and after the window
        ("0 0 1 * *", timedelta(days=30)),  # Nov 1 -> Dec 1
        ("0 9,17 * * 1-5", timedelta(hours=64)),  # Friday 17:00 -> Monday 09:00
    ],
)
def test_schedule_interval_is_the_largest_gap(schedule: str, interval: timedelta) -> None:
    assert rel_live.schedule_interval(schedule, REFERENCE) == interval


def test_schedule_interval_unparsable() -> None:
    assert rel_live.schedule_interval("every day at 3", REFERENCE) is None


def _cronjob(
    name: str,
    schedule: str,
    success: str | None = None,
    scheduled: str | None = None,
    suspend: bool = False,
) -> CronJobState:
    return CronJobState(
        name=name,
        namespace="a",
        schedule=schedule,
        suspend=suspend,
        last_successful_time=success,
        last_schedule_time=scheduled,
        source=live_ref("CronJob", "a", name),
    )


def test_cronjob_stale_against_the_snapshot_time(tmp_path: Path) -> None:
    cj = _cronjob
    cronjobs = [
        cj("fresh", "0 2 * * *", success="2026-11-19T02:00:00Z"),
        cj("stale", "0 2 * * *", success="2026-11-17T02:00:00Z", scheduled="2026-11-20T02:00:00Z"),
        cj("weekly", "0 4 * * 0", success="2026-11-08T04:00:00Z"),  # 12.2 d < 2 x 7 d
        cj("exactly", "0 9 * * *", success="2026-11-18T09:00:00Z"),  # exactly 2 intervals: not older
        cj("paused", "0 2 * * *", success="2025-01-01T00:00:00Z", suspend=True),
        cj("never-ok", "0 * * * *", scheduled="2026-11-20T08:00:00Z"),  # falls back to the schedule time
        cj("bad", "whenever"),
        cj("new", "0 2 * * *"),
        cj("garbled", "0 2 * * *", success="yesterday"),
    ]
    d = run(rel_live.live_cronjob_stale, inventory(tmp_path, live=live_state(cronjobs=cronjobs)))
    assert (d.count, d.total) == (1, 8)
    assert refs(d) == ["lab/a/CronJob/stale"]
    assert subjects(d) == ["CronJob/a/stale"]
    assert d.locations[0].detail == (
        "last success 2026-11-17T02:00:00Z, 3.3 d before the audit clock 2026-11-20T09:00:00Z; "
        "schedule '0 2 * * *' runs every 24.0 h"
    )
    assert d.note == (
        "skipped: a/bad (unparsable schedule 'whenever'); a/new (never scheduled); "
        "a/garbled (unreadable time 'yesterday')"
    )


def test_cronjob_stale_works_out_each_schedule_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster of thousands of CronJobs has a few schedules: each schedule's interval is worked out
    once per run of the check (croniter walks a week of fire times), not once per CronJob."""
    calls: list[str] = []
    real = rel_live.schedule_interval

    def counting(schedule: str, reference: datetime) -> timedelta | None:
        calls.append(schedule)
        return real(schedule, reference)

    monkeypatch.setattr(rel_live, "schedule_interval", counting)
    cronjobs = [
        *(_cronjob(f"daily-{i}", "0 2 * * *", success="2026-11-17T02:00:00Z") for i in range(30)),
        *(_cronjob(f"hourly-{i}", "0 * * * *", success="2026-11-20T08:00:00Z") for i in range(20)),
        *(_cronjob(f"bad-{i}", "whenever") for i in range(3)),
        _cronjob("paused", "0 3 * * *", success="2025-01-01T00:00:00Z", suspend=True),
    ]
    d = run(rel_live.live_cronjob_stale, inventory(tmp_path, live=live_state(cronjobs=cronjobs)))
    assert calls == ["0 2 * * *", "0 * * * *", "whenever"]
    assert (d.count, d.total) == (30, 53)
    assert subjects(d) == [f"CronJob/a/daily-{i}" for i in range(30)]
    assert d.note == "skipped: " + "; ".join(f"a/bad-{i} (unparsable schedule 'whenever')" for i in range(3))


def test_job_failed_without_success(tmp_path: Path) -> None:
    def job(name: str, failed: int, succeeded: int, cronjob: str | None = None) -> JobState:
        return JobState(
            name=name,
            namespace="a",
            failed=failed,
            succeeded=succeeded,
            owner_cronjob=cronjob,
            source=live_ref("Job", "a", name),
        )

    jobs = [job("backup-1", 1, 0, "backup"), job("retried", 2, 1), job("ok", 0, 1), job("manual", 3, 0)]
    d = run(rel_live.live_job_failed, inventory(tmp_path, live=live_state(jobs=jobs)))
    assert (d.count, d.total) == (2, 4)
    assert refs(d) == ["lab/a/Job/backup-1", "lab/a/Job/manual"]
    assert [loc.detail for loc in d.locations] == [
        "1 failed, 0 succeeded, from CronJob backup",
        "3 failed, 0 succeeded",
    ]


def test_context_builder_has_repo_tools(tmp_path: Path) -> None:
    names = context(inventory(tmp_path)).toolbox.names()
    assert "repo_read" in names and "kube_get" not in names
