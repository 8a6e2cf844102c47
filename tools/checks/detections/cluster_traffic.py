"""Traffic that goes nowhere and workloads that cannot start: routes and Services without pods,
images that cannot be pulled, and admission policies that are broken or blocking (k8sgpt's Service,
Ingress and Gateway analyzers; the seed-001 audit's 502, removed image tags and Kyverno failures).

A Deployment scaled to 0 on purpose (an annotation of ``live_health.ON_PURPOSE_PREFIXES``) is not a
route to nothing; one scaled to 0 without a word is reported as what it is.
"""

from __future__ import annotations

import re

from domain.findings import Location
from domain.unread import EVERY_KIND
from tools.checks.detections.reliability_live import not_applicable
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory import indexes
from tools.inventory.inventory import LiveState
from tools.inventory.live_health_models import ScaledToZero, ServiceState
from tools.inventory.models import EventRecord, PodState

PULL_REASONS = frozenset({"ErrImagePull", "ImagePullBackOff", "InvalidImageName"})
PULL_CAUSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "tag or image not found (removed upstream, or a wrong path)",
        re.compile(r"not found|manifest unknown|NotFound", re.I),
    ),
    (
        "access denied (private image without a pull secret, or a wrong path)",
        re.compile(r"denied|unauthorized|forbidden|401|403", re.I),
    ),
    ("registry rate limit", re.compile(r"toomanyrequests|rate limit", re.I)),
    ("registry unreachable", re.compile(r"no such host|i/o timeout|connection refused|dial tcp", re.I)),
    ("invalid image name", re.compile(r"InvalidImageName|invalid reference format", re.I)),
)
ADMISSION_DENIED = re.compile(
    r"admission webhook .* denied the request|blocked due to the following policies", re.I
)


def pods_unread(live: LiveState) -> bool:
    """True when the cluster's pods were not read: then "no pod" is unknown, not a finding. (The
    runner keeps a positive count as a lower bound, which is right for what missing data can only
    hide, and wrong for a check that counts absences; such a check says unknown itself.)"""
    return any(u.kind in ("Pod", EVERY_KIND) for u in live.unread)


def _unknown() -> Detection:
    """Nothing counted; the runner, which saw the check read the pod-fed lists, names what was lost."""
    return Detection(count=0, applicable=False, note="unknown: the cluster's pods could not be read")


def _backing_zero(svc: ServiceState, live: LiveState) -> ScaledToZero | None:
    """The workload scaled to 0 whose pod template its selector matches, if any."""
    if not svc.selector:
        return None
    for zero in indexes.scaled_to_zero_by_namespace(live).get(svc.namespace, ()):
        if all(zero.template_labels.get(k) == v for k, v in svc.selector.items()):
            return zero
    return None


def _empty_reason(svc: ServiceState, live: LiveState) -> str | None:
    """Why a Service serves nothing, or None when it serves (or is deliberately empty, or unknowable)."""
    if svc.type == "ExternalName" or not svc.selector:
        return None  # an ExternalName or selector-less Service has endpoints managed elsewhere
    if svc.matching_pods or svc.ready_endpoints:
        if svc.ready_endpoints == 0:
            return f"{svc.matching_pods} matching pod(s), none ready"
        return None
    zero = _backing_zero(svc, live)
    if zero is not None:
        if zero.on_purpose:
            return None
        return f"{zero.kind}/{zero.name} is scaled to 0 with no annotation saying why"
    return "its selector matches no pod"


@detector("REL-LIVE-ROUTE-NO-BACKEND")
def route_no_backend(ctx: CheckContext) -> Detection:
    """Host routes (Ingress rules, Gateway API HTTPRoutes, Traefik IngressRoutes) whose backend Service
    does not exist or has no ready endpoint: the hostname answers 502/503. Counted per route and
    Service. total = route backends."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    services = {(s.namespace, s.name): s for s in live.services}
    if pods_unread(live):
        return _unknown()
    locations = []
    seen: set[tuple[str, str, str, str]] = set()
    for backend in live.routes:
        key = (
            backend.route_kind,
            backend.namespace,
            backend.route_name,
            f"{backend.service_namespace}/{backend.service}",
        )
        if key in seen:
            continue
        seen.add(key)
        svc = services.get((backend.service_namespace, backend.service))
        reason = "the Service does not exist" if svc is None else _empty_reason(svc, live)
        if reason is None:
            continue
        hosts = ", ".join(backend.hosts) or "default backend"
        detail = f"{hosts} -> Service/{backend.service_namespace}/{backend.service}: {reason}"
        subject = f"{backend.route_kind}/{backend.namespace}/{backend.route_name}"
        locations.append(Location(ref=str(backend.source), subject=subject, detail=detail))
    return Detection(count=len(locations), total=len(seen), locations=locations)


@detector("REL-LIVE-SERVICE-NO-PODS")
def service_no_pods(ctx: CheckContext) -> Detection:
    """Services with a selector that matches no running pod (or whose pods are all unready); not
    ExternalName or selector-less Services, and not a workload scaled to 0 on purpose. A Service a
    route points at is reported by REL-LIVE-ROUTE-NO-BACKEND instead. total = Services with a selector."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    routed = {(b.service_namespace, b.service) for b in live.routes}
    selecting = [s for s in live.services if s.selector and s.type != "ExternalName"]
    if pods_unread(live):
        return _unknown()
    locations = []
    for svc in selecting:
        reason = _empty_reason(svc, live)
        if reason is None or (svc.namespace, svc.name) in routed:
            continue
        locations.append(
            Location(ref=str(svc.source), subject=f"Service/{svc.namespace}/{svc.name}", detail=reason)
        )
    return Detection(count=len(locations), total=len(selecting), locations=locations)


