"""Detections of the reliability concern (see catalog.yaml for the metadata).

This module holds the checks on how workloads are shaped (probes, replicas, disruption budgets,
rollout strategy) and on alert coverage. Backups are in ``reliability_backup``, runtime state of a
cluster in ``reliability_live``; both are imported here so that importing the concern registers
every reliability detector.

Workloads come from ``common.workloads``: one defined in code and also seen live counts once, from
code (its ``path:line`` is what a fix edits); one that only the cluster shows counts from there.
"""

from __future__ import annotations

import re

from domain.findings import Location
from tools.checks.detections import common, reliability_backup, reliability_live
from tools.checks.detections.facts import (
    SCALABLE_KINDS,
    claim_names,
    is_rwo,
    regular_containers,
    replicas,
    rwo_claims,
)
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import AlertRule, Workload

__all__ = ["reliability_backup", "reliability_live"]

HEALTH_PROBES = ("readiness", "liveness")

# --------------------------------------------------------------------------------------- probes


def _missing_probes(workload: Workload) -> dict[str, list[str]]:
    """Container name -> the health probes (readiness, liveness) it lacks; only regular containers."""
    missing: dict[str, list[str]] = {}
    for container in regular_containers(workload):
        lacking = [p for p in HEALTH_PROBES if p not in container.probes]
        if lacking:
            missing[container.name] = lacking
    return missing


def _probes_ref(workload: Workload, names: list[str]) -> str | None:
    """A rendered workload: the values line of the first named container's probes block, if written."""
    for container in workload.containers:
        if container.name in names and container.probes_source is not None:
            return str(container.probes_source)
    return None


@detector("REL-PROBE-ANY")
def probe_any(ctx: CheckContext) -> Detection:
    """Long-running workloads (Deployment, StatefulSet, DaemonSet) where at least one regular container
    lacks a readiness or a liveness probe. Init containers never count (they run to completion and
    cannot have these probes); a startup probe does not replace either. total = long-running workloads.
    """
    chosen = common.workloads(ctx.inventory, common.LONG_RUNNING)
    locations = []
    for workload in chosen:
        missing = _missing_probes(workload)
        if missing:
            detail = "; ".join(f"{name}: no {' or '.join(probes)}" for name, probes in missing.items())
            locations.append(common.location(workload, detail, _probes_ref(workload, list(missing))))
    return Detection(count=len(locations), total=len(chosen), locations=locations)


@detector("REL-PROBE-BOTH")
def probe_both(ctx: CheckContext) -> Detection:
    """Long-running workloads where every regular container lacks both readiness and liveness probes
    (a workload with no regular container is not counted: there is nothing to probe).
    total = long-running workloads.
    """
    chosen = common.workloads(ctx.inventory, common.LONG_RUNNING)
    locations = []
    for workload in chosen:
        containers = regular_containers(workload)
        if containers and all(not set(HEALTH_PROBES) & set(c.probes) for c in containers):
            names = ", ".join(c.name for c in containers)
            where = _probes_ref(workload, [c.name for c in containers])
            locations.append(common.location(workload, f"no readiness or liveness probe ({names})", where))
    return Detection(count=len(locations), total=len(chosen), locations=locations)


# ------------------------------------------------------------------------------------- replicas


@detector("REL-SINGLE-REPLICA")
def single_replica(ctx: CheckContext) -> Detection:
    """Deployments and StatefulSets that run one replica (unset replicas is the API default 1; an
    unresolved replicas expression is skipped) AND cannot overlap two pods during a rollout: the
    Recreate strategy, or a ReadWriteOnce volume. An RWO volume is a pvc volume whose claim is an
    RWO PVC in the same namespace (code or live PVC records; a claim with a shared mode such as
    ReadWriteMany is not RWO) or an RWO volumeClaimTemplate. total = Deployments and StatefulSets
    whose replica count is known. ref = the ``replicas:`` line when written, else the Recreate
    ``type:`` line, else the object.
    """
    rwo = rwo_claims(ctx.inventory)
    known = [w for w in common.workloads(ctx.inventory, SCALABLE_KINDS) if replicas(w) is not None]
    locations = []
    for workload in known:
        if replicas(workload) != 1:
            continue
        reasons = ["Recreate strategy"] if workload.strategy == "Recreate" else []
        reasons += [f"RWO claim {n}" for n in claim_names(workload) if (workload.namespace, n) in rwo]
        reasons += [f"RWO volumeClaimTemplate {t.name}" for t in workload.volume_claim_templates if is_rwo(t)]
        if reasons:
            fields = ("replicas", "strategy") if workload.strategy == "Recreate" else ("replicas",)
            locations.append(common.line_location(workload, fields, "1 replica; " + ", ".join(reasons)))
    return Detection(count=len(locations), total=len(known), locations=locations)


