"""Kubernetes objects written as Terraform resources (``kubernetes_*``, ``kubernetes_manifest``) to records.

Field rule, so checks can tell "unset" from "set to something we cannot evaluate": identities (object
names and namespaces) are resolved values only, with the raw text in the ``*_expr`` fields where the
model has them; descriptive values (images, quantities, labels, strategies) are the resolved value or,
failing that, the expression as written. A namespaced object without ``metadata.namespace`` is in
``default``, as the Kubernetes provider sets it.

Whole objects (``kubernetes_manifest``, ``kubectl_manifest``) are mapped in ``terraform_manifests``;
``manifest_records`` is re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from typing import Literal as TypingLiteral

from tools.inventory.hcl import Block, Evaluator, Expr, ObjectExpr, Ref, Template, as_written
from tools.inventory.inventory import Records
from tools.inventory.models import (
    HPA,
    PDB,
    PVC,
    CodeRef,
    Container,
    NetworkPolicy,
    PolicyRule,
    ProbeKind,
    RBACBinding,
    RBACRole,
    RBACSubject,
    ResourceQuota,
    Resources,
    SecretManifest,
    SecurityContext,
    Volume,
    Workload,
    WorkloadKind,
)
from tools.inventory.models import Namespace as NamespaceRecord
from tools.inventory.terraform_manifests import manifest_records

__all__ = ["WORKLOAD_TYPES", "Site", "kubernetes_records", "manifest_records", "workload"]

_BASE_KINDS: Final[dict[str, WorkloadKind]] = {
    "kubernetes_deployment": "Deployment",
    "kubernetes_stateful_set": "StatefulSet",
    "kubernetes_daemonset": "DaemonSet",
    "kubernetes_daemon_set": "DaemonSet",
    "kubernetes_job": "Job",
    "kubernetes_cron_job": "CronJob",
    "kubernetes_pod": "Pod",
}
WORKLOAD_TYPES: Final[dict[str, WorkloadKind]] = {
    **_BASE_KINDS,
    **{f"{k}_v1": v for k, v in _BASE_KINDS.items() if k != "kubernetes_daemonset"},
}
_POD_SPEC_PATH: Final[dict[WorkloadKind, tuple[str, ...]]] = {
    "Pod": ("spec",),
    "CronJob": ("spec", "job_template", "spec", "template", "spec"),
}
_PROBES: Final[tuple[ProbeKind, ...]] = ("readiness", "liveness", "startup")
_VolumeType = TypingLiteral["pvc", "host_path", "empty_dir", "config_map", "secret", "nfs"]
_VOLUME_TYPES: Final[dict[str, _VolumeType]] = {
    "persistent_volume_claim": "pvc",
    "host_path": "host_path",
    "empty_dir": "empty_dir",
    "config_map": "config_map",
    "secret": "secret",
    "nfs": "nfs",
}
_EMPTY: Final = Block("", (), {}, (), 0, 0)


@dataclass(frozen=True, slots=True)
class Site:
    """Where a resource is read: its file, the evaluator of its module, and how to read sibling files."""

    path: str
    ev: Evaluator
    read_file: Callable[[Expr], tuple[str, str] | None]  # a file(...) argument -> (estate path, text)
    written_at: Callable[[str], CodeRef | None] = lambda _name: None  # where var.<name>'s value is written

    def ref(self, block: Block) -> CodeRef:
        return CodeRef(path=self.path, line=block.line, end_line=block.end_line)


def _unversioned(resource_type: str) -> str:
    for suffix in ("_v1", "_v2", "_v2beta2"):
        if resource_type.endswith(suffix):
            return resource_type[: -len(suffix)]
    return resource_type


def kubernetes_records(site: Site, block: Block, out: Records) -> None:
    """Add the records of one ``kubernetes_*`` resource; other resource types are ignored."""
    rtype = block.labels[0]
    kind = WORKLOAD_TYPES.get(rtype)
    if kind is not None:
        workload(site, block, kind, out)
        return
    mapper = _MAPPERS.get(_unversioned(rtype))
    if mapper is not None:
        mapper(site, block, out)


# ---------------------------------------------------------------------------------- workloads


def workload(site: Site, block: Block, kind: WorkloadKind, out: Records) -> None:
    """One workload; the pod spec sits at a different depth per kind (``_POD_SPEC_PATH``)."""
    ev = site.ev
    meta = block.block("metadata") or _EMPTY
    spec = block.block("spec") or _EMPTY
    pod = block.path(*_POD_SPEC_PATH.get(kind, ("spec", "template", "spec"))) or _EMPTY
    name, name_expr = _identity(ev, meta.attr("name"))
    namespace, namespace_expr = _identity(ev, meta.attr("namespace"), "default")
    replicas_e = spec.attr("replicas")
    replicas = ev.integer(replicas_e)
    strategy = spec.block("strategy") or spec.block("update_strategy") or _EMPTY
    rolling = strategy.block("rolling_update") or _EMPTY
    cron = kind == "CronJob"
    containers = [_container(site, c, False) for c in pod.blocks_of("container")]
    containers += [_container(site, c, True) for c in pod.blocks_of("init_container")]
    claims = [_pvc(site, t, namespace) for t in spec.blocks_of("volume_claim_template")]
    written = {
        "replicas": spec.attrs.get("replicas"),
        "strategy": strategy.attrs.get("type"),
        "host_network": pod.attrs.get("host_network"),
        "host_pid": pod.attrs.get("host_pid"),
        "host_ipc": pod.attrs.get("host_ipc"),
    }
    lines = {name: attr.line for name, attr in written.items() if attr is not None}
    lines |= {f"volume:{ev.text(v.attr('name')) or ''}": v.line for v in pod.blocks_of("volume")}
    out.workloads.append(
        Workload(
            kind=kind,
            name=name,
            namespace=namespace,
            name_expr=name_expr,
            namespace_expr=namespace_expr,
            origin="terraform",
            resource_type=block.labels[0],
            address=".".join(block.labels),
            replicas=replicas,
            replicas_expr=replicas_e.raw if replicas_e is not None and replicas is None else None,
            strategy=ev.text(strategy.attr("type")),
            max_surge=ev.text(rolling.attr("max_surge")),
            max_unavailable=ev.text(rolling.attr("max_unavailable")),
            termination_grace_period=ev.integer(pod.attr("termination_grace_period_seconds")),
            schedule=ev.text(spec.attr("schedule")) if cron else None,
            suspend=ev.boolean(spec.attr("suspend")) if cron else None,
            host_network=ev.boolean(pod.attr("host_network")) or False,
            host_pid=ev.boolean(pod.attr("host_pid")) or False,
            host_ipc=ev.boolean(pod.attr("host_ipc")) or False,
            pod_security=_security(ev, pod.block("security_context")),
            service_account=ev.text(pod.attr("service_account_name") or pod.attr("service_account")),
            labels=ev.mapping(meta.attr("labels")),
            selector=ev.mapping((spec.block("selector") or _EMPTY).attr("match_labels")),
            containers=containers,
            volumes=[_volume(ev, v) for v in pod.blocks_of("volume")],
            volume_claim_templates=claims,
            source=site.ref(block),
            lines=lines,
        )
    )


def _identity(ev: Evaluator, expr: Expr | None, absent: str | None = None) -> tuple[str | None, str | None]:
    """(resolved value, the expression as written, quotes included: ``"web"``, ``var.name``)."""
    return (absent, None) if expr is None else (ev.string(expr), expr.raw)


def _container(site: Site, block: Block, init: bool) -> Container:
    ev = site.ev
    image = block.attrs.get("image")
    lifecycle = block.block("lifecycle") or _EMPTY
    ports = [ev.integer(p.attr("container_port")) for p in block.blocks_of("port")]
    return Container(
        name=ev.text(block.attr("name")) or "",
        image=as_written(image.value) if image is not None else None,
        image_resolved=ev.string(image.value) if image is not None else None,
        init=init,
        probes=[k for k in _PROBES if block.block(f"{k}_probe") is not None],
        resources=_resources(ev, block.block("resources")),
        security=_security(ev, block.block("security_context")),
        pre_stop=lifecycle.block("pre_stop") is not None,
        ports=[p for p in ports if p is not None],
        source=site.ref(block),
        image_line=image.line if image is not None else None,
        image_ref=_tag_set_by(site, image.value) if image is not None else None,
    )


def _tag_set_by(site: Site, expr: Expr) -> CodeRef | None:
    """Where the variable that holds the image's tag is set (``"app:${var.tag}"``, or ``var.image``
    whole): an image finding cites that line (a default ``"latest"``), not the image. Not a variable
    that holds the name (``"ghcr.io/acme/${var.name}"``): the tag, or its absence, is the image line's."""
    tag: object = expr
    if isinstance(expr, Template):
        parts = expr.parts
        if expr.directives or len(parts) < 2 or not (isinstance(parts[-2], str) and parts[-2].endswith(":")):
            return None
        tag = parts[-1]
    if isinstance(tag, Ref) and tag.root == "var" and len(tag.steps) == 1 and isinstance(tag.steps[0], str):
        return site.written_at(tag.steps[0])
    return None