def _pull_cause(pod: PodState, message: str, events: list[EventRecord]) -> str:
    texts = [message] + [str(e.message or "") for e in events]
    for cause, pattern in PULL_CAUSES:
        if any(pattern.search(text) for text in texts):
            return cause
    return "pull failed (the kubelet gave no cause)"


def _owner(pod: PodState, live: LiveState) -> str:
    """The owning workload: a ReplicaSet's Deployment (already resolved), a Job's CronJob."""
    if pod.owner_kind == "Job" and pod.owner_name:
        job = indexes.jobs_by_name(live).get((pod.namespace, pod.owner_name))
        if job is not None and job.owner_cronjob:
            return f"CronJob/{pod.namespace}/{job.owner_cronjob}"
    if pod.owner_kind and pod.owner_name:
        return f"{pod.owner_kind}/{pod.namespace}/{pod.owner_name}"
    return f"Pod/{pod.namespace}/{pod.name}"


@detector("REL-LIVE-IMAGE-PULL")
def image_pull(ctx: CheckContext) -> Detection:
    """Images the kubelet cannot pull (ErrImagePull, ImagePullBackOff, InvalidImageName), one location
    per owning workload and image, grouped by cause from the kubelet's message and the pod's events
    (tag not found, access denied, rate limit, unreachable registry). Measure ``causes``. total =
    containers of live pods."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    by_pod: dict[tuple[str | None, str | None], list[EventRecord]] = {}
    for event in live.events:
        if event.object_kind == "Pod" and "image" in str(event.message or "").lower():
            by_pod.setdefault((event.namespace, event.object_name), []).append(event)
    found: dict[tuple[str, str], Location] = {}
    for pod in live.pods:
        for status in pod.containers:
            if status.waiting_reason not in PULL_REASONS:
                continue
            owner = _owner(pod, live)
            image = status.image or "?"
            cause = _pull_cause(
                pod, str(status.waiting_message or ""), by_pod.get((pod.namespace, pod.name), [])
            )
            found.setdefault(
                (owner, image),
                Location(ref=str(pod.source), subject=f"{owner}/{status.name}", detail=f"{image}: {cause}"),
            )
    locations = sorted(found.values(), key=lambda loc: (loc.detail or "", loc.subject))
    causes = {str(loc.detail).split(": ", 1)[-1] for loc in locations}
    return Detection(
        count=len(locations),
        total=sum(len(p.containers) for p in live.pods),
        locations=locations,
        measures={"causes": float(len(causes))},
    )


def _denial(event: EventRecord) -> str:
    """The denial in one line: who denied, and the policies Kyverno names (a name alone on a line
    after "the following policies")."""
    text = str(event.message or "")
    match = re.search(r"admission webhook \"?([^\s\"]+)\"? denied the request", text)
    head = f"admission webhook {match.group(1)} denied the request" if match else " ".join(text.split())[:160]
    _, _, tail = text.partition("the following policies")
    policies = re.findall(r"^([A-Za-z0-9][A-Za-z0-9.-]*):\s*$", tail, re.M)
    named = f"; policies: {', '.join(dict.fromkeys(policies))}" if policies else ""
    return f"{head}{named} ({event.count} times)"


def _denied_subject(event: EventRecord) -> str:
    kind, name = event.object_kind or "?", event.object_name or "?"
    if kind == "ReplicaSet" and (m := re.match(r"^(.+)-[a-z0-9]{5,10}$", name)):
        return f"Deployment/{event.namespace or '-'}/{m.group(1)}"
    return f"{kind}/{event.namespace or '-'}/{name}"


@detector("REL-LIVE-ADMISSION")
def admission_failures(ctx: CheckContext) -> Detection:
    """Admission that is broken or blocking: Kyverno policies not Ready (a schema error leaves them
    unenforced), and workloads whose pods an admission webhook denied (events ``FailedCreate``
    with the webhook's denial). Measures ``policies_not_ready`` and ``blocked_workloads``. total =
    Kyverno policies."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    locations = []
    for policy in live.policy_status:
        if policy.ready is False:
            where = f"{policy.kind}/{policy.namespace + '/' if policy.namespace else ''}{policy.name}"
            detail = f"not ready: {policy.reason or ''} {policy.message or ''}".strip()
            locations.append(Location(ref=str(policy.source), subject=where, detail=detail))
    blocked: dict[str, Location] = {}
    for event in live.events:
        if event.reason in ("FailedCreate", "PolicyViolation") and ADMISSION_DENIED.search(
            str(event.message or "")
        ):
            subject = _denied_subject(event)
            blocked.setdefault(
                subject, Location(ref=str(event.source), subject=subject, detail=_denial(event))
            )
    not_ready = len(locations)
    locations += sorted(blocked.values(), key=lambda loc: loc.subject)
    return Detection(
        count=len(locations),
        total=len(live.policy_status),
        locations=locations,
        measures={"policies_not_ready": float(not_ready), "blocked_workloads": float(len(blocked))},
    )
