"""A cluster (live or snapshot) as inventory: the shared records plus runtime state.

Definitions go through ``records_from_object``, the same mapper the repo's manifests use, so a
Deployment seen live and the one written in YAML or HCL become comparable records and can be linked.
Objects a controller owns (a Pod of a ReplicaSet, a ReplicaSet of a Deployment, a Job of a CronJob)
are runtime, not definitions: they become ``PodState``/``JobState`` and a ``LiveObject``, but not a
second ``Workload``, or every check would count each replica as its own workload.

Pods name their real owner: a ReplicaSet's Deployment (through the ReplicaSet when it was read,
else by stripping the pod-template-hash suffix), so "which Deployment is crash-looping" is one lookup.
A type the credentials may not list (or whose list failed) becomes an ``UnreadResource``, not a
failure: the rest of the cluster is still worth auditing. So does a type the backend already knows
it lost (a snapshot's dump that did not load, or a type its writer could not read: ``backend.unread``).
``FIELD_KINDS`` tells which record lists each kind feeds, and ``lost_to`` which unread types a check
that read some of those lists depended on, so that check is marked incomplete instead of reporting
a clean 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from domain.unread import EVERY_KIND
from tools.inventory import live_health as health
from tools.inventory.inventory import LiveState, Records
from tools.inventory.k8s_objects import records_from_object
from tools.inventory.live_models import UnreadResource
from tools.inventory.models import (
    ContainerStatus,
    CronJobState,
    EventRecord,
    JobState,
    LiveObject,
    LiveRef,
    NodeState,
    PodState,
)
from tools.inventory.sources import ParseIssue
from tools.kube.backend import KubeBackend, KubeObject, KubeQueryError
from tools.kube.printers import node_ready, node_roles
from tools.kube.quantity import cpu_millicores, memory_bytes
from tools.kube.resources import AUDIT_RESOURCES, ResourceTable
from tools.kube.selectors import lookup

RUNTIME_CHILDREN = {"Pod", "ReplicaSet", "Job"}
FIELD_KINDS: dict[str, frozenset[str]] = {
    "pods": frozenset({"Pod"}),
    "nodes": frozenset({"Node"}),
    "jobs": frozenset({"Job"}),
    "cronjobs": frozenset({"CronJob"}),
    "events": frozenset({"Event"}),
    "workloads": frozenset({"Deployment", "StatefulSet", "DaemonSet", "CronJob"}),
    "pvcs": frozenset({"PersistentVolumeClaim"}),
    "namespaces": frozenset({"Namespace"}),
    "pdbs": frozenset({"PodDisruptionBudget"}),
    "hpas": frozenset({"HorizontalPodAutoscaler"}),
    "network_policies": frozenset(
        {
            "NetworkPolicy",
            "CiliumNetworkPolicy",
            "CiliumClusterwideNetworkPolicy",
            "GlobalNetworkPolicy",
            "AdminNetworkPolicy",
            "BaselineAdminNetworkPolicy",
        }
    ),
    "quotas": frozenset({"ResourceQuota", "LimitRange"}),
    "roles": frozenset({"Role", "ClusterRole"}),
    "bindings": frozenset({"RoleBinding", "ClusterRoleBinding"}),
    "secrets": frozenset({"Secret"}),
    "alert_rules": frozenset({"PrometheusRule"}),
    "policies": frozenset(
        {
            "ClusterPolicy",
            "Policy",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "ImageValidatingPolicy",
            "ClusterImagePolicy",
        }
    ),
    "helm_releases": frozenset({"HelmRelease", "Application"}),  # an Argo CD app of a Helm chart
    "flux_kustomizations": frozenset({"Kustomization"}),
    "flux_sources": frozenset({"GitRepository", "HelmRepository", "OCIRepository"}),
    "argo_apps": frozenset({"Application"}),
    "backup_schedules": frozenset({"Schedule"}),  # Velero's
    # cluster health (live_health.py): lists only a cluster has
    "services": frozenset({"Service", "EndpointSlice", "Pod"}),
    "load_balancers": frozenset({"Service"}),
    "routes": frozenset({"Ingress", "HTTPRoute", "IngressRoute"}),
    "certificates": frozenset({"Certificate"}),
    "hpa_status": frozenset({"HorizontalPodAutoscaler"}),
    "pdb_status": frozenset({"PodDisruptionBudget"}),
    "claims": frozenset({"PersistentVolumeClaim", "Pod", "StorageClass"}),
    "policy_status": frozenset({"ClusterPolicy", "Policy"}),
    "apps": frozenset({"Application", "HelmRelease", "Kustomization"}),
    "scaled_to_zero": frozenset({"Deployment", "StatefulSet"}),
}
"""Which kinds feed each record list of a ``LiveState`` that checks read; ``objects`` is fed by every
kind but the runtime children. A check that read a list fed by an unread kind has an incomplete
answer. tests/integration/test_kube_live_partial.py holds this table to what ``records_from_object``
really maps. Pods, ReplicaSets and Jobs are runtime children: a controller-less one also lands in
``workloads`` (and every one in ``objects``), but checks take workloads through
``detections.common.workloads``, which drops them, and read them as ``pods`` and ``jobs``; so losing
them marks only the checks that read those."""


def lost_to(read: set[str], unread: Iterable[UnreadResource]) -> list[UnreadResource]:
    """The unread types behind the ``LiveState`` attributes a check read (``read``): a kind feeding one
    of its lists, any kind but a runtime child's when it read ``objects``, ``EVERY_KIND`` for any list."""
    lists = read & (FIELD_KINDS.keys() | {"objects"})
    if not lists:
        return []
    kinds = frozenset().union(*(FIELD_KINDS.get(name, frozenset()) for name in lists))
    every = "objects" in lists
    return [
        u
        for u in unread
        if u.kind == EVERY_KIND or u.kind in kinds or (every and u.kind not in RUNTIME_CHILDREN | {"Event"})
    ]


