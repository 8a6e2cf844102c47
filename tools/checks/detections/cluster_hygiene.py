"""Leftovers a cluster accumulates: the same app deployed twice, namespaces nothing runs in (Popeye's
unused resources; the seed-001 audit's legacy cloudflared and five abandoned namespaces).
"""

from __future__ import annotations

import re

from domain.findings import Location
from tools.checks.detections.cluster_traffic import pods_unread
from tools.checks.detections.common import SYSTEM_NAMESPACES
from tools.checks.detections.reliability_live import not_applicable
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import Namespace, Workload

ENVIRONMENTS = frozenset(
    {
        "dev",
        "development",
        "test",
        "testing",
        "qa",
        "stage",
        "staging",
        "preprod",
        "prod",
        "production",
        "sandbox",
    }
)
"""Namespace name parts that mark an environment: the same app in ``shop-staging`` and ``shop-prod``
is a promotion pipeline, not a duplicate."""
IN_USE_KINDS = frozenset(
    {"Application", "ApplicationSet", "HelmRelease", "Kustomization", "AppProject"}
    | {"Ingress", "HTTPRoute", "IngressRoute"}
)
"""Objects that mark a namespace as in use even with nothing running: GitOps objects, and routes
(a route to nothing is REL-LIVE-ROUTE-NO-BACKEND's finding: something is meant to be deployed there)."""
NOT_ABANDONED_NAMESPACES = SYSTEM_NAMESPACES | {"default"}
TAGS_SHOWN = 10
"""Copies whose tag a duplicate's detail names; the rest are counted. Every copy has its own location
with this detail, so naming all of them made the report grow with the square of the copies (218
copies of 22 Deployments: 21 MiB of audit.json)."""


def image_repository(image: str | None) -> str | None:
    """``ghcr.io/org/app:1.2@sha256:...`` -> ``ghcr.io/org/app``; a bare name gets Docker Hub's library."""
    if not image:
        return None
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    return name


def _tag(image: str | None) -> str:
    if not image:
        return "?"
    if "@" in image:
        return image.split("@", 1)[1][:19]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else "latest"


def _environment_variants(namespaces: set[str]) -> bool:
    """True when the namespaces differ only by environment parts (``shop-dev`` / ``shop-prod``)."""
    stems = {"-".join(p for p in re.split(r"[-_.]", ns) if p not in ENVIRONMENTS) for ns in namespaces}
    parts = [set(re.split(r"[-_.]", ns)) & ENVIRONMENTS for ns in namespaces]
    return len(stems) == 1 and all(parts)


@detector("MNT-LIVE-DUPLICATE-WORKLOAD")
def duplicate_workloads(ctx: CheckContext) -> Detection:
    """The same app deployed twice: live Deployments of the same name running the same image
    repository in different namespaces (not environment variants such as ``-staging``/``-prod``),
    usually a legacy copy left beside its replacement. One location per copy; the detail names
    the copies' tags (the first ``TAGS_SHOWN`` by namespace, then how many more). total = live
    Deployments."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    deployments = [w for w in live.workloads if w.kind == "Deployment" and w.name]
    groups: dict[tuple[str, str], list[Workload]] = {}
    for w in deployments:
        main = next((c for c in w.containers if not c.init), None)
        repo = image_repository(main.image if main else None)
        if repo is not None:
            groups.setdefault((str(w.name), repo), []).append(w)
    locations = []
    for (name, repo), copies in sorted(groups.items()):
        namespaces = {str(w.namespace) for w in copies}
        if len(namespaces) < 2 or _environment_variants(namespaces):
            continue
        ordered = sorted(copies, key=lambda w: str(w.namespace))
        tags = ", ".join(
            f"{w.namespace}: {_tag(next(c.image for c in w.containers if not c.init))}"
            for w in ordered[:TAGS_SHOWN]
        )
        if len(ordered) > TAGS_SHOWN:
            tags += f", and {len(ordered) - TAGS_SHOWN} more"
        detail = f"{repo} deployed {len(copies)} times ({tags})"
        for w in ordered:
            locations.append(
                Location(ref=str(w.source), subject=f"Deployment/{w.namespace}/{name}", detail=detail)
            )
    return Detection(count=len(locations), total=len(deployments), locations=locations)


@detector("MNT-LIVE-ABANDONED-NAMESPACE")
def abandoned_namespaces(ctx: CheckContext) -> Detection:
    """Namespaces nothing runs in: no pod that has not finished, no CronJob, no DaemonSet, no workload
    asking for replicas, no GitOps object or route, and no workload scaled to 0 on purpose. Completed Jobs
    and left-over Services, ConfigMaps and Secrets do not count as use (the detail lists what is
    left). kube-* and default are never abandoned. total = namespaces."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    used: set[str] = set()
    used |= {p.namespace for p in live.pods if p.phase not in ("Succeeded", "Failed")}
    if pods_unread(live):
        return Detection(count=0, applicable=False, note="unknown: the cluster's pods could not be read")
    for w in live.workloads:
        if w.kind in ("CronJob", "DaemonSet") or (
            w.kind in ("Deployment", "StatefulSet") and w.replicas != 0
        ):
            used.add(str(w.namespace))
    used |= {z.namespace for z in live.scaled_to_zero if z.on_purpose}
    used |= {str(o.namespace) for o in live.objects if o.kind in IN_USE_KINDS}
    left: dict[str, dict[str, int]] = {}
    for obj in live.objects:
        if obj.namespace:
            kinds = left.setdefault(obj.namespace, {})
            kinds[obj.kind] = kinds.get(obj.kind, 0) + 1
    locations = []
    first: dict[str, Namespace] = {}
    for n in live.namespaces:
        if n.name:
            first.setdefault(str(n.name), n)
    names = sorted(str(ns.name) for ns in live.namespaces if ns.name)
    for name in names:
        if name in used or name in NOT_ABANDONED_NAMESPACES:
            continue
        ns = first[name]
        kinds = left.get(name, {})
        what = (
            ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()) if k not in ("Pod", "Event")) or "nothing"
        )
        locations.append(Location(ref=str(ns.source), subject=f"Namespace/{name}", detail=f"left: {what}"))
    return Detection(count=len(locations), total=len(names), locations=locations)
