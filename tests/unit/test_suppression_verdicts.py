"""Inline suppressions judged against the research's findings: only a suppression of a finding's check
takes anything out of it, and a finding no suppression is written for is not read place by place."""

from __future__ import annotations

from datetime import date

import pytest
from raw_findings import raw_finding

from agents.offline import suppressions
from agents.offline.suppressions import Inline, parse, verdicts
from domain.findings import Location, RawFinding

pytestmark = pytest.mark.unit

TODAY = date(2026, 11, 20)


def finding(check: str, locations: list[Location]) -> RawFinding:
    return raw_finding(check, locations, rid=f"R1#{check}")


def inline(check: str, path: str, line: int) -> Inline:
    record = parse(f'# infra-audit:ignore {check} reason="known"', f"{path}:{line}", TODAY)
    assert record is not None
    return Inline(record, path, line, line)


def test_a_finding_is_read_place_by_place_only_for_a_suppression_of_its_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = [Location(ref=f"lab/ns{i}/Deployment/web", subject=f"Deployment/ns{i}/web") for i in range(500)]
    coded = [Location(ref="apps/web.yaml:3", subject="Deployment/home/web")]
    many = finding("REL-A", coded + live)
    other = finding("REL-B", [Location(ref="apps/db.yaml:7", subject="StatefulSet/home/db")])
    read: list[str] = []
    real = suppressions.code_file

    def counted(ref: str) -> str | None:
        read.append(ref)
        return real(ref)

    monkeypatch.setattr(suppressions, "code_file", counted)
    sup = inline("REL-B", "apps/db.yaml", 7)
    found = verdicts([many, other], [sup, inline("REL-C", "apps/web.yaml", 3)], None)
    assert [(v.finding, v.action) for v in found] == [("R1#REL-B", "DROPPED")]
    assert read == ["apps/db.yaml:7"]  # REL-A's 501 places were not read: nothing of REL-A's is written
    assert sup.record.state == "applied" and sup.record.subjects == ["StatefulSet/home/db"]

    read.clear()
    found = verdicts([many], [inline("REL-A", "apps/web.yaml", 3)], None)
    assert [(v.action, v.removed_subjects) for v in found] == [("CORRECTED", ["Deployment/home/web"])]
    assert len(read) == 501
