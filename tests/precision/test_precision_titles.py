"""Titles name their population and denominator: "96 of 129 Deployments, StatefulSets and
DaemonSets", never a vaguer word ("long-running workloads") for what the detection counts."""

from __future__ import annotations

import re

import pytest

from agents.offline.research import format_title
from tools.checks.spec import load_catalog, spec_by_id

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("check", "count", "total", "title"),
    [
        (
            "REL-PROBE-ANY",
            96,
            129,
            "96 of 129 Deployments, StatefulSets and DaemonSets lack a readiness or liveness probe",
        ),
        (
            "REL-PROBE-BOTH",
            1,
            5,
            "1 of 5 Deployments, StatefulSets and DaemonSets has neither a readiness nor a liveness probe",
        ),
        (
            "REL-NO-PDB",
            3,
            4,
            "3 of 4 Deployments and StatefulSets with 2+ replicas have no PodDisruptionBudget",
        ),
        ("SCA-NO-HPA", 1, 2, "1 stateless Deployment with 2+ replicas has no HorizontalPodAutoscaler"),
    ],
)
def test_titles_name_the_kinds_counted(check: str, count: int, total: int, title: str) -> None:
    assert format_title(spec_by_id(check), count, total, {}) == title


def test_no_title_counts_of_a_vague_population() -> None:
    vague = re.compile(r"\{total\} (?:long-running|multi-replica) workloads")
    assert [spec.id for spec in load_catalog() if vague.search(spec.title)] == []


DOCUMENTED = (
    "REL-PROBE-ANY", "REL-PROBE-BOTH", "REL-SINGLE-REPLICA", "REL-NO-PDB", "REL-RECREATE-NO-GRACE",
    "REL-ROLLING-NO-SURGE", "REL-STS-ONDELETE", "REL-ALERT-GAPS", "DEC-TIMESTAMP-TRIGGER",
    "DEC-FLUX-SUSPENDED", "DEC-FLUX-NO-PRUNE", "MNT-HELM-UNPINNED", "MNT-NO-DEP-BOT", "MNT-MODULE-NO-REF",
    "MNT-ALERTS-NOT-WIRED", "SCA-NO-HPA", "SEC-NO-NETPOL", "SEC-PRIVILEGED", "SEC-HOST-ACCESS",
    "SEC-RUN-AS-ROOT", "SEC-POLICY-AUDIT-ONLY", "SEC-RBAC-WILDCARD", "SEC-RBAC-SECRETS",
    "SEC-NO-IMAGE-VERIFY", "SEC-APISERVER-HARDENING",
)  # fmt: skip


@pytest.mark.parametrize("check", DOCUMENTED)
def test_the_catalog_says_what_a_check_counts(check: str) -> None:
    spec = spec_by_id(check)
    assert spec.counts and len(spec.counts) > 40
    if check not in ("DEC-FLUX-SUSPENDED", "SEC-HOST-ACCESS"):  # nothing deliberately left out
        assert spec.not_counted and len(" ".join(spec.not_counted)) > 20
