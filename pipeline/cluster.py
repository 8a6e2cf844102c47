"""Open the cluster side of an estate from the run settings, and settle the run's clock against it.

A live cluster is verified on opening: one that cannot be read at all (unreachable, timing out,
rejecting the credentials) is a one-line ``ClusterAccessError``, never an empty cluster.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.settings import RunSettings
from tools.clock import format_clock, parse_clock
from tools.kube.backend import KubeBackend, PageFn, no_progress


def open_cluster(settings: RunSettings, on_page: PageFn | None = None) -> KubeBackend | None:
    """The cluster of ``settings``; a live one reports each page of its lists to ``on_page``."""
    if settings.cluster is None:
        return None
    if settings.cluster == "live":
        from tools.kube.live import LiveBackend, Timeouts

        backend = LiveBackend.from_kubeconfig(
            kubeconfig=settings.kubeconfig,
            context=settings.context,
            timeouts=Timeouts.of(settings.kube_timeout),
            on_page=on_page or no_progress,
        )
        try:
            backend.verify()
        except BaseException:
            backend.close()
            raise
        return backend
    from tools.kube.snapshot import SnapshotBackend

    return SnapshotBackend(settings.resolve(settings.cluster), shown_as=settings.cluster)


def settle_clock(
    settings: RunSettings, backend: KubeBackend | None, now: datetime | None = None
) -> RunSettings:
    """The settings with their audit clock fixed, once, when a run (or a one-check command) starts.

    ``--date`` wins. Otherwise a snapshot is judged at its capture time (the moment its objects
    describe), a live cluster at this moment to the second, and an estate without a cluster on today's
    date. This is the only place a run reads the wall clock for a judgement.
    """
    if settings.date is not None:
        return settings
    wall = (now or datetime.now(UTC)).astimezone(UTC)
    captured = backend.info.captured_at if backend is not None else None
    if captured:
        try:
            clock = format_clock(parse_clock(captured))
        except ValueError:
            clock = format_clock(wall.replace(microsecond=0))
    elif backend is not None:
        clock = format_clock(wall.replace(microsecond=0))
    else:
        clock = wall.date().isoformat()
    return settings.model_copy(update={"date": clock})


def before_capture(date: str | None, captured: str | None) -> str | None:
    """The report's gap when the audit clock is earlier than the snapshot's capture (``--date`` given
    so), else None. A date alone (00:00 UTC) on the capture's own day is not earlier: it names that day."""
    if not date or not captured:
        return None
    try:
        clock, taken = parse_clock(date), parse_clock(captured)
    except ValueError:
        return None
    if clock >= taken or (len(date.strip()) == 10 and clock.date() == taken.date()):
        return None
    return (
        f"The audit clock ({date}) is earlier than the snapshot's capture ({captured}): what the "
        f"cluster recorded after {date} (a CronJob's last run, a pod's start, an event) reads as not yet "
        "happened, so staleness and ages are understated. Audit a snapshot at its capture time (no "
        "--date) or later."
    )
