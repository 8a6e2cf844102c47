"""The audit clock: the one 'now' of a run, as text in its settings and as an aware UTC datetime.

A run judges time (a CronJob's last success, an accepted risk's expiry) against one instant, fixed
when the run starts and saved with it, so a live cluster and a snapshot of the same objects, a run
and its resume, give the same answer. Nothing else in the tools reads the wall clock for a judgement.

The text is ``YYYY-MM-DD`` (that day at 00:00 UTC) or ``YYYY-MM-DDTHH:MM:SSZ``; ``format_clock``
writes the short form when the time is midnight, so each instant has one spelling.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

CLOCK_FORMS = "YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ (UTC)"


def parse_clock(text: str) -> datetime:
    """An aware UTC datetime from a date or an ISO time; a time without a zone is UTC.

    Raises ``ValueError`` for anything else.
    """
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_clock(value: datetime) -> str:
    """The canonical text of an instant: the date alone at 00:00:00 UTC, else the UTC time to the second."""
    value = value.astimezone(UTC).replace(microsecond=0)
    if value.time() == time():
        return value.date().isoformat()
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
