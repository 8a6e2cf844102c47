"""Print one check's number over the estate's objects joined with a cluster's, as the checks join them.

A reader's script (the standard library and PyYAML only, like ``objects_count.py``, whose counting
rules it reuses): the code objects come from ``k8s_objects.py`` (YAML documents and Terraform
``kubernetes_*`` resources), the live ones from ``kubectl get ... -A -o json`` output, a snapshot's
files of the same form, or stdin (``-``).

    python3 joined_count.py ROOT CHECK[:MEASURE] [--live FILE ...] [SKIP_DIR ...]   # no --live: code only
    kubectl get deployments.apps,namespaces -A -o json | python3 joined_count.py ROOT CHECK --live -

The join, written again from the catalog's ``counts:`` rules:

* a Deployment, StatefulSet, DaemonSet or CronJob seen live counts once: from the code when the code
  defines the same kind/namespace/name; live Pods, ReplicaSets and Jobs are a controller's runtime
  children, never a workload of their own;
* a Namespace counts once by name, the code's first;
* every other object (PodDisruptionBudget, HorizontalPodAutoscaler, NetworkPolicy, ResourceQuota,
  LimitRange, PersistentVolumeClaim) counts from both sides;
* REL-PVC-NO-BACKUP: ``backup_count.py`` (claims, backup jobs, coverage);
* SEC-NO-IMAGE-VERIFY: ``ci_count.py``'s rule, the cluster's admission policies verifying too;
* the Helm releases a namespace runs: Terraform ``helm_release`` (its ``namespace``, else
  ``default``), Flux ``HelmRelease`` and Argo CD ``Application`` chart sources (their destination).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backup_count import pvc_no_backup
from ci_count import no_image_verify
from k8s_objects import REFERENCE, meta, objects, read_hcl, terraform_objects, variables, walk
from objects_count import CHECKS, SYSTEM, WORKLOADS, Obj, d, group, kinds, seq

LIVE_WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob")
NETPOL = {
    ("NetworkPolicy", "networking.k8s.io"),
    ("NetworkPolicy", "projectcalico.org"),
    ("NetworkPolicy", "crd.projectcalico.org"),
    ("CiliumNetworkPolicy", "cilium.io"),
}
"""Namespaced network policies (a Terraform ``kubernetes_network_policy`` has no apiVersion: Kubernetes')."""
RUNTIME = {"Pod", "ReplicaSet", "Job"}
MANAGER_LABELS = (
    "app.kubernetes.io/managed-by",
    "helm.sh/chart",
    "argocd.argoproj.io/instance",
    "kustomize.toolkit.fluxcd.io/name",
    "helm.toolkit.fluxcd.io/name",
)


def key(o: Obj) -> tuple[Any, Any, Any]:
    m = meta(o)
    return (o.get("kind"), m.get("namespace"), m.get("name"))


def read_live(sources: list[str]) -> list[Obj]:
    """The items of each ``kubectl get -o json`` output (a List, or one object), ``-`` for stdin."""
    found: list[Obj] = []
    for source in sources:
        try:
            # batch.py: the same List, each type's JSON parsed once for all of its commands
            doc = getattr(sys.stdin, "parsed", None) if source == "-" else None
            if doc is None:
                text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
                doc = json.loads(text) if text.strip() else {"items": []}
        except (OSError, ValueError) as exc:  # its text (a secret?) is never printed, the type only
            raise SystemExit(f"joined_count.py: cannot read {source}: {type(exc).__name__}") from None
        items = doc.get("items") if isinstance(doc, dict) and "items" in doc else [doc]
        found += [o for o in items or [] if isinstance(o, dict) and isinstance(o.get("kind"), str)]
    return found


def joined(code: list[Obj], live: list[Obj]) -> list[Obj]:
    """The code's objects, then the live ones the join keeps (see the module's docstring)."""
    defined = {key(o) for o in code if o.get("kind") in WORKLOADS}
    named = {meta(o).get("name") for o in code if o.get("kind") == "Namespace"}
    kept = []
    for o in live:
        kind = o.get("kind")
        if kind in RUNTIME or (kind in LIVE_WORKLOADS and key(o) in defined):
            continue
        if kind == "Namespace" and meta(o).get("name") in named:
            continue
        kept.append(o)
    return code + kept


def code_releases(
    root: Path, skip: tuple[str, ...], code: list[Obj], manifests: list[Obj] | None = None
) -> list[tuple[Any, Any]]:
    """(name, namespace) of the code's Helm releases: Terraform, Flux, Argo CD chart sources;
    ``manifests`` gets the Terraform ``kubernetes_manifest`` objects."""
    found, made = terraform_releases(root, skip)
    if manifests is not None:
        manifests += made
    return found + yaml_releases(code)


def terraform_releases(root: Path, skip: tuple[str, ...]) -> tuple[list[tuple[Any, Any]], list[Obj]]:
    """(name, namespace) of the Terraform ``helm_release`` resources (their ``namespace``, else
    ``default``), and the ``kubernetes_manifest`` objects: read once per estate and interpreter, as
    ``k8s_objects.objects`` (``batch.py`` runs this script once per check: see ``__main__`` below),
    new lists each call."""
    key = (str(root), skip)
    if key not in _TERRAFORM:
        _TERRAFORM[key] = _terraform_releases(root, skip)
    found, manifests = _TERRAFORM[key]
    return list(found), list(manifests)


_TERRAFORM: dict[tuple[str, tuple[str, ...]], tuple[list[tuple[Any, Any]], list[Obj]]] = {}


def _terraform_releases(root: Path, skip: tuple[str, ...]) -> tuple[list[tuple[Any, Any]], list[Obj]]:
    found: list[tuple[Any, Any]] = []
    manifests: list[Obj] = []
    stacks: dict[Path, list[Path]] = {}
    for path in walk(root, skip):
        if path.suffix == ".tf":
            stacks.setdefault(path.parent, []).append(path)
    for stack, files in stacks.items():
        inputs = variables(stack)
        addressed: dict[str, Obj] = {}
        for path in files:
            addressed.update(terraform_objects(path, inputs))
        manifests += [o for a, o in addressed.items() if a.startswith("kubernetes_manifest.")]
        for path in files:
            for name, labels, body in read_hcl(path, inputs):
                if name != "resource" or labels[:1] != ["helm_release"] or not isinstance(body, list):
                    continue
                attrs = {
                    k: v
                    for k, _, v in body
                    if not isinstance(v, list) or not v or not isinstance(v[0], tuple)
                }
                namespace = attrs.get("namespace", "default")
                ref = REFERENCE.match(namespace) if isinstance(namespace, str) else None
                if ref is not None and ref.group(1) in addressed:
                    namespace = meta(addressed[ref.group(1)]).get("name")
                found.append((attrs.get("name"), namespace))
    return found, manifests


def yaml_releases(objs: list[Obj]) -> list[tuple[Any, Any]]:
    """(name, namespace) of Flux HelmReleases (their own namespace) and Argo CD chart sources."""
    found = [
        (meta(h).get("name"), meta(h).get("namespace"))
        for h in kinds(objs, "HelmRelease")
        if str(h.get("apiVersion", "")).startswith("helm.toolkit.fluxcd.io/")
    ]
    for app in kinds(objs, "Application"):
        if not str(app.get("apiVersion", "")).startswith("argoproj.io/"):
            continue
        spec = d(app, "spec")
        namespace = d(spec, "destination").get("namespace") or meta(app).get("namespace")
        sources = ([spec["source"]] if isinstance(spec.get("source"), dict) else []) + seq(spec, "sources")
        found += [
            (meta(app).get("name"), namespace) for s in sources if isinstance(s, dict) and s.get("chart")
        ]
    return found


class Estate:
    """The joined objects and the releases of one run of the script."""

    def __init__(self, root: Path, skip: tuple[str, ...], live: list[Obj]) -> None:
        self.root, self.skip = root, skip
        self.code = objects(root, skip)
        self.live = live
        self.objs = joined(self.code, live)
        self.manifests: list[Obj] = []
        self.releases = code_releases(root, skip, self.code, self.manifests)
        self.live_releases = yaml_releases(live)


def ns_of(values: list[Any]) -> set[Any]:
    return {v for v in values if v} - SYSTEM


def no_netpol(e: Estate) -> int:
    """Workload namespaces (joined workloads, code releases) no namespaced network policy covers."""
    used = ns_of([meta(w).get("namespace") for w in kinds(e.objs, *WORKLOADS)] + [n for _, n in e.releases])
    policies = [p for p in e.objs if (p.get("kind"), group(p) or "networking.k8s.io") in NETPOL]
    return len(used - {meta(p).get("namespace") for p in policies})


def no_quota(e: Estate) -> int:
    """Workload namespaces (joined workloads, code and live releases) with no quota nor LimitRange."""
    releases = [n for _, n in e.releases + e.live_releases]
    used = ns_of([meta(w).get("namespace") for w in kinds(e.objs, *WORKLOADS)] + releases)
    return len(used - {meta(q).get("namespace") for q in kinds(e.objs, "ResourceQuota", "LimitRange")})


def managed(o: Obj) -> bool:
    labels, notes = meta(o).get("labels") or {}, meta(o).get("annotations") or {}
    return (
        any(labels.get(k) for k in MANAGER_LABELS)
        or bool(notes.get("meta.helm.sh/release-name") or notes.get("argocd.argoproj.io/tracking-id"))
        # a k3s packaged component (coredns, traefik): k3s applies it again from its addon manifests
        or str(notes.get("objectset.rio.cattle.io/owner-gvk", "")).startswith("k3s.cattle.io/")
        or any(str(k).startswith(("kustomize.toolkit.fluxcd.io/", "helm.toolkit.fluxcd.io/")) for k in labels)
        or bool(seq(meta(o), "ownerReferences"))
    )


def live_only(e: Estate) -> list[Obj]:
    """Live workloads no code workload defines (same kind/namespace/name, or kind/name unnamespaced)."""
    defined = {key(o) for o in e.code if o.get("kind") in WORKLOADS}
    return [
        o
        for o in kinds(e.live, *LIVE_WORKLOADS)
        if key(o) not in defined and (o["kind"], None, meta(o).get("name")) not in defined
    ]


def unmanaged(e: Estate) -> list[Obj]:
    """Live-only workloads with no manager mark, no code Helm release named like them, no owner."""

    def released(o: Obj) -> bool:
        name, namespace = str(meta(o).get("name") or ""), meta(o).get("namespace")
        return any(
            ns == namespace and rel and (name == rel or name.startswith(f"{rel}-")) for rel, ns in e.releases
        )

    return [o for o in live_only(e) if not managed(o) and not released(o)]


def drift(e: Estate) -> int:
    """Code workloads seen live whose replicas, set on both sides, differ; none an HPA targets."""
    live = {key(o): o for o in e.live if o.get("kind") in WORKLOADS}
    scaled = {
        (
            meta(h).get("namespace"),
            d(d(h, "spec"), "scaleTargetRef").get("kind"),
            d(d(h, "spec"), "scaleTargetRef").get("name"),
        )
        for h in kinds(e.code + e.live, "HorizontalPodAutoscaler")
    }
    count = 0
    for w in kinds(e.code, *WORKLOADS):
        seen = live.get(key(w))
        code_n, live_n = d(w, "spec").get("replicas"), d(seen, "spec").get("replicas") if seen else None
        if not (isinstance(code_n, int) and isinstance(live_n, int)) or code_n == live_n:
            continue
        ns, name = meta(w).get("namespace"), meta(w).get("name")
        count += (ns, w["kind"], name) not in scaled and (ns, None, name) not in scaled
    return count


JOINED: dict[str, Callable[[Estate], int]] = {
    "SEC-NO-NETPOL": no_netpol,
    "SCA-NO-QUOTA": no_quota,
    "DEC-LIVE-UNMANAGED": lambda e: len(unmanaged(e)),
    "DEC-LIVE-UNMANAGED:managed": lambda e: len(live_only(e)) - len(unmanaged(e)),
    "DEC-LIVE-DRIFT": drift,
    "SEC-NO-IMAGE-VERIFY": lambda e: no_image_verify(e.root, e.skip, e.live),
    "REL-PVC-NO-BACKUP": lambda e: pvc_no_backup(e.code, e.live, kinds(e.objs, *WORKLOADS), e.manifests),
}


def main(argv: list[str]) -> int:
    known = set(CHECKS) | set(JOINED)
    if len(argv) < 2 or argv[1] not in known:
        usage = "usage: joined_count.py ROOT CHECK[:MEASURE] [--live FILE ...] [SKIP_DIR ...]"
        print(f"{usage}; CHECK one of {sorted(known)}", file=sys.stderr)
        return 2
    rest, live_sources, skip = argv[2:], [], []
    while rest:
        arg = rest.pop(0)
        if arg == "--live" and rest:
            live_sources.append(rest.pop(0))
        else:
            skip.append(arg)
    estate = Estate(Path(argv[0]), tuple(skip), read_live(live_sources))
    check = argv[1]
    print(JOINED[check](estate) if check in JOINED else CHECKS[check](estate.objs))
    return 0


if __name__ == "__main__":
    # this file's module imported, and its ``main`` run: where the script runs again in the same
    # interpreter (``batch.py``: one command per check), the module is imported already, and what
    # ``terraform_releases`` read stays read
    import joined_count

    sys.exit(joined_count.main(sys.argv[1:]))
