"""load_live_state: a cluster as records plus runtime state, on the mini snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.unread import EVERY_KIND
from tools.inventory.inventory import LiveState, Records
from tools.inventory.live import load_live_state, managed_by
from tools.inventory.live_runtime import owners, pod_owner
from tools.inventory.models import UnreadResource
from tools.kube.backend import ForbiddenError, KubeObject, MetricsKind, UnavailableError
from tools.kube.resources import ResourceType
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"


@pytest.fixture(scope="module")
def state() -> LiveState:
    return load_live_state(SnapshotBackend(MINI))


def test_cluster_info(state: LiveState) -> None:
    assert (state.cluster.name, state.cluster.backend, state.cluster.captured_at) == (
        "mini",
        "snapshot",
        "2025-06-01T12:00:00Z",
    )
    assert state.issues == []


def test_records_come_from_the_shared_mapper(state: LiveState) -> None:
    counts = {name: len(getattr(state, name)) for name in Records.model_fields if getattr(state, name)}
    assert counts == {
        "workloads": 7,
        "pvcs": 1,
        "namespaces": 5,
        "pdbs": 1,
        "hpas": 1,
        "network_policies": 1,
        "roles": 1,
        "bindings": 1,
        "secrets": 1,
        "policies": 1,
        "helm_releases": 1,
    }
    # controlled pods, ReplicaSets and Jobs are runtime, not second copies of their workload
    assert sorted((w.kind, w.namespace, w.name) for w in state.workloads) == [
        ("CronJob", "media", "backup"),
        ("Deployment", "immich", "immich-ml"),
        ("Deployment", "immich", "immich-server"),
        ("Deployment", "kube-system", "coredns"),
        ("Deployment", "media", "jellyfin"),
        ("Pod", "default", "debug"),
        ("StatefulSet", "monitoring", "prometheus"),
    ]
    server = next(w for w in state.workloads if w.name == "immich-server")
    assert server.origin == "live" and server.replicas == 2
    assert str(server.source) == "mini/immich/Deployment/immich-server"
    assert state.policies[0].mode == "Audit"
    assert state.helm_releases[0].version == "2.1.0"
    assert next(n for n in state.namespaces if n.name == "immich").pod_security == {"enforce": "baseline"}


def test_pods_name_their_real_owner(state: LiveState) -> None:
    owners = {p.name: (p.owner_kind, p.owner_name) for p in state.pods}
    assert owners == {
        "debug": (None, None),
        "immich-ml-7f8d9c6b4-xyz12": (
            "Deployment",
            "immich-ml",
        ),  # ReplicaSet not in the snapshot: hash stripped
        "immich-server-6d9f7c8b5-abcde": ("Deployment", "immich-server"),  # through the ReplicaSet
        "immich-server-6d9f7c8b5-fghij": ("Deployment", "immich-server"),
        "coredns-7b98449c4-p2xkq": ("Deployment", "coredns"),
        "backup-29123456-zzzzz": ("Job", "backup-29123456"),
        "jellyfin-5c4b3a2d1-qwert": ("Deployment", "jellyfin"),
        "prometheus-0": ("StatefulSet", "prometheus"),
    }


def test_crashloop_and_oomkilled_pods(state: LiveState) -> None:
    crashing = [
        p.name for p in state.pods if any(c.waiting_reason == "CrashLoopBackOff" for c in p.containers)
    ]
    oom = [p.name for p in state.pods if any(c.last_terminated_reason == "OOMKilled" for c in p.containers)]
    assert crashing == ["immich-server-6d9f7c8b5-fghij"]
    assert oom == ["immich-ml-7f8d9c6b4-xyz12"]
    fghij = next(p for p in state.pods if p.name == "immich-server-6d9f7c8b5-fghij")
    assert (fghij.node, fghij.phase, fghij.containers[0].restart_count, fghij.containers[0].ready) == (
        "node-b",
        "Running",
        42,
        False,
    )
    assert [p.name for p in state.pods if p.phase == "Failed"] == ["backup-29123456-zzzzz"]


def test_nodes(state: LiveState) -> None:
    a, b = state.nodes
    assert (
        a.name,
        a.roles,
        a.ready,
        a.cpu_allocatable_m,
        a.memory_allocatable_b,
        a.cpu_usage_m,
        a.memory_usage_b,
        a.kubelet_version,
    ) == (
        "node-a",
        ["control-plane", "master"],
        True,
        4000,
        16_710_352_896,
        1535,
        6_442_450_944,
        "v1.30.4+k3s1",
    )
    assert (b.name, b.roles, b.ready, b.cpu_allocatable_m, b.memory_allocatable_b, b.cpu_usage_m) == (
        "node-b",
        ["worker"],
        False,
        3800,
        8_589_934_592,
        250,
    )


def test_jobs_cronjobs_events(state: LiveState) -> None:
    assert [(j.name, j.owner_cronjob, j.succeeded, j.failed, j.completion_time) for j in state.jobs] == [
        ("backup-29123400", "backup", 1, 0, "2025-05-31T03:04:11Z"),
        ("backup-29123456", "backup", 0, 1, None),
    ]
    [cj] = state.cronjobs
    assert (cj.schedule, cj.suspend, cj.last_schedule_time, cj.last_successful_time) == (
        "0 3 * * *",
        False,
        "2025-06-01T03:00:00Z",
        "2025-05-31T03:04:11Z",
    )
    backoff = next(e for e in state.events if e.reason == "BackOff")
    assert (backoff.namespace, backoff.type, backoff.object_kind, backoff.object_name, backoff.count) == (
        "immich",
        "Warning",
        "Pod",
        "immich-server-6d9f7c8b5-fghij",
        120,
    )
    assert len(state.events) == 5


def test_live_objects(state: LiveState) -> None:
    assert len(state.objects) == 37  # every audited object except the 5 events
    assert not any(o.kind == "Event" for o in state.objects)
    assert [(o.kind, o.name) for o in state.objects if o.managed_by] == [("Deployment", "jellyfin")]
    rs = next(o for o in state.objects if o.kind == "ReplicaSet")
    assert (rs.api_version, rs.namespace) == ("apps/v1", "immich")


def test_managed_by_marks() -> None:
    assert managed_by({"metadata": {"labels": {"app.kubernetes.io/managed-by": "Terraform"}}}) == "Terraform"
    assert managed_by({"metadata": {"annotations": {"meta.helm.sh/release-name": "x"}}}) == "Helm"
    assert managed_by({"metadata": {"labels": {"kustomize.toolkit.fluxcd.io/name": "apps"}}}) == "flux"
    assert managed_by({"metadata": {"labels": {"argocd.argoproj.io/instance": "apps"}}}) == "argocd"
    assert managed_by({"metadata": {}}) is None


def test_pod_owner_fallbacks() -> None:
    def pod(owner: str, labels: dict[str, str] | None = None) -> KubeObject:
        return {
            "metadata": {
                "namespace": "n",
                "labels": labels or {},
                "ownerReferences": [{"kind": "ReplicaSet", "name": owner, "controller": True}],
            }
        }

    bare_rs = owners([{"metadata": {"namespace": "n", "name": "lonely"}}])
    assert pod_owner(pod("lonely"), bare_rs) == ("ReplicaSet", "lonely")  # a ReplicaSet nobody owns
    assert pod_owner(pod("web-abc12"), {}) == ("Deployment", "web")
    assert pod_owner(pod("web", {"pod-template-hash": "zzz"}), {}) == ("ReplicaSet", "web")
    assert pod_owner({"metadata": {}}, {}) is None


class Restricted(SnapshotBackend):
    """The mini snapshot with RBAC that refuses Secrets and ClusterRoles, and no metrics-server."""

    def list_objects(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        if rtype.plural in ("secrets", "clusterroles"):
            raise ForbiddenError(f"{rtype.plural} is forbidden", verb="list", what=rtype.qualified)
        return super().list_objects(rtype, namespace, label_selector, field_selector)

    def metrics(self, what: MetricsKind, namespace: str | None = None) -> list[KubeObject]:
        raise UnavailableError("no metrics-server")


def test_refused_types_become_unread_types_not_failures() -> None:
    state = load_live_state(Restricted(MINI))
    assert state.unread == [
        UnreadResource(resource="secrets", kind="Secret", reason="secrets is forbidden"),
        UnreadResource(
            resource="clusterroles.rbac.authorization.k8s.io",
            kind="ClusterRole",
            reason="clusterroles is forbidden",
        ),
    ]
    assert state.issues == []  # no file was skipped
    assert state.secrets == [] and state.roles == []
    assert len(state.pods) == 8
    assert all(n.cpu_usage_m is None and n.cpu_allocatable_m for n in state.nodes)


def test_snapshot_files_not_read_become_issues_and_their_types_unread(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{")
    (tmp_path / "core.v1.nodes.json").write_text('{"kind": "NodeList", "items": [')
    state = load_live_state(SnapshotBackend(tmp_path))
    assert [(i.path, i.line, i.reason) for i in state.issues] == [
        (str(tmp_path / "broken.json"), 1, "syntax"),
        (str(tmp_path / "core.v1.nodes.json"), 1, "syntax"),
    ]
    assert state.unread == [
        UnreadResource(resource="nodes", kind="Node", reason=str(state.issues[1])),
        UnreadResource(resource="unknown type", kind=EVERY_KIND, reason=str(state.issues[0])),
    ]
