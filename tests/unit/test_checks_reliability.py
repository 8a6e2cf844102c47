"""Reliability detections over hand-built inventories: exact counts, totals, refs, and what must not count.

Backup coverage is in ``test_checks_reliability_backup.py``; runtime state of a cluster in
``test_checks_reliability_live.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inventory_builder import (
    container,
    inventory,
    live_ref,
    live_state,
    pvc_volume,
    refs,
    run,
    subjects,
    workload,
)

from tools.checks.detections import reliability as rel
from tools.inventory.inventory import Inventory
from tools.inventory.models import (
    PDB,
    PVC,
    AlertRule,
    HelmRelease,
    ProbeKind,
)

pytestmark = pytest.mark.unit

BOTH: tuple[ProbeKind, ...] = ("readiness", "liveness")


# --------------------------------------------------------------------------------------- probes


@pytest.fixture
def probe_estate(tmp_path: Path) -> Inventory:
    code = [
        # every regular container probed; the init container never counts
        workload("Deployment", "a", "ok", containers=[container(probes=BOTH), container("init", init=True)]),
        workload("Deployment", "a", "half", containers=[container("web", probes=["readiness"])]),
        workload(
            "StatefulSet",
            "a",
            "db",
            containers=[container("db", probes=BOTH), container("exporter")],
        ),
        workload("DaemonSet", "a", "agent", containers=[container("agent", probes=["startup"])]),
        workload("Job", "a", "migrate", containers=[container()]),
        workload("CronJob", "a", "report", containers=[container()]),
    ]
    live = live_state(
        workloads=[
            # linked to code "half": counted once, from code, even though live it has both probes
            workload("Deployment", "a", "half", live=True, containers=[container("web", probes=BOTH)]),
            workload("Deployment", "b", "live-only", live=True, containers=[container("x")]),
        ]
    )
    return inventory(tmp_path, live=live, workloads=code)


def test_probe_any_counts_regular_containers_of_long_running_workloads(probe_estate: Inventory) -> None:
    d = run(rel.probe_any, probe_estate)
    assert (d.count, d.total) == (4, 5)
    assert refs(d) == ["half.yaml:1", "db.yaml:1", "agent.yaml:1", "lab/b/Deployment/live-only"]
    assert subjects(d) == [
        "Deployment/a/half",
        "StatefulSet/a/db",
        "DaemonSet/a/agent",
        "Deployment/b/live-only",
    ]
    details = [loc.detail for loc in d.locations]
    assert details == [
        "web: no liveness",
        "exporter: no readiness or liveness",
        "agent: no readiness or liveness",
        "x: no readiness or liveness",
    ]


def test_probe_both_needs_every_regular_container_unprobed(probe_estate: Inventory) -> None:
    d = run(rel.probe_both, probe_estate)
    # db has one probed container and one without: not "both missing"; a startup probe is no health probe
    assert (d.count, d.total) == (2, 5)
    assert subjects(d) == ["DaemonSet/a/agent", "Deployment/b/live-only"]


def test_probe_checks_without_long_running_workloads(tmp_path: Path) -> None:
    inv = inventory(tmp_path, workloads=[workload("CronJob", "a", "c")])
    assert run(rel.probe_any, inv).model_dump(include={"count", "total"}) == {"count": 0, "total": 0}


# ------------------------------------------------------------------------------------- replicas


def test_single_replica_needs_recreate_or_an_rwo_volume(tmp_path: Path) -> None:
    pvcs = [
        PVC(
            name="rwo",
            namespace="a",
            access_modes=["ReadWriteOnce"],
            origin="manifest",
            source=live_ref("x", "a", "rwo"),
        ),
        PVC(
            name="rwx",
            namespace="a",
            access_modes=["ReadWriteMany"],
            origin="manifest",
            source=live_ref("x", "a", "rwx"),
        ),
        PVC(
            name="both",
            namespace="a",
            access_modes=["ReadWriteOnce", "ReadWriteMany"],
            origin="manifest",
            source=live_ref("x", "a", "both"),
        ),
    ]
    template = PVC(
        name="data", access_modes=["ReadWriteOnce"], origin="manifest", source=live_ref("x", "a", "t")
    )
    code = [
        workload("Deployment", "a", "recreate-default", strategy="Recreate"),  # replicas unset = 1
        workload("Deployment", "a", "expr", strategy="Recreate", replicas_expr="var.replicas"),  # skipped
        workload("Deployment", "a", "rwo-claim", replicas=1, volumes=[pvc_volume("rwo")]),
        workload("Deployment", "b", "rwo-elsewhere", replicas=1, volumes=[pvc_volume("rwo")]),
        workload("Deployment", "a", "rwx-claim", replicas=1, volumes=[pvc_volume("rwx")]),
        workload("Deployment", "a", "mixed-modes", replicas=1, volumes=[pvc_volume("both")]),
        workload("StatefulSet", "a", "db", replicas=1, volume_claim_templates=[template]),
        workload("Deployment", "a", "two", replicas=2, strategy="Recreate", volumes=[pvc_volume("rwo")]),
        workload("Deployment", "c", "live-claim", replicas=1, volumes=[pvc_volume("seen-live")]),
        workload("DaemonSet", "a", "ds", strategy="Recreate"),
    ]
    live_pvc = PVC(
        name="seen-live",
        namespace="c",
        access_modes=["ReadWriteOnce"],
        origin="live",
        source=live_ref("PersistentVolumeClaim", "c", "seen-live"),
    )
    inv = inventory(tmp_path, live=live_state(pvcs=[live_pvc]), workloads=code, pvcs=pvcs)
    d = run(rel.single_replica, inv)
    assert (d.count, d.total) == (4, 8)  # the unresolved expression is not in the total
    assert subjects(d) == [
        "Deployment/a/recreate-default",
        "Deployment/a/rwo-claim",
        "StatefulSet/a/db",
        "Deployment/c/live-claim",
    ]
    assert [loc.detail for loc in d.locations] == [
        "1 replica; Recreate strategy",
        "1 replica; RWO claim rwo",
        "1 replica; RWO volumeClaimTemplate data",
        "1 replica; RWO claim seen-live",
    ]


def test_no_pdb_matches_selector_subset_in_the_same_namespace(tmp_path: Path) -> None:
    web = {"app": "web"}
    code = [
        workload("Deployment", "a", "web", replicas=3, selector=web, labels=web),
        workload("Deployment", "a", "api", replicas=2, selector={"app": "api"}),
        workload("Deployment", "b", "web", replicas=2, selector=web),
        workload("StatefulSet", "a", "db", replicas=2, selector={"app": "db"}, labels={"tier": "data"}),
        workload("Deployment", "c", "open", replicas=2, selector={"app": "open"}),
        workload("Deployment", "a", "single", selector=web),  # replicas unset: 1
        workload("Deployment", "a", "expr", replicas_expr="var.n", selector=web),  # unknown: skipped
        workload("DaemonSet", "a", "ds", selector=web),
    ]
    pdbs = [
        PDB(name="web", namespace="a", selector=web, origin="manifest", source=live_ref("x", "a", "web")),
        # not a subset: also requires tier=x, which the api pods do not carry
        PDB(
            name="api",
            namespace="a",
            selector={"app": "api", "tier": "x"},
            origin="manifest",
            source=live_ref("x", "a", "api"),
        ),
        # an empty selector selects every pod of its namespace (policy/v1)
        PDB(name="all", namespace="c", selector={}, origin="manifest", source=live_ref("x", "c", "all")),
    ]
    live_pdb = PDB(
        name="db",
        namespace="a",
        selector={"app": "db", "tier": "data"},
        origin="live",
        source=live_ref("PodDisruptionBudget", "a", "db"),
    )
    inv = inventory(tmp_path, live=live_state(pdbs=[live_pdb]), workloads=code, pdbs=pdbs)
    d = run(rel.no_pdb, inv)
    assert (d.count, d.total) == (2, 5)
    assert subjects(d) == ["Deployment/a/api", "Deployment/b/web"]
    assert d.locations[0].detail == "2 replicas, no PDB selects its pods"


# ------------------------------------------------------------------------------------- rollouts


def test_recreate_no_grace(tmp_path: Path) -> None:
    code = [
        workload("Deployment", "a", "bare", strategy="Recreate"),
        workload("Deployment", "a", "grace", strategy="Recreate", termination_grace_period=60),
        workload("Deployment", "a", "hook", strategy="Recreate", containers=[container(pre_stop=True)]),
        workload(
            "Deployment",
            "a",
            "init-hook",
            strategy="Recreate",
            containers=[container(), container("init", init=True, pre_stop=True)],
        ),
        workload("Deployment", "a", "rolling"),
    ]
    live = live_state(
        workloads=[
            workload(
                "Deployment", "b", "api-default", live=True, strategy="Recreate", termination_grace_period=30
            )
        ]
    )
    d = run(rel.recreate_no_grace, inventory(tmp_path, live=live, workloads=code))
    assert (d.count, d.total) == (2, 5)
    assert subjects(d) == ["Deployment/a/bare", "Deployment/a/init-hook"]


def test_rolling_no_surge_reads_code_only(tmp_path: Path) -> None:
    code = [
        workload("Deployment", "a", "default"),  # no strategy: RollingUpdate by default
        workload("Deployment", "a", "explicit", strategy="RollingUpdate"),
        workload("Deployment", "a", "surge", strategy="RollingUpdate", max_surge="1"),
        workload("Deployment", "a", "unavailable", max_unavailable="0"),
        workload("Deployment", "a", "recreate", strategy="Recreate"),
        workload("StatefulSet", "a", "sts"),
    ]
    live = live_state(workloads=[workload("Deployment", "b", "live-only", live=True)])
    d = run(rel.rolling_no_surge, inventory(tmp_path, live=live, workloads=code))
    assert (d.count, d.total) == (2, 4)
    assert refs(d) == ["default.yaml:1", "explicit.yaml:1"]


def test_ondelete_statefulsets_and_daemonsets(tmp_path: Path) -> None:
    code = [
        workload("StatefulSet", "vault", "vault", strategy="OnDelete"),
        workload("StatefulSet", "a", "db", strategy="RollingUpdate"),
        workload("DaemonSet", "a", "agent", strategy="OnDelete"),
        workload("Deployment", "a", "odd", strategy="OnDelete"),  # not a StatefulSet/DaemonSet strategy
    ]
    d = run(rel.sts_ondelete, inventory(tmp_path, workloads=code))
    assert (d.count, d.total) == (2, 3)
    assert subjects(d) == ["StatefulSet/vault/vault", "DaemonSet/a/agent"]


# --------------------------------------------------------------------------------------- alerts


def test_alert_gaps_count_only_wired_rules(tmp_path: Path) -> None:
    def rule(alert: str, expr: str, line: int, wired: bool = True) -> AlertRule:
        return AlertRule(alert=alert, expr=expr, source=live_ref("x", "m", str(line)), wired=wired)

    rules = [
        rule("JobsFailing", 'kube_job_failed{condition="true"} > 0', 7),
        rule("Crashy", 'kube_pod_container_status_last_terminated_reason{reason="OOMKilled"} == 1', 9),
        rule("NodeCPUSaturated", "node_cpu_seconds_total > 0.9", 11, wired=False),  # never loads
        rule("NodeMemoryHigh", "node_memory_MemAvailable_bytes < 0.1", 13),  # memory is not node-cpu
    ]
    live_rule = AlertRule(
        alert="KubePersistentVolumeFillingUp", expr="x", source=live_ref("PrometheusRule", "m", "k")
    )
    inv = inventory(tmp_path, live=live_state(alert_rules=[live_rule]), alert_rules=rules)
    d = run(rel.alert_gaps, inv)
    assert (d.count, d.total) == (3, 6)
    assert subjects(d) == [
        "alert-category/unschedulable",
        "alert-category/node-cpu",
        "alert-category/cert-expiry",
    ]
    assert set(refs(d)) == {"lab/m/x/7"}


def test_alert_gaps_without_rules(tmp_path: Path) -> None:
    d = run(rel.alert_gaps, inventory(tmp_path))
    assert (d.count, d.total, d.note) == (6, 6, None)
    assert set(refs(d)) == {"-"}
    assert subjects(d)[0] == "alert-category/oomkill"


def test_alert_gaps_notes_chart_default_rules(tmp_path: Path) -> None:
    release = HelmRelease(
        defined_by="flux",
        name="kps",
        chart="kube-prometheus-stack",
        source=live_ref("HelmRelease", "m", "kps"),
    )
    d = run(rel.alert_gaps, inventory(tmp_path, helm_releases=[release]))
    assert d.count == 6
    assert d.note == (
        "kube-prometheus-stack is deployed: rules its chart ships (defaultRules) are not in the inventory; "
        "check whether they cover a missing category"
    )
