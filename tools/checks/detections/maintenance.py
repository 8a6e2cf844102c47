"""Detections of the maintenance concern (see catalog.yaml for the metadata).

Counting rules, one per check:

* MNT-IMAGE-LATEST: containers of code workloads (init included; the check reads the repo) whose
  image has the tag ``latest``, has neither a tag nor a digest (a registry port is not a tag:
  ``registry:5000/app`` is untagged), or is written with a variable whose resolved value ends in
  ``:latest``. An expression that did not resolve is not guessed at. total = containers with an
  image.
* MNT-HELM-UNPINNED: Helm releases in code (Terraform, Flux, Argo CD) with no chart version, a version
  containing ``latest``, or a range/wildcard (``*``, an ``x`` component, ``>``, ``<``, ``~``, ``^``,
  ``||``, `` - ``). A Flux ``spec.chartRef`` release is judged by its source's ref (an
  ``OCIRepository`` pinned by ``ref.tag`` or ``ref.digest`` is pinned; one with no ref follows the
  newest tag; one not in the estate is not judged). total = Helm releases in code. ref = the version
  line (``version:``, ``targetRevision:``; the source's ref line for chartRef) when one is written,
  else the release (block or document).
* MNT-NO-DEP-BOT: 1 when no Renovate or Dependabot configuration covers an infrastructure ecosystem
  (``INFRA_ECOSYSTEMS``: Terraform, Docker images, Helm, Kubernetes, Flux, Argo CD; a Renovate config
  without enabledManagers covers all), else 0. Configurations are read where the bots read them
  (``parsers.bot_config``: Renovate's five names at the root, in ``.github/`` or ``.gitlab/``, the root
  ``package.json``'s ``renovate`` key, ``.github/dependabot.yml``); a self-hosted Renovate (a workload,
  code or live, running the ``renovate/renovate`` or ``renovatebot/renovate`` image, or a Helm release
  of the ``renovate`` chart) counts as a bot covering all. Not counted: a Renovate file anywhere else,
  a ``package.json`` without the key, a workload merely *named* renovate. A Dependabot that only bumps
  GitHub Actions counts: nothing updates the charts, images, modules or providers.
* MNT-MODULE-NO-REF: git module sources without ``?ref=``. total = git module sources. ref = the
  ``source =`` line.
* MNT-PROVIDER-UNCONSTRAINED: ``required_providers`` entries without a version. total = entries.
* MNT-ALERTS-NOT-WIRED: alert rules whose file no kustomization references. total = alert rules.

The checks that search the repo live in ``maintenance_repo.py``.
"""

from __future__ import annotations

import re

from domain.concerns import agent_label
from domain.findings import Location
from tools.checks.detections.common import image_location, workloads
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import CodeRef, Container, FluxSource, HelmRelease
from tools.inventory.parsers import bot_locations

_RANGE = re.compile(r"[*<>~^]|\|\||\s-\s|(?:^|\.)[xX](?:\.|$)")
_EXPRESSION = re.compile(r"\$\{|\{\{|%\{|^(?:var|local|module|data|each)\.")
_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")
_RENOVATE_IMAGE = re.compile(r"(?:^|/)renovate(?:bot)?/renovate(?:[:@]|$)")


