"""Scalability detections over hand-built inventories: exact counts, totals, refs, and what must not count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from inventory_builder import (
    container,
    inventory,
    live_ref,
    live_state,
    pod,
    pvc_volume,
    refs,
    run,
    subjects,
    workload,
)

from tools.checks.detections import scalability as sca
from tools.checks.detections import scalability_live as sca_live
from tools.inventory.inventory import Inventory
from tools.inventory.models import (
    HPA,
    CodeRef,
    HelmRelease,
    JobState,
    Namespace,
    NodeState,
    ResourceQuota,
    Workload,
)

pytestmark = pytest.mark.unit

GI = 2**30


# ------------------------------------------------------------------------------ container sizing


@pytest.fixture
def sized(tmp_path: Path) -> Inventory:
    src = CodeRef(path="app.tf", line=20)
    code = [
        workload(
            "Deployment",
            "a",
            "web",
            at="app.tf:10",
            containers=[
                container(
                    "full",
                    cpu="100m",
                    memory="64Mi",
                    cpu_limit="1",
                    memory_limit="128Mi",
                    source=src,
                    image_line=22,
                ),
                container(
                    "no-cpu-limit", cpu="100m", memory="64Mi", memory_limit="128Mi", source=src, image_line=40
                ),
                container("nothing", source=src, image_line=60),
                container("init", init=True),  # init containers never count
            ],
        ),
        workload("CronJob", "a", "job", containers=[container("mem-only", memory="1Gi", memory_limit="1Gi")]),
    ]
    live = live_state(
        workloads=[
            # linked to code web: counted once, from code
            workload(
                "Deployment",
                "a",
                "web",
                live=True,
                containers=[container("x", source=live_ref("Pod", "a", "x"))],
            ),
            workload(
                "StatefulSet",
                "b",
                "db",
                live=True,
                containers=[container("db", cpu="1", source=live_ref("StatefulSet", "b", "db"))],
            ),
        ]
    )
    return inventory(tmp_path, live=live, workloads=code)


def test_no_requests(sized: Inventory) -> None:
    d = run(sca.no_requests, sized)
    assert (d.count, d.total) == (3, 5)
    assert subjects(d) == ["Deployment/a/web/nothing", "CronJob/a/job/mem-only", "StatefulSet/b/db/db"]
    assert refs(d) == ["app.tf:60", "app.yaml:1", "lab/b/StatefulSet/db"]  # code refs point at the image line
    assert [loc.detail for loc in d.locations] == [
        "no CPU or memory request",
        "no CPU request",
        "no memory request",
    ]


def test_no_memory_limit(sized: Inventory) -> None:
    d = run(sca.no_memory_limit, sized)
    assert (d.count, d.total) == (2, 5)
    assert subjects(d) == ["Deployment/a/web/nothing", "StatefulSet/b/db/db"]


def test_cpu_request_without_limit(sized: Inventory) -> None:
    d = run(sca.cpu_request_no_limit, sized)
    assert (d.count, d.total) == (2, 5)
    assert subjects(d) == ["Deployment/a/web/no-cpu-limit", "StatefulSet/b/db/db"]
    assert d.locations[0].detail == "CPU request 100m, no CPU limit"


# --------------------------------------------------------------------------------- autoscaling


def _hpa(namespace: str, target: str, kind: str | None = "Deployment") -> HPA:
    return HPA(
        name=target,
        namespace=namespace,
        target_kind=kind,
        target_name=target,
        origin="manifest",
        source=live_ref("HorizontalPodAutoscaler", namespace, target),
    )


def test_no_hpa(tmp_path: Path) -> None:
    code = [
        workload("Deployment", "a", "scaled", replicas=3),
        workload("Deployment", "a", "fixed", replicas=2),
        workload("Deployment", "a", "other-ns-hpa", replicas=2),
        workload("Deployment", "a", "sts-hpa", replicas=2),
        workload("Deployment", "a", "stateful", replicas=2, volumes=[pvc_volume("data")]),
        workload("Deployment", "a", "single"),
        workload("Deployment", "a", "expr", replicas_expr="var.n"),
        workload("StatefulSet", "a", "db", replicas=3),
    ]
    hpas = [_hpa("a", "scaled"), _hpa("b", "other-ns-hpa"), _hpa("a", "sts-hpa", kind="StatefulSet")]
    live = live_state(
        workloads=[workload("Deployment", "c", "live-scaled", live=True, replicas=2)],
        hpas=[_hpa("c", "live-scaled", kind=None)],
    )
    d = run(sca.no_hpa, inventory(tmp_path, live=live, workloads=code, hpas=hpas))
    assert (d.count, d.total) == (3, 5)
    assert subjects(d) == ["Deployment/a/fixed", "Deployment/a/other-ns-hpa", "Deployment/a/sts-hpa"]
    assert d.locations[0].detail == "2 fixed replicas, stateless, no HPA"


def test_no_quota(tmp_path: Path) -> None:
    code = [
        workload("Deployment", "quota", "a"),
        workload("Deployment", "limits", "b"),
        workload("Deployment", "bare", "c", at="bare/app.yaml:3"),
        workload("CronJob", "bare", "d"),
        workload("Deployment", "undeclared", "e", at="u/app.yaml:7"),
        workload("DaemonSet", "kube-system", "f"),
        workload("Deployment", None, "g", namespace_expr="var.ns"),
    ]
    namespaces = [Namespace(name="bare", origin="terraform", source=CodeRef(path="bare/ns.tf", line=1))]
    quotas = [
        ResourceQuota(
            kind="ResourceQuota",
            name="q",
            namespace="quota",
            origin="manifest",
            source=live_ref("ResourceQuota", "quota", "q"),
        )
    ]
    releases = [
        HelmRelease(
            defined_by="flux", name="kyverno", namespace="kyverno", source=CodeRef(path="k.yaml", line=4)
        ),
        HelmRelease(
            defined_by="terraform", name="x", namespace="kube-system", source=CodeRef(path="x.tf", line=1)
        ),
    ]
    live = live_state(
        workloads=[workload("Deployment", "live-ns", "h", live=True)],
        namespaces=[Namespace(name="live-ns", origin="live", source=live_ref("Namespace", None, "live-ns"))],
        quotas=[
            ResourceQuota(
                kind="LimitRange",
                name="l",
                namespace="limits",
                origin="live",
                source=live_ref("LimitRange", "limits", "l"),
            )
        ],
    )
    inv = inventory(
        tmp_path, live=live, workloads=code, namespaces=namespaces, quotas=quotas, helm_releases=releases
    )
    d = run(sca.no_quota, inv)
    # a Helm release runs pods in its namespace even though the chart's workloads are not rendered
    assert (d.count, d.total) == (4, 6)
    assert subjects(d) == ["Namespace/bare", "Namespace/kyverno", "Namespace/live-ns", "Namespace/undeclared"]
    assert refs(d) == ["bare/ns.tf:1", "k.yaml:4", "lab/-/Namespace/live-ns", "u/app.yaml:7"]


# ------------------------------------------------------------------------- shared infrastructure


@pytest.mark.parametrize(
    ("image", "basename"),
    [
        ("docker.io/library/redis:7.4.1-alpine", "redis"),
        ("registry:2", "registry"),
        ("ghcr.io/project-zot/zot-linux-amd64:v2.1.0", "zot-linux-amd64"),
        ("quay.io/x/pgbouncer@sha256:abc", "pgbouncer"),
        ("localhost:5000/team/minio", "minio"),
    ],
)
def test_image_basename(image: str, basename: str) -> None:
    assert sca.image_basename(image) == basename


def test_singleton_infra(tmp_path: Path) -> None:
    def one(name: str, image: str, kind: str = "Deployment", **fields: Any) -> Workload:
        return workload(kind, "a", name, containers=[container(image=image)], **fields)

    code = [
        one("mysql", "mysql:8.4", kind="StatefulSet", replicas=1),
        one("cache", "docker.io/bitnami/redis:7.2"),  # unset replicas = 1; matched by image
        one("zot", "ghcr.io/project-zot/zot-linux-amd64:v2"),
        one("paperless-redis", "example/kv:1"),  # matched by name
        one("haproxy", "haproxy:3", replicas=2),  # not single
        one("pgbouncer", "pgbouncer:1", replicas_expr="var.n"),  # unknown: skipped
        one("redistribute", "example/worker:1"),  # not a whole word
        one("postgres-exporter", "quay.io/prometheuscommunity/postgres-exporter:v0.16"),  # serves, is not
        one("nats", "nats:2", kind="DaemonSet"),  # not a Deployment/StatefulSet
        workload(
            "Deployment",
            "a",
            "paperless",
            containers=[container(image="paperless:2"), container("redis", image="redis:7")],
        ),  # sidecar
    ]
    d = run(sca.singleton_infra, inventory(tmp_path, workloads=code))
    assert d.count == 4
    assert subjects(d) == [
        "StatefulSet/a/mysql",
        "Deployment/a/cache",
        "Deployment/a/zot",
        "Deployment/a/paperless-redis",
    ]
    assert [loc.detail for loc in d.locations] == [
        "single instance of a database (mysql)",
        "single instance of a database (redis)",
        "single instance of a container registry (zot)",
        "single instance of a database (redis)",
    ]


# ------------------------------------------------------------------------------- node pressure


def _node(
    name: str, cpu_m: int = 4000, mem_b: int = 8 * GI, cpu_use: int | None = None, mem_use: int | None = None
) -> NodeState:
    return NodeState(
        name=name,
        cpu_allocatable_m=cpu_m,
        memory_allocatable_b=mem_b,
        cpu_usage_m=cpu_use,
        memory_usage_b=mem_use,
        source=live_ref("Node", None, name),
    )


def test_node_pressure_not_applicable_without_cluster(tmp_path: Path) -> None:
    d = run(sca_live.node_pressure, inventory(tmp_path))
    assert (d.count, d.applicable) == (0, False)


def test_node_pressure_by_requests_and_usage(tmp_path: Path) -> None:
    big = workload(
        "Deployment",
        "a",
        "big",
        live=True,
        containers=[
            container("app", cpu="3", memory="1Gi"),
            container("side", cpu="300m", memory="1Gi"),
            container("init", init=True, cpu="3500m", memory="512Mi"),  # larger than the sum: it counts
        ],
    )
    cron = workload("CronJob", "a", "nightly", live=True, containers=[container(cpu="2", memory="7Gi")])
    bare = workload("Pod", "a", "bare", live=True, containers=[container(cpu="100m", memory="6Gi")])
    pods = [
        pod("a", "big-1", node="n1", owner=("Deployment", "big")),
        pod(
            "a", "nightly-1-x", node="n1", owner=("Job", "nightly-1"), phase="Succeeded"
        ),  # done: holds nothing
        pod("a", "nightly-2-x", node="n3", owner=("Job", "nightly-2")),  # through the Job's CronJob
        pod("a", "bare", node="n3"),
        pod("a", "static", node="n1", owner=("Node", "n1")),  # spec unknown: named, adds nothing
        pod("a", "pending", node=None, owner=("Deployment", "big")),
    ]
    jobs = [
        JobState(name=n, namespace="a", owner_cronjob="nightly", source=live_ref("Job", "a", n))
        for n in ("nightly-1", "nightly-2")
    ]
    nodes = [
        _node("n1", cpu_use=100, mem_use=GI),  # requests: cpu 3500m = 87.5%
        _node("n2", cpu_use=100, mem_use=7 * GI),  # usage: memory 87.5%
        _node("n3", cpu_use=400, mem_use=GI),  # requests: memory 13 GiB of 8 GiB
        _node("n4"),  # no metrics, no pods
    ]
    live = live_state(workloads=[big, cron, bare], pods=pods, jobs=jobs, nodes=nodes)
    d = run(sca_live.node_pressure, inventory(tmp_path, live=live))
    assert (d.count, d.total) == (3, 4)
    assert refs(d) == ["lab/-/Node/n1", "lab/-/Node/n2", "lab/-/Node/n3"]
    assert subjects(d) == ["Node/n1", "Node/n2", "Node/n3"]
    assert [loc.detail for loc in d.locations] == [
        "above 80%: CPU requests (CPU requests 88%; memory requests 25%; CPU usage 2%; memory usage 12%); "
        "requests of 1 pods unknown (a/static)",
        "above 80%: memory usage (CPU requests 0%; memory requests 0%; CPU usage 2%; memory usage 88%)",
        "above 80%: memory requests "
        "(CPU requests 52%; memory requests 162%; CPU usage 10%; memory usage 12%)",
    ]


def test_pod_requests_effective_value() -> None:
    w = workload(
        "Pod",
        "a",
        "p",
        live=True,
        containers=[
            container("a", cpu="250m", memory="100Mi"),
            container("b", cpu="0.5"),
            container("i", init=True, memory="1Gi"),
        ],
    )
    assert sca_live.pod_requests(w) == sca_live.PodRequests(cpu_m=750, memory_b=GI)


def test_a_limit_without_its_request_is_the_request(tmp_path: Path) -> None:
    """Kubernetes copies a limit set without its request into the request: only a resource with
    neither is missing its request (the podkit shape: a CPU request and a memory limit)."""
    inv = inventory(
        tmp_path,
        workloads=[
            workload(
                "Deployment",
                "a",
                "web",
                containers=[
                    container("cpu-req-mem-limit", cpu="100m", memory_limit="2Gi"),
                    container("limits-only", cpu_limit="1", memory_limit="1Gi"),
                    container("cpu-only", cpu="100m"),
                ],
            )
        ],
    )
    d = run(sca.no_requests, inv)
    assert (d.count, d.total) == (1, 3)
    assert subjects(d) == ["Deployment/a/web/cpu-only"]
    assert [loc.detail for loc in d.locations] == ["no memory request"]