def _quantities(ev: Evaluator, resources: Block, side: str) -> dict[str, str]:
    """``requests = { cpu = ... }`` (provider v2) or a legacy ``requests { cpu = ... }`` block."""
    expr = resources.attr(side)
    if expr is not None:
        return ev.mapping(expr)
    nested = resources.block(side)
    if nested is None:
        return {}
    return {k: t for k, a in nested.attrs.items() if (t := ev.text(a.value)) is not None}


def _resources(ev: Evaluator, block: Block | None) -> Resources:
    if block is None:
        return Resources()
    requests, limits = _quantities(ev, block, "requests"), _quantities(ev, block, "limits")
    return Resources(
        cpu_request=requests.get("cpu"),
        memory_request=requests.get("memory"),
        cpu_limit=limits.get("cpu"),
        memory_limit=limits.get("memory"),
    )


def _security(ev: Evaluator, block: Block | None) -> SecurityContext:
    if block is None:
        return SecurityContext()
    caps = block.block("capabilities") or _EMPTY
    written = {
        "privileged": block.attrs.get("privileged"),
        "allow_privilege_escalation": block.attrs.get("allow_privilege_escalation"),
        "run_as_non_root": block.attrs.get("run_as_non_root"),
        "run_as_user": block.attrs.get("run_as_user"),
        "capabilities_add": caps.attrs.get("add"),
    }
    return SecurityContext(
        lines={name: attr.line for name, attr in written.items() if attr is not None},
        privileged=ev.boolean(block.attr("privileged")),
        allow_privilege_escalation=ev.boolean(block.attr("allow_privilege_escalation")),
        run_as_non_root=ev.boolean(block.attr("run_as_non_root")),
        run_as_user=ev.integer(block.attr("run_as_user")),
        read_only_root_filesystem=ev.boolean(block.attr("read_only_root_filesystem")),
        capabilities_add=ev.strings(caps.attr("add")),
        capabilities_drop=ev.strings(caps.attr("drop")),
    )