def split_image(image: str) -> tuple[str | None, bool]:
    """(tag, has digest) of an image reference; the tag is after a ':' in the last path segment."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    return (tag or None), bool(digest)


def image_problem(container: Container) -> str | None:
    """Why an image moves: 'tag latest', 'no tag or digest', 'tag variable defaults to latest'; or None.

    An image written as an expression (``var.image``, ``"app:${var.tag}"``) is judged by its resolved
    value; one that did not resolve is not judged.
    """
    written = container.image
    if not written:
        return None
    resolved = container.image_resolved
    variable = resolved is not None and resolved != written
    if resolved is None and _EXPRESSION.search(written):
        return None  # unresolved expression: not guessed
    tag, digest = split_image(resolved if variable and resolved is not None else written)
    if digest:
        return None
    if tag is None:
        return "no tag or digest"
    if tag == "latest":
        return "tag variable defaults to latest" if variable else "tag latest"
    return None


@detector("MNT-IMAGE-LATEST")
def image_latest(ctx: CheckContext) -> Detection:
    """Containers with :latest, no tag and no digest, or a tag variable resolving to latest."""
    locations: list[Location] = []
    total = 0
    for workload in ctx.inventory.code.workloads:
        for container in workload.containers:
            if not container.image:
                continue
            total += 1
            problem = image_problem(container)
            if problem is not None:
                shown = container.image_resolved or container.image
                locations.append(image_location(workload, container, f"{problem}: {shown}"))
    if total == 0:
        return Detection(count=0, applicable=False, note="no container images in the estate")
    return Detection(count=len(locations), total=total, locations=locations)


# ------------------------------------------------------------------------------------------ Helm


def chart_source(release: HelmRelease, sources: list[FluxSource]) -> FluxSource | None:
    """The Flux source a ``spec.chartRef`` names (an ``OCIRepository``), found in the estate, or None.

    The ref's namespace defaults to the release's; a release whose namespace is set elsewhere (a Flux
    Kustomization's targetNamespace) matches a source of that name in any namespace."""
    if release.chart_ref is None:
        return None
    parts = release.chart_ref.split("/")
    kind, name = parts[0], parts[-1]
    namespace = parts[1] if len(parts) == 3 else release.namespace
    for source in sources:
        if (
            source.kind == kind
            and source.name == name
            and (namespace is None or source.namespace in (None, namespace))
        ):
            return source
    return None


def helm_problem(release: HelmRelease, source: FluxSource | None = None) -> str | None:
    """What is unpinned about a release; a ``chartRef`` release is judged by its source's ref.

    A chartRef whose source is not in the estate is not judged (its version is not known here)."""
    if release.chart_ref is not None:
        if source is None:
            return None
        if source.ref is None:
            return f"{release.chart_ref} has no ref (tag, semver or digest): the newest tag"
        return None if source.ref.startswith("sha256:") else _version_problem(source.ref)
    return _version_problem(release.version)


def _version_problem(version: str | None) -> str | None:
    if version is None or not version.strip():
        return "no chart version"
    if "latest" in version.lower():
        return f"version {version} contains latest"
    if _RANGE.search(version):
        return f"version {version} is a range"
    return None


def version_ref(release: HelmRelease, source: FluxSource | None = None) -> str | None:
    if source is not None and isinstance(source.source, CodeRef):
        return f"{source.source.path}:{source.ref_line or source.source.line}"
    if isinstance(release.source, CodeRef) and release.version_line is not None:
        return f"{release.source.path}:{release.version_line}"
    return None


@detector("MNT-HELM-UNPINNED")
def helm_unpinned(ctx: CheckContext) -> Detection:
    """Helm releases in code with no version, a *latest* version or a range/wildcard."""
    releases = ctx.inventory.code.helm_releases
    if not releases:
        return Detection(count=0, applicable=False, note="no Helm releases in the estate")
    sources = ctx.inventory.code.flux_sources
    locations = []
    for release in releases:
        source = chart_source(release, sources)
        if (problem := helm_problem(release, source)) is None:
            continue
        locations.append(
            Location(
                ref=version_ref(release, source) or str(release.source),
                subject=f"HelmRelease/{release.namespace or '-'}/{release.name or '?'}",
                detail=f"{problem}; chart {release.chart or '?'} ({release.defined_by})",
            )
        )
    return Detection(count=len(locations), total=len(releases), locations=locations)


# --------------------------------------------------------------------------- dependency hygiene


INFRA_ECOSYSTEMS = frozenset(
    {"all", "terraform", "terragrunt", "docker", "dockerfile", "docker-compose", "helm", "helmv3",
     "helm-values", "helmfile", "kubernetes", "kustomize", "flux", "argocd"}
)  # fmt: skip


def self_hosted_renovate(ctx: CheckContext) -> list[str]:
    """Refs of a self-hosted Renovate: a workload (a CronJob, usually) running Renovate's image, or a
    Helm release of its chart. A workload only named renovate is not one."""
    found = [
        str(c.source)
        for w in workloads(ctx.inventory)
        for c in w.containers
        if c.image and _RENOVATE_IMAGE.search(c.image_resolved or c.image)
    ]
    found += [
        str(r.source)
        for r in ctx.inventory.code.helm_releases
        if (r.chart or "").rsplit("/", 1)[-1] == "renovate"
    ]
    return found


@detector("MNT-NO-DEP-BOT")
def no_dependency_bot(ctx: CheckContext) -> Detection:
    """1 when no Renovate/Dependabot config covers an infrastructure ecosystem, else 0."""
    bots = ctx.inventory.code.dependency_bots
    if any(INFRA_ECOSYSTEMS & set(bot.ecosystems) for bot in bots) or self_hosted_renovate(ctx):
        return Detection(count=0)
    if not bots:
        where = Location(ref="-", subject="dependency bot", detail=f"none of {bot_locations()}")
        return Detection(count=1, locations=[where])
    bot = bots[0]
    ev = ctx.toolbox.call(
        "repo_search",
        {"pattern": r"package-ecosystem|enabledManagers", "path": bot.source.path},
        agent=agent_label("research", "maintenance"),
    )
    data = ctx.toolbox.ledger.data(ev.id)
    lines = [
        h["line"] for h in (data if isinstance(data, list) else []) if isinstance(h, dict) and "line" in h
    ]
    covered = ", ".join(sorted({e for b in bots for e in b.ecosystems})) or "nothing"
    where = Location(
        ref=f"{bot.source.path}:{lines[0]}" if lines else str(bot.source),
        subject=f"{bot.tool} ({bot.source.path})",
        detail=f"covers only {covered}; nothing updates Terraform, Helm charts or container images",
    )
    return Detection(count=1, locations=[where], evidence=[ev.id])


@detector("MNT-MODULE-NO-REF")
def module_no_ref(ctx: CheckContext) -> Detection:
    """Git module sources without ?ref= (they follow the default branch)."""
    git = [m for m in ctx.inventory.code.modules if m.kind == "git"]
    if not git:
        return Detection(count=0, applicable=False, note="no git module sources in the estate")
    locations = [
        Location(
            ref=f"{m.source.path}:{m.source_line}" if m.source_line else str(m.source),
            subject=f"module.{m.name}",
            detail=f"no ?ref= in {_USERINFO.sub('', m.source_url)}",
        )
        for m in git
        if m.ref is None
    ]
    return Detection(count=len(locations), total=len(git), locations=locations)


@detector("MNT-PROVIDER-UNCONSTRAINED")
def provider_unconstrained(ctx: CheckContext) -> Detection:
    """required_providers entries without a version constraint."""
    providers = ctx.inventory.code.providers
    if not providers:
        return Detection(count=0, applicable=False, note="no required_providers in the estate")
    locations = [
        Location(
            ref=str(p.source),
            subject=f"provider {p.name}" + (f" ({p.provider_source})" if p.provider_source else ""),
            detail="no version constraint",
        )
        for p in providers
        if p.constraint is None
    ]
    return Detection(count=len(locations), total=len(providers), locations=locations)


# --------------------------------------------------------------------------------------- alerts


@detector("MNT-ALERTS-NOT-WIRED")
def alerts_not_wired(ctx: CheckContext) -> Detection:
    """Alert rules whose file is referenced by no kustomization (so they are never applied)."""
    rules = ctx.inventory.code.alert_rules
    if not rules:
        return Detection(count=0, applicable=False, note="no alert rules in the estate")
    locations = [
        Location(
            ref=str(rule.source),
            subject=rule.alert,
            detail="its file is referenced by no kustomization"
            + (f"; group {rule.group}" if rule.group else ""),
        )
        for rule in rules
        if not rule.wired
    ]
    return Detection(count=len(locations), total=len(rules), locations=locations)
