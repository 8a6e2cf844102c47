"""Build the cluster-health records of ``live_health_models.py`` from the objects an audit read.

Everything here reads what the API already returned (``by_kind``: every audited type, by kind); it
asks the cluster nothing more. A Service's endpoints are the ready addresses of its EndpointSlices
(``kubernetes.io/service-name`` label; an endpoint without a ``ready`` condition counts as ready, as
kube-proxy does); when no EndpointSlice type was read at all the count is unknown (None), never 0.
A Service's matching pods are the live pods (not Succeeded/Failed) of its namespace whose labels
contain its whole selector.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from tools.inventory.live_health_models import (
    AppState,
    CertificateState,
    ClaimState,
    HpaState,
    PdbState,
    PolicyState,
    RouteBackend,
    ScaledToZero,
    ServiceState,
)
from tools.inventory.live_runtime import object_meta
from tools.inventory.models import LiveRef
from tools.kube.backend import KubeObject
from tools.kube.selectors import lookup

DONE_PHASES = frozenset({"Succeeded", "Failed"})
ON_PURPOSE_PREFIXES = ("infra-audit.io/", "downscaler/", "autoscaling.keda.sh/paused")
"""Annotation keys that mark a scale to zero as deliberate: ours (``infra-audit.io/scaled-to-zero:
reason``), kube-downscaler's schedules and exclusions, KEDA's paused replicas."""
_TRAEFIK_HOST = re.compile(r"Host(?:SNI)?\(([^)]*)\)")
_QUOTED = re.compile(r"`([^`]+)`|\"([^\"]+)\"")

Ref = Callable[[KubeObject], LiveRef]


def _ns(obj: KubeObject) -> str:
    return str(object_meta(obj).get("namespace") or "")


def _name(obj: KubeObject) -> str:
    return str(object_meta(obj).get("name") or "")


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _condition(obj: KubeObject, kind: str) -> dict[str, Any] | None:
    for cond in lookup(obj, "status.conditions") or []:
        if isinstance(cond, dict) and cond.get("type") == kind:
            return cond
    return None


def _status_bool(cond: dict[str, Any] | None) -> bool | None:
    if cond is None:
        return None
    return {"True": True, "False": False}.get(str(cond.get("status")))


def ready_endpoints(slices: list[KubeObject]) -> dict[tuple[str, str], int]:
    """Ready endpoint addresses per (namespace, service name)."""
    out: dict[tuple[str, str], int] = {}
    for eps in slices:
        service = (object_meta(eps).get("labels") or {}).get("kubernetes.io/service-name")
        if not service:
            continue
        key = (_ns(eps), str(service))
        count = out.setdefault(key, 0)
        for endpoint in eps.get("endpoints") or []:
            if not isinstance(endpoint, dict):
                continue
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            count += len(endpoint.get("addresses") or []) or 1
        out[key] = count
    return out


def _matches(selector: dict[str, str], labels: dict[str, Any]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


BindingModes = tuple[dict[str, str], str | None]  # each class's volumeBindingMode, the default class
Running = dict[str, list[dict[str, Any]]]
"""The labels of the live pods (not Succeeded/Failed), by namespace: what a Service's selector matches."""


def running_labels(pods: list[KubeObject], into: Running) -> None:
    """Add the labels of ``pods`` that still run to ``into`` (pods are read once, then let go)."""
    for pod in pods:
        if lookup(pod, "status.phase") in DONE_PHASES:
            continue
        into.setdefault(_ns(pod), []).append(object_meta(pod).get("labels") or {})


def services(
    objects: list[KubeObject], running: Running, endpoints: dict[tuple[str, str], int] | None, ref: Ref
) -> list[ServiceState]:
    """Every Service with its ready endpoints (``ready_endpoints`` of the slices; None if no EndpointSlice
    type was read) and its matching pods (``running``)."""
    out = []
    for svc in objects:
        selector = {str(k): str(v) for k, v in (lookup(svc, "spec.selector") or {}).items()}
        namespace = _ns(svc)
        lb = [
            str(i.get("ip") or i.get("hostname"))
            for i in lookup(svc, "status.loadBalancer.ingress") or []
            if isinstance(i, dict) and (i.get("ip") or i.get("hostname"))
        ]
        out.append(
            ServiceState(
                name=_name(svc),
                namespace=namespace,
                type=str(lookup(svc, "spec.type") or "ClusterIP"),
                selector=selector,
                external_name=lookup(svc, "spec.externalName"),
                load_balancer_addresses=lb,
                ready_endpoints=None if endpoints is None else endpoints.get((namespace, _name(svc)), 0),
                matching_pods=sum(1 for labels in running.get(namespace, []) if _matches(selector, labels))
                if selector
                else 0,
                source=ref(svc),
            )
        )
    return out


def _backend(
    obj: KubeObject, ref: Ref, kind: str, hosts: list[str], service: str, service_namespace: str
) -> RouteBackend:
    """One backend Service of the route ``obj`` (named, namespaced and sourced by the route)."""
    return RouteBackend(
        route_kind=kind,
        route_name=_name(obj),
        namespace=_ns(obj),
        hosts=hosts,
        service=service,
        service_namespace=service_namespace,
        source=ref(obj),
    )


