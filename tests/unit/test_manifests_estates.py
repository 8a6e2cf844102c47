"""parse_manifests on the bundled estates against the ``inventory:`` of their ground truth.

The ground truth (examples/ground-truth/<estate>.yaml) is written by hand from the estate's files,
so these tests catch a parser that drifts from what an engineer reading the files would count. Both
state values as written: a field the manifest does not set (a Deployment strategy, a Kyverno
failurePolicy) is null, never the Kubernetes default, and IntOrString values are strings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from estates import GITOPS, HOMELAB, canary_forms

from tools.inventory.inventory import Records
from tools.inventory.manifests import parse_manifests
from tools.inventory.models import Source, Workload
from tools.inventory.yaml_lines import load_documents

pytestmark = pytest.mark.unit

YAML_LIKE = (".yaml", ".yml", ".json")


def estate_yaml(root: Path) -> list[str]:
    """The files the estate walker hands to parse_manifests (cluster snapshots excluded)."""
    found: list[str] = []
    for directory, dirs, files in os.walk(root):
        if "_snapshot.json" in files:
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d != ".git"]
        found += [Path(directory, f).relative_to(root).as_posix() for f in files if f.endswith(YAML_LIKE)]
    return sorted(found)


def ref(source: Source) -> str:
    return str(source)


@pytest.fixture(scope="module")
def gitops() -> Records:
    return parse_manifests(GITOPS, estate_yaml(GITOPS))


@pytest.fixture(scope="module")
def truth(gitops_truth: dict[str, Any]) -> dict[str, Any]:
    inventory: dict[str, Any] = gitops_truth["inventory"]
    return inventory


# ------------------------------------------------------------------------------- gitops-base


def test_files_documents_and_no_parse_errors(gitops: Records, gitops_truth: dict[str, Any]) -> None:
    paths = estate_yaml(GITOPS)
    counts = gitops_truth["inventory"]["counts"]
    assert len(paths) == counts["yaml_files"]
    assert sum(len(load_documents((GITOPS / p).read_bytes())) for p in paths) == counts["yaml_documents"]
    assert [i for i in gitops.issues if i.reason != "note"] == []
    assert gitops_truth["parse_errors"] == []
    # longhorn's kustomization names two files that do not exist: it does not build, is said so once,
    # and the kustomizations that include it are read file by file (their objects are still counted)
    assert [(f"{i.path}:{i.line}", i.reason) for i in gitops.issues] == [
        (note["ref"], "note") for note in gitops_truth["build_notes"]
    ]


def test_counts(gitops: Records, truth: dict[str, Any]) -> None:
    counts = truth["counts"]
    kinds = [w.kind for w in gitops.workloads]
    containers = [c for w in gitops.workloads for c in w.containers]
    flux_kinds = [s.kind for s in gitops.flux_sources]
    assert {
        "workloads": len(gitops.workloads),
        "deployments": kinds.count("Deployment"),
        "statefulsets": kinds.count("StatefulSet"),
        "daemonsets": kinds.count("DaemonSet"),
        "jobs": kinds.count("Job"),
        "cronjobs": kinds.count("CronJob"),
        "containers": sum(not c.init for c in containers),
        "init_containers": sum(c.init for c in containers),
        # pvcs counts StatefulSet volumeClaimTemplates; the records keep those on the workload
        "pvcs": len(gitops.pvcs) + sum(len(w.volume_claim_templates) for w in gitops.workloads),
        "pdbs": len(gitops.pdbs),
        "hpas": len(gitops.hpas),
        "network_policies": len(gitops.network_policies),
        "namespaces": len(gitops.namespaces),
        "secrets": len(gitops.secrets),
        "sops_encrypted_secrets": sum(s.sops_encrypted for s in gitops.secrets),
        "kyverno_policies": sum(p.engine == "kyverno" for p in gitops.policies),
        "gatekeeper_constraints": sum(p.engine == "gatekeeper" for p in gitops.policies),
        "prometheus_rules": len({r.source.path for r in gitops.alert_rules}),
        "argo_applications": len(gitops.argo_apps),
        "flux_kustomizations": len(gitops.flux_kustomizations),
        "git_repositories": flux_kinds.count("GitRepository"),
        "helm_repositories": flux_kinds.count("HelmRepository"),
        "helm_releases": len(gitops.helm_releases),
        "kustomization_files": len(gitops.kustomizations),
    } == {key: counts[key] for key in (
        "workloads", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs", "containers",
        "init_containers", "pvcs", "pdbs", "hpas", "network_policies", "namespaces", "secrets",
        "sops_encrypted_secrets", "kyverno_policies", "gatekeeper_constraints", "prometheus_rules",
        "argo_applications", "flux_kustomizations", "git_repositories", "helm_repositories",
        "helm_releases", "kustomization_files",
    )}  # fmt: skip
    assert len(gitops.policies) == counts["kyverno_policies"] + counts["gatekeeper_constraints"]


def test_flux_objects(gitops: Records, truth: dict[str, Any]) -> None:
    assert [
        {
            "name": k.name,
            "path": k.path,
            "prune": k.prune,
            "suspend": k.suspend,
            "depends_on": k.depends_on,
            "ref": ref(k.source),
        }
        for k in gitops.flux_kustomizations
    ] == [
        {key: item[key] for key in ("name", "path", "prune", "suspend", "depends_on", "ref")}
        for item in truth["flux_kustomizations"]
    ]
    # every Flux path of the estate is in the repo: each is a deployed directory, built where it can be
    assert sorted((d.path, d.name, d.built) for d in gitops.deployed_paths) == [
        ("apps", "apps", True),
        ("clusters/prod", "flux-system", True),
        ("infrastructure/base", "infrastructure", False),  # longhorn's kustomization does not build
        ("infrastructure/base/velero", "velero", True),
        ("policies", "policies", True),
    ]
    assert gitops.is_deployed("apps/shop/cart.yaml") is True
    assert gitops.is_deployed("infrastructure/base/monitoring/alerts/workload-alerts.yaml") is True
    assert [
        {"name": s.name, "url": s.url, "branch": s.ref, "ref": ref(s.source)}
        for s in gitops.flux_sources
        if s.kind == "GitRepository"
    ] == truth["git_repositories"]
    assert [
        {"name": s.name, "namespace": s.namespace, "url": s.url, "ref": ref(s.source)}
        for s in gitops.flux_sources
        if s.kind == "HelmRepository"
    ] == [
        {key: item[key] for key in ("name", "namespace", "url", "ref")} for item in truth["helm_repositories"]
    ]


def test_helm_releases_versions_and_version_lines(gitops: Records, truth: dict[str, Any]) -> None:
    assert {h.defined_by for h in gitops.helm_releases} == {"flux"}
    assert [
        {
            "name": h.name,
            "namespace": h.namespace,
            "chart": h.chart,
            "version": h.version,
            "source": h.repository,  # Kind/name of spec.chart.spec.sourceRef
            "ref": ref(h.source),
            "version_ref": f"{h.source.path}:{h.version_line}" if h.version_line else None,
        }
        for h in gitops.helm_releases
    ] == [
        {key: item[key] for key in ("name", "namespace", "chart", "version", "source", "ref", "version_ref")}
        for item in truth["helm_releases"]
    ]


def test_kustomizations_and_missing_files(gitops: Records, truth: dict[str, Any]) -> None:
    assert [
        {"path": k.path, "resources": k.resources, "missing": k.missing, "ref": ref(k.source)}
        for k in gitops.kustomizations
    ] == truth["kustomizations"]


def test_namespaces_and_pod_security(gitops: Records, truth: dict[str, Any]) -> None:
    assert [
        {"name": n.name, "pss_enforce": n.pod_security.get("enforce"), "ref": ref(n.source)}
        for n in gitops.namespaces
    ] == truth["namespaces"]


def _workload_view(w: Workload, keys: set[str]) -> dict[str, Any]:
    """A workload in the ground truth's terms; only the keys the truth states for this workload."""
    regular = [c for c in w.containers if not c.init]

    def resources(c: Any) -> dict[str, dict[str, str]]:
        r = c.resources
        requests = {"cpu": r.cpu_request, "memory": r.memory_request}
        limits = {"cpu": r.cpu_limit, "memory": r.memory_limit}
        return {
            "requests": {k: v for k, v in requests.items() if v is not None},
            "limits": {k: v for k, v in limits.items() if v is not None},
        }

    view: dict[str, Any] = {
        "kind": w.kind,
        "namespace": w.namespace,
        "name": w.name,
        "ref": ref(w.source),
        "replicas": w.replicas,
        "strategy": w.strategy,
        "max_surge": w.max_surge,
        "max_unavailable": w.max_unavailable,
        "schedule": w.schedule,
        "containers": [c.name for c in regular],
        "init_containers": [c.name for c in w.containers if c.init],
        "images": {c.name: c.image for c in w.containers},
        "image_refs": {c.name: f"{w.source.path}:{c.image_line}" for c in w.containers},
        "probes": {c.name: list(c.probes) for c in regular},
        "resources": {c.name: resources(c) for c in w.containers},
        "termination_grace_period_seconds": w.termination_grace_period,
        "host_paths": [v.host_path for v in w.volumes if v.type == "host_path"],
        "privileged_containers": [c.name for c in w.containers if c.security.privileged],
        "volume_claim_templates": [
            {"name": t.name, "access_modes": t.access_modes, "size": t.storage}
            for t in w.volume_claim_templates
        ],
    }
    return {key: view[key] for key in keys}


