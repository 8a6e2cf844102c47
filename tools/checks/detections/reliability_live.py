"""Reliability detections over what a cluster shows right now: pods, containers, Jobs, CronJobs.

Each returns ``applicable=False`` when the audit was given no cluster. Time-based checks measure
against the audit clock (``CheckContext.clock()``, from the run settings), never the wall clock, so
a live cluster and a snapshot of the same objects give the same answer, on every run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.findings import Location
from tools.checks.detections import common
from tools.checks.spec import CheckContext, Detection, detector
from tools.clock import format_clock
from tools.inventory.models import CronJobState, PodState

NO_CLUSTER = "no cluster given (run with --cluster)"
FAILING_WAIT_REASONS = frozenset({"CrashLoopBackOff", "CreateContainerConfigError"})
"""Image pulls are REL-LIVE-IMAGE-PULL's (cluster_traffic.py), grouped by cause: not counted twice."""
RESTART_THRESHOLD = 5
"""Restarts at which a container counts as restarting repeatedly (kubectl's RESTARTS column)."""
STALE_FACTOR = 2
"""A CronJob is stale when its last success is older than this many schedule intervals."""
SCHEDULE_WINDOW = timedelta(days=7)


def not_applicable() -> Detection:
    return Detection(count=0, applicable=False, note=NO_CLUSTER)


def _pod_subject(pod: PodState) -> str:
    return f"Pod/{pod.namespace or '-'}/{pod.name}"


def _owner(pod: PodState) -> str:
    return f"{pod.owner_kind}/{pod.owner_name}" if pod.owner_kind and pod.owner_name else "no owner"


@detector("REL-LIVE-CRASHLOOP")
def live_crashloop(ctx: CheckContext) -> Detection:
    """Pods with at least one container waiting in CrashLoopBackOff or CreateContainerConfigError: a
    component that is down now. Counted per pod; the detail names the
    owner (the Deployment behind a ReplicaSet) and each failing container. total = live pods."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    for pod in live.pods:
        failing = [
            f"{c.name}: {c.waiting_reason}"
            for c in pod.containers
            if c.waiting_reason in FAILING_WAIT_REASONS
        ]
        if failing:
            detail = f"{_owner(pod)}; " + ", ".join(failing)
            locations.append(Location(ref=str(pod.source), subject=_pod_subject(pod), detail=detail))
    return Detection(count=len(locations), total=len(live.pods), locations=locations)


@detector("REL-LIVE-RESTARTS")
def live_restarts(ctx: CheckContext) -> Detection:
    """Containers (of live pods) restarted RESTART_THRESHOLD (5) times or more. Measure ``oomkilled``:
    how many of them were last terminated by the OOM killer. total = containers of live pods."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    oomkilled = 0
    for pod in live.pods:
        for status in pod.containers:
            if status.restart_count < RESTART_THRESHOLD:
                continue
            detail = f"{status.restart_count} restarts"
            if status.last_terminated_reason:
                detail += f", last terminated: {status.last_terminated_reason}"
            if status.last_terminated_reason == "OOMKilled":
                oomkilled += 1
            subject = f"{_pod_subject(pod)}/{status.name}"
            locations.append(Location(ref=str(pod.source), subject=subject, detail=detail))
    total = sum(len(pod.containers) for pod in live.pods)
    return Detection(
        count=len(locations), total=total, locations=locations, measures={"oomkilled": float(oomkilled)}
    )


def _parse_schedule(schedule: str) -> tuple[str, ZoneInfo | None]:
    """Split a ``CRON_TZ=Zone``/``TZ=Zone`` prefix (accepted by older Kubernetes) from the expression."""
    text = schedule.strip()
    if text.startswith(("CRON_TZ=", "TZ=")):
        prefix, _, rest = text.partition(" ")
        try:
            return rest.strip(), ZoneInfo(prefix.split("=", 1)[1])
        except (ZoneInfoNotFoundError, ValueError):
            return text, None
    return text, None


