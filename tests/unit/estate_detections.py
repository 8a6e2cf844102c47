"""The detectors on the bundled estates, in the terms of their ground truth (``findings:``).

Shared by the ``test_checks_estates_*`` modules, one per group of check prefixes. homelab is audited
with its cluster snapshot, gitops-base without a cluster. A detector reports everything it finds,
before any documented decision is taken out, so it is compared with a finding's ``raw_count`` when
the ground truth states one, else its ``count``; with its ``total``; and exactly with its ``refs``,
``subjects`` and ``measures`` (none stated: none measured). The decisions in ``must_not_report`` are
the challenger's to apply: the locations they cover number exactly ``raw_count - count``.
"""

from __future__ import annotations

from typing import Any

from estates import ESTATES, GITOPS, HOMELAB, HOMELAB_SNAPSHOT, ground_truth

from domain.findings import Location
from tools.checks.spec import CheckContext, Detection, load_catalog
from tools.clock import parse_clock
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

CLOCK = "2026-11-20T09:00:00Z"
"""The audit clock of these tests: the homelab snapshot's capture time."""
NO_PLACE = "-"
"""The ref of a location with no place in the estate (a missing control); a report lists no ref for it."""


def estate_contexts() -> dict[str, CheckContext]:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    return {
        "homelab": CheckContext(
            build_inventory(HOMELAB, cluster=backend),
            Toolbox(Jail(HOMELAB), backend, Ledger()),
            now=parse_clock(CLOCK),
        ),
        "gitops-base": CheckContext(
            build_inventory(GITOPS), Toolbox(Jail(GITOPS), None, Ledger()), now=parse_clock(CLOCK)
        ),
    }


def findings(estate: str) -> dict[str, dict[str, Any]]:
    return {f["check"]: f for f in ground_truth(estate)["findings"]}


def listed(prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """(estate, check) for every ``findings:`` entry whose check has one of ``prefixes``."""
    return [(estate, check) for estate in ESTATES for check in findings(estate) if check.startswith(prefixes)]


def unlisted(estate: str, prefixes: tuple[str, ...]) -> list[str]:
    """The catalog's checks with one of ``prefixes`` that the ground truth of ``estate`` does not list."""
    return [s.id for s in load_catalog() if s.id.startswith(prefixes) and s.id not in findings(estate)]


def detected(detection: Detection) -> dict[str, Any]:
    """A detection in the ground truth's terms."""
    return {
        "count": detection.count,
        "total": detection.total,
        "refs": sorted({loc.ref for loc in detection.locations} - {NO_PLACE}),
        "subjects": sorted({loc.subject for loc in detection.locations}),
        "measures": detection.measures,
    }


def expected(finding: dict[str, Any]) -> dict[str, Any]:
    """What the detector must find for a ``findings:`` entry (before the decisions are taken out)."""
    return {
        "count": finding["count"] + taken_out(finding),
        "total": finding["total"],
        "refs": sorted(finding["refs"]),
        "subjects": sorted(finding["subjects"]),
        "measures": finding.get("measures", {}),
    }


def taken_out(finding: dict[str, Any]) -> int:
    """How many of what the detector finds the documented decisions take out of the final report."""
    raw: int = finding.get("raw_count", finding["count"])
    return raw - int(finding["count"])


def decided(estate: str, check: str, detection: Detection) -> list[Location]:
    """The locations that a documented decision (``must_not_report``) of ``check`` covers."""
    decisions = [m for m in ground_truth(estate)["must_not_report"] if m["check"] == check]
    if any(m.get("scope") == "check" for m in decisions):
        return list(detection.locations)

    def about(loc: Location, subject: str) -> bool:
        return loc.subject == subject or loc.subject.startswith(subject + "/")

    return [loc for loc in detection.locations if any(about(loc, m["subject"]) for m in decisions)]