def test_workloads_containers_images_and_lines(gitops: Records, truth: dict[str, Any]) -> None:
    expected = truth["workloads"]
    assert [_workload_view(w, set(e)) for w, e in zip(gitops.workloads, expected, strict=True)] == expected


def test_pdbs_and_hpas(gitops: Records, truth: dict[str, Any]) -> None:
    assert [
        {
            "namespace": p.namespace,
            "name": p.name,
            "min_available": p.min_available,
            "selects": p.selector,
            "ref": ref(p.source),
        }
        for p in gitops.pdbs
    ] == truth["pdbs"]
    assert [
        {
            "namespace": h.namespace,
            "name": h.name,
            "target": f"{h.target_kind}/{h.target_name}",
            "min": h.min_replicas,
            "max": h.max_replicas,
            "ref": ref(h.source),
        }
        for h in gitops.hpas
    ] == truth["hpas"]


def test_secrets_sops_and_no_secret_value_anywhere(gitops: Records, truth: dict[str, Any]) -> None:
    assert [
        {"namespace": s.namespace, "name": s.name, "sops_encrypted": s.sops_encrypted, "ref": ref(s.source)}
        for s in gitops.secrets
    ] == [{k: item[k] for k in ("namespace", "name", "sops_encrypted", "ref")} for item in truth["secrets"]]
    dumped = gitops.model_dump_json()
    assert [canary for canary in canary_forms("gitops-base") if canary in dumped] == []
    assert "ENC[" not in dumped


