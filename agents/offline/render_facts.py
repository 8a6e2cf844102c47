"""What the Helm renders and the Kustomize and GitOps builds of an estate add that no file a reader's
command reads holds as written.

The numbers challenger's ``when:`` facts (``Recounter.counts``): a command over the files as written is
not exact where a render or a build added what its number reads, or the namespace it reads.
"""

from __future__ import annotations

import posixpath

from tools.checks.reproduce import BUILT, GITOPS_NAMESPACED, KUSTOMIZED
from tools.inventory.inventory import Records
from tools.inventory.kustomize_scope import kustomize_namespaces
from tools.inventory.models import CodeRef


def rendered_rules(code: Records) -> int:
    """Alert rules of objects the Helm engine rendered (their source is the release's): in no file a
    reader's script reads, so its count of rules is not exact where there are any."""
    releases = {str(r.source) for r in code.helm_renders if r.rendered}
    return sum(1 for rule in code.alert_rules if str(rule.source) in releases)


def rendered_namespaces(code: Records) -> int:
    """Namespaces of objects the Helm engine rendered (their source is the release's): a reader's
    script over the files and their kustomize builds does not see them."""
    releases = {str(r.source) for r in code.helm_renders if r.rendered}
    return sum(1 for ns in code.namespaces if str(ns.source) in releases)


def rendered_releases(code: Records) -> int:
    """Helm releases a render may have added (a chart rendering a HelmRelease or an Application): a
    rendered object's record cites its release's line, so at each render's line, the releases beyond
    those written there. Written there: one per Flux HelmRelease, one per chart source of an Argo CD
    Application or Terraform ``helm_release`` (a chart directory's render, a Kustomize one, has no
    release record of its own, so it vouches for none: a release at its line counts as rendered)."""
    written: dict[str, int] = {}
    for r in code.helm_renders:
        own = r.defined_by == "flux" or (r.defined_by in ("argocd", "terraform") and "://" in r.chart)
        written[str(r.source)] = written.get(str(r.source), 0) + own
    at: dict[str, int] = {}
    for release in code.helm_releases:
        if str(release.source) in written:
            at[str(release.source)] = at.get(str(release.source), 0) + 1
    return sum(max(0, n - written[source]) for source, n in at.items())


OBJECT_RECORDS = (
    "workloads", "pvcs", "namespaces", "pdbs", "hpas", "network_policies", "quotas", "roles",
    "bindings", "policies", "helm_releases",
)  # fmt: skip
"""The records of objects whose namespace a count may read (not a GitOps object's own: a Flux
Kustomization's, an ApplicationSet's namespace is in no count; nor a Secret's: no script count reads it)."""
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def gitops_namespaced(code: Records) -> tuple[set[str], set[str]]:
    """Files a GitOps object deploys into a namespace the files do not say: (those of a Flux
    Kustomization with a ``targetNamespace``, matched by name, so a name two share counts for both;
    those of an Argo CD Application, whose destination namespace goes on objects that name none)."""
    targeted = {k.name for k in code.flux_kustomizations if k.target_namespace}
    flux = {p for d in code.deployed_paths if d.via == "flux" and d.name in targeted for p in d.files}
    argo = {p for d in code.deployed_paths if d.via == "argocd" for p in d.files}
    return flux, argo


def kustomize_facts(code: Records) -> dict[str, int]:
    """What a command over the files as written cannot see of Kustomize: files whose objects a
    kustomization puts in a namespace (``KUSTOMIZED``; only files holding objects a count reads the
    namespace of), objects a build made that no file holds as such (cited at the kustomization:
    ``BUILT``), and of those the Namespaces (``built_namespaces``, a ``no-code:`` condition of the
    counts that read Namespace objects). A Flux Kustomization's ``targetNamespace`` and an Argo CD
    Application's destination namespace put the objects of the files they deploy in a namespace the
    files do not say either (``GITOPS_NAMESPACED``): only a script that works it out is exact then (a
    rendering twin places Flux's objects and the releases; the Namespace reader builds them); the
    plain objects an Argo CD Application deploys no script places (they count as ``KUSTOMIZED``)."""
    renders = {str(r.source) for r in code.helm_renders if r.rendered}
    refs = [
        (name, ref)
        for name in OBJECT_RECORDS
        for record in getattr(code, name)
        if isinstance(ref := getattr(record, "source", None), CodeRef)
    ]
    holding = {ref.path for _, ref in refs}
    # a release's own file, and the objects it rendered (they cite it): what a rendering twin reads
    releases = {ref.path for name, ref in refs if name == "helm_releases" or str(ref) in renders}
    plain = holding - releases
    flux, argo = gitops_namespaced(code)
    namespaced = set(kustomize_namespaces(code))
    built = {
        name: sum(
            1
            for record in getattr(code, name)
            if isinstance(ref := getattr(record, "source", None), CodeRef)
            and posixpath.basename(ref.path) in KUSTOMIZATION_FILES
        )
        for name in OBJECT_RECORDS
    }
    return {
        KUSTOMIZED: len((namespaced & holding) | (argo & plain)),
        GITOPS_NAMESPACED: len((flux & holding) | (argo & releases)),
        BUILT: sum(n for name, n in built.items() if name != "namespaces"),
        "built_namespaces": built["namespaces"],
    }
