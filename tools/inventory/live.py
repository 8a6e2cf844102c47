"""A cluster (live or snapshot) as inventory: the shared records plus runtime state.

Definitions go through ``records_from_object``, the same mapper the repo's manifests use, so a
Deployment seen live and the one written in YAML or HCL become comparable records and can be linked.
Objects a controller owns (a Pod of a ReplicaSet, a ReplicaSet of a Deployment, a Job of a CronJob)
are runtime, not definitions: they become ``PodState``/``JobState`` (``live_runtime.py``) and a
``LiveObject``, but not a second ``Workload``, or every check would count each replica as its own workload.

The cluster is read one kind at a time: a kind's objects are decoded, mapped and dropped before the
next kind's list, so the decoded JSON of a big cluster is never held all at once (a 10k-pod snapshot
decoded whole took about 300 MiB beside its records). What a later kind needs of an earlier one is kept
small: a ReplicaSet's controller, the running pods' labels, the claims pods mount.

A type the credentials may not list (or whose list failed) becomes an ``UnreadResource``, not a
failure: the rest of the cluster is still worth auditing. So does a type the backend already knows
it lost (a snapshot's dump that did not load, or a type its writer could not read: ``backend.unread``).
``FIELD_KINDS`` tells which record lists each kind feeds, and ``lost_to`` which unread types a check
that read some of those lists depended on, so that check is marked incomplete instead of reporting
a clean 0.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from domain.unread import EVERY_KIND
from tools.inventory import live_health as health
from tools.inventory import live_runtime as runtime
from tools.inventory.inventory import LiveState, Records
from tools.inventory.k8s_objects import map_into
from tools.inventory.live_models import UnreadResource
from tools.inventory.live_runtime import RefFn, object_meta
from tools.inventory.models import LiveObject, LiveRef
from tools.inventory.sources import ParseIssue
from tools.kube.backend import KubeBackend, KubeObject, KubeQueryError
from tools.kube.resources import AUDIT_RESOURCES, ResourceTable, ResourceType

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


def _ref(cluster: str, obj: KubeObject) -> LiveRef:
    meta = object_meta(obj)
    return LiveRef(
        cluster=cluster,
        namespace=meta.get("namespace"),
        object_kind=str(obj.get("kind") or ""),
        name=str(meta.get("name") or ""),
    )


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


def managed_by(obj: KubeObject) -> str | None:
    """Who manages an object: the managed-by label, else Helm, Flux or Argo CD by their own marks."""
    meta = object_meta(obj)
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    if labels.get("app.kubernetes.io/managed-by"):
        return str(labels["app.kubernetes.io/managed-by"])
    if annotations.get("meta.helm.sh/release-name"):
        return "Helm"
    if any(k.startswith(("kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/")) for k in labels):
        return "flux"
    if labels.get("argocd.argoproj.io/instance") or annotations.get("argocd.argoproj.io/tracking-id"):
        return "argocd"
    if str(annotations.get(APPLIED_BY, "")).startswith("k3s.cattle.io/"):
        return "k3s"  # a k3s packaged component (coredns, traefik, ...), applied from its addon manifests
    return None


APPLIED_BY = "objectset.rio.cattle.io/owner-gvk"
"""The owner a wrangler apply controller records on what it applies: ``k3s.cattle.io/v1, Kind=Addon``
for k3s's packaged components, which k3s re-applies from its own manifests (a rebuilt cluster has them
again): managed, though no code of the estate defines them."""


def first_owner(obj: KubeObject) -> str | None:
    """The kind of an object's first ownerReference ("owner" when it names no kind), or None when
    nothing owns it. Read once at load, so DEC-LIVE-UNMANAGED does not list the workloads again."""
    refs = object_meta(obj).get("ownerReferences")
    if isinstance(refs, list) and refs and isinstance(refs[0], dict):
        return sys.intern(str(refs[0].get("kind") or "owner"))  # one string for every pod's ReplicaSet
    return None


Plan = dict[str, list[tuple[int, ResourceType]]]
"""The types to read, by kind; each with its place in ``AUDIT_RESOURCES`` (the order of its list and of
its ``UnreadResource`` if the list fails)."""

FIRST = ("ReplicaSet", "Pod", "EndpointSlice", "StorageClass")
"""Kinds read before the others, for what later kinds need of them: a pod's owner is its ReplicaSet's
controller, a Service counts the running pods and ready EndpointSlices it matches, and a claim the pods
that mount it and its class's binding mode."""

BY_KIND_HEALTH: dict[
    str, tuple[Callable[[dict[str, list[KubeObject]], RefFn], list[Any]], tuple[str, ...]]
] = {
    "routes": (health.routes, ("Ingress", "HTTPRoute", "IngressRoute")),
    "scaled_to_zero": (health.scaled_to_zero, ("Deployment", "StatefulSet")),
    "policy_status": (health.policies, ("ClusterPolicy", "Policy")),
    "apps": (health.apps, ("Application", "HelmRelease", "Kustomization")),
}
"""The health records built from more than one kind, and those kinds in the order their function reads
them: each kind's part is built while it is decoded, and the parts are joined in that order."""


def _plan(backend: KubeBackend, state: LiveState) -> Plan:
    """Every audited type the cluster serves. A type the backend already knows it lost is not listed."""
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
    plan: Plan = {}
    for index, name in enumerate(AUDIT_RESOURCES):
        rtype = table.resolve(name)
        if (rtype.group, rtype.plural) in served_keys and rtype.qualified not in known:
            plan.setdefault(rtype.kind, []).append((index, rtype))
    return plan