def test_policy_engines_and_modes(gitops: Records, truth: dict[str, Any]) -> None:
    kyverno = [p for p in gitops.policies if p.engine == "kyverno"]
    assert [
        {
            "name": p.name,
            "validationFailureAction": p.mode,
            "failurePolicy": p.failure_policy,
            "ref": ref(p.source),
        }
        for p in sorted(kyverno, key=lambda p: p.name or "")
    ] == truth["kyverno_policies"]
    assert [p.rule_modes for p in kyverno] == [[], [], [], []]
    assert [
        {"kind": p.kind, "name": p.name, "enforcementAction": p.mode, "ref": ref(p.source)}
        for p in gitops.policies
        if p.engine == "gatekeeper"
    ] == truth["gatekeeper"]["constraints"]


def test_alert_rules_and_unwired_files(gitops: Records, truth: dict[str, Any]) -> None:
    by_file: dict[str, list[str]] = {}
    for rule in gitops.alert_rules:
        by_file.setdefault(rule.source.path, []).append(rule.alert)
    expected = {item["ref"].rsplit(":", 1)[0]: item for item in truth["prometheus_rules"]}
    assert by_file == {path: item["alerts"] for path, item in expected.items()}
    assert {r.source.path: r.wired for r in gitops.alert_rules} == {
        p: i["wired"] for p, i in expected.items()
    }
    assert sorted({r.source.path for r in gitops.alert_rules if not r.wired}) == truth["unwired_manifests"]


def test_ci_and_dependency_bots(gitops: Records, truth: dict[str, Any]) -> None:
    # truth: the only CI step is "yamllint -c .yamllint.yaml ."
    assert [(c.source.path, c.system, c.validations) for c in gitops.ci_files] == [
        (truth["ci"][0]["path"], "github-actions", ["yamllint"])
    ]
    assert [{"path": b.source.path, "ecosystems": b.ecosystems} for b in gitops.dependency_bots] == truth[
        "dependency_bots"
    ]


# ----------------------------------------------------------------------------------- homelab


def test_homelab_argo_applications_ci_and_values_alerts(homelab_truth: dict[str, Any]) -> None:
    records = parse_manifests(HOMELAB, estate_yaml(HOMELAB))
    inventory = homelab_truth["inventory"]
    assert records.issues == []
    assert [
        {
            "name": a.name,
            "source_type": "helm" if a.chart else "git",
            "target_revision": a.target_revision,
            "automated": a.automated,
            "prune": a.prune,
            "self_heal": a.self_heal,
            "destination_namespace": a.destination_namespace,
            "ref": ref(a.source),
        }
        for a in records.argo_apps
    ] == inventory["argo_applications"]
    assert [(h.defined_by, h.name, h.chart, h.version, ref(h.source)) for h in records.helm_releases] == [
        ("argocd", "it-tools", "it-tools", "*", "gitops/apps/it-tools.yaml:2")
    ]
    # truth: the only CI step is "terraform fmt -check -recursive stacks modules"
    assert [(c.source.path, c.validations) for c in records.ci_files] == [
        (inventory["ci"][0]["path"], ["terraform-fmt"])
    ]
    assert records.dependency_bots == [] == inventory["dependency_bots"]
    assert [
        {"alert": r.alert, "group": r.group, "wired": r.wired, "ref": ref(r.source)}
        for r in records.alert_rules
    ] == inventory["alert_rules"]
