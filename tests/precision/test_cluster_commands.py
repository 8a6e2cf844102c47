"""The cluster checks' standard-tool commands (catalog ``reproduce:`` jq) print the ground truth of the
k3s-platform snapshot, look-alikes included in what they read and left out of what they count.

Each command runs as the numbers challenger runs it (the ``jq`` library over the snapshot backend,
argv only) and must print exactly the count and every measure the ground truth records; each
look-alike the ground truth says must not count is in the files the command reads (so a filter
that counted it would print one more). A check without a command is named in ``LISTED`` with why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from estates import K3S, K3S_SNAPSHOT, ground_truth

from agents.offline.challenge_numbers import cluster_facts
from tools.checks.reproduce import Where, snapshot_file
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import spec_by_id
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

LISTED = {
    "REL-LIVE-CRONJOB-STALE": "the interval is the longest gap of a cron schedule over 7 days (croniter): "
    "no jq or standard-library one-liner computes it exactly",
}
TRUTH = ground_truth("k3s-platform")
CHECKS = [c for c in TRUTH["cluster_checks"] if c["check"] not in LISTED]


@cache
def backend() -> SnapshotBackend:
    return SnapshotBackend(K3S_SNAPSHOT)


def where() -> Where:
    now = datetime.fromisoformat(TRUTH["date"]).replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Where(estate=str(K3S), cluster=str(K3S_SNAPSHOT), now=now, **cluster_facts(backend()))


def read_by(resources: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects of the snapshot files a command reads."""
    items: list[dict[str, Any]] = []
    for resource in resources:
        path = K3S_SNAPSHOT / snapshot_file(resource)
        if path.is_file():
            items += json.loads(path.read_text(encoding="utf-8"))["items"]
    return items


def named(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return "/".join(p for p in (obj.get("kind"), meta.get("namespace"), meta.get("name")) if p)


@pytest.mark.parametrize("truth", CHECKS, ids=[c["check"] for c in CHECKS])
def test_a_cluster_command_prints_the_ground_truth(truth: dict[str, Any]) -> None:
    spec = spec_by_id(truth["check"])
    expected = {
        "count": float(truth["count"]),
        **{k: float(v) for k, v in (truth.get("measures") or {}).items()},
    }
    assert set(expected) <= set(spec.reproduce), f"{truth['check']}: a number without a command"
    for key, value in expected.items():
        printed = run_spec(spec.reproduce[key], Jail(K3S), where(), backend())
        assert (printed.value, printed.error) == (value, None), f"{truth['check']} {key}"


@pytest.mark.parametrize(
    "truth", [c for c in CHECKS if c.get("must_not")], ids=[c["check"] for c in CHECKS if c.get("must_not")]
)
def test_the_look_alikes_are_read_by_the_command_and_not_counted(truth: dict[str, Any]) -> None:
    spec = spec_by_id(truth["check"]).reproduce["count"]
    seen = [named(o) for o in read_by(spec.resources)]
    for look_alike in truth["must_not"]:
        subject = look_alike["subject"]
        assert any(s == subject or s.startswith(subject) for s in seen), f"{subject} is not read"
    printed = run_spec(spec, Jail(K3S), where(), backend())
    assert printed.value == truth["count"] == len(truth["subjects"])


def test_every_cluster_check_of_the_ground_truth_has_a_command_or_says_why_not() -> None:
    for truth in TRUTH["cluster_checks"]:
        spec = spec_by_id(truth["check"])
        assert bool(spec.reproduce) != (truth["check"] in LISTED), truth["check"]
