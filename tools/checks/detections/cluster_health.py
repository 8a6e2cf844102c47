"""What an SRE looks at first on a running cluster: nodes, pods that cannot run, storage, certificates,
autoscalers, disruption budgets and load balancers (k8sgpt's Node, Pod, PVC, HPA, PDB and Service
analyzers; the seed-001 audit's version skew).

Every check reads only the live state (``tools/inventory/live_health.py`` builds its records from
what the audit already listed) and is not applicable without a cluster. Subjects name the owning
workload where there is one (a pod of a ReplicaSet is its Deployment's), refs the live object.
"""

from __future__ import annotations

import re
from datetime import timedelta

from domain.findings import Location
from tools.checks.detections.reliability_live import not_applicable
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import NodeState, PodState

CERT_WINDOW = timedelta(days=30)
"""A certificate expiring within this window of the audit clock is reported."""
SUPPORTED_KUBELET_LAG = 3
"""Kubernetes' skew policy (1.28+): a kubelet may be up to 3 minor versions older than the API server,
never newer; kube-proxy likewise."""
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def minor_version(text: str | None) -> tuple[int, int, int] | None:
    """``v1.33.6+k3s1`` -> (1, 33, 6); None when it does not parse."""
    m = _VERSION.match(text or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)) if m else None


def _owner_subject(pod: PodState) -> str:
    if pod.owner_kind and pod.owner_name:
        return f"{pod.owner_kind}/{pod.namespace}/{pod.owner_name}"
    return f"Pod/{pod.namespace}/{pod.name}"


def _skew(node: NodeState, server: tuple[int, int, int] | None, server_text: str | None) -> list[str]:
    problems = []
    kubelet = minor_version(node.kubelet_version)
    if server is not None and kubelet is not None:
        lag = server[1] - kubelet[1]
        if kubelet[:2] > server[:2]:
            problems.append(f"kubelet {node.kubelet_version} is newer than the API server {server_text}")
        elif lag > SUPPORTED_KUBELET_LAG:
            problems.append(
                f"kubelet {node.kubelet_version} is {lag} minors behind the API server {server_text}"
            )
    proxy = minor_version(node.kube_proxy_version)
    if proxy is not None and kubelet is not None and proxy[:2] != kubelet[:2]:
        problems.append(
            f"kube-proxy {node.kube_proxy_version} differs from its kubelet {node.kubelet_version}"
        )
    return problems


@detector("REL-LIVE-VERSION-SKEW")
def version_skew(ctx: CheckContext) -> Detection:
    """Nodes outside Kubernetes' version-skew policy against the API server: a kubelet newer than the
    server, or more than 3 minors older; a kube-proxy on another minor than its kubelet. Nodes on
    different kubelet minors than the control plane are named in the detail even inside the policy.
    Measures ``kubelet_versions`` (distinct kubelet versions) and ``runtimes`` (distinct container
    runtimes). total = nodes."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    server = minor_version(live.cluster.server_version)
    locations = []
    for node in live.nodes:
        problems = _skew(node, server, live.cluster.server_version)
        if problems:
            detail = "; ".join(problems)
            locations.append(Location(ref=str(node.source), subject=f"Node/{node.name}", detail=detail))
    measures = {
        "kubelet_versions": float(len({n.kubelet_version for n in live.nodes if n.kubelet_version})),
        "runtimes": float(len({n.container_runtime for n in live.nodes if n.container_runtime})),
    }
    return Detection(count=len(locations), total=len(live.nodes), locations=locations, measures=measures)


@detector("REL-LIVE-NODE-NOT-READY")
def node_not_ready(ctx: CheckContext) -> Detection:
    """Nodes that are NotReady or report a pressure condition (MemoryPressure, DiskPressure,
    PIDPressure, NetworkUnavailable True). total = nodes."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    for node in live.nodes:
        problems = ([] if node.ready else ["NotReady"]) + node.pressure
        if problems:
            locations.append(
                Location(ref=str(node.source), subject=f"Node/{node.name}", detail=", ".join(problems))
            )
    return Detection(count=len(locations), total=len(live.nodes), locations=locations)


