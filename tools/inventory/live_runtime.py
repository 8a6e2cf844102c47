"""The runtime state of a cluster's objects: pods, nodes, jobs, cron jobs and events (``live.py`` maps
each type's objects through these while that type is decoded, then lets the objects go).

A pod names its real owner: a ReplicaSet's Deployment (through the ReplicaSet when it was read, else
by stripping the pod-template-hash suffix), so "which Deployment is crash-looping" is one lookup. The
ReplicaSets are read first and kept only as their controllers (``Owners``), not as objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tools.inventory.models import (
    ContainerStatus,
    CronJobState,
    EventRecord,
    JobState,
    LiveRef,
    NodeState,
    PodState,
)
from tools.kube.backend import KubeObject
from tools.kube.printers import node_ready, node_roles
from tools.kube.quantity import cpu_millicores, memory_bytes
from tools.kube.selectors import lookup

RefFn = Callable[[KubeObject], LiveRef]
Controller = tuple[str, str]
Owners = dict[tuple[str, str], Controller | None]
"""Each ReplicaSet read, by (namespace, name): its controller (kind, name), or None without one."""

_HASH_SUFFIX = re.compile(r"^(?P<base>.+)-[a-z0-9]{5,10}$")


def object_meta(obj: KubeObject) -> dict[str, Any]:
    found = obj.get("metadata")
    return found if isinstance(found, dict) else {}


def controller(obj: KubeObject) -> Controller | None:
    refs = [r for r in object_meta(obj).get("ownerReferences") or [] if isinstance(r, dict)]
    chosen = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (str(chosen.get("kind")), str(chosen.get("name"))) if chosen else None


def owners(replicasets: list[KubeObject]) -> Owners:
    return {
        (str(object_meta(rs).get("namespace") or ""), str(object_meta(rs).get("name"))): controller(rs)
        for rs in replicasets
    }


def pod_owner(pod: KubeObject, replicasets: Owners) -> Controller | None:
    """The pod's controller, a ReplicaSet resolved to its Deployment (``replicasets``: ``owners``)."""
    owner = controller(pod)
    if owner is None or owner[0] != "ReplicaSet":
        return owner
    namespace = str(object_meta(pod).get("namespace") or "")
    key = (namespace, owner[1])
    if key in replicasets:
        parent = replicasets[key]
        return parent if parent is not None else owner
    template_hash = (object_meta(pod).get("labels") or {}).get("pod-template-hash")
    if template_hash and owner[1].endswith(f"-{template_hash}"):
        return ("Deployment", owner[1][: -len(template_hash) - 1])
    m = _HASH_SUFFIX.match(owner[1])
    return ("Deployment", m.group("base")) if m else owner


def pod_state(ref: RefFn, pod: KubeObject, replicasets: Owners) -> PodState:
    meta = object_meta(pod)
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
        unschedulable=unschedulable(pod),
        source=ref(pod),
    )


def unschedulable(pod: KubeObject) -> str | None:
    """The scheduler's message of a pod it could not place (PodScheduled False), else None."""
    for cond in lookup(pod, "status.conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return str(cond.get("message") or cond.get("reason") or "unschedulable")
    return None


def pressure(node: KubeObject) -> list[str]:
    return sorted(
        str(c.get("type"))
        for c in lookup(node, "status.conditions") or []
        if isinstance(c, dict) and c.get("type") != "Ready" and c.get("status") == "True"
    )


def node_state(ref: RefFn, node: KubeObject, usage: dict[str, dict[str, Any]]) -> NodeState:
    name = str(object_meta(node).get("name"))
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
        pressure=pressure(node),
        source=ref(node),
    )


def job_state(ref: RefFn, job: KubeObject) -> JobState:
    meta = object_meta(job)
    owner = controller(job)
    return JobState(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace") or ""),
        owner_cronjob=owner[1] if owner and owner[0] == "CronJob" else None,
        succeeded=int(lookup(job, "status.succeeded") or 0),
        failed=int(lookup(job, "status.failed") or 0),
        completion_time=lookup(job, "status.completionTime"),
        source=ref(job),
    )


def cronjob_state(ref: RefFn, cj: KubeObject) -> CronJobState:
    meta = object_meta(cj)
    return CronJobState(
        name=str(meta.get("name")),
        namespace=str(meta.get("namespace") or ""),
        schedule=lookup(cj, "spec.schedule"),
        suspend=bool(lookup(cj, "spec.suspend")),
        last_schedule_time=lookup(cj, "status.lastScheduleTime"),
        last_successful_time=lookup(cj, "status.lastSuccessfulTime"),
        source=ref(cj),
    )


def event(ref: RefFn, ev: KubeObject) -> EventRecord:
    return EventRecord(
        namespace=object_meta(ev).get("namespace"),
        type=ev.get("type"),
        reason=ev.get("reason"),
        object_kind=lookup(ev, "involvedObject.kind"),
        object_name=lookup(ev, "involvedObject.name"),
        message=ev.get("message"),
        count=int(ev.get("count") or 1),
        source=ref(ev),
    )