def _pod_labels(workload: Workload) -> dict[str, str]:
    """The labels the workload's pods are known to carry: its selector (the API guarantees the pod
    template matches it) over its own labels (charts and modules label both alike)."""
    return {**workload.labels, **workload.selector}


@detector("REL-NO-PDB")
def no_pdb(ctx: CheckContext) -> Detection:
    """Deployments and StatefulSets with 2 or more replicas and no PodDisruptionBudget covering them. A PDB
    (code or live) covers a workload when it is in the same namespace and its matchLabels are a subset
    of the workload's pod labels (selector and labels); an empty selector selects every pod of the
    namespace, as in policy/v1. Unset replicas (1) and unresolved expressions are not multi-replica.
    total = multi-replica workloads.
    """
    inventory = ctx.inventory
    selectors: dict[str | None, list[dict[str, str]]] = {}
    for pdb in list(inventory.code.pdbs) + (list(inventory.live.pdbs) if inventory.live is not None else []):
        selectors.setdefault(pdb.namespace, []).append(pdb.selector)
    multi = [w for w in common.workloads(inventory, SCALABLE_KINDS) if (replicas(w) or 0) >= 2]
    locations = []
    for workload in multi:
        labels = _pod_labels(workload).items()
        if not any(selector.items() <= labels for selector in selectors.get(workload.namespace, [])):
            locations.append(
                common.location(workload, f"{replicas(workload)} replicas, no PDB selects its pods")
            )
    return Detection(count=len(locations), total=len(multi), locations=locations)


# ------------------------------------------------------------------------------------- rollouts


@detector("REL-RECREATE-NO-GRACE")
def recreate_no_grace(ctx: CheckContext) -> Detection:
    """Workloads with the Recreate strategy, no terminationGracePeriodSeconds and no preStop hook on any
    regular container. Live objects carry the API default grace period (30 s), so a workload seen
    only live is normally not counted: the check is about what the code states.
    total = Recreate workloads. ref = the ``type: Recreate`` line.
    """
    recreate = [w for w in common.workloads(ctx.inventory) if w.strategy == "Recreate"]
    locations = [
        common.line_location(w, ("strategy",), "Recreate, default 30 s grace, no preStop hook")
        for w in recreate
        if w.termination_grace_period is None and not any(c.pre_stop for c in regular_containers(w))
    ]
    return Detection(count=len(locations), total=len(recreate), locations=locations)


@detector("REL-ROLLING-NO-SURGE")
def rolling_no_surge(ctx: CheckContext) -> Detection:
    """Deployments in code whose strategy is RollingUpdate or unset (the API default) and that set
    neither maxSurge nor maxUnavailable. Code only: live objects always carry the API defaults
    (25%/25%), so only the code shows whether the bounds were chosen. total = such rolling
    Deployments in code.
    """
    rolling = [
        w
        for w in ctx.inventory.code.workloads
        if w.kind == "Deployment" and w.strategy in (None, "RollingUpdate")
    ]
    locations = [  # at the strategy where one is written: the bounds go beside it
        common.line_location(w, ("strategy",), "RollingUpdate with default 25% surge / 25% unavailable")
        for w in rolling
        if w.max_surge is None and w.max_unavailable is None
    ]
    return Detection(count=len(locations), total=len(rolling), locations=locations)