@detector("REL-LIVE-PENDING-PODS")
def pending_pods(ctx: CheckContext) -> Detection:
    """Pods the scheduler could not place (phase Pending, PodScheduled False), with its reason and the
    owning workload. total = live pods."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = [
        Location(
            ref=str(pod.source), subject=_owner_subject(pod), detail=f"pod {pod.name}: {pod.unschedulable}"
        )
        for pod in live.pods
        if pod.phase == "Pending" and pod.unschedulable
    ]
    return Detection(count=len(locations), total=len(live.pods), locations=locations)


@detector("REL-LIVE-PVC-UNBOUND")
def pvc_unbound(ctx: CheckContext) -> Detection:
    """PVCs Lost, or Pending while a pod waits for them or their class binds immediately. A Pending
    claim of a WaitForFirstConsumer class that no pod mounts is waiting by design (measure
    ``waiting_for_consumer``), not a finding. total = live PVCs."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    waiting = 0
    for claim in live.claims:
        if claim.phase == "Pending" and not claim.mounted and claim.binding_mode == "WaitForFirstConsumer":
            waiting += 1
            continue
        if claim.phase in ("Pending", "Lost"):
            why = (
                "a pod waits for it"
                if claim.mounted
                else f"class {claim.storage_class or '-'} binds immediately"
            )
            locations.append(
                Location(
                    ref=str(claim.source),
                    subject=f"PersistentVolumeClaim/{claim.namespace}/{claim.name}",
                    detail=f"{claim.phase}; {why}"
                    if claim.phase == "Pending"
                    else "Lost: its volume is gone",
                )
            )
    return Detection(
        count=len(locations),
        total=len(live.claims),
        locations=locations,
        measures={"waiting_for_consumer": float(waiting)},
    )


@detector("REL-LIVE-CERT-EXPIRY")
def certificate_expiry(ctx: CheckContext) -> Detection:
    """cert-manager Certificates not Ready, or whose ``notAfter`` is within 30 days of the audit clock
    (or past). total = Certificates."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    from tools.checks.detections.common import parse_time

    now = ctx.clock()
    locations = []
    for cert in live.certificates:
        problems = []
        if cert.ready is False:
            problems.append(f"not Ready ({cert.reason or 'no reason'})")
        if cert.not_after:
            left = parse_time(cert.not_after) - now
            if left <= CERT_WINDOW:
                problems.append("expired" if left.total_seconds() <= 0 else f"expires in {left.days} days")
        if problems:
            subject = f"Certificate/{cert.namespace}/{cert.name}"
            hosts = f" [{', '.join(cert.dns_names)}]" if cert.dns_names else ""
            locations.append(
                Location(ref=str(cert.source), subject=subject, detail="; ".join(problems) + hosts)
            )
    return Detection(count=len(locations), total=len(live.certificates), locations=locations)


@detector("SCA-LIVE-HPA-STUCK")
def hpa_stuck(ctx: CheckContext) -> Detection:
    """HorizontalPodAutoscalers that cannot scale (ScalingActive False: no metrics) or sit at their
    maximum (current = max replicas). Measure ``at_max``. total = HPAs."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    at_max = 0
    for hpa in live.hpa_status:
        subject = f"HorizontalPodAutoscaler/{hpa.namespace}/{hpa.name}"
        target = f" ({hpa.target})" if hpa.target else ""
        if hpa.scaling_active is False:
            detail = f"cannot read metrics: {hpa.scaling_reason or 'ScalingActive False'}{target}"
            locations.append(Location(ref=str(hpa.source), subject=subject, detail=detail))
        elif hpa.max_replicas is not None and hpa.current_replicas == hpa.max_replicas:
            at_max += 1
            detail = f"at its maximum of {hpa.max_replicas} replicas{target}"
            locations.append(Location(ref=str(hpa.source), subject=subject, detail=detail))
    return Detection(
        count=len(locations),
        total=len(live.hpa_status),
        locations=locations,
        measures={"at_max": float(at_max)},
    )


@detector("REL-LIVE-PDB-BLOCKING")
def pdb_blocking(ctx: CheckContext) -> Detection:
    """PodDisruptionBudgets that allow no disruption while they cover pods: a node drain stalls on
    them. The detail says whether by configuration (healthy = desired) or because pods are unhealthy.
    total = PDBs."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    for pdb in live.pdb_status:
        if pdb.disruptions_allowed != 0 or not pdb.expected_pods:
            continue
        if (pdb.current_healthy or 0) < (pdb.desired_healthy or 0):
            why = f"{pdb.current_healthy} of {pdb.desired_healthy} required pods healthy"
        else:
            why = f"by configuration: {pdb.desired_healthy} of {pdb.expected_pods} pods must stay up"
        locations.append(
            Location(
                ref=str(pdb.source), subject=f"PodDisruptionBudget/{pdb.namespace}/{pdb.name}", detail=why
            )
        )
    return Detection(count=len(locations), total=len(live.pdb_status), locations=locations)


@detector("REL-LIVE-LB-PENDING")
def load_balancer_pending(ctx: CheckContext) -> Detection:
    """Services of type LoadBalancer with no address in ``status.loadBalancer``: nothing outside the
    cluster reaches them. total = LoadBalancer Services."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    balancers = live.load_balancers
    locations = [
        Location(ref=str(s.source), subject=f"Service/{s.namespace}/{s.name}", detail="no external address")
        for s in balancers
        if not s.load_balancer_addresses
    ]
    return Detection(count=len(locations), total=len(balancers), locations=locations)