def _ingress_backends(obj: KubeObject, ref: Ref) -> list[RouteBackend]:
    out = []
    namespace = _ns(obj)
    default = lookup(obj, "spec.defaultBackend.service.name")
    if default:
        out.append(_backend(obj, ref, "Ingress", [], str(default), namespace))
    for rule in lookup(obj, "spec.rules") or []:
        if not isinstance(rule, dict):
            continue
        hosts = [str(rule["host"])] if rule.get("host") else []
        for path in lookup(rule, "http.paths") or []:
            service = lookup(path, "backend.service.name") if isinstance(path, dict) else None
            if service:
                out.append(_backend(obj, ref, "Ingress", hosts, str(service), namespace))
    return out


def _httproute_backends(obj: KubeObject, ref: Ref) -> list[RouteBackend]:
    namespace = _ns(obj)
    hosts = [str(h) for h in lookup(obj, "spec.hostnames") or []]
    out = []
    for rule in lookup(obj, "spec.rules") or []:
        for backend in (rule.get("backendRefs") or []) if isinstance(rule, dict) else []:
            if not isinstance(backend, dict) or backend.get("kind", "Service") != "Service":
                continue
            if backend.get("group", "") not in ("", "core"):
                continue
            out.append(
                _backend(
                    obj,
                    ref,
                    "HTTPRoute",
                    hosts,
                    str(backend.get("name")),
                    str(backend.get("namespace") or namespace),
                )
            )
    return out


def traefik_hosts(match: str) -> list[str]:
    """Host names of a Traefik rule: ``Host(`a.example`) && PathPrefix(`/x`)`` -> ['a.example']."""
    hosts = []
    for args in _TRAEFIK_HOST.findall(match or ""):
        hosts += [a or b for a, b in _QUOTED.findall(args)]
    return hosts


def _ingressroute_backends(obj: KubeObject, ref: Ref) -> list[RouteBackend]:
    namespace = _ns(obj)
    out = []
    for route in lookup(obj, "spec.routes") or []:
        if not isinstance(route, dict):
            continue
        hosts = traefik_hosts(str(route.get("match") or ""))
        for service in route.get("services") or []:
            if not isinstance(service, dict) or service.get("kind", "Service") != "Service":
                continue  # a TraefikService is a weighted/mirrored set, not one Service
            out.append(
                _backend(
                    obj,
                    ref,
                    "IngressRoute",
                    hosts,
                    str(service.get("name")),
                    str(service.get("namespace") or namespace),
                )
            )
    return out


def routes(by_kind: dict[str, list[KubeObject]], ref: Ref) -> list[RouteBackend]:
    out: list[RouteBackend] = []
    for obj in by_kind.get("Ingress", []):
        out += _ingress_backends(obj, ref)
    for obj in by_kind.get("HTTPRoute", []):
        out += _httproute_backends(obj, ref)
    for obj in by_kind.get("IngressRoute", []):
        out += _ingressroute_backends(obj, ref)
    return out


def certificates(objects: list[KubeObject], ref: Ref) -> list[CertificateState]:
    out = []
    for cert in objects:
        cond = _condition(cert, "Ready")
        out.append(
            CertificateState(
                name=_name(cert),
                namespace=_ns(cert),
                ready=_status_bool(cond),
                reason=(cond or {}).get("reason"),
                message=(cond or {}).get("message"),
                not_after=lookup(cert, "status.notAfter"),
                dns_names=[str(n) for n in lookup(cert, "spec.dnsNames") or []],
                source=ref(cert),
            )
        )
    return out


def hpas(objects: list[KubeObject], ref: Ref) -> list[HpaState]:
    out = []
    for hpa in objects:
        active = _condition(hpa, "ScalingActive")
        target = lookup(hpa, "spec.scaleTargetRef")
        out.append(
            HpaState(
                name=_name(hpa),
                namespace=_ns(hpa),
                target=f"{target.get('kind')}/{target.get('name')}" if isinstance(target, dict) else None,
                min_replicas=_int(lookup(hpa, "spec.minReplicas")),
                max_replicas=_int(lookup(hpa, "spec.maxReplicas")),
                current_replicas=_int(lookup(hpa, "status.currentReplicas")),
                desired_replicas=_int(lookup(hpa, "status.desiredReplicas")),
                scaling_active=_status_bool(active),
                scaling_reason=(active or {}).get("reason"),
                scaling_limited=_status_bool(_condition(hpa, "ScalingLimited")),
                source=ref(hpa),
            )
        )
    return out


def pdbs(objects: list[KubeObject], ref: Ref) -> list[PdbState]:
    return [
        PdbState(
            name=_name(pdb),
            namespace=_ns(pdb),
            disruptions_allowed=_int(lookup(pdb, "status.disruptionsAllowed")),
            current_healthy=_int(lookup(pdb, "status.currentHealthy")),
            desired_healthy=_int(lookup(pdb, "status.desiredHealthy")),
            expected_pods=_int(lookup(pdb, "status.expectedPods")),
            source=ref(pdb),
        )
        for pdb in objects
    ]