def _volume(ev: Evaluator, block: Block) -> Volume:
    name = ev.text(block.attr("name")) or ""
    for sub, vtype in _VOLUME_TYPES.items():
        found = block.block(sub)
        if found is None:
            continue
        if vtype == "pvc":
            return Volume(name=name, type="pvc", claim_name=ev.text(found.attr("claim_name")))
        if vtype == "host_path":
            return Volume(name=name, type="host_path", host_path=ev.text(found.attr("path")))
        return Volume(name=name, type=vtype)
    return Volume(name=name, type="other")


def _pvc(site: Site, block: Block, namespace: str | None = None) -> PVC:
    """A ``kubernetes_persistent_volume_claim`` or a StatefulSet ``volume_claim_template``."""
    ev = site.ev
    meta = block.block("metadata") or _EMPTY
    spec = block.block("spec") or _EMPTY
    requests = _quantities(ev, spec.block("resources") or _EMPTY, "requests")
    ns_expr = meta.attr("namespace")
    return PVC(
        name=ev.string(meta.attr("name")),
        namespace=ev.string(ns_expr) if ns_expr is not None else namespace,
        access_modes=ev.strings(spec.attr("access_modes")),
        storage=requests.get("storage"),
        storage_class=ev.text(spec.attr("storage_class_name")),
        origin="terraform",
        source=site.ref(block),
    )


# ---------------------------------------------------------------------- other typed objects


def _common(site: Site, block: Block, namespaced: bool = True) -> dict[str, Any]:
    """The fields every object record has; a namespaced object without a namespace is in ``default``."""
    meta = block.block("metadata") or _EMPTY
    ns = meta.attr("namespace")
    namespace = None if not namespaced else "default" if ns is None else site.ev.string(ns)
    name = site.ev.string(meta.attr("name"))
    return {"name": name, "namespace": namespace, "origin": "terraform", "source": site.ref(block)}