@dataclass
class _Mapped:
    """What a load keeps of the kinds it has read, once their objects are gone."""

    failed: list[tuple[int, UnreadResource]] = field(default_factory=list)
    objects: dict[str, list[LiveObject]] = field(default_factory=dict)
    records: dict[str, Records] = field(default_factory=dict)
    state: dict[str, list[Any]] = field(default_factory=dict)  # LiveState's other lists, by field
    parts: dict[tuple[str, str], list[Any]] = field(default_factory=dict)  # of BY_KIND_HEALTH, by kind
    owners: runtime.Owners = field(default_factory=dict)
    running: health.Running = field(default_factory=dict)
    claimed: set[tuple[str, str]] = field(default_factory=set)
    endpoints: dict[tuple[str, str], int] | None = None
    classes: health.BindingModes = ({}, None)  # no StorageClass read: no mode known, no default


def _read(backend: KubeBackend, types: list[tuple[int, ResourceType]], mapped: _Mapped) -> list[KubeObject]:
    """The objects of one kind; a type whose list is refused or fails is noted in ``mapped.failed``."""
    objects: list[KubeObject] = []
    for index, rtype in types:
        try:
            objects.extend(backend.list_objects(rtype))
        except KubeQueryError as exc:
            mapped.failed.append(
                (index, UnreadResource(resource=rtype.qualified, kind=rtype.kind, reason=exc.message))
            )
    return objects


def load_live_state(backend: KubeBackend) -> LiveState:
    """Read every audited type once and map it into records and runtime state, one kind at a time: a
    kind's objects are decoded, mapped and let go before the next kind is read, so a big cluster's
    objects are never all held at once (issue 13). The lists come out in the order of the kinds' names."""
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
    plan = _plan(backend, state)
    mapped = _Mapped()
    for kind in [k for k in FIRST if k in plan] + sorted(k for k in plan if k not in FIRST):
        objects = _read(backend, plan[kind], mapped)
        _map_kind(backend, kind, objects, _refs(info.name), mapped)
        del objects
    state.unread.extend(u for _, u in sorted(mapped.failed, key=lambda f: f[0]))
    for kind in sorted(plan):
        state.objects.extend(mapped.objects[kind])
        for name in Records.model_fields:
            getattr(state, name).extend(getattr(mapped.records[kind], name))
    for name, values in mapped.state.items():
        setattr(state, name, values)
    for name, (_, kinds) in BY_KIND_HEALTH.items():
        setattr(state, name, [x for kind in kinds for x in mapped.parts.get((name, kind), [])])
    state.load_balancers = [s for s in state.services if s.type == "LoadBalancer"]
    return state


def _map_kind(
    backend: KubeBackend, kind: str, objects: list[KubeObject], ref: RefFn, mapped: _Mapped
) -> None:
    """Map the objects of one kind: its ``LiveObject``s and records, its runtime and health records, and
    what a later kind needs of it."""
    live_objects = mapped.objects.setdefault(kind, [])
    records = mapped.records.setdefault(kind, Records())
    for obj in objects:
        if kind != "Event":
            live_objects.append(
                LiveObject(
                    api_version=str(obj.get("apiVersion")),
                    kind=kind,
                    namespace=object_meta(obj).get("namespace"),
                    name=str(object_meta(obj).get("name")),
                    managed_by=managed_by(obj),
                    owner=first_owner(obj),
                    source=ref(obj),
                )
            )
        if kind == "Event" or (kind in RUNTIME_CHILDREN and runtime.controller(obj) is not None):
            continue
        map_into(obj, ref(obj), "live", records)
    made: dict[str, list[Any]] = {}  # this kind's lists of the LiveState
    for name, (build, kinds) in BY_KIND_HEALTH.items():
        if kind in kinds:
            mapped.parts[(name, kind)] = made[name] = build({kind: objects}, ref)
    if kind == "ReplicaSet":
        mapped.owners.update(runtime.owners(objects))
    elif kind == "Pod":
        made["pods"] = [runtime.pod_state(ref, p, mapped.owners) for p in objects]
        health.running_labels(objects, mapped.running)
        mapped.claimed = health.claim_consumers(objects)
    elif kind == "EndpointSlice":
        mapped.endpoints = health.ready_endpoints(objects)
    elif kind == "StorageClass":
        mapped.classes = health.binding_modes(objects)
    elif kind == "Node":
        usage = _usage(backend) if objects else {}
        made["nodes"] = [runtime.node_state(ref, n, usage) for n in objects]
    elif kind == "Job":
        made["jobs"] = [runtime.job_state(ref, j) for j in objects]
    elif kind == "CronJob":
        made["cronjobs"] = [runtime.cronjob_state(ref, c) for c in objects]
    elif kind == "Event":
        made["events"] = [runtime.event(ref, e) for e in objects]
    elif kind == "Service":
        made["services"] = health.services(objects, mapped.running, mapped.endpoints, ref)
    elif kind == "PersistentVolumeClaim":
        made["claims"] = health.claims(objects, mapped.claimed, mapped.classes, ref)
    elif kind == "Certificate":
        made["certificates"] = health.certificates(objects, ref)
    elif kind == "HorizontalPodAutoscaler":
        made["hpa_status"] = health.hpas(objects, ref)
    elif kind == "PodDisruptionBudget":
        made["pdb_status"] = health.pdbs(objects, ref)
    mapped.state.update((name, values) for name, values in made.items() if name not in BY_KIND_HEALTH)


def _usage(backend: KubeBackend) -> dict[str, dict[str, Any]]:
    """Each node's usage from metrics-server; none without it (allocatable is still known)."""
    try:
        return {str(object_meta(m).get("name")): m.get("usage") or {} for m in backend.metrics("nodes")}
    except KubeQueryError:
        return {}
