"""The REL-/SCA- detectors on the bundled estates, against the ``findings:`` of their ground truth.

See estate_detections.py for how a detection is compared with the ground truth. Every REL-/SCA- entry
of both estates is asserted, every REL-/SCA- check the ground truth does not list must not fire, and
the documented decisions must account exactly for what the final report takes out (an entry with
``count: 0`` is still detected in full; the challenger removes it).
"""

from __future__ import annotations

import pytest
from estate_detections import (
    estate_contexts,
)
from estates import ESTATES

from tools.checks.spec import CheckContext, get_detector

pytestmark = pytest.mark.unit

PREFIXES = ("REL-", "SCA-")


@pytest.fixture(scope="module")
def contexts() -> dict[str, CheckContext]:
    return estate_contexts()


def test_quiet_checks_still_look(contexts: dict[str, CheckContext]) -> None:
    """Unlisted checks that apply do look at something: they find nothing among a known total."""
    gitops, homelab = contexts["gitops-base"], contexts["homelab"]
    backup = get_detector("REL-PVC-NO-BACKUP")(gitops)
    assert (backup.count, backup.total) == (0, 1)  # data-wiki-db-0: wiki-db-backup runs pg_dump -h wiki-db
    ondelete = get_detector("REL-STS-ONDELETE")(gitops)
    assert (ondelete.count, ondelete.total) == (0, 2)
    # node saturation would be a bad metric pull (must_not_report): no node is above 80% by requests or usage
    nodes = get_detector("SCA-LIVE-NODE-PRESSURE")(homelab)
    assert (nodes.count, nodes.total, nodes.locations) == (0, 4, [])


@pytest.mark.parametrize("estate", ESTATES)
def test_alert_gaps_name_the_chart_rules_they_cannot_see(
    contexts: dict[str, CheckContext], estate: str
) -> None:
    # kube-prometheus-stack ships its own rules (defaultRules), which the inventory does not read
    gaps = get_detector("REL-ALERT-GAPS")(contexts[estate])
    assert gaps.note is not None and gaps.note.startswith("kube-prometheus-stack is deployed")


def test_live_checks_do_not_apply_without_a_cluster(contexts: dict[str, CheckContext]) -> None:
    for check in (
        "REL-LIVE-CRASHLOOP",
        "REL-LIVE-RESTARTS",
        "REL-LIVE-CRONJOB-STALE",
        "REL-LIVE-JOB-FAILED",
        "SCA-LIVE-NODE-PRESSURE",
    ):
        assert get_detector(check)(contexts["gitops-base"]).applicable is False