def _namespace(site: Site, block: Block, out: Records) -> None:
    meta = block.block("metadata") or _EMPTY
    name, name_expr = _identity(site.ev, meta.attr("name"))
    labels, source = site.ev.mapping(meta.attr("labels")), site.ref(block)
    out.namespaces.append(
        NamespaceRecord(name=name, name_expr=name_expr, labels=labels, origin="terraform", source=source)
    )


def _pvc_resource(site: Site, block: Block, out: Records) -> None:
    out.pvcs.append(_pvc(site, block, "default"))


def _pdb(site: Site, block: Block, out: Records) -> None:
    ev, spec = site.ev, block.block("spec") or _EMPTY
    selector = ev.mapping((spec.block("selector") or _EMPTY).attr("match_labels"))
    low, high = ev.text(spec.attr("min_available")), ev.text(spec.attr("max_unavailable"))
    out.pdbs.append(PDB(**_common(site, block), selector=selector, min_available=low, max_unavailable=high))


def _hpa(site: Site, block: Block, out: Records) -> None:
    ev, spec = site.ev, block.block("spec") or _EMPTY
    target = spec.block("scale_target_ref") or _EMPTY
    out.hpas.append(
        HPA(
            **_common(site, block),
            target_kind=ev.text(target.attr("kind")),
            target_name=ev.string(target.attr("name")),
            min_replicas=ev.integer(spec.attr("min_replicas")),
            max_replicas=ev.integer(spec.attr("max_replicas")),
        )
    )


def _network_policy(site: Site, block: Block, out: Records) -> None:
    out.network_policies.append(NetworkPolicy(**_common(site, block)))


def _quota(site: Site, block: Block, out: Records) -> None:
    limits = _unversioned(block.labels[0]) == "kubernetes_limit_range"
    out.quotas.append(ResourceQuota(kind="LimitRange" if limits else "ResourceQuota", **_common(site, block)))


def _role(site: Site, block: Block, out: Records) -> None:
    ev, cluster = site.ev, "cluster" in block.labels[0]
    rules = [
        PolicyRule(
            api_groups=ev.strings(r.attr("api_groups")),
            resources=ev.strings(r.attr("resources")),
            verbs=ev.strings(r.attr("verbs")),
            line=r.line,
        )
        for r in block.blocks_of("rule")
    ]
    kind = "ClusterRole" if cluster else "Role"
    out.roles.append(RBACRole(kind=kind, rules=rules, **_common(site, block, namespaced=not cluster)))


def _binding(site: Site, block: Block, out: Records) -> None:
    ev, cluster = site.ev, "cluster" in block.labels[0]
    role_ref = block.block("role_ref") or _EMPTY
    subjects = [
        RBACSubject(
            kind=ev.text(s.attr("kind")) or "",
            name=ev.text(s.attr("name")) or "",
            namespace=ev.string(s.attr("namespace")),
        )
        for s in block.blocks_of("subject")
    ]
    out.bindings.append(
        RBACBinding(
            kind="ClusterRoleBinding" if cluster else "RoleBinding",
            role_kind=ev.text(role_ref.attr("kind")),
            role_name=ev.string(role_ref.attr("name")),
            subjects=subjects,
            **_common(site, block, namespaced=not cluster),
        )
    )


def _secret(site: Site, block: Block, out: Records) -> None:
    """Key names of ``data``/``binary_data`` object literals; values are never read."""
    keys: list[str] = []
    for attr in ("data", "binary_data"):
        expr = block.attr(attr)
        keys += [k for k, _ in expr.items if k not in keys] if isinstance(expr, ObjectExpr) else []
    out.secrets.append(SecretManifest(keys=keys, **_common(site, block)))


_MAPPERS: Final[dict[str, Callable[[Site, Block, Records], None]]] = {
    "kubernetes_namespace": _namespace,
    "kubernetes_persistent_volume_claim": _pvc_resource,
    "kubernetes_pod_disruption_budget": _pdb,
    "kubernetes_horizontal_pod_autoscaler": _hpa,
    "kubernetes_network_policy": _network_policy,
    "kubernetes_resource_quota": _quota,
    "kubernetes_limit_range": _quota,
    "kubernetes_role": _role,
    "kubernetes_cluster_role": _role,
    "kubernetes_role_binding": _binding,
    "kubernetes_cluster_role_binding": _binding,
    "kubernetes_secret": _secret,
}