_HASH_SUFFIX = re.compile(r"^(?P<base>.+)-[a-z0-9]{5,10}$")


def _meta(obj: KubeObject) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _ref(cluster: str, obj: KubeObject) -> LiveRef:
    meta = _meta(obj)
    return LiveRef(
        cluster=cluster,
        namespace=meta.get("namespace"),
        object_kind=str(obj.get("kind") or ""),
        name=str(meta.get("name") or ""),
    )


RefFn = Callable[[KubeObject], LiveRef]


def _refs(cluster: str) -> RefFn:
    """``_ref`` once per object of one load: its LiveObject, its records and its runtime state share
    one (a LiveRef is about 800 bytes: 70k of them at 10k pods, half of them copies). The objects
    are alive for the whole load, so their ids are theirs."""
    made: dict[int, tuple[KubeObject, LiveRef]] = {}

    def ref(obj: KubeObject) -> LiveRef:
        found = made.get(id(obj))
        if found is None:
            found = made[id(obj)] = (obj, _ref(cluster, obj))  # the object kept: its id stays its own
        return found[1]

    return ref


def _controller(obj: KubeObject) -> tuple[str, str] | None:
    refs = [r for r in _meta(obj).get("ownerReferences") or [] if isinstance(r, dict)]
    chosen = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (str(chosen.get("kind")), str(chosen.get("name"))) if chosen else None


def managed_by(obj: KubeObject) -> str | None:
    """Who manages an object: the managed-by label, else Helm, Flux or Argo CD by their own marks."""
    meta = _meta(obj)
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    if labels.get("app.kubernetes.io/managed-by"):
        return str(labels["app.kubernetes.io/managed-by"])
    if annotations.get("meta.helm.sh/release-name"):
        return "Helm"
    if any(k.startswith(("kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/")) for k in labels):
        return "flux"
    if labels.get("argocd.argoproj.io/instance") or annotations.get("argocd.argoproj.io/tracking-id"):
        return "argocd"
    return None


def pod_owner(pod: KubeObject, replicasets: dict[tuple[str, str], KubeObject]) -> tuple[str, str] | None:
    """The pod's controller, a ReplicaSet resolved to its Deployment."""
    owner = _controller(pod)
    if owner is None or owner[0] != "ReplicaSet":
        return owner
    namespace = str(_meta(pod).get("namespace") or "")
    rs = replicasets.get((namespace, owner[1]))
    if rs is not None:
        parent = _controller(rs)
        return parent if parent is not None else owner
    template_hash = (_meta(pod).get("labels") or {}).get("pod-template-hash")
    if template_hash and owner[1].endswith(f"-{template_hash}"):
        return ("Deployment", owner[1][: -len(template_hash) - 1])
    m = _HASH_SUFFIX.match(owner[1])
    return ("Deployment", m.group("base")) if m else owner


