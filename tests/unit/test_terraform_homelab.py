"""The Terraform parser against the ``inventory:`` section of examples/ground-truth/homelab.yaml.

The records are compared with the ground truth as it is written: a value the estate does not set is
null in both (an unset strategy is not the API default), a StatefulSet's claim templates go by their
template name, and references the parser resolves (variables through the Terragrunt inputs, a
resource's literal name) appear resolved.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from estates import HOMELAB

from tools.inventory.inventory import Records
from tools.inventory.models import CodeRef, LiveRef, Workload
from tools.inventory.terraform import parse_terraform

pytestmark = pytest.mark.unit


def _ref(source: CodeRef | LiveRef | None) -> str:
    assert isinstance(source, CodeRef)
    return f"{source.path}:{source.line}"


@pytest.fixture(scope="module")
def records() -> Records:
    paths = sorted(
        p.relative_to(HOMELAB).as_posix()
        for p in HOMELAB.rglob("*")
        if p.is_file() and (p.suffix == ".tf" or (p.suffix == ".hcl" and p.name != ".terraform.lock.hcl"))
    )
    return parse_terraform(HOMELAB, paths)


@pytest.fixture(scope="module")
def truth(homelab_truth: dict[str, Any]) -> dict[str, Any]:
    inventory: dict[str, Any] = homelab_truth["inventory"]
    return inventory


def _by_address(records: Records) -> dict[str, Workload]:
    return {w.address or "": w for w in records.workloads}


def test_parse_errors(records: Records, homelab_truth: dict[str, Any]) -> None:
    assert [(i.path, i.line) for i in records.issues] == [
        (e["path"], e["line"]) for e in homelab_truth["parse_errors"]
    ]
    assert "unclosed block" in records.issues[0].message


def test_counts(records: Records, truth: dict[str, Any]) -> None:
    counts = truth["counts"]
    tf_files = sorted(p for p in HOMELAB.rglob("*.tf"))
    assert len(tf_files) == counts["tf_files"]
    parsed = {r.source.path for r in records.resources} | {v.source.path for v in records.variables}
    assert len(tf_files) - len(records.issues) == counts["tf_files_parsed"]
    assert parsed <= {p.relative_to(HOMELAB).as_posix() for p in tf_files}
    kinds = Counter(w.kind for w in records.workloads)
    containers = [c for w in records.workloads for c in w.containers]
    hatches = Counter(h.resource_type for h in records.escape_hatches)
    role_kinds = Counter(r.kind for r in records.roles)
    binding_kinds = Counter(b.kind for b in records.bindings)
    mine = {
        "workloads": len(records.workloads),
        "deployments": kinds["Deployment"],
        "statefulsets": kinds["StatefulSet"],
        "daemonsets": kinds["DaemonSet"],
        "jobs": kinds["Job"],
        "cronjobs": kinds["CronJob"],
        "long_running_workloads": kinds["Deployment"] + kinds["StatefulSet"] + kinds["DaemonSet"],
        "containers": sum(not c.init for c in containers),
        "init_containers": sum(c.init for c in containers),
        "image_refs": sum(c.image is not None for c in containers),
        "helm_releases": len(records.helm_releases),
        "namespaces": len(records.namespaces),
        "helm_created_namespaces": sum(h.create_namespace for h in records.helm_releases),
        "pvcs": len(records.pvcs) + sum(len(w.volume_claim_templates) for w in records.workloads),
        "pdbs": len(records.pdbs),
        "hpas": len(records.hpas),
        "network_policies": len(records.network_policies),
        "resource_quotas": sum(q.kind == "ResourceQuota" for q in records.quotas),
        "limit_ranges": sum(q.kind == "LimitRange" for q in records.quotas),
        "secrets": len(records.secrets),
        "null_resources": hatches["null_resource"],
        "terraform_data": hatches["terraform_data"],
        "provisioners": sum(len(h.provisioners) for h in records.escape_hatches),
        "ignore_changes_blocks": len(records.ignore_changes),
        "kyverno_marker_blocks": sum(i.marker == "KYVERNO_LIFECYCLE_V1" for i in records.ignore_changes),
        "modules": len(records.modules),
        "providers": len({p.name for p in records.providers}),
        "required_providers_entries": len(records.providers),
        "backends": len(records.backends),
        "kyverno_policies": sum(p.engine == "kyverno" for p in records.policies),
        "cluster_roles": role_kinds["ClusterRole"],
        "cluster_role_bindings": binding_kinds["ClusterRoleBinding"],
        "kubernetes_manifest_blocks": sum(r.type == "kubernetes_manifest" for r in records.resources),
    }
    assert mine == {key: counts[key] for key in mine}


def _workload_view(w: Workload, expected: dict[str, Any]) -> dict[str, Any]:
    """The record in the ground truth's terms, limited to the keys the ground truth gives."""
    regular = [c for c in w.containers if not c.init]
    claims = [v.claim_name for v in w.volumes if v.type == "pvc"] + [t.name for t in w.volume_claim_templates]
    view = {
        "kind": w.kind,
        "namespace": w.namespace,
        "name": w.name,
        "resource": w.address,
        "ref": _ref(w.source),
        "replicas": w.replicas,
        "strategy": w.strategy,
        "max_surge": w.max_surge,
        "max_unavailable": w.max_unavailable,
        "schedule": w.schedule,
        "containers": [c.name for c in regular],
        "init_containers": [c.name for c in w.containers if c.init],
        "images": {c.name: c.image_resolved or c.image for c in w.containers},
        "image_refs": {c.name: f"{_ref(c.source).split(':')[0]}:{c.image_line}" for c in w.containers},
        "probes": {c.name: c.probes for c in regular},
        "termination_grace_period_seconds": w.termination_grace_period,
        "pre_stop": [c.name for c in w.containers if c.pre_stop],
        "pvcs": claims,
        "namespace_expr": w.namespace_expr,
    }
    return {k: view[k] for k in expected}


