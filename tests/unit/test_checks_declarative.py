"""DEC-* detections on hand-built inventories and tiny estates: exact counts, refs, subjects, measures,
and what must not be reported."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from inventory_builder import code_ref, inventory, live_ref, live_state, refs, subjects, workload
from reader_scripts import script_module

from tools.checks.detections import declarative, declarative_docs, declarative_live
from tools.checks.spec import CheckContext
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.inventory import Inventory
from tools.inventory.live import load_live_state
from tools.inventory.models import (
    HPA,
    ArgoApplication,
    EscapeHatch,
    FluxKustomization,
    HelmRelease,
    IgnoreChanges,
    Kustomization,
    Link,
    LiveObject,
    Provisioner,
    TerraformResource,
)
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(text).lstrip("\n"))


def ctx(inv: Inventory, backend: SnapshotBackend | None = None) -> CheckContext:
    return CheckContext(inventory=inv, toolbox=Toolbox(Jail(inv.root), backend, Ledger()))


def tf_resource() -> TerraformResource:
    return TerraformResource(type="kubernetes_namespace", name="x", source=code_ref("main.tf", 1))


# --------------------------------------------------------------------------- escape hatches


def hatches() -> list[EscapeHatch]:
    return [
        EscapeHatch(
            resource_type="null_resource",
            address="null_resource.apiserver",
            provisioners=[
                Provisioner(type="file", connection_host="var.master_host", line=12),
                Provisioner(type="remote-exec", connection_host="var.master_host", line=17),
            ],
            triggers={"config": "sha256(local.config)"},
            source=code_ref("stacks/platform/main.tf", 10),
        ),
        EscapeHatch(
            resource_type="terraform_data",
            address="terraform_data.labels",
            provisioners=[Provisioner(type="local-exec", line=31)],
            triggers={"always": "timestamp()"},
            timestamp_trigger=True,
            source=code_ref("stacks/platform/main.tf", 30),
        ),
        EscapeHatch(  # no provisioner: a plain trigger holder, not imperative
            resource_type="null_resource",
            address="null_resource.marker",
            source=code_ref("stacks/platform/main.tf", 40),
        ),
    ]


def test_provisioners_counts_blocks_with_a_provisioner(tmp_path: Path) -> None:
    d = declarative.provisioners(
        ctx(inventory(tmp_path, escape_hatches=hatches(), resources=[tf_resource()]))
    )
    assert (d.count, d.total) == (2, 3)
    assert refs(d) == ["stacks/platform/main.tf:10", "stacks/platform/main.tf:30"]
    assert subjects(d) == ["null_resource.apiserver", "terraform_data.labels"]
    assert [loc.detail for loc in d.locations] == ["file, remote-exec (host var.master_host)", "local-exec"]
    assert d.measures == {"provisioners": 3, "remote": 2}


def test_timestamp_trigger(tmp_path: Path) -> None:
    d = declarative.timestamp_trigger(
        ctx(inventory(tmp_path, escape_hatches=hatches(), resources=[tf_resource()]))
    )
    assert (d.count, d.total, refs(d)) == (1, 3, ["stacks/platform/main.tf:30"])
    assert d.locations[0].detail == "trigger always = timestamp()"


def test_terraform_checks_do_not_apply_without_terraform(tmp_path: Path) -> None:
    for check in (declarative.provisioners, declarative.timestamp_trigger, declarative.ignore_changes):
        d = check(ctx(inventory(tmp_path)))
        assert (d.applicable, d.count) == (False, 0)


def test_ignore_changes_paths_and_markers(tmp_path: Path) -> None:
    blocks = [
        IgnoreChanges(
            address="kubernetes_deployment_v1.a",
            paths=["spec[0].template[0].spec[0].dns_config"],
            marker="KYVERNO_LIFECYCLE_V1",
            source=code_ref("a.tf", 50),
        ),
        IgnoreChanges(
            address="kubernetes_deployment_v1.b",
            paths=["spec[0].template[0].spec[0].dns_config", "metadata[0].annotations"],
            marker="KYVERNO_LIFECYCLE_V1",
            source=code_ref("b.tf", 60),
        ),
        IgnoreChanges(address="kubernetes_secret_v1.c", paths=["all"], source=code_ref("c.tf", 7)),
    ]
    d = declarative.ignore_changes(ctx(inventory(tmp_path, ignore_changes=blocks, resources=[tf_resource()])))
    assert (d.count, d.total) == (3, None)
    assert d.measures == {"paths": 3, "unmarked": 1}
    assert refs(d) == ["a.tf:50", "b.tf:60", "c.tf:7"]
    assert d.locations[2].detail == "all (no marker)"
    assert d.locations[0].detail == "spec[0].template[0].spec[0].dns_config [KYVERNO_LIFECYCLE_V1]"


# ------------------------------------------------------------------------------ docs and scripts

DOCS = {
    "docs/runbooks/dns.md": """
        # DNS
        Check with `kubectl -n kube-system get deploy coredns` first.

            kubectl -n kube-system logs deploy/coredns
            kubectl scale deploy coredns -n kube-system --replicas=3
            kubectl -n vault exec vault-0 -- vault operator unseal
            helm upgrade kps prometheus-community/kube-prometheus-stack -n monitoring
            kubectl rollout restart deploy/api
            kubectl describe pod x
        Then run `scp exports root@pve:/etc/exports && ssh root@pve exportfs -ra`.
        """,
    "scripts/sync.sh": """
        #!/bin/sh
        ssh "$HOST" exportfs -ra
        """,
    "scripts/bootstrap": "kubectl apply -f manifests/\n",
    "scripts/values.yaml": "command: kubectl apply -f x\n",
    "stacks/x/main.tf": 'command = "kubectl label nodes n1 a=b"\n',
    ".github/workflows/deploy.yml": "run: kubectl apply -k overlays/prod\n",
    "Makefile": "deploy:\n\thelm install app ./chart\n",
    "cluster/_snapshot.json": "{}\n",
    "cluster/notes.md": "kubectl delete pod x\n",
}


def test_imperative_docs_counts_lines_of_docs_and_scripts(tmp_path: Path) -> None:
    write(tmp_path, DOCS)
    d = declarative_docs.imperative_docs(ctx(inventory(tmp_path)))
    assert d.count == 8
    assert refs(d) == [
        "Makefile:2",
        "docs/runbooks/dns.md:5",
        "docs/runbooks/dns.md:6",
        "docs/runbooks/dns.md:7",
        "docs/runbooks/dns.md:8",
        "docs/runbooks/dns.md:10",
        "scripts/bootstrap:1",
        "scripts/sync.sh:2",
    ]
    assert subjects(d) == [
        "helm install",
        "kubectl scale",
        "kubectl exec",
        "helm upgrade",
        "kubectl rollout restart",
        "scp",
        "kubectl apply",
        "ssh",
    ]
    assert d.locations[1].detail == "kubectl scale deploy coredns -n kube-system --replicas=3"
    assert len(d.evidence) == 2 and all(e.startswith("E-") for e in d.evidence)


def test_imperative_docs_trims_long_lines(tmp_path: Path) -> None:
    write(tmp_path, {"docs/a.md": "kubectl patch deploy x -p '" + "y" * 300 + "'\n"})
    d = declarative_docs.imperative_docs(ctx(inventory(tmp_path)))
    detail = d.locations[0].detail
    assert detail is not None and len(detail) == 100 and detail.endswith("…")


# ------------------------------------------------------------------------------------- Kustomize


def test_kustomize_missing_points_at_the_listing_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "base/longhorn/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - helmrelease.yaml
                  - recurring-jobs.yaml
                  - "storageclass-retain.yaml"
                """,
            "base/longhorn/helmrelease.yaml": "kind: HelmRelease\n",
        },
    )
    kustomizations = [
        Kustomization(
            path="base/longhorn/kustomization.yaml",
            resources=["helmrelease.yaml", "recurring-jobs.yaml", "storageclass-retain.yaml"],
            missing=["recurring-jobs.yaml", "storageclass-retain.yaml"],
            source=code_ref("base/longhorn/kustomization.yaml", 1),
        ),
        Kustomization(
            path="kustomization.yaml", resources=["base"], source=code_ref("kustomization.yaml", 1)
        ),
    ]
    d = declarative.kustomize_missing(ctx(inventory(tmp_path, kustomizations=kustomizations)))
    assert (d.count, d.total) == (2, 4)
    assert refs(d) == ["base/longhorn/kustomization.yaml:5", "base/longhorn/kustomization.yaml:6"]
    assert subjects(d) == ["recurring-jobs.yaml", "storageclass-retain.yaml"]
    assert declarative.kustomize_missing(ctx(inventory(tmp_path))).applicable is False


