"""The bundled homelab snapshot through the kube tools and the live-state inventory, against ground truth."""

from __future__ import annotations

from typing import Any

import pytest
from estates import HOMELAB_SNAPSHOT, canary_forms

from domain.results import ToolStatus
from tools.inventory.inventory import LiveState
from tools.inventory.live import load_live_state
from tools.kube import kubectl as k
from tools.kube.resources import ResourceTable
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit

T = ResourceTable()


@pytest.fixture(scope="module")
def homelab() -> SnapshotBackend:
    return SnapshotBackend(HOMELAB_SNAPSHOT)


@pytest.fixture(scope="module")
def state(homelab: SnapshotBackend) -> LiveState:
    return load_live_state(homelab)


def test_loads_cleanly_with_the_recorded_identity(
    homelab: SnapshotBackend, homelab_truth: dict[str, Any]
) -> None:
    assert homelab.warnings == []
    assert homelab.info.name == "homelab" and homelab.info.context == "homelab-admin"
    assert homelab.info.captured_at == homelab_truth["live"]["captured_at"]
    assert homelab.info.server_version == "v1.31.4+k3s1"


@pytest.mark.parametrize(
    ("truth_key", "resource"),
    [
        ("nodes", "no"),
        ("namespaces", "ns"),
        ("pods", "po"),
        ("deployments", "deploy"),
        ("statefulsets", "sts"),
        ("daemonsets", "ds"),
        ("jobs", "job"),
        ("cronjobs", "cj"),
        ("pvcs", "pvc"),
        ("services", "svc"),
        ("secrets", "secret"),
        ("events", "ev"),
        ("pdbs", "pdb"),
        ("kyverno_clusterpolicies", "cpol"),
        ("argo_applications", "applications.argoproj.io"),
        ("clusterroles", "clusterrole"),
        ("network_policies", "netpol"),
    ],
)
def test_counts_match_ground_truth(
    homelab: SnapshotBackend, homelab_truth: dict[str, Any], truth_key: str, resource: str
) -> None:
    expected = homelab_truth["live"]["counts"][truth_key]
    result = k.kube_get(homelab, resource, all_namespaces=True)
    assert result.value == expected
    assert result.status == (ToolStatus.OK if expected else ToolStatus.NO_DATA)


def test_metrics_and_phases(homelab: SnapshotBackend, homelab_truth: dict[str, Any]) -> None:
    counts = homelab_truth["live"]["counts"]
    assert len(homelab.metrics("nodes")) == counts["node_metrics"]
    assert len(homelab.metrics("pods")) == counts["pod_metrics"]
    phases = k.kube_get(homelab, "pods", all_namespaces=True, fields=["status.phase"]).data
    assert [p["status.phase"] for p in phases].count("Running") == counts["pods_running"]
    assert [p["status.phase"] for p in phases].count("Succeeded") == counts["pods_succeeded"]
    assert [p["status.phase"] for p in phases].count("Pending") == counts["pods_pending"]
    top = k.kube_top(homelab, "nodes")
    assert {d["name"]: d["memory_percent"] for d in top.data} == homelab_truth["live"]["node_memory_percent"]