def test_workloads(records: Records, truth: dict[str, Any]) -> None:
    mine = _by_address(records)
    assert sorted(mine) == sorted(w["resource"] for w in truth["workloads"])
    for expected in truth["workloads"]:
        assert _workload_view(mine[expected["resource"]], expected) == expected


def test_helm_releases(records: Records, truth: dict[str, Any]) -> None:
    mine = [
        {
            "name": h.name,
            "namespace": h.namespace,
            "chart": h.chart,
            "repository": h.repository,
            "version": h.version,
            "set_blocks": len(h.set_keys),
            "create_namespace": h.create_namespace,
            "ref": _ref(h.source),
        }
        for h in records.helm_releases
    ]
    keys = ("name", "namespace", "chart", "repository", "version", "set_blocks", "create_namespace", "ref")
    expected = [{k: h[k] for k in keys} for h in truth["helm_releases"]]
    assert sorted(mine, key=repr) == sorted(expected, key=repr)
    created = sorted(h.namespace or "" for h in records.helm_releases if h.create_namespace)
    assert created == truth["helm_created_namespaces"]
    prom = next(h for h in records.helm_releases if h.name == "kube-prometheus-stack")
    assert prom.values_files == ["stacks/monitoring/values.yaml"]


def test_namespaces_pvcs_and_pdbs(records: Records, truth: dict[str, Any]) -> None:
    namespaces = sorted(
        (n.name, n.name_expr, bool(n.pod_security), _ref(n.source)) for n in records.namespaces
    )
    assert namespaces == sorted(
        (n["name"], n["name_expr"], n["pod_security_labels"], n["ref"]) for n in truth["namespaces"]
    )
    pvcs = [
        (p.namespace, p.name, p.access_modes, p.storage_class, p.storage, _ref(p.source))
        for p in records.pvcs
    ]
    pvcs += [
        (w.namespace, t.name, t.access_modes, t.storage_class, t.storage, _ref(t.source))
        for w in records.workloads
        for t in w.volume_claim_templates
    ]
    assert sorted(pvcs) == sorted(
        (p["namespace"], p["name"], p["access_modes"], p["storage_class"], p["size"], p["ref"])
        for p in truth["pvcs"]
    )
    pdbs = [
        {
            "namespace": p.namespace,
            "name": p.name,
            "min_available": p.min_available,
            "selects": p.selector,
            "ref": _ref(p.source),
        }
        for p in records.pdbs
    ]
    keys = ("namespace", "name", "min_available", "selects", "ref")
    assert sorted(pdbs, key=repr) == sorted(({k: p[k] for k in keys} for p in truth["pdbs"]), key=repr)


def test_ignore_changes(records: Records, truth: dict[str, Any]) -> None:
    mine = [
        (i.address, i.paths, i.marker == "KYVERNO_LIFECYCLE_V1", _ref(i.source))
        for i in records.ignore_changes
    ]
    expected = [(i["resource"], i["paths"], i["kyverno_marker"], i["ref"]) for i in truth["ignore_changes"]]
    assert sorted(mine) == sorted(expected)
    assert {i.marker for i in records.ignore_changes} == {"KYVERNO_LIFECYCLE_V1", None}