# ------------------------------------------------------------------------------------------ Flux


def flux(name: str, *, live: bool = False, **fields: Any) -> FluxKustomization:
    source = live_ref("Kustomization", "flux-system", name) if live else code_ref(f"clusters/{name}.yaml", 1)
    return FluxKustomization(name=name, namespace="flux-system", source=source, **fields)


def test_flux_suspended_in_code_or_live_counts_once(tmp_path: Path) -> None:
    code = [flux("velero", suspend=True, prune=True), flux("apps", prune=True), flux("infra", prune=True)]
    live = live_state(
        flux_kustomizations=[
            flux("velero", live=True, suspend=True),  # same object: counted once, from code
            flux("apps", live=True, suspend=True),  # suspended by hand: code says otherwise
            flux("orphan", live=True, suspend=True),  # only in the cluster
        ]
    )
    d = declarative.flux_suspended(ctx(inventory(tmp_path, live=live, flux_kustomizations=code)))
    assert (d.count, d.total) == (3, 4)
    assert refs(d) == [
        "clusters/velero.yaml:1",
        "lab/flux-system/Kustomization/apps",
        "lab/flux-system/Kustomization/orphan",
    ]
    assert subjects(d) == [
        "Kustomization/flux-system/velero",
        "Kustomization/flux-system/apps",
        "Kustomization/flux-system/orphan",
    ]
    assert [loc.detail for loc in d.locations] == [
        "suspended in code and live",
        "suspended live only, not in code",
        "suspended live, no code defines it",
    ]


