"""Catalog jq filters rewritten for speed print what they printed before, on edge cases and on the
bundled snapshots (issue 13: at 10k pods these four took about 3.9 s of the recount's 4.1-4.3 s of filters).

``tests/fixtures/jq_filters_before.json`` keeps each filter as it was, the oracle: REL-LIVE-IMAGE-PULL
lowered every event message with jq's ``ascii_downcase`` (defined in jq, character by character) to
find "image"; REL-LIVE-CRONJOB-STALE worked out each CronJob's schedule interval, now once per
schedule; MNT-LIVE-ABANDONED-NAMESPACE scanned the objects four times with ``IN``, now once;
MNT-LIVE-DUPLICATE-WORKLOAD looked each name part up in its environment names with ``IN``, now in
an object. A reader
pasting the appendix's command gets the same number, sooner. Outcomes compared: the value, or that
the filter printed nothing, or that it failed (a failure's message is not compared: the recount shows
none).

The tenth part (cases in ``jq_rewrite_cases``): REL-LIVE-IMAGE-PULL builds its ReplicaSet, Job and
Event maps only for the names of the pods that cannot pull (its oracle is still the first filter);
REL-LIVE-SERVICE-NO-PODS and REL-LIVE-ROUTE-NO-BACKEND group the items by kind once (Deployments and
StatefulSets in one list, in their order) and test with ``==`` rather than ``IN``; the route filter
builds its maps only for the Services and namespaces its routes name. Every expression the old
filters evaluated on every item is still evaluated, so that they fail where they failed.

The twelfth part (cases in ``jq_rewrite_cases``; the oracles are still the first filters):
MNT-LIVE-DUPLICATE-WORKLOAD split each namespace with the regex ``splits("[-_.]")`` (jq defines it
over ``match``), now with ``split`` at "-" alone where the namespace holds no "_" or ".", else at each
of the three (keeping the empty parts), tests that every namespace has an environment part before it
compares what is left, and works out each image's repository once; MNT-LIVE-ABANDONED-NAMESPACE tests
a Namespace's own kind early and looks the kinds that always use a namespace up in an object."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jq
import pytest
from estates import HOMELAB_SNAPSHOT, K3S_SNAPSHOT
from jq_rewrite_cases import CASES as MORE_CASES
from jq_rewrite_cases import KINDS, OWNED_PULLS, SERVICES, SLICES, SPLITS, UNNAMESPACED_CRONJOB, UNROUTED
from jq_rewrite_cases import meta as _meta
from jq_rewrite_cases import pod_event as _event

from tools.checks.reproduce_run import Listings
from tools.checks.spec import spec_by_id
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit

BEFORE: dict[str, str] = json.loads(
    (Path(__file__).parents[1] / "fixtures" / "jq_filters_before.json").read_text(encoding="utf-8")
)
ARGS = {"now": "2025-01-01T00:00:00Z"}


def _now(key: str) -> str:
    check, measure = key.split("/")
    jq_text = spec_by_id(check).reproduce[measure]
    assert jq_text is not None and jq_text.jq is not None
    return jq_text.jq


def _outcome(program: str, items: list[Any]) -> tuple[str, Any]:
    try:
        return ("value", jq.compile(program, args=ARGS).input_text(json.dumps({"items": items})).first())
    except StopIteration:
        return ("none", None)
    except ValueError:
        return ("error", None)


def _pulling(name: str, ns: str, owner: str | None = None) -> dict[str, Any]:
    pod = _meta("Pod", name, ns, labels={"pod-template-hash": "abc12"})
    if owner:
        pod["metadata"]["ownerReferences"] = [{"kind": "ReplicaSet", "name": owner, "controller": True}]
    waiting = {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}
    pod["status"] = {"containerStatuses": [{"image": f"reg/{name}:1", "state": {"waiting": waiting}}]}
    return pod


PULLS = [
    _pulling("a", "x", "a-abc12"),
    _pulling("b", "x"),
    _pulling("c", "y"),
    _pulling("d", "y"),
    _pulling("e", "z"),
    _event("a", "x", 'Failed to pull IMAGE "reg/a:1": manifest unknown'),
    _event("b", "x", "Failed to pull Image: 401 Unauthorized"),
    _event("c", "y", "İMAGE pull: toomanyrequests"),  # not ASCII: neither form reads it as "image"
    _event("d", "y", "dial tcp: i/o timeout (no mention)"),
    _event("e", "z", None),
    _event("e", "z", "ImAgE: InvalidImageName"),
]


def _cron(name: str, schedule: Any, last: str | None, suspend: bool = False) -> dict[str, Any]:
    job = _meta("CronJob", name, "jobs")
    job["spec"] = {"schedule": schedule, "suspend": suspend}
    job["status"] = {"lastSuccessfulTime": last} if last else {}
    return job


CRONS = [
    _cron("every5-stale", "*/5 * * * *", "2024-12-31T23:00:00Z"),
    _cron("every5-fresh", "*/5 * * * *", "2024-12-31T23:58:00.123Z"),
    _cron("nightly-stale", "0 3 * * *", "2024-12-29T03:00:00Z"),
    _cron("nightly-fresh", "0 3 * * *", "2024-12-31T03:00:00Z"),
    _cron("daily-macro", "@daily", "2024-12-20T00:00:00Z"),
    _cron("weekdays", "30 6 * * MON-FRI", "2024-12-27T06:30:00Z"),
    _cron("suspended", "*/5 * * * *", "2024-01-01T00:00:00Z", suspend=True),
    _cron("never-ran", "not a schedule", None),  # not read: it never ran
    _cron("no-schedule", "", "2024-01-01T00:00:00Z"),
]


def _workload(kind: str, name: str, ns: str, replicas: Any, annotations: dict[str, str] | None = None) -> Any:
    obj = _meta(kind, name, ns, annotations=annotations) if annotations else _meta(kind, name, ns)
    obj["spec"] = {"replicas": replicas}
    return obj


def _pod(name: str, ns: str, phase: str | None) -> dict[str, Any]:
    pod = _meta("Pod", name, ns)
    pod["status"] = {"phase": phase} if phase else {}
    return pod


NAMESPACES = [
    *(
        _meta("Namespace", n)
        for n in ("a", "b", "c", "d", "e", "f", "g", "h", "kube-system", "default", "i", "j")
    ),
    _pod("running", "a", "Running"),
    _pod("done", "b", "Succeeded"),
    _pod("failed", "b", "Failed"),
    _workload("Deployment", "off", "c", 0),
    _workload("Deployment", "paused", "d", 0, {"downscaler/exclude": "true"}),
    _meta("Ingress", "web", "e"),
    _pod("pending", "g", None),
    _workload("StatefulSet", "db", "h", None),
    _meta("AppProject", "p", "i"),
    _workload("DaemonSet", "agent", "j", None),
    _meta("ClusterRole", "cluster-scoped"),
]


def _deployment(name: str, ns: str, image: Any) -> dict[str, Any]:
    dep = _meta("Deployment", name, ns)
    dep["spec"] = {"template": {"spec": {"containers": [{"image": image}]}}}
    return dep


COPIES = [
    *(_deployment("shop", ns, "reg.io/shop:1") for ns in ("shop-prod", "shop-staging")),  # env variants
    *(_deployment("api", ns, "api:2") for ns in ("team-a", "team-b", "team-c")),  # copies
    *(_deployment("web", ns, "docker.io/library/web@sha256:ab") for ns in ("prod", "dev")),
    *(_deployment("db", ns, "pg:16") for ns in ("data.prod", "data_dev", "data-test")),
    *(_deployment("cache", ns, "redis") for ns in ("cache-PROD", "cache-dev")),  # PROD is not an env
    *(_deployment("job", ns, "j:1") for ns in ("x-prod", "y-prod")),  # differ apart from the env
    _deployment("lone", "a", "lone:1"),
    _deployment("noimage", "a", None),
    _deployment("noimage", "b", ""),
]

OWN_CASES: dict[str, list[list[Any]]] = {
    "MNT-LIVE-DUPLICATE-WORKLOAD/count": [COPIES, COPIES[:2], []],
    "REL-LIVE-IMAGE-PULL/count": [PULLS, [*PULLS, _event("a", "x", 7)], []],
    "REL-LIVE-IMAGE-PULL/causes": [PULLS, PULLS[:5], []],
    "REL-LIVE-CRONJOB-STALE/count": [
        CRONS,
        [*CRONS, _cron("bad", "every minute", "2024-12-31T00:00:00Z")],  # both fail on it
        [*CRONS, _cron("number", 5, "2024-12-31T00:00:00Z")],
        [*CRONS, _cron("bad-time", "*/5 * * * *", "yesterday")],
        [],
    ],
    "MNT-LIVE-ABANDONED-NAMESPACE/count": [
        NAMESPACES,
        [*NAMESPACES, _workload("Deployment", "odd", "f", 0, {"x": "y"})],
        [*NAMESPACES, {"kind": "Deployment", "metadata": {"name": "n", "annotations": "text"}, "spec": {}}],
        [],
    ],
}

CASES = {key: [*OWN_CASES.get(key, []), *MORE_CASES.get(key, [])] for key in BEFORE}


@pytest.mark.parametrize("key", sorted(BEFORE))
def test_a_rewritten_filter_prints_what_it_printed_before_on_edge_cases(key: str) -> None:
    now = _now(key)
    assert now != BEFORE[key]  # rewritten: else this test has nothing to hold
    outcomes = [(_outcome(BEFORE[key], items), _outcome(now, items)) for items in CASES[key]]
    assert [before for before, _ in outcomes] == [after for _, after in outcomes]
    kinds = {before[0] for before, _ in outcomes}
    assert "value" in kinds  # numbers were compared, not only failures
    values = [before[1] for before, _ in outcomes if before[0] == "value"]
    assert any(v for v in values)  # and at least one that is not zero


def test_the_edge_cases_count_what_they_were_written_for() -> None:
    assert _outcome(_now("REL-LIVE-IMAGE-PULL/count"), PULLS) == ("value", 5)
    assert _outcome(_now("REL-LIVE-IMAGE-PULL/causes"), PULLS) == ("value", 4)
    assert _outcome(_now("REL-LIVE-CRONJOB-STALE/count"), CRONS) == ("value", 3)
    assert (
        _outcome(_now("REL-LIVE-CRONJOB-STALE/count"), CASES["REL-LIVE-CRONJOB-STALE/count"][1])[0] == "error"
    )
    # api in three namespaces, cache (PROD is no env name) and job (x- and y- differ) in two each
    assert _outcome(_now("MNT-LIVE-DUPLICATE-WORKLOAD/count"), COPIES) == ("value", 7)
    # f (nothing), b (only finished pods) and c (scaled to zero, not on purpose) are abandoned
    assert _outcome(_now("MNT-LIVE-ABANDONED-NAMESPACE/count"), NAMESPACES) == ("value", 3)
    # eu, us, api, reg, blank and 5 two copies each, same three; gone, shop and two are not copies
    assert _outcome(_now("MNT-LIVE-DUPLICATE-WORKLOAD/count"), SPLITS) == ("value", 15)
    # k7, k8, the nameless Namespace and dup twice; the nameless one is used by a CronJob without one
    abandoned = _now("MNT-LIVE-ABANDONED-NAMESPACE/count")
    assert _outcome(abandoned, KINDS) == ("value", 5)
    assert _outcome(abandoned, [*KINDS, UNNAMESPACED_CRONJOB]) == ("value", 4)
    # shop (both ReplicaSets read: Deployment shop), the CronJob's pod, two images of one pod
    assert _outcome(_now("REL-LIVE-IMAGE-PULL/count"), OWNED_PULLS) == ("value", 4)
    assert _outcome(_now("REL-LIVE-IMAGE-PULL/causes"), OWNED_PULLS) == ("value", 2)
    # done (a finished pod only), lonely (nothing), db (one of two labels); api and site are routed
    assert _outcome(_now("REL-LIVE-SERVICE-NO-PODS/count"), SERVICES) == ("value", 3)
    # with slices read: batch (a pending pod, no slice) and db; done's and lonely's slices are ready
    assert _outcome(_now("REL-LIVE-SERVICE-NO-PODS/count"), [*SERVICES, *SLICES]) == ("value", 2)
    assert _outcome(_now("REL-LIVE-SERVICE-NO-PODS/count"), UNROUTED) == ("value", 5)
    # shop/api (at zero), blog/site (no pod), blog/gone and ops/cache (missing); worker says why
    assert _outcome(_now("REL-LIVE-ROUTE-NO-BACKEND/count"), SERVICES) == ("value", 4)
    # and shop/web: its only slice is not ready
    assert _outcome(_now("REL-LIVE-ROUTE-NO-BACKEND/count"), [*SERVICES, *SLICES]) == ("value", 5)


@pytest.mark.parametrize("snapshot", [HOMELAB_SNAPSHOT, K3S_SNAPSHOT], ids=["homelab", "k3s-platform"])
def test_a_rewritten_filter_prints_what_it_printed_before_on_the_bundled_snapshots(snapshot: Path) -> None:
    backend, listings = SnapshotBackend(snapshot), Listings()
    for key in sorted(BEFORE):
        check, measure = key.split("/")
        resources = spec_by_id(check).reproduce[measure].resources  # type: ignore[union-attr]
        items = [item for name in resources for item in json.loads(listings.text(backend, name))]
        assert _outcome(BEFORE[key], items) == _outcome(_now(key), items), key
