"""Every detection on both bundled estates against their ground truth: counts, totals, refs,
subjects and measures exactly; what documented decisions take out; and no check that fires unlisted.

Concern-specific detail tests are in test_checks_estates_rel_sca.py and _dec_mnt_sec.py.
"""

from __future__ import annotations

import pytest
from estate_detections import (
    decided,
    detected,
    estate_contexts,
    expected,
    findings,
    listed,
    taken_out,
    unlisted,
)
from estates import ESTATES

from tools.checks.spec import CheckContext, get_detector

pytestmark = pytest.mark.unit

PREFIXES = ("REL-", "DEC-", "MNT-", "SCA-", "SEC-")


@pytest.fixture(scope="module")
def contexts() -> dict[str, CheckContext]:
    return estate_contexts()


@pytest.mark.parametrize(("estate", "check"), listed(PREFIXES))
def test_detection_matches_the_ground_truth(
    contexts: dict[str, CheckContext], estate: str, check: str
) -> None:
    detection = get_detector(check)(contexts[estate])
    assert detection.applicable, detection.note
    assert detected(detection) == expected(findings(estate)[check])


@pytest.mark.parametrize(("estate", "check"), listed(PREFIXES))
def test_documented_decisions_take_out_the_difference(
    contexts: dict[str, CheckContext], estate: str, check: str
) -> None:
    detection = get_detector(check)(contexts[estate])
    assert len(decided(estate, check, detection)) == taken_out(findings(estate)[check])


@pytest.mark.parametrize("estate", ESTATES)
def test_no_unlisted_check_fires(contexts: dict[str, CheckContext], estate: str) -> None:
    fired = {
        check: detection.count
        for check in unlisted(estate, PREFIXES)
        if (detection := get_detector(check)(contexts[estate])).count
    }
    assert fired == {}
