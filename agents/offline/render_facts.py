"""What the Helm renders of an estate add that no file a reader's command reads holds as written.

The numbers challenger's ``when:`` facts (``Recounter.counts``): a command over the files as written is
not exact where a render added what its number reads.
"""

from __future__ import annotations

from tools.inventory.inventory import Records


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
