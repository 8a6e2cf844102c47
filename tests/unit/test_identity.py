"""Severity from impact, stable finding identity, the comparison of two backlogs and the gate."""

from __future__ import annotations

import pytest

from domain.findings import Claim, Finding, Location
from domain.identity import (
    Severity,
    blocking,
    compare,
    llm_rule_id,
    occurrence_key,
    occurrence_keys,
    parse_severity,
    severity_of,
)

pytestmark = pytest.mark.unit


def finding(
    fid: str,
    check: str | None,
    subjects: list[tuple[str, str]],
    *,
    impact: int = 4,
    title: str = "3 of 9 workloads have no probe",
    value: float | None = None,
    concerns: list[str] | None = None,
) -> Finding:
    locations = [Location(ref=ref, subject=subject) for ref, subject in subjects]
    return Finding(
        id=fid,
        raw_ids=["R1#1"],
        checks=[check] if check else [],
        title=title,
        summary="s",
        recommendation="r",
        concerns=concerns or ["reliability"],  # type: ignore[arg-type]
        status="confirmed",
        impact=impact,
        effort=2,
        risk=2,
        fatigue=False,
        rank_a=1,
        rank_b=1,
        refs=[ref for ref, _ in subjects],
        claims=[Claim(text=title, value=value if value is not None else len(subjects), evidence=["E-1"])],
        locations=locations,
    )


def test_severity_is_impact_named() -> None:
    assert [severity_of(i) for i in (5, 4, 3, 2, 1)] == [
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.INFO,
    ]
    assert [s.level for s in Severity] == [1, 2, 3, 4, 5]
    assert parse_severity("HIGH") is Severity.HIGH and parse_severity("4") is Severity.HIGH
    assert parse_severity("severe") is None and parse_severity("0") is None and parse_severity("6") is None


def test_a_finding_carries_its_severity_rule_and_occurrences_into_json_and_back() -> None:
    f = finding("F07", "REL-PROBE-ANY", [("apps/web.yaml:3", "Deployment/shop/web")], impact=5)
    data = f.model_dump(mode="json")
    assert (data["severity"], data["rule"], data["occurrences"]) == (
        "critical",
        "REL-PROBE-ANY",
        ["REL-PROBE-ANY|Deployment/shop/web"],
    )
    assert Finding.model_validate(data) == f  # derived fields are written out and ignored on input
    data["severity"] = "info"  # a hand-edited report cannot make them disagree with impact
    assert Finding.model_validate(data).severity is Severity.CRITICAL


def test_occurrence_keys_name_the_subject_not_the_line() -> None:
    kube = Location(ref="stacks/home/main.tf:60", subject="Deployment/home/homepage")
    moved = Location(ref="stacks/home/main.tf:75", subject="Deployment/home/homepage")
    live = Location(ref="homelab/home/Deployment/homepage", subject="Deployment/home/homepage")
    assert occurrence_key("R", kube) == occurrence_key("R", moved) == occurrence_key("R", live)
    secret = Location(ref="stacks/db/main.tf:49", subject="password assignment")
    other_file = Location(ref="stacks/app/main.tf:49", subject="password assignment")
    assert occurrence_key("SEC-X", secret) == "SEC-X|password assignment|stacks/db/main.tf"
    assert occurrence_key("SEC-X", secret) != occurrence_key("SEC-X", other_file)
    missing = Location(ref="-", subject="dependency bot")
    assert occurrence_key("MNT-NO-DEP-BOT", missing) == "MNT-NO-DEP-BOT|dependency bot"
    twice = [secret, Location(ref="stacks/db/main.tf:80", subject="password assignment")]
    assert occurrence_keys("SEC-X", twice) == [
        "SEC-X|password assignment|stacks/db/main.tf",
        "SEC-X|password assignment|stacks/db/main.tf#2",
    ]


def test_a_model_only_finding_gets_a_stable_rule_not_its_backlog_number() -> None:
    one = finding("F03", None, [], title="7 of 12 ingresses have no TLS", concerns=["security"])
    two = finding("F19", None, [], title="8 of 13 ingresses have no TLS", concerns=["security"])
    assert one.rule == two.rule == llm_rule_id("security", "of ingresses have no TLS")
    assert one.rule.startswith("LLM-SEC-") and "F03" not in one.rule
    assert finding("F03", None, [], title="no TLS", concerns=["reliability"]).rule.startswith("LLM-REL-")


def test_compare_matches_renumbered_findings_by_key() -> None:
    old = [
        finding("F14", "REL-PROBE-ANY", [("a.yaml:1", "Deployment/a/web")]),
        finding("F02", "MNT-IMAGE-LATEST", [("a.yaml:9", "Deployment/a/web/web")]),
        finding("F05", "SEC-NO-NETPOL", [("-", "Namespace/a")], impact=3),
        finding("F09", "SCA-NO-HPA", [("a.yaml:1", "Deployment/a/web")], impact=2),
    ]
    new = [
        finding("F21", "REL-PROBE-ANY", [("a.yaml:3", "Deployment/a/web")]),  # moved line, renumbered
        finding(
            "F01",
            "MNT-IMAGE-LATEST",
            [("a.yaml:9", "Deployment/a/web/web"), ("b.yaml:9", "Deployment/a/api/api")],
        ),
        finding("F02", "SEC-NO-NETPOL", [("-", "Namespace/a")], impact=4),  # severity up
        finding("F03", "SEC-RUN-AS-ROOT", [("b.yaml:9", "Deployment/a/api/api")], impact=2),
    ]
    changes = {c.key: c for c in compare(old, new)}
    assert {k: c.kind for k, c in changes.items()} == {
        "REL-PROBE-ANY": "unchanged",
        "MNT-IMAGE-LATEST": "changed",
        "SEC-NO-NETPOL": "changed",
        "SEC-RUN-AS-ROOT": "new",
        "SCA-NO-HPA": "fixed",
    }
    assert (changes["REL-PROBE-ANY"].old_id, changes["REL-PROBE-ANY"].new_id) == ("F14", "F21")
    assert changes["MNT-IMAGE-LATEST"].added == ["MNT-IMAGE-LATEST|Deployment/a/api/api"]
    assert (changes["MNT-IMAGE-LATEST"].old_count, changes["MNT-IMAGE-LATEST"].new_count) == (1, 2)
    assert (changes["SEC-NO-NETPOL"].old_severity, changes["SEC-NO-NETPOL"].new_severity) == (
        "medium",
        "high",
    )
    gating = sorted(k for k, c in changes.items() if c.gates)
    assert gating == ["MNT-IMAGE-LATEST", "SEC-RUN-AS-ROOT"]  # a severity change alone is not new


def test_blocking_is_at_or_above_the_threshold_and_new_only_against_a_baseline() -> None:
    high = finding("F01", "A-X", [], impact=4)
    medium = finding("F02", "B-X", [], impact=3).model_copy(update={"new": True})
    old_high = high.model_copy(update={"new": False})
    assert blocking([high, medium], None, only_new=False) == []
    assert [f.id for f in blocking([high, medium], Severity.HIGH, only_new=False)] == ["F01"]
    assert [f.id for f in blocking([high, medium], Severity.MEDIUM, only_new=False)] == ["F01", "F02"]
    assert [f.id for f in blocking([old_high, medium], Severity.MEDIUM, only_new=True)] == ["F02"]
    assert blocking([old_high, medium], Severity.HIGH, only_new=True) == []
