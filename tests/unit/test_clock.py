"""The audit clock: one 'now' per run, from its settings, settled once and used by every judgement of time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from estates import GITOPS, HOMELAB_SNAPSHOT, REPO
from inventory_builder import context, inventory, live_ref, live_state

from domain.errors import SettingsError
from pipeline.audit import run_audit
from pipeline.cluster import before_capture, settle_clock
from pipeline.runs import RunStore
from pipeline.settings import Environment, RunSettings
from tools.checks.runner import check_result
from tools.checks.spec import spec_by_id
from tools.clock import format_clock, parse_clock
from tools.inventory.live_models import ClusterInfo
from tools.inventory.models import CronJobState
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit

MINI = REPO / "tests" / "fixtures" / "snapshot-mini"
NOW = datetime(2026, 12, 6, 9, 55, 21, 654321, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2026-11-20", "2026-11-20"),
        ("2026-11-20T00:00:00Z", "2026-11-20"),
        ("2026-11-20T09:00:00Z", "2026-11-20T09:00:00Z"),
        ("2026-11-20T10:30:00+01:00", "2026-11-20T09:30:00Z"),
        ("2026-11-20T09:00:00", "2026-11-20T09:00:00Z"),  # no zone: UTC
    ],
)
def test_each_instant_has_one_spelling(text: str, canonical: str) -> None:
    assert format_clock(parse_clock(text)) == canonical
    assert RunSettings(estate=GITOPS, date=text).date == canonical


@pytest.mark.parametrize("text", ["21-11-2026", "2026-13-01", "2026-11-20T25:00:00Z", "today"])
def test_a_bad_clock_is_a_settings_error(text: str) -> None:
    with pytest.raises(SettingsError) as caught:
        RunSettings.from_env(Environment(), estate=GITOPS, date=text)
    assert str(caught.value).startswith("--date: ")


class _Backend:
    def __init__(self, captured_at: str | None) -> None:
        self.info = ClusterInfo(name="c", captured_at=captured_at, backend="snapshot")


def test_the_clock_is_settled_once_from_the_run_settings() -> None:
    plain = RunSettings(estate=GITOPS)
    given = plain.model_copy(update={"date": "2026-11-20"})
    assert settle_clock(given, _Backend("2025-06-01T12:00:00Z"), NOW).date == "2026-11-20"  # --date wins
    assert settle_clock(plain, _Backend("2025-06-01T12:00:00Z"), NOW).date == "2025-06-01T12:00:00Z"
    assert settle_clock(plain, _Backend(None), NOW).date == "2026-12-06T09:55:21Z"  # live: now, to the second
    assert settle_clock(plain, None, NOW).date == "2026-12-06"  # no cluster: today
    assert settle_clock(plain, SnapshotBackend(HOMELAB_SNAPSHOT), NOW).clock == datetime(
        2026, 11, 20, 9, tzinfo=UTC
    )


def test_a_clock_before_the_snapshots_capture_is_a_gap() -> None:
    """``--date`` earlier than the capture: what the snapshot recorded after it reads as not yet
    happened. The capture's own day given as a date is that day, not earlier; a later clock is fine."""
    captured = "2026-11-28T10:00:00Z"
    gap = before_capture("2026-11-20", captured)
    assert gap is not None and gap.startswith(
        "The audit clock (2026-11-20) is earlier than the snapshot's capture (2026-11-28T10:00:00Z): "
    )
    assert before_capture("2026-11-28T09:59:59Z", captured) is not None
    assert before_capture("2026-11-28", captured) is None
    assert before_capture("2026-11-28T10:00:00Z", captured) is None
    assert before_capture("2026-12-01", captured) is None
    assert before_capture("2026-11-20", None) is None  # a live cluster: read now
    assert before_capture("2026-11-20", "last tuesday") is None  # an unreadable capture says nothing


def test_a_run_saves_its_settled_clock_for_resume(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    settings = RunSettings(estate=GITOPS, estate_label="gitops", cluster=str(MINI), workdir=REPO)
    state = run_audit(settings, "clocked", store)
    assert state.date == "2025-06-01T12:00:00Z"
    assert store.load("clocked").date == "2025-06-01T12:00:00Z"
    assert state.report is not None and state.report.meta.date == "2025-06-01T12:00:00Z"


def test_a_check_that_does_not_declare_the_clock_cannot_read_it(tmp_path: Path) -> None:
    cronjob = CronJobState(
        name="j",
        namespace="a",
        schedule="0 2 * * *",
        last_successful_time="2026-11-01T02:00:00Z",
        source=live_ref("CronJob", "a", "j"),
    )
    ctx = context(inventory(tmp_path, live=live_state(cronjobs=[cronjob])))
    spec = spec_by_id("REL-LIVE-CRONJOB-STALE")
    result, detection = check_result(spec, ctx)
    assert detection.count == 1
    assert result.command == "infra-audit check . --date 2026-11-20T09:00:00Z REL-LIVE-CRONJOB-STALE"
    with pytest.raises(RuntimeError, match="clock: true"):
        check_result(spec.model_copy(update={"clock": False}), ctx)


# Reading the wall clock is allowed only where no judgement is made: settling a run's clock, naming
# runs, stamping a new snapshot with its capture time, and timing the progress display.
WALL_CLOCK = re.compile(r"\b(datetime\.(now|today|utcnow)|date\.today|time\.time)\(")
ALLOWED = {"pipeline/cluster.py", "pipeline/runs.py", "tools/kube/snapshot_writer.py"}


def test_no_judgement_reads_the_wall_clock() -> None:
    readers = {
        str(path.relative_to(REPO))
        for top in ("tools", "agents", "pipeline")
        for path in (REPO / top).rglob("*.py")
        if WALL_CLOCK.search(path.read_text(encoding="utf-8"))
    }
    assert readers <= ALLOWED, sorted(readers - ALLOWED)
    assert "pipeline/cluster.py" in readers  # the guard sees real reads (settle_clock's)