def test_flux_no_prune_ignores_unset_prune(tmp_path: Path) -> None:
    code = [flux("policies", prune=False), flux("apps", prune=True), flux("legacy")]
    d = declarative.flux_no_prune(ctx(inventory(tmp_path, flux_kustomizations=code)))
    assert (d.count, d.total, refs(d)) == (1, 3, ["clusters/policies.yaml:1"])
    assert declarative.flux_no_prune(ctx(inventory(tmp_path))).applicable is False


# ----------------------------------------------------------------------------------- Argo CD


def argo(name: str, sync: str | None, health: str | None) -> ArgoApplication:
    return ArgoApplication(
        name=name,
        namespace="argocd",
        sync_status=sync,
        health_status=health,
        source=live_ref("Application", "argocd", name),
    )


def test_argo_out_of_sync_or_unhealthy(tmp_path: Path) -> None:
    live = live_state(
        argo_apps=[
            argo("budget", "OutOfSync", "Healthy"),
            argo("tools", "Synced", "Degraded"),
            argo("mealie", "Synced", "Healthy"),
            argo("new", "Unknown", "Missing"),
            argo("progressing", "Synced", "Progressing"),
        ]
    )
    code = [ArgoApplication(name="budget", namespace="argocd", source=code_ref("gitops/budget.yaml", 2))]
    d = declarative_live.argo_out_of_sync(ctx(inventory(tmp_path, live=live, argo_apps=code)))
    assert (d.count, d.total) == (3, 5)
    assert refs(d) == ["gitops/budget.yaml:2", "lab/argocd/Application/tools", "lab/argocd/Application/new"]
    assert d.locations[1].detail == "live: sync Synced, health Degraded"


def test_cluster_checks_do_not_apply_without_a_cluster(tmp_path: Path) -> None:
    for check in (
        declarative_live.argo_out_of_sync,
        declarative_live.live_unmanaged,
        declarative_live.live_drift,
    ):
        d = check(ctx(inventory(tmp_path)))
        assert (d.applicable, d.note) == (False, "no cluster given (run with --cluster)")


# --------------------------------------------------------------------------------- unmanaged


def live_object(
    kind: str, ns: str, name: str, managed_by: str | None = None, owner: str | None = None
) -> LiveObject:
    return LiveObject(
        api_version="apps/v1",
        kind=kind,
        namespace=ns,
        name=name,
        managed_by=managed_by,
        owner=owner,
        source=live_ref(kind, ns, name),
    )