@detector("REL-STS-ONDELETE")
def sts_ondelete(ctx: CheckContext) -> Detection:
    """StatefulSets and DaemonSets whose update strategy is OnDelete: an upgrade changes nothing until
    someone deletes the pods by hand. total = StatefulSets and DaemonSets. ref = the OnDelete ``type:``."""
    chosen = common.workloads(ctx.inventory, ("StatefulSet", "DaemonSet"))
    locations = [
        common.line_location(w, ("strategy",), "updateStrategy OnDelete: pods roll only when deleted by hand")
        for w in chosen
        if w.strategy == "OnDelete"
    ]
    return Detection(count=len(locations), total=len(chosen), locations=locations)


# --------------------------------------------------------------------------------------- alerts

ALERT_CATEGORIES: dict[str, tuple[str, ...]] = {
    "oomkill": ("OOMKill", "container_oom_events_total", "last_terminated_reason.*OOMKilled"),
    "unschedulable": (
        "Unschedulable",
        "kube_pod_status_unschedulable",
        "PodNotScheduled",
        "FailedScheduling",
    ),
    "node-cpu": ("node_cpu_seconds_total", "NodeCPU", "NodeHighCPU", "instance:node_cpu"),
    "pvc-capacity": (
        "kubelet_volume_stats_available_bytes",
        "kubelet_volume_stats_used_bytes",
        "PersistentVolumeFillingUp",
        "VolumeFull",
        "PVCFull",
    ),
    "cronjob-failure": (
        "KubeJobFailed",
        "kube_job_status_failed",
        "kube_job_failed",
        "CronJobFailed",
        "kube_cronjob_status_last_successful_time",
    ),
    "cert-expiry": (
        "certmanager_certificate_expiration",
        "CertificateExpir",
        "probe_ssl_earliest_cert_expiry",
        "ssl_cert_not_after",
        "x509",
    ),
}
RULE_SHIPPING_CHARTS = frozenset({"kube-prometheus-stack", "prometheus", "victoria-metrics-k8s-stack"})
"""Charts that install their own alert rules, which the inventory does not render."""
_CATEGORY_PATTERNS = {
    name: re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    for name, patterns in ALERT_CATEGORIES.items()
}


def _covers(category: str, rule: AlertRule) -> bool:
    pattern = _CATEGORY_PATTERNS[category]
    return bool(pattern.search(rule.alert) or pattern.search(rule.expr))


@detector("REL-ALERT-GAPS")
def alert_gaps(ctx: CheckContext) -> Detection:
    """Essential alert categories (OOM kills, unschedulable pods, node CPU, PVC capacity, failing Jobs
    and CronJobs, certificate expiry) that no wired alert rule covers. A rule covers a category when
    its alert name or expr matches one of the category's patterns (case-insensitive). Rules in files
    that no kustomization references (wired=False) are not coverage: they never load (that is
    MNT-ALERTS-NOT-WIRED's finding). Rules read from the cluster are applied, so they count.
    One location per missing category at the first alert rule's source ("-" when there is none).
    Rules a chart ships itself (kube-prometheus-stack's defaultRules) are not in the inventory; when
    such a chart is deployed the note says so. total = 6 categories.
    """
    inventory = ctx.inventory
    rules = list(inventory.code.alert_rules) + (
        list(inventory.live.alert_rules) if inventory.live is not None else []
    )
    wired = [r for r in rules if r.wired]
    ref = str(rules[0].source) if rules else "-"
    unwired = len(rules) - len(wired)
    detail = f"no wired alert rule matches ({len(wired)} wired, {unwired} not wired)"
    locations = [
        Location(ref=ref, subject=f"alert-category/{category}", detail=detail)
        for category in ALERT_CATEGORIES
        if not any(_covers(category, rule) for rule in wired)
    ]
    releases = list(inventory.code.helm_releases) + (
        list(inventory.live.helm_releases) if inventory.live is not None else []
    )
    charts = sorted({r.chart for r in releases if r.chart in RULE_SHIPPING_CHARTS})
    note = (
        f"{', '.join(charts)} is deployed: rules its chart ships (defaultRules) are not in the inventory; "
        "check whether they cover a missing category"
        if charts and locations
        else None
    )
    return Detection(count=len(locations), total=len(ALERT_CATEGORIES), locations=locations, note=note)
