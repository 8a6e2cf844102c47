"""What an SRE reads first on a running cluster, as records: where traffic goes, what cannot start.

These records exist only live (a snapshot or the API): a Service's endpoints, a route's backends, a
certificate's expiry, an autoscaler's or a disruption budget's status, a claim's phase, a policy's
readiness. ``live_health.py`` builds them from the objects the audit already read; the checks of
``tools/checks/detections/cluster_health.py`` and ``cluster_routes.py`` read them.
"""

from __future__ import annotations

from pydantic import Field

from tools.inventory.sources import EstateText, LiveRef, Record


class ServiceState(Record):
    name: str
    namespace: str
    type: str = "ClusterIP"
    selector: dict[str, str] = Field(default_factory=dict)
    external_name: str | None = None
    load_balancer_addresses: list[str] = Field(default_factory=list)
    ready_endpoints: int | None = Field(
        default=None, description="Ready addresses over its EndpointSlices; None when no slice was read."
    )
    matching_pods: int = Field(default=0, description="Live pods (not finished) its selector matches.")
    source: LiveRef


class RouteBackend(Record):
    """One backend Service of one host route: an Ingress rule, an HTTPRoute or a Traefik IngressRoute."""

    route_kind: str
    route_name: str
    namespace: str
    hosts: list[str] = Field(default_factory=list)
    service: str
    service_namespace: str
    source: LiveRef


class CertificateState(Record):
    name: str
    namespace: str
    ready: bool | None = None
    reason: str | None = None
    message: EstateText | None = None
    not_after: str | None = None
    dns_names: list[str] = Field(default_factory=list)
    source: LiveRef


class HpaState(Record):
    name: str
    namespace: str
    target: str | None = None
    min_replicas: int | None = None
    max_replicas: int | None = None
    current_replicas: int | None = None
    desired_replicas: int | None = None
    scaling_active: bool | None = Field(default=None, description="ScalingActive condition; None if absent.")
    scaling_reason: str | None = None
    scaling_limited: bool | None = Field(default=None, description="ScalingLimited condition.")
    source: LiveRef


class PdbState(Record):
    name: str
    namespace: str
    disruptions_allowed: int | None = None
    current_healthy: int | None = None
    desired_healthy: int | None = None
    expected_pods: int | None = None
    source: LiveRef


class ClaimState(Record):
    name: str
    namespace: str
    phase: str | None = None
    storage_class: str | None = None
    storage: str | None = None
    binding_mode: str | None = Field(default=None, description="Its StorageClass's volumeBindingMode.")
    mounted: bool = Field(default=False, description="Some live pod mounts it.")
    source: LiveRef


class PolicyState(Record):
    """A Kyverno policy's readiness as the controller reports it (``status.ready`` / the Ready condition)."""

    kind: str
    name: str
    namespace: str | None = None
    ready: bool | None = None
    reason: str | None = None
    message: EstateText | None = None
    source: LiveRef


class AppState(Record):
    """An Argo CD Application or a Flux HelmRelease/Kustomization: its sync and health as reported."""

    kind: str
    name: str
    namespace: str | None = None
    sync: str | None = None
    health: str | None = None
    message: EstateText | None = None
    source: LiveRef


class ScaledToZero(Record):
    """A Deployment or StatefulSet whose spec asks for 0 replicas, and the annotation that says why."""

    kind: str
    name: str
    namespace: str
    template_labels: dict[str, str] = Field(default_factory=dict)
    on_purpose: str | None = Field(
        default=None, description="The annotation marking it deliberate (kube-downscaler, KEDA, ours)."
    )
    source: LiveRef