def claims(
    objects: list[KubeObject],
    used: set[tuple[str, str]],
    classes: tuple[dict[str, str], str | None],
    ref: Ref,
) -> list[ClaimState]:
    """Every PVC with its phase, its class's binding mode (``classes``: ``binding_modes``), and whether a
    pod mounts it (``used``: ``claim_consumers`` of the pods)."""
    modes, default = classes
    out = []
    for pvc in objects:
        cls = lookup(pvc, "spec.storageClassName") or default
        out.append(
            ClaimState(
                name=_name(pvc),
                namespace=_ns(pvc),
                phase=lookup(pvc, "status.phase"),
                storage_class=cls,
                storage=lookup(pvc, "spec.resources.requests.storage"),
                binding_mode=modes.get(str(cls)) if cls else None,
                mounted=(_ns(pvc), _name(pvc)) in used,
                source=ref(pvc),
            )
        )
    return out


def policies(by_kind: dict[str, list[KubeObject]], ref: Ref) -> list[PolicyState]:
    """Kyverno policies' readiness: ``status.ready`` (Kyverno < 1.9) or the Ready condition."""
    out = []
    for kind in ("ClusterPolicy", "Policy"):
        for policy in by_kind.get(kind, []):
            cond = _condition(policy, "Ready")
            ready = _status_bool(cond)
            if ready is None and isinstance(lookup(policy, "status.ready"), bool):
                ready = lookup(policy, "status.ready")
            out.append(
                PolicyState(
                    kind=kind,
                    name=_name(policy),
                    namespace=object_meta(policy).get("namespace"),
                    ready=ready,
                    reason=(cond or {}).get("reason"),
                    message=(cond or {}).get("message"),
                    source=ref(policy),
                )
            )
    return out


def apps(by_kind: dict[str, list[KubeObject]], ref: Ref) -> list[AppState]:
    """Argo CD Applications (sync, health) and Flux HelmReleases/Kustomizations (Ready condition)."""
    out = []
    for app in by_kind.get("Application", []):
        out.append(
            AppState(
                kind="Application",
                name=_name(app),
                namespace=object_meta(app).get("namespace"),
                sync=lookup(app, "status.sync.status"),
                health=lookup(app, "status.health.status"),
                message=lookup(app, "status.health.message"),
                source=ref(app),
            )
        )
    for kind in ("HelmRelease", "Kustomization"):
        for obj in by_kind.get(kind, []):
            if "toolkit.fluxcd.io" not in str(obj.get("apiVersion") or ""):
                continue  # a kustomize.config.k8s.io Kustomization is not a Flux object
            cond = _condition(obj, "Ready")
            ready = _status_bool(cond)
            out.append(
                AppState(
                    kind=kind,
                    name=_name(obj),
                    namespace=object_meta(obj).get("namespace"),
                    sync="Suspended" if lookup(obj, "spec.suspend") else None,
                    health=None if ready is None else ("Ready" if ready else "NotReady"),
                    message=(cond or {}).get("message"),
                    source=ref(obj),
                )
            )
    return out


def scaled_to_zero(by_kind: dict[str, list[KubeObject]], ref: Ref) -> list[ScaledToZero]:
    """Deployments and StatefulSets with ``spec.replicas: 0``, with the annotation that says why if any."""
    out = []
    for kind in ("Deployment", "StatefulSet"):
        for obj in by_kind.get(kind, []):
            if lookup(obj, "spec.replicas") != 0:
                continue
            annotations = object_meta(obj).get("annotations") or {}
            reason = next(
                (str(k) for k in sorted(annotations) if str(k).startswith(ON_PURPOSE_PREFIXES)), None
            )
            labels = lookup(obj, "spec.template.metadata.labels") or {}
            out.append(
                ScaledToZero(
                    kind=kind,
                    name=_name(obj),
                    namespace=_ns(obj),
                    template_labels={str(k): str(v) for k, v in labels.items()},
                    on_purpose=reason,
                    source=ref(obj),
                )
            )
    return out


def claim_consumers(pods: list[KubeObject]) -> set[tuple[str, str]]:
    """(namespace, claim) of every PVC some pod mounts."""
    used = set()
    for pod in pods:
        for volume in lookup(pod, "spec.volumes") or []:
            claim = lookup(volume, "persistentVolumeClaim.claimName") if isinstance(volume, dict) else None
            if claim:
                used.add((_ns(pod), str(claim)))
    return used


def binding_modes(classes: list[KubeObject]) -> BindingModes:
    """volumeBindingMode per StorageClass, and the default class's name."""
    modes = {_name(c): str(c.get("volumeBindingMode") or "Immediate") for c in classes}
    default = next(
        (
            _name(c)
            for c in classes
            if (object_meta(c).get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class")
            == "true"
        ),
        None,
    )
    return modes, default