def _pod_state(ref: RefFn, pod: KubeObject, replicasets: dict[tuple[str, str], KubeObject]) -> PodState:
    meta = _meta(pod)
    owner = pod_owner(pod, replicasets)
    containers = [
        ContainerStatus(
            name=str(s.get("name")),
            ready=bool(s.get("ready")),
            restart_count=int(s.get("restartCount") or 0),
            waiting_reason=lookup(s, "state.waiting.reason"),
            waiting_message=lookup(s, "state.waiting.message"),
            image=lookup(s, "image"),
            last_terminated_reason=lookup(s, "lastState.terminated.reason"),
        )
        for s in lookup(pod, "status.containerStatuses") or []
        if isinstance(s, dict)
    ]
    return PodState(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace") or ""),
        phase=lookup(pod, "status.phase"),
        node=lookup(pod, "spec.nodeName"),
        owner_kind=owner[0] if owner else None,
        owner_name=owner[1] if owner else None,
        containers=containers,
        unschedulable=_unschedulable(pod),
        source=ref(pod),
    )


def _unschedulable(pod: KubeObject) -> str | None:
    """The scheduler's message of a pod it could not place (PodScheduled False), else None."""
    for cond in lookup(pod, "status.conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return str(cond.get("message") or cond.get("reason") or "unschedulable")
    return None


def _pressure(node: KubeObject) -> list[str]:
    return sorted(
        str(c.get("type"))
        for c in lookup(node, "status.conditions") or []
        if isinstance(c, dict) and c.get("type") != "Ready" and c.get("status") == "True"
    )


def _node_state(ref: RefFn, node: KubeObject, usage: dict[str, dict[str, Any]]) -> NodeState:
    name = str(_meta(node).get("name"))
    used = usage.get(name) or {}
    return NodeState(
        name=name,
        roles=node_roles(node),
        ready=node_ready(node),
        cpu_allocatable_m=cpu_millicores(lookup(node, "status.allocatable.cpu")),
        memory_allocatable_b=memory_bytes(lookup(node, "status.allocatable.memory")),
        cpu_usage_m=cpu_millicores(used.get("cpu")),
        memory_usage_b=memory_bytes(used.get("memory")),
        kubelet_version=lookup(node, "status.nodeInfo.kubeletVersion"),
        kube_proxy_version=lookup(node, "status.nodeInfo.kubeProxyVersion") or None,
        container_runtime=lookup(node, "status.nodeInfo.containerRuntimeVersion"),
        pressure=_pressure(node),
        source=ref(node),
    )


def _job_state(ref: RefFn, job: KubeObject) -> JobState:
    meta = _meta(job)
    owner = _controller(job)
    return JobState(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace") or ""),
        owner_cronjob=owner[1] if owner and owner[0] == "CronJob" else None,
        succeeded=int(lookup(job, "status.succeeded") or 0),
        failed=int(lookup(job, "status.failed") or 0),
        completion_time=lookup(job, "status.completionTime"),
        source=ref(job),
    )


def _cronjob_state(ref: RefFn, cj: KubeObject) -> CronJobState:
    meta = _meta(cj)
    return CronJobState(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace") or ""),
        schedule=lookup(cj, "spec.schedule"),
        suspend=bool(lookup(cj, "spec.suspend")),
        last_schedule_time=lookup(cj, "status.lastScheduleTime"),
        last_successful_time=lookup(cj, "status.lastSuccessfulTime"),
        source=ref(cj),
    )


def _event(ref: RefFn, ev: KubeObject) -> EventRecord:
    return EventRecord(
        namespace=_meta(ev).get("namespace"),
        type=ev.get("type"),
        reason=ev.get("reason"),
        object_kind=lookup(ev, "involvedObject.kind"),
        object_name=lookup(ev, "involvedObject.name"),
        message=ev.get("message"),
        count=int(ev.get("count") or 1),
        source=ref(ev),
    )


def _fetch(backend: KubeBackend, state: LiveState) -> dict[str, list[KubeObject]]:
    """Every audited type the cluster serves, by kind. A type the backend already knows it lost is not
    listed; one whose list is refused or fails joins it in ``state.unread``."""
    state.unread.extend(backend.unread)
    known = {u.resource for u in state.unread}
    try:
        served = backend.api_resources()
    except KubeQueryError as exc:
        state.unread.append(
            UnreadResource(
                resource="every resource", kind=EVERY_KIND, reason=f"discovery failed: {exc.message}"
            )
        )
        served = []
    table = ResourceTable(served)
    served_keys = {(t.group, t.plural) for t in served}
    by_kind: dict[str, list[KubeObject]] = {}
    for name in AUDIT_RESOURCES:
        rtype = table.resolve(name)
        if (rtype.group, rtype.plural) not in served_keys or rtype.qualified in known:
            continue
        try:
            by_kind.setdefault(rtype.kind, []).extend(backend.list_objects(rtype))
        except KubeQueryError as exc:
            state.unread.append(UnreadResource(resource=rtype.qualified, kind=rtype.kind, reason=exc.message))
    return by_kind


def load_live_state(backend: KubeBackend) -> LiveState:
    """Read every audited type once and map it into records and runtime state."""
    info = backend.info
    state = LiveState(cluster=info)
    state.issues.extend(backend.issues)
    for warning in backend.warnings:
        where, _, message = warning.partition(": ")
        state.issues.append(
            ParseIssue(
                path=where if message else f"cluster:{info.name}", message=message or where, reason="note"
            )
        )
    by_kind = _fetch(backend, state)
    ref = _refs(info.name)
    records = Records()
    for kind, objects in sorted(by_kind.items()):
        for obj in objects:
            if kind != "Event":
                state.objects.append(
                    LiveObject(
                        api_version=str(obj.get("apiVersion")),
                        kind=kind,
                        namespace=_meta(obj).get("namespace"),
                        name=str(_meta(obj).get("name")),
                        managed_by=managed_by(obj),
                        source=ref(obj),
                    )
                )
            if kind == "Event" or (kind in RUNTIME_CHILDREN and _controller(obj) is not None):
                continue
            records.extend(records_from_object(obj, ref(obj), origin="live"))
    for field in Records.model_fields:
        getattr(state, field).extend(getattr(records, field))
    replicasets = {
        (str(_meta(rs).get("namespace") or ""), str(_meta(rs).get("name"))): rs
        for rs in by_kind.get("ReplicaSet", [])
    }
    state.pods = [_pod_state(ref, p, replicasets) for p in by_kind.get("Pod", [])]
    usage: dict[str, dict[str, Any]] = {}
    if by_kind.get("Node"):
        try:
            usage = {str(_meta(m).get("name")): m.get("usage") or {} for m in backend.metrics("nodes")}
        except KubeQueryError:
            usage = {}  # no metrics-server: usage stays None, allocatable is still known
    state.nodes = [_node_state(ref, n, usage) for n in by_kind.get("Node", [])]
    state.jobs = [_job_state(ref, j) for j in by_kind.get("Job", [])]
    state.cronjobs = [_cronjob_state(ref, c) for c in by_kind.get("CronJob", [])]
    state.events = [_event(ref, e) for e in by_kind.get("Event", [])]
    _health(state, by_kind, ref)
    return state


def _health(state: LiveState, by_kind: dict[str, list[KubeObject]], ref: RefFn) -> None:
    """The cluster-health records (``live_health.py``) of what was read; no further request. A kind
    is a key of ``by_kind`` exactly when its list was read (even if empty)."""
    slices = by_kind.get("EndpointSlice") if "EndpointSlice" in by_kind else None
    state.services = health.services(by_kind.get("Service", []), by_kind.get("Pod", []), slices, ref)
    state.load_balancers = [s for s in state.services if s.type == "LoadBalancer"]
    state.routes = health.routes(by_kind, ref)
    state.certificates = health.certificates(by_kind.get("Certificate", []), ref)
    state.hpa_status = health.hpas(by_kind.get("HorizontalPodAutoscaler", []), ref)
    state.pdb_status = health.pdbs(by_kind.get("PodDisruptionBudget", []), ref)
    state.claims = health.claims(
        by_kind.get("PersistentVolumeClaim", []), by_kind.get("Pod", []), by_kind.get("StorageClass", []), ref
    )
    state.scaled_to_zero = health.scaled_to_zero(by_kind, ref)
    state.policy_status = health.policies(by_kind, ref)
    state.apps = health.apps(by_kind, ref)
