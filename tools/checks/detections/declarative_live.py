"""Declarative checks that compare the code with a cluster (live or snapshot); cluster only.

Counting rules:

* DEC-ARGO-OUT-OF-SYNC: live Argo CD Applications whose sync status is OutOfSync or Unknown, or whose
  health is Degraded, Missing or Unknown. total = live Applications. ref = the Application in code
  when the estate defines it (same namespace/name), else the live object.
* DEC-LIVE-UNMANAGED: live Deployments, StatefulSets, DaemonSets and CronJobs that no code workload
  defines (same kind/namespace/name; a code workload without a namespace matches on kind/name) and
  that nothing declarative manages. Managed means any of:
  - a manager mark: ``LiveObject.managed_by`` (the ``app.kubernetes.io/managed-by`` label, Helm's
    ``meta.helm.sh/release-name`` annotation, Argo CD's tracking label/annotation, Flux's labels), or
    the ``helm.sh/chart``, ``argocd.argoproj.io/instance``, ``kustomize.toolkit.fluxcd.io/name`` or
    ``helm.toolkit.fluxcd.io/name`` label on the workload;
  - a Helm release in code deploys it: same namespace and the workload is named like the release
    (``<release>`` or ``<release>-*``);
  - another object owns it: its first ``metadata.ownerReferences`` entry, read with the cluster when
    it was loaded (``LiveObject.owner``), not listed again.
  A distribution addon (k3s's coredns, marked ``objectset.rio.cattle.io/*``) is not excluded: the
  estate does not define it, and changes to it are made by hand (the bundled manifest is re-applied on
  upgrade, undoing them). total = live workloads of those kinds; measure ``managed`` = live-only ones
  excluded as managed.
* DEC-LIVE-DRIFT: linked workloads (code and live) whose replicas are set on both sides and differ,
  except workloads an HPA (code or live) targets. total = linked workloads with both values set.
"""

from __future__ import annotations

from collections.abc import Callable

from domain.findings import Location
from tools.checks.detections.common import line_location, subject
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory import indexes
from tools.inventory.indexes import WorkloadKey
from tools.inventory.inventory import Inventory, LiveState
from tools.inventory.models import HelmRelease, Workload

NO_CLUSTER = "no cluster given (run with --cluster)"
UNMANAGED_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob")
OUT_OF_SYNC = frozenset({"OutOfSync", "Unknown"})
UNHEALTHY = frozenset({"Degraded", "Missing", "Unknown"})
MANAGER_LABELS = {
    "app.kubernetes.io/managed-by": None,  # the value names the manager
    "helm.sh/chart": "Helm",
    "argocd.argoproj.io/instance": "Argo CD",
    "kustomize.toolkit.fluxcd.io/name": "Flux",
    "helm.toolkit.fluxcd.io/name": "Flux",
}


@detector("DEC-ARGO-OUT-OF-SYNC")
def argo_out_of_sync(ctx: CheckContext) -> Detection:
    """Live Applications with sync OutOfSync/Unknown or health Degraded/Missing/Unknown."""
    live = ctx.inventory.live
    if live is None:
        return Detection(count=0, applicable=False, note=NO_CLUSTER)
    apps = live.argo_apps
    if not apps:
        return Detection(count=0, applicable=False, note="no Argo CD Applications in the cluster")
    in_code = {(a.namespace, a.name): a for a in ctx.inventory.code.argo_apps}
    locations = []
    for app in apps:
        if app.sync_status not in OUT_OF_SYNC and app.health_status not in UNHEALTHY:
            continue
        code = in_code.get((app.namespace, app.name))
        locations.append(
            Location(
                ref=str(code.source if code is not None else app.source),
                subject=f"Application/{app.namespace or '-'}/{app.name or '?'}",
                detail=f"live: sync {app.sync_status or 'unknown'}, health {app.health_status or 'unknown'}",
            )
        )
    return Detection(count=len(locations), total=len(apps), locations=locations)


# ------------------------------------------------------------------------------------ unmanaged


def _manager(inventory: Inventory, live: LiveState, workload: Workload) -> str | None:
    """Who manages a live-only workload declaratively, or None."""
    return _manager_of(
        indexes.live_managers(live),
        lambda: indexes.releases_by_namespace(inventory.code),
        workload,
        workload.key,
    )