def unmanaged_estate(tmp_path: Path) -> Inventory:
    code = [workload("Deployment", "home", "homepage")]
    live_workloads = [
        workload("Deployment", "home", "homepage", live=True),  # defined in code
        workload("Deployment", "default", "debug-toolbox", live=True),  # unmanaged
        workload(
            "Deployment", "kube-system", "coredns", live=True, labels={"k8s-app": "kube-dns"}
        ),  # unmanaged
        workload("Deployment", "networking", "traefik", live=True),  # Helm release in code (same name)
        workload("Deployment", "monitoring", "kps-grafana", live=True),  # Helm release in code (prefix)
        workload("Deployment", "monitoring", "kpsx", live=True),  # NOT the kps release: no dash
        workload("Deployment", "finance", "budget", live=True),  # Argo CD tracking annotation
        workload("StatefulSet", "db", "pg", live=True, labels={"app.kubernetes.io/managed-by": "Helm"}),
        workload("DaemonSet", "ops", "npd", live=True, labels={"kustomize.toolkit.fluxcd.io/name": "apps"}),
        workload("CronJob", "ops", "report", live=True),  # owned by another object (ownerReferences)
        workload("Job", "ops", "adhoc", live=True),  # Jobs are not in scope
    ]
    live = live_state(
        workloads=live_workloads,
        objects=[
            live_object("Deployment", "finance", "budget", managed_by="argocd"),
            live_object("CronJob", "ops", "report", owner="ReportSchedule"),
            live_object("Deployment", "ops", "report", owner="Operator"),  # another kind: not the CronJob
        ],
    )
    releases = [
        HelmRelease(
            defined_by="terraform", name="traefik", namespace="networking", source=code_ref("net.tf", 28)
        ),
        HelmRelease(
            defined_by="terraform", name="kps", namespace="monitoring", source=code_ref("mon.tf", 28)
        ),
    ]
    return inventory(tmp_path, live=live, workloads=code, helm_releases=releases)


def test_live_unmanaged_excludes_declarative_managers_and_owned(tmp_path: Path) -> None:
    inv = unmanaged_estate(tmp_path)
    check = ctx(inv)
    d = declarative_live.live_unmanaged(check)
    assert subjects(d) == [
        "Deployment/default/debug-toolbox",
        "Deployment/kube-system/coredns",
        "Deployment/monitoring/kpsx",
    ]
    assert refs(d)[0] == "lab/default/Deployment/debug-toolbox"
    assert (d.count, d.total, d.measures) == (3, 10, {"managed": 6})
    assert (d.evidence, len(check.toolbox.ledger)) == ([], 0)  # the owners come with the load: no listing


def _deployment(name: str, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ops", **meta},
        "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}},
    }


def test_live_unmanaged_reads_the_owners_from_the_loaded_snapshot(tmp_path: Path) -> None:
    """The first ownerReference of each workload, read when the snapshot is loaded: an owned workload
    is managed, one without (or with an empty list) is not."""
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "_snapshot.json").write_text(json.dumps({"cluster": "lab", "format": "infra-audit-snapshot/1"}))
    items = [
        _deployment("by-operator", ownerReferences=[{"kind": "Operator", "name": "x", "uid": "1"}]),
        _deployment("no-kind", ownerReferences=[{"name": "x", "uid": "2"}, {"kind": "Second", "name": "y"}]),
        _deployment("stray"),
        _deployment("empty", ownerReferences=[]),
        # k3s applies its packaged components (coredns, traefik) from its own addon manifests, as a
        # k3s cluster's coredns is in the home-lab snapshot: managed, though no code defines it
        _deployment("coredns", annotations={K3S_ADDON: "k3s.cattle.io/v1, Kind=Addon"}),
        # another wrangler owner is not k3s's: no manager of the estate's, reported
        _deployment("other-objectset", annotations={K3S_ADDON: "example.io/v1, Kind=Thing"}),
    ]
    (snap / "apps.v1.deployments.json").write_text(json.dumps({"apiVersion": "v1", "items": items}))
    live = load_live_state(SnapshotBackend(snap))
    assert sorted((o.name, o.owner or "-", o.managed_by or "-") for o in live.objects) == [
        ("by-operator", "Operator", "-"),
        ("coredns", "-", "k3s"),
        ("empty", "-", "-"),
        ("no-kind", "owner", "-"),  # the first reference names no kind: "owner", not the second's
        ("other-objectset", "-", "-"),
        ("stray", "-", "-"),
    ]
    (tmp_path / "estate").mkdir()
    d = declarative_live.live_unmanaged(ctx(inventory(tmp_path / "estate", live=live)))
    assert sorted(subjects(d)) == [
        "Deployment/ops/empty",
        "Deployment/ops/other-objectset",
        "Deployment/ops/stray",
    ]
    assert (d.count, d.total, d.measures, d.evidence) == (3, 6, {"managed": 3}, [])
    # the reader's command counts the same from the same dump
    joined = script_module("joined_count")
    estate = joined.Estate(
        tmp_path / "estate", (), joined.read_live([str(snap / "apps.v1.deployments.json")])
    )
    assert sorted(o["metadata"]["name"] for o in joined.unmanaged(estate)) == [
        "empty",
        "other-objectset",
        "stray",
    ]