def test_escape_hatches(records: Records, truth: dict[str, Any]) -> None:
    mine = {h.address: h for h in records.escape_hatches}
    assert sorted(mine) == sorted(n["address"] for n in truth["null_resources"])
    for expected in truth["null_resources"]:
        hatch = mine[expected["address"]]
        assert [p.type for p in hatch.provisioners] == expected["provisioners"]
        assert [f"{hatch.source.path}:{p.line}" for p in hatch.provisioners] == expected["provisioner_refs"]
        assert hatch.timestamp_trigger is expected["timestamp_trigger"]
        assert _ref(hatch.source) == expected["ref"]
        attr = "triggers" if hatch.resource_type == "null_resource" else "triggers_replace"
        assert attr == expected["trigger_attr"] and hatch.triggers
        hosts = {p.connection_host for p in hatch.provisioners if p.type != "local-exec"}
        assert hosts == (set() if expected["connection"] is None else {expected["connection_host"]})


def test_modules_providers_backends(records: Records, truth: dict[str, Any]) -> None:
    def pinned(kind: str, ref: str | None, version: str | None) -> bool | None:
        return None if kind == "local" else (ref or version) is not None

    modules = [
        (m.name, m.source_url, m.kind, m.version, pinned(m.kind, m.ref, m.version), _ref(m.source))
        for m in records.modules
    ]
    expected = [
        (m["name"], m["source"], m["source_type"], m["version"], m["ref_pinned"], m["ref"])
        for m in truth["modules"]
    ]
    assert sorted(modules, key=repr) == sorted(expected, key=repr)
    providers = [(p.name, p.provider_source, p.constraint, _ref(p.source)) for p in records.providers]
    wanted = [(p["name"], p["source"], p["constraint"], p["ref"]) for p in truth["providers"]]
    assert sorted(providers, key=repr) == sorted(wanted, key=repr)
    [backend] = truth["backends"]
    assert [(b.type, b.defined_in, _ref(b.source)) for b in records.backends] == [
        (backend["type"], "terragrunt", backend["ref"])
    ]
    assert backend["via"] == "terragrunt remote_state"


def test_policies_and_rbac(records: Records, truth: dict[str, Any]) -> None:
    policies = sorted((p.name, p.mode, _ref(p.source)) for p in records.policies)
    assert policies == sorted(
        (p["name"], p["validationFailureAction"], p["ref"]) for p in truth["kyverno_policies"]
    )
    manifests = {f"{r.type}.{r.name}": r.manifest_kind for r in records.resources}
    assert all(manifests[p["resource"]] == "ClusterPolicy" for p in truth["kyverno_policies"])
    roles = sorted(
        (r.name, [x.model_dump(exclude={"line"}) for x in r.rules], _ref(r.source)) for r in records.roles
    )
    assert [x.line for r in records.roles for x in r.rules if r.name == "automation-admin"] == [17]
    assert roles == sorted((r["name"], r["rules"], r["ref"]) for r in truth["cluster_roles"])
    bindings = [
        {"name": b.name, "subject_kind": s.kind, "subject": s.name, "ref": _ref(b.source)}
        for b in records.bindings
        for s in b.subjects
    ]
    assert sorted(bindings, key=repr) == sorted(truth["cluster_role_bindings"], key=repr)


def test_traps_are_not_counted(records: Records, truth: dict[str, Any]) -> None:
    names = {r.name for r in records.resources}
    images = {c.image for w in records.workloads for c in w.containers}
    assert names.isdisjoint({"photoprism", "gotenberg", "heimdall", "fake", "notifier_loadtest"})
    assert images.isdisjoint(
        {
            "photoprism/photoprism:latest",
            "gotenberg/gotenberg:latest",
            "lscr.io/linuxserver/heimdall:latest",
            "x:latest",
            "ghcr.io/immich-app/immich-server:latest",
            "ghcr.io/acme/notifier:0.9.0",
        }
    )
    assert not any(p.source.path == "terragrunt.hcl" for p in records.providers)
    assert "*:* & !*:latest" not in images  # a Kyverno pattern inside kubernetes_manifest, not an image
    trap_refs = {t["ref"] for t in truth["traps_not_counted"]}
    code_refs = {_ref(r.source) for r in records.resources} | {
        f"{_ref(c.source).rsplit(':', 1)[0]}:{c.image_line}" for w in records.workloads for c in w.containers
    }
    assert trap_refs.isdisjoint(code_refs)