def _manager_of(
    marks: dict[WorkloadKey, str],
    releases: Callable[[], dict[str | None, list[HelmRelease]]],
    workload: Workload,
    key: WorkloadKey,
) -> str | None:
    """``_manager`` with its indexes looked up once by the caller (the releases only when needed, as
    before: what a check reads is watched)."""
    marked = marks.get(key)
    if marked:
        return marked
    for label, manager in MANAGER_LABELS.items():
        value = workload.labels.get(label)
        if value:
            return manager or value
    name = workload.name or ""
    for release in releases().get(workload.namespace, []):
        if release.name and (name == release.name or name.startswith(f"{release.name}-")):
            return f"Helm release {release.name} in code"
    return None


@detector("DEC-LIVE-UNMANAGED")
def live_unmanaged(ctx: CheckContext) -> Detection:
    """Live D/STS/DS/CronJobs that no code defines and no Helm/Argo CD/Flux mark or owner manages."""
    live = ctx.inventory.live
    if live is None:
        return Detection(count=0, applicable=False, note=NO_CLUSTER)
    candidates = [(w, w.key) for w in live.workloads if w.kind in UNMANAGED_KINDS]
    # the indexes looked up once, not once per workload through the runner's watch (issue 13); each
    # read only when the rules before it leave a workload, as the per-workload calls did
    code = ctx.inventory.code if candidates else None
    keys = indexes.workload_keys(code) if code is not None else frozenset()
    live_only = [(w, k) for w, k in candidates if not (k in keys or (k[0], None, k[2]) in keys)]
    marks = indexes.live_managers(live) if live_only else {}
    grouped: list[dict[str | None, list[HelmRelease]]] = []

    def releases() -> dict[str | None, list[HelmRelease]]:
        if not grouped:
            grouped.append(indexes.releases_by_namespace(ctx.inventory.code))
        return grouped[0]

    unmanaged = [w for w, k in live_only if _manager_of(marks, releases, w, k) is None]
    if unmanaged:  # the owners were read with the cluster, once: no second listing of each kind
        owners = indexes.live_owners(live)
        unmanaged = [w for w in unmanaged if (w.kind, w.namespace, w.name or "") not in owners]
    return Detection(
        count=len(unmanaged),
        total=len(candidates),
        locations=[
            Location(
                ref=str(w.source),
                subject=subject(w),
                detail="live only: no code workload, no Helm/Argo CD/Flux mark, no owner",
            )
            for w in unmanaged
        ],
        measures={"managed": len(live_only) - len(unmanaged)},
    )


# ---------------------------------------------------------------------------------------- drift


@detector("DEC-LIVE-DRIFT")
def live_drift(ctx: CheckContext) -> Detection:
    """Links whose replicas are set in code and live and differ, unless an HPA targets the workload."""
    inventory = ctx.inventory
    if inventory.live is None:
        return Detection(count=0, applicable=False, note=NO_CLUSTER)
    scaled = {
        (hpa.namespace, hpa.target_kind, hpa.target_name) for hpa in inventory.code.hpas + inventory.live.hpas
    }
    compared = [
        link for link in inventory.links if link.replicas_code is not None and link.replicas_live is not None
    ]
    # the linked code workload, to cite its replicas line: by its key and its source, since one base (or
    # one Helm release) is the source of several workloads
    written = {(w.key, str(w.source)): w for w in inventory.code.workloads}
    locations = []
    for link in compared:
        if (
            link.replicas_code == link.replicas_live
            or (link.namespace, link.kind, link.name) in scaled
            or (link.namespace, None, link.name) in scaled
        ):
            continue
        detail = f"replicas: code {link.replicas_code}, live {link.replicas_live}"
        workload = written.get(((link.kind, link.namespace, link.name), str(link.code)))
        if workload is not None:
            locations.append(line_location(workload, ("replicas",), detail))
        else:
            subject = f"{link.kind}/{link.namespace or '-'}/{link.name}"
            locations.append(Location(ref=str(link.code), subject=subject, detail=detail))
    return Detection(count=len(locations), total=len(compared), locations=locations)