def test_crashloop_oomkilled_and_failed_jobs(state: LiveState, homelab_truth: dict[str, Any]) -> None:
    live = homelab_truth["live"]
    crashing = [(p, c) for p in state.pods for c in p.containers if c.waiting_reason == "CrashLoopBackOff"]
    assert [f"core/Pod/{p.namespace}/{p.name}" for p, _ in crashing] == [c["pod"] for c in live["crashloop"]]
    assert [c.restart_count for _, c in crashing] == [c["restart_count"] for c in live["crashloop"]]
    assert [f"apps/{p.owner_kind}/{p.namespace}/{p.owner_name}" for p, _ in crashing] == [
        c["workload"] for c in live["crashloop"]
    ]
    oom = [(p, c) for p in state.pods for c in p.containers if c.last_terminated_reason == "OOMKilled"]
    assert [f"core/Pod/{p.namespace}/{p.name}" for p, _ in oom] == [o["pod"] for o in live["oomkilled"]]
    assert [c.restart_count for _, c in oom] == [o["restart_count"] for o in live["oomkilled"]]
    assert [f"apps/{p.owner_kind}/{p.namespace}/{p.owner_name}" for p, _ in oom] == [
        o["workload"] for o in live["oomkilled"]
    ]
    failed = sorted(f"batch/Job/{j.namespace}/{j.name}" for j in state.jobs if j.failed)
    assert failed == live["failed_jobs"]
    pulling = [p for p in state.pods for c in p.containers if c.waiting_reason == "ImagePullBackOff"]
    assert [f"core/Pod/{p.namespace}/{p.name}" for p in pulling] == [
        i["pod"] for i in live["image_pull_backoff"]
    ]


def test_cronjob_and_job_ownership(state: LiveState, homelab_truth: dict[str, Any]) -> None:
    [stale] = homelab_truth["live"]["stale_cronjobs"]
    cj = next(c for c in state.cronjobs if f"batch/CronJob/{c.namespace}/{c.name}" == stale["cronjob"])
    assert (cj.schedule, cj.last_successful_time, cj.last_schedule_time) == (
        stale["schedule"],
        stale["last_successful_time"],
        stale["last_schedule_time"],
    )
    owned = {
        entry["object"]: entry["owned_by"]
        for entry in homelab_truth["live"]["linkage"]
        if "owned_by" in entry
    }
    for job in state.jobs:
        key = f"batch/Job/{job.namespace}/{job.name}"
        expected = owned[key].rsplit("/", 1)[1] if key in owned else None
        assert job.owner_cronjob == expected, key


def test_warning_events(homelab: SnapshotBackend, homelab_truth: dict[str, Any]) -> None:
    result = k.kube_events(homelab, all_namespaces=True, types=["Warning"])
    assert result.value == homelab_truth["live"]["counts"]["warning_events"]
    seen = sorted(
        f"{e['reason']}:{e['involvedObject']['kind']}/{e['involvedObject'].get('namespace') or '-'}/"
        f"{e['involvedObject']['name']}"
        for e in result.data
    )
    assert seen == sorted(homelab_truth["live"]["events_warning"])


def test_policies_and_argo_apps(state: LiveState, homelab_truth: dict[str, Any]) -> None:
    kyverno = homelab_truth["live"]["kyverno_policies"]
    assert len(state.policies) == kyverno["total"]
    assert sum(p.mode == "Audit" for p in state.policies) == kyverno["audit"]
    apps = {a.name: (a.sync_status, a.health_status) for a in state.argo_apps}
    assert apps == {a["name"]: (a["sync"], a["health"]) for a in homelab_truth["live"]["argo_applications"]}


def test_no_canary_reaches_any_kube_tool_output(homelab: SnapshotBackend) -> None:
    results = [
        k.kube_get(homelab, "secrets", all_namespaces=True),
        k.kube_get(homelab, "secrets", all_namespaces=True, fields=["data", "metadata.annotations"]),
        k.kube_describe(homelab, "secret", "mysql-root", namespace="dbaas"),
        k.kube_describe(homelab, "secret", "vault-unseal-key", namespace="vault"),
        k.kube_get(homelab, "deploy", all_namespaces=True),
        k.kube_describe(homelab, "deploy", "debug-toolbox", namespace="default"),
        k.kube_describe(homelab, "deploy", "notifier", namespace="home"),
        k.kube_get(homelab, "pods", namespace="home"),
        k.kube_get(homelab, "pods", namespace="home", fields=["spec.containers[*].env"]),
    ]
    for result in results:
        assert result.status == ToolStatus.OK, result.error
        text = result.model_dump_json()
        for canary in canary_forms("homelab"):
            assert canary not in text, (canary, result.command)