def schedule_interval(schedule: str, reference: datetime) -> timedelta | None:
    """The largest gap between consecutive fire times around the 7 days before ``reference``.

    The fire times run from the last one at or before ``reference - 7 days`` to the first one after
    ``reference``, so a weekly or monthly schedule still has two fire times to measure. None when
    the expression does not parse.
    """
    # imported here: croniter runs `file` on the interpreter at import (platform.architecture), a
    # subprocess every run paid though only a cluster's CronJobs are read here
    from croniter import CroniterError, croniter

    expression, zone = _parse_schedule(schedule)
    if not croniter.is_valid(expression):
        return None
    start = reference - SCHEDULE_WINDOW
    try:
        it = croniter(expression, start.astimezone(zone) if zone else start)
        times = [it.get_prev(datetime)]
        it = croniter(expression, times[0])
        while times[-1] <= reference:
            times.append(it.get_next(datetime))
    except (CroniterError, ValueError):
        return None
    return max(later - earlier for earlier, later in pairwise(times))


def _last_run(cronjob: CronJobState) -> tuple[str, str] | None:
    if cronjob.last_successful_time:
        return "last success", cronjob.last_successful_time
    if cronjob.last_schedule_time:
        return "never succeeded; last scheduled", cronjob.last_schedule_time
    return None


@detector("REL-LIVE-CRONJOB-STALE")
def live_cronjob_stale(ctx: CheckContext) -> Detection:
    """Non-suspended live CronJobs whose last successful run (or, with none recorded, the last
    scheduled run) is older than twice the schedule interval before the audit clock. The interval
    is the largest gap between consecutive fire times over the 7 days before the audit clock
    (croniter), so irregular schedules are judged by their longest quiet period. CronJobs with an
    unparsable schedule, or that have never been scheduled (the inventory has no creation time to
    fall back on) or whose time does not parse, are listed in the note and not counted.
    total = non-suspended live CronJobs.
    """
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    reference = ctx.clock()
    active = [c for c in live.cronjobs if not c.suspend]
    locations = []
    skipped = []
    intervals: dict[str, timedelta | None] = {}  # by schedule: thousands of CronJobs, a few schedules
    for cronjob in active:
        who = f"{cronjob.namespace}/{cronjob.name}"
        if cronjob.schedule and cronjob.schedule not in intervals:
            intervals[cronjob.schedule] = schedule_interval(cronjob.schedule, reference)
        interval = intervals[cronjob.schedule] if cronjob.schedule else None
        if interval is None:
            skipped.append(f"{who} (unparsable schedule {cronjob.schedule!r})")
            continue
        last = _last_run(cronjob)
        if last is None:
            skipped.append(f"{who} (never scheduled)")
            continue
        label, when = last
        try:
            age = reference - common.parse_time(when)
        except ValueError:
            skipped.append(f"{who} (unreadable time {when!r})")
            continue
        if age > STALE_FACTOR * interval:
            detail = (
                f"{label} {when}, {_hours(age)} before the audit clock {format_clock(reference)}; "
                f"schedule {cronjob.schedule!r} runs every {_hours(interval)}"
            )
            subject = f"CronJob/{cronjob.namespace}/{cronjob.name}"
            locations.append(Location(ref=str(cronjob.source), subject=subject, detail=detail))
    note = f"skipped: {'; '.join(skipped)}" if skipped else None
    return Detection(count=len(locations), total=len(active), locations=locations, note=note)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"


@detector("REL-LIVE-JOB-FAILED")
def live_job_failed(ctx: CheckContext) -> Detection:
    """Live Jobs with at least one failed pod and no success (succeeded == 0): work that did not happen.
    A Job that failed once and then succeeded on retry is not counted. total = live Jobs."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    for job in live.jobs:
        if job.failed > 0 and job.succeeded == 0:
            origin = f", from CronJob {job.owner_cronjob}" if job.owner_cronjob else ""
            locations.append(
                Location(
                    ref=str(job.source),
                    subject=f"Job/{job.namespace}/{job.name}",
                    detail=f"{job.failed} failed, 0 succeeded{origin}",
                )
            )
    return Detection(count=len(locations), total=len(live.jobs), locations=locations)