K3S_ADDON = "objectset.rio.cattle.io/owner-gvk"


# ------------------------------------------------------------------------------------- drift


def link(name: str, code: int | None, live: int | None, kind: str = "Deployment") -> Link:
    return Link(
        kind=kind,
        namespace="home",
        name=name,
        code=code_ref(f"{name}.tf", 60),
        live=live_ref(kind, "home", name),
        replicas_code=code,
        replicas_live=live,
    )


def test_live_drift_compares_replicas_except_autoscaled(tmp_path: Path) -> None:
    live = live_state(
        hpas=[
            HPA(
                name="api",
                namespace="home",
                target_kind="Deployment",
                target_name="api",
                origin="live",
                source=live_ref("HorizontalPodAutoscaler", "home", "api"),
            )
        ]
    )
    inv = inventory(tmp_path, live=live)
    inv.links = [link("homepage", 2, 1), link("api", 2, 5), link("same", 3, 3), link("unset", None, 1)]
    d = declarative_live.live_drift(ctx(inv))
    assert (d.count, d.total) == (1, 3)
    assert (refs(d), subjects(d)) == (["homepage.tf:60"], ["Deployment/home/homepage"])
    assert d.locations[0].detail == "replicas: code 2, live 1"


OVERLAYS = {
    "base/kustomization.yaml": "resources: [deployment.yaml]\n",
    "base/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: 1
          template:
            spec:
              containers: [{name: web, image: "nginx:1.27"}]
        """,
    **{
        f"overlays/{env}/{name}": text
        for env, replicas in (("staging", 2), ("prod", 3))
        for name, text in (
            (
                "kustomization.yaml",
                f"namespace: {env}\nresources: [../../base]\npatches: [{{path: replicas.yaml}}]\n",
            ),
            (
                "replicas.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
                f"spec:\n  replicas: {replicas}\n",
            ),
        )
    },
}


def test_live_drift_cites_the_replicas_line_of_the_workload_it_links(tmp_path: Path) -> None:
    """staging and prod are built from one base, the source of both: prod's drift cites prod's patch,
    not whichever overlay's workload shares the base's line (it cited staging's)."""
    write(tmp_path / "estate", OVERLAYS)
    snap = tmp_path / "snap"
    snap.mkdir()
    (snap / "_snapshot.json").write_text(json.dumps({"cluster": "lab", "format": "infra-audit-snapshot/1"}))
    live = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": env, "uid": env},
            "spec": {
                "replicas": replicas,
                "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}},
            },
        }
        for env, replicas in (("staging", 2), ("prod", 1))
    ]
    (snap / "apps.v1.deployments.json").write_text(json.dumps({"apiVersion": "v1", "items": live}))
    inv = build_inventory(tmp_path / "estate", cluster=SnapshotBackend(snap))
    d = declarative_live.live_drift(ctx(inv))
    assert (d.count, d.total) == (1, 2)
    assert (refs(d), subjects(d)) == (["overlays/prod/replicas.yaml:5"], ["Deployment/prod/web"])
    assert d.locations[0].detail == "replicas: code 3, live 1"
