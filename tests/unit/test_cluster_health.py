"""The cluster-health checks (cluster_health.py, cluster_traffic.py, cluster_hygiene.py).

On the bundled k3s-platform snapshot every check is compared exactly with
examples/ground-truth/k3s-platform.yaml (count, total, subjects, measures) and none of the look-alikes
it lists may be reported. The small cases below build one condition at a time, for the rules the
estate cannot show alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from estates import K3S, K3S_SNAPSHOT, ground_truth

from tools.checks.detections.cluster_health import minor_version
from tools.checks.detections.cluster_hygiene import _environment_variants, image_repository
from tools.checks.spec import CheckContext, get_detector
from tools.clock import parse_clock
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.live_health import ready_endpoints, traefik_hosts
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

TRUTH = ground_truth("k3s-platform")


@pytest.fixture(scope="module")
def ctx() -> CheckContext:
    backend = SnapshotBackend(K3S_SNAPSHOT)
    return CheckContext(
        build_inventory(K3S, cluster=backend),
        Toolbox(Jail(K3S), backend, Ledger()),
        now=parse_clock(f"{TRUTH['date']}T10:00:00Z"),
    )


@pytest.mark.parametrize("entry", TRUTH["cluster_checks"], ids=lambda e: e["check"])
def test_each_check_exactly_as_the_ground_truth_says(ctx: CheckContext, entry: dict[str, Any]) -> None:
    found = get_detector(entry["check"])(ctx)
    assert found.applicable
    subjects = sorted(loc.subject for loc in found.locations)
    assert (found.count, found.total, subjects) == (entry["count"], entry["total"], sorted(entry["subjects"]))
    assert found.measures == entry.get("measures", {})
    for item in entry.get("must_not", []):
        assert all(item["subject"] not in loc.subject for loc in found.locations), item["why"]


def test_every_refs_names_the_live_object_and_every_subject_its_namespace(ctx: CheckContext) -> None:
    for entry in TRUTH["cluster_checks"]:
        for loc in get_detector(entry["check"])(ctx).locations:
            cluster, namespace, kind, name = loc.ref.split("/", 3)
            assert cluster == "forge" and kind and name
            if not loc.subject.startswith(("Node/", "Namespace/", "ClusterPolicy/")):
                assert loc.subject.split("/")[1] == namespace, loc


def test_cluster_health_checks_do_not_apply_without_a_cluster() -> None:
    bare = CheckContext(
        build_inventory(K3S), Toolbox(Jail(K3S), None, Ledger()), now=parse_clock("2026-11-28")
    )
    for entry in TRUTH["cluster_checks"]:
        assert get_detector(entry["check"])(bare).applicable is False, entry["check"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v1.33.6+k3s1", (1, 33, 6)),
        ("v1.34", (1, 34, 0)),
        ("1.30.2-eks-1234", (1, 30, 2)),
        ("", None),
        (None, None),
    ],
)
def test_minor_version(text: str | None, expected: tuple[int, int, int] | None) -> None:
    assert minor_version(text) == expected


def test_traefik_hosts_reads_every_host_of_a_rule() -> None:
    rule = "Host(`a.example`, `b.example`) && PathPrefix(`/x`) || HostSNI(`c.example`)"
    assert traefik_hosts(rule) == ["a.example", "b.example", "c.example"]
    assert traefik_hosts("PathPrefix(`/only`)") == []


def test_ready_endpoints_counts_ready_addresses_per_service() -> None:
    def eps(service: str, *ready: bool | None) -> dict[str, Any]:
        endpoints = [
            {"addresses": ["10.0.0.1"], "conditions": {} if r is None else {"ready": r}} for r in ready
        ]
        return {
            "metadata": {"namespace": "ns", "labels": {"kubernetes.io/service-name": service}},
            "endpoints": endpoints,
        }

    counts = ready_endpoints([eps("a", True, False, None), eps("a", False), eps("b"), {"metadata": {}}])
    assert counts == {("ns", "a"): 2, ("ns", "b"): 0}


@pytest.mark.parametrize(
    ("image", "repo"),
    [
        ("cloudflare/cloudflared:2024.12.0", "cloudflare/cloudflared"),
        ("nginx", "docker.io/library/nginx"),
        ("nginx:1.27", "docker.io/library/nginx"),
        ("registry.local:5000/team/app:1.0", "registry.local:5000/team/app"),
        ("ghcr.io/org/app@sha256:" + "a" * 64, "ghcr.io/org/app"),
        ("ghcr.io/org/app:1.2@sha256:" + "b" * 64, "ghcr.io/org/app"),
        (None, None),
    ],
)
def test_image_repository(image: str | None, repo: str | None) -> None:
    assert image_repository(image) == repo


def test_environment_variants_are_not_duplicates_but_renames_are() -> None:
    assert _environment_variants({"shop-staging", "shop-prod"})
    assert _environment_variants({"dev-ledger", "prod-ledger"})
    assert not _environment_variants({"cloudflare", "tunnel"})
    assert not _environment_variants({"ledger", "ledger-prod"})  # one has no environment part


def _snapshot(tmp: Path, files: dict[str, list[dict[str, Any]]], server: str = "v1.33.6") -> CheckContext:
    """A one-off snapshot directory of ``files`` (stem -> objects), audited with an empty estate."""
    cluster = tmp / "cluster"
    cluster.mkdir()
    meta = {
        "captured_at": "2026-11-28T10:00:00Z",
        "cluster": "c",
        "format": "infra-audit-snapshot/1",
        "server_version": server,
    }
    (cluster / "_snapshot.json").write_text(json.dumps(meta))
    for stem, items in files.items():
        (cluster / f"{stem}.json").write_text(
            json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
        )
    estate = tmp / "estate"
    estate.mkdir()
    backend = SnapshotBackend(cluster)
    return CheckContext(
        build_inventory(estate, cluster=backend),
        Toolbox(Jail(estate), backend, Ledger()),
        now=parse_clock("2026-11-28T10:00:00Z"),
    )


def _node(name: str, kubelet: str, proxy: str | None = None, ready: str = "True") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {
            "conditions": [{"type": "Ready", "status": ready}],
            "nodeInfo": {"kubeletVersion": kubelet, "kubeProxyVersion": proxy or kubelet},
        },
    }


def test_skew_a_kubelet_far_behind_and_a_kube_proxy_apart(tmp_path: Path) -> None:
    ctx = _snapshot(
        tmp_path,
        {
            "core.v1.nodes": [
                _node("old", "v1.29.9"),  # 4 minors behind 1.33: outside the policy
                _node("edge", "v1.30.1"),  # 3 behind: the oldest a 1.33 server supports
                _node("proxy", "v1.33.6", proxy="v1.32.0"),
                _node("down", "v1.33.6", ready="False"),
            ]
        },
    )
    skew = get_detector("REL-LIVE-VERSION-SKEW")(ctx)
    assert {loc.subject: loc.detail for loc in skew.locations} == {
        "Node/old": "kubelet v1.29.9 is 4 minors behind the API server v1.33.6",
        "Node/proxy": "kube-proxy v1.32.0 differs from its kubelet v1.33.6",
    }
    down = get_detector("REL-LIVE-NODE-NOT-READY")(ctx)
    assert [(loc.subject, loc.detail) for loc in down.locations] == [("Node/down", "NotReady")]


def test_without_endpoint_slices_a_service_is_judged_by_its_pods(tmp_path: Path) -> None:
    def svc(name: str, app: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": "ns"},
            "spec": {"selector": {"app": app}},
        }

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-1", "namespace": "ns", "labels": {"app": "web", "tier": "x"}},
        "status": {"phase": "Running"},
    }
    done = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "old-1", "namespace": "ns", "labels": {"app": "old"}},
        "status": {"phase": "Succeeded"},
    }
    ctx = _snapshot(
        tmp_path, {"core.v1.services": [svc("web", "web"), svc("old", "old")], "core.v1.pods": [pod, done]}
    )
    assert ctx.inventory.live is not None
    assert {s.name: s.ready_endpoints for s in ctx.inventory.live.services} == {"web": None, "old": None}
    found = get_detector("REL-LIVE-SERVICE-NO-PODS")(ctx)
    assert [(loc.subject, loc.detail) for loc in found.locations] == [
        ("Service/ns/old", "its selector matches no pod")
    ]


def _deployment(namespace: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
    }


def test_a_duplicate_names_ten_copies_tags_then_counts_the_rest(tmp_path: Path) -> None:
    """Every copy is a location with the same detail: naming every copy in it grew the report with the
    square of the copies (22 MB of audit.json at 10k pods); it names ten and counts the rest."""
    namespaces = [f"team{i:02d}" for i in range(12)]
    ctx = _snapshot(
        tmp_path,
        {"apps.v1.deployments": [_deployment(ns, f"ghcr.io/o/web:1.{i}") for i, ns in enumerate(namespaces)]},
    )
    found = get_detector("MNT-LIVE-DUPLICATE-WORKLOAD")(ctx)
    named = ", ".join(f"team{i:02d}: 1.{i}" for i in range(10))
    detail = f"ghcr.io/o/web deployed 12 times ({named}, and 2 more)"
    assert [(loc.subject, loc.detail) for loc in found.locations] == [
        (f"Deployment/{ns}/web", detail) for ns in namespaces
    ]
    assert found.count == 12


def test_a_duplicate_of_ten_copies_names_every_tag(tmp_path: Path) -> None:
    namespaces = [f"team{i}" for i in range(10)]
    ctx = _snapshot(tmp_path, {"apps.v1.deployments": [_deployment(ns, "web:2") for ns in namespaces]})
    found = get_detector("MNT-LIVE-DUPLICATE-WORKLOAD")(ctx)
    named = ", ".join(f"{ns}: 2" for ns in namespaces)
    assert {loc.detail for loc in found.locations} == {f"docker.io/library/web deployed 10 times ({named})"}
    assert "more" not in named and len(found.locations) == 10
