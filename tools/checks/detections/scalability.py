"""Detections of the scalability concern (see catalog.yaml for the metadata).

Container checks count regular containers only: init containers run before the pod starts and
are sized separately by the scheduler. Workloads come from ``common.workloads`` (code first, live
only when no code defines them). Node pressure, which reads the cluster, is in
``scalability_live``, imported here so that importing the concern registers every detector.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from domain.findings import Location
from tools.checks.detections import common, scalability_live
from tools.checks.detections.facts import SCALABLE_KINDS, has_pvc_volume, regular_containers, replicas
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.inventory import Inventory
from tools.inventory.models import Container, Workload

__all__ = ["scalability_live"]

# ------------------------------------------------------------------------------ container sizing


def _container_check(ctx: CheckContext, why: Callable[[Container], str | None]) -> Detection:
    """Count the regular containers for which ``why`` returns a reason; total = regular containers."""
    total = 0
    locations = []
    for workload in common.workloads(ctx.inventory):
        for container in regular_containers(workload):
            total += 1
            reason = why(container)
            if reason:
                locations.append(common.container_location(workload, container, reason))
    return Detection(count=len(locations), total=total, locations=locations)


def _missing_request(container: Container) -> str | None:
    """A limit set without its request is the request too (Kubernetes copies it when the pod is
    admitted), so only a resource with neither is missing its request."""
    r = container.resources
    missing = [
        kind
        for kind, request, limit in (
            ("CPU", r.cpu_request, r.cpu_limit),
            ("memory", r.memory_request, r.memory_limit),
        )
        if request is None and limit is None
    ]
    return f"no {' or '.join(missing)} request" if missing else None


@detector("SCA-NO-REQUESTS")
def no_requests(ctx: CheckContext) -> Detection:
    """Regular containers missing a CPU or a memory request (either one counts).
    total = regular containers."""
    return _container_check(ctx, _missing_request)


@detector("SCA-NO-MEM-LIMIT")
def no_memory_limit(ctx: CheckContext) -> Detection:
    """Regular containers without a memory limit. total = regular containers."""
    return _container_check(ctx, lambda c: None if c.resources.memory_limit else "no memory limit")


@detector("SCA-CPU-LIMIT")
def cpu_request_no_limit(ctx: CheckContext) -> Detection:
    """Regular containers with a CPU request and no CPU limit (a container with neither is
    SCA-NO-REQUESTS's finding). total = regular containers."""
    return _container_check(
        ctx,
        lambda c: (
            f"CPU request {c.resources.cpu_request}, no CPU limit"
            if c.resources.cpu_request and not c.resources.cpu_limit
            else None
        ),
    )


# --------------------------------------------------------------------------------- autoscaling


@detector("SCA-NO-HPA")
def no_hpa(ctx: CheckContext) -> Detection:
    """Deployments with 2 or more replicas, no pvc volume (stateless) and no HorizontalPodAutoscaler
    (code or live) in their namespace whose scaleTargetRef names them (kind Deployment, same name).
    Unset replicas (1) and unresolved expressions are not multi-replica. An HPA whose target kind
    did not resolve is taken to target a Deployment. total = stateless multi-replica Deployments."""
    inventory = ctx.inventory
    hpas = list(inventory.code.hpas) + (list(inventory.live.hpas) if inventory.live is not None else [])
    targeted = {(h.namespace, h.target_name) for h in hpas if h.target_kind in (None, "Deployment")}
    stateless = [
        w
        for w in common.workloads(inventory, ("Deployment",))
        if (replicas(w) or 0) >= 2 and not has_pvc_volume(w)
    ]
    locations = [
        common.location(w, f"{replicas(w)} fixed replicas, stateless, no HPA")
        for w in stateless
        if (w.namespace, w.name) not in targeted
    ]
    return Detection(count=len(locations), total=len(stateless), locations=locations)


def workload_namespaces(inventory: Inventory) -> dict[str, str]:
    """Namespaces that run pods -> the ref of the first thing found running there.

    A namespace runs pods when a workload (code, or live with no code) or a Helm release (code or
    live; a chart deploys workloads this inventory does not render) is in it. kube-system,
    kube-public and kube-node-lease are the cluster's own; unresolved namespaces are skipped.
    """
    holders: dict[str, str] = {}
    releases = list(inventory.code.helm_releases) + (
        list(inventory.live.helm_releases) if inventory.live is not None else []
    )
    found: list[tuple[str | None, str]] = [(w.namespace, str(w.source)) for w in common.workloads(inventory)]
    found += [(r.namespace, str(r.source)) for r in releases]
    for ns, where in found:
        if ns and ns not in common.SYSTEM_NAMESPACES:
            holders.setdefault(ns, where)
    return holders


@detector("SCA-NO-QUOTA")
def no_quota(ctx: CheckContext) -> Detection:
    """Workload namespaces (see ``workload_namespaces``) with neither a ResourceQuota nor a LimitRange
    (code or live). The ref is the namespace's definition (code first, then live), else the first
    workload or release found in it. total = workload namespaces."""
    inventory = ctx.inventory
    holders = workload_namespaces(inventory)
    quotas = list(inventory.code.quotas) + (list(inventory.live.quotas) if inventory.live is not None else [])
    limited = {q.namespace for q in quotas}
    namespaces = list(inventory.code.namespaces) + (
        list(inventory.live.namespaces) if inventory.live is not None else []
    )
    defined: dict[str, str] = {}
    for namespace in namespaces:
        if namespace.name:
            defined.setdefault(namespace.name, str(namespace.source))
    locations = [
        Location(
            ref=defined.get(ns, holders[ns]),
            subject=f"Namespace/{ns}",
            detail="no ResourceQuota or LimitRange",
        )
        for ns in sorted(holders)
        if ns not in limited
    ]
    return Detection(count=len(locations), total=len(holders), locations=locations)


# ------------------------------------------------------------------------- shared infrastructure

INFRA_ROLES: dict[str, tuple[str, ...]] = {
    "container registry": ("registry", "harbor", "zot", "distribution"),
    "proxy/load balancer": ("haproxy", "nginx-proxy", "envoy", "pgbouncer"),
    "database": ("mysql", "mariadb", "postgres", "postgresql", "redis", "valkey", "mongo", "dolt", "etcd"),
    "broker": ("rabbitmq", "nats", "kafka", "mosquitto"),
    "object storage": ("minio",),
}
_ROLE_PATTERNS = {
    role: re.compile(rf"(?<![a-z0-9])(?:{'|'.join(re.escape(w) for w in words)})(?![a-z0-9])")
    for role, words in INFRA_ROLES.items()
}
_NOT_THE_SERVICE = re.compile(r"(?<![a-z0-9])(?:exporter|operator)(?![a-z0-9])")
"""``postgres-exporter`` or ``mysql-operator`` serve the infrastructure, they are not it."""


def image_basename(image: str) -> str:
    """``docker.io/library/redis:7.4-alpine`` -> ``redis``; digests and tags dropped."""
    path = image.split("@", 1)[0]
    last = path.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def infra_role(workload: Workload) -> str | None:
    """The shared-infrastructure role the workload's name or main image names, e.g. 'database (mysql)'.

    The main image is the first regular container's: a sidecar (a Redis cache inside an app's pod,
    a metrics exporter) does not make the app shared infrastructure.
    """
    candidates = [(workload.name or "").lower()]
    main = regular_containers(workload)[:1]
    if main and (main[0].image_resolved or main[0].image):
        candidates.append(image_basename(main[0].image_resolved or main[0].image or ""))
    for text in candidates:
        if not text or _NOT_THE_SERVICE.search(text):
            continue
        for role, pattern in _ROLE_PATTERNS.items():
            m = pattern.search(text)
            if m:
                return f"{role} ({m.group(0)})"
    return None


@detector("SCA-SINGLETON-INFRA")
def singleton_infra(ctx: CheckContext) -> Detection:
    """Deployments and StatefulSets with one replica (or unset replicas; unresolved expressions are
    skipped) whose name or main image basename names shared infrastructure (registry, proxy/load
    balancer, database, broker, object storage), matched as whole words: ``redis`` matches
    ``redis`` and ``paperless-redis``, not ``redistribute``."""
    locations = []
    for workload in common.workloads(ctx.inventory, SCALABLE_KINDS):
        if replicas(workload) != 1:
            continue
        role = infra_role(workload)
        if role:
            locations.append(common.line_location(workload, ("replicas",), f"single instance of a {role}"))
    return Detection(count=len(locations), locations=locations)
