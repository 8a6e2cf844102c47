"""One research finding built for a unit test: the fields a test does not vary are fixed here."""

from __future__ import annotations

from domain.concerns import Concern
from domain.findings import Claim, Location, RawFinding


def raw_finding(
    check: str, locations: list[Location], *, concern: Concern = "reliability", rid: str = "R9#1"
) -> RawFinding:
    """A finding of ``check`` at ``locations``, its one claim counting them (citing ``E-x``)."""
    return RawFinding(
        id=rid,
        concern=concern,
        check=check,
        title="t",
        summary="s",
        recommendation="r",
        impact=3,
        effort=3,
        risk=3,
        fatigue=False,
        claims=[Claim(text="t", value=float(len(locations)), evidence=["E-x"])],
        locations=locations,
    )
