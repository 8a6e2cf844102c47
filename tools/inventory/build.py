"""Build the inventory of an estate: find the files, parse each once, add the cluster, link the two.

The walk never follows symlinked directories and skips tool caches (``.terraform``,
``.terragrunt-cache``) and any directory that is a cluster snapshot (it holds ``_snapshot.json``):
a snapshot inside the repo is live state, not code. Files are classified by name only, by the
parsers of ``tools/inventory/parsers.py``; each receives the list of paths it claimed and reports
broken files in ``Records.issues``. Paths are shown
forms (``tools.pathnames``: a name that is not UTF-8 is escaped); parsers open ``on_disk(path)``.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.errors import EstateError
from tools import pathnames
from tools.gc_pause import gc_paused
from tools.inventory import parsers as registry
from tools.inventory.inventory import Inventory, LiveState, Records, ReleaseObject
from tools.inventory.models import CodeRef, HelmRender, Link, LiveRef, Workload
from tools.inventory.parse_early import SKIP_DIRS
from tools.inventory.parsers import SNAPSHOT_MARKER, Parser, owner

if TYPE_CHECKING:
    from tools.helm.kustomize_charts import KustomizeCharts
    from tools.helm.options import ChartOptions
    from tools.inventory.kustomize.model import HelmChartRenderer, HelmChartRequest
    from tools.kube.backend import KubeBackend


@dataclass
class EstateFiles:
    """Every file of an estate, by the parser that claimed it (paths relative, '/'-separated)."""

    by_parser: dict[str, list[str]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)
    """Files no parser claims (docs, scripts): read by the repo tools, not parsed."""

    @property
    def total(self) -> int:
        return sum(len(paths) for paths in self.by_parser.values()) + len(self.other)

    def of(self, parser: str) -> list[str]:
        return self.by_parser.get(parser, [])


def discover(root: Path, parsers: tuple[Parser, ...] | None = None) -> EstateFiles:
    """Walk the estate once, without following symlinked directories."""
    parsers = parsers or registry.PARSERS
    files = EstateFiles(by_parser={p.name: [] for p in parsers})
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        if any(e.name == SNAPSHOT_MARKER for e in entries) and directory != root:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    stack.append(Path(entry.path))
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            rel = pathnames.shown(Path(entry.path).relative_to(root).as_posix())
            claimed = owner(entry.name, parsers)
            (files.by_parser[claimed.name] if claimed else files.other).append(rel)
    for group in (*files.by_parser.values(), files.other):
        group.sort()
    return files


def check_root(path: str | Path) -> Path:
    root = Path(path).expanduser()
    if not root.exists():
        raise EstateError(f"estate path {str(path)!r} does not exist")
    if not root.is_dir():
        raise EstateError(f"estate path {str(path)!r} is not a directory")
    return root.resolve()


def parse_code(
    root: Path,
    files: EstateFiles,
    parsers: tuple[Parser, ...] | None = None,
    helm: HelmChartRenderer | None = None,
) -> Records:
    """Parse every claimed file of the estate into one Records, parser by parser (``helm``: the Helm
    engine for what a file asks it to render, e.g. a kustomization's ``helmCharts``)."""
    parsers = parsers or registry.PARSERS
    records = Records()
    for parser in parsers:
        paths = files.of(parser.name)
        if helm is not None and parser.parse_rendering is not None:
            records.extend(parser.parse_rendering(root, paths, helm))
        else:
            records.extend(parser.parse(root, paths))
    records.issues.sort(key=lambda i: (i.path, i.line or 0))
    return records


def link(code: Records, live: LiveState) -> list[Link]:
    """Join code workloads and live workloads on (kind, namespace, name); mark each linked workload."""
    by_key: dict[tuple[str, str | None, str | None], Workload] = {w.key: w for w in live.workloads}
    links: list[Link] = []
    for workload in code.workloads:
        if workload.name is None or not isinstance(workload.source, CodeRef):
            continue
        seen = by_key.get(workload.key)
        if seen is None or not isinstance(seen.source, LiveRef):
            continue
        workload.live = seen.source
        links.append(
            Link(
                kind=workload.kind,
                namespace=workload.namespace,
                name=workload.name,
                code=workload.source,
                live=seen.source,
                replicas_code=workload.replicas,
                replicas_live=seen.replicas,
            )
        )
    links.sort(key=lambda lk: (lk.kind, lk.namespace or "", lk.name))
    return links


def render_charts(root: Path, code: Records, charts: ChartOptions | None) -> None:
    """Render the estate's Helm releases into ``code`` (``tools/helm/render.py``).

    A chart directory that was rendered is its templates' only source: the static files of its
    ``templates/`` that the manifest parser read as they are are dropped, so nothing counts twice."""
    if not (code.helm_releases or code.argo_apps):
        return
    from tools.helm.render import render_releases

    rendered = render_releases(root, code, charts, generated=_distinct(code.release_objects))
    done = {r.chart + "/templates/" for r in rendered.helm_renders if r.rendered and "://" not in r.chart}
    if done:
        prefixes = tuple(done)
        for name in Records.list_fields():
            items = getattr(code, name)
            kept = [
                item
                for item in items
                if not (
                    getattr(item, "origin", None) == "helm"
                    and isinstance(getattr(item, "source", None), CodeRef)
                    and item.source.path.startswith(prefixes)
                )
            ]
            if len(kept) != len(items):
                setattr(code, name, kept)
    code.extend(rendered)


def _distinct(objects: list[ReleaseObject]) -> list[ReleaseObject]:
    """Each built release once: the same object reached by two builds is one release (the first)."""
    seen: set[tuple[str, str, str]] = set()
    out: list[ReleaseObject] = []
    for item in objects:
        meta = item[0].get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        key = (str(item[0].get("kind")), str(meta.get("namespace")), str(meta.get("name")))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def parse_estate(root: Path, charts: Callable[[], ChartOptions | None]) -> tuple[int, Records]:
    """Every file of the estate at ``root`` (checked) parsed, and its Helm releases rendered: how many
    files the walk found, and the records. ``charts`` gives the chart options when a render first needs
    them (the Terraform files are parsed before: the early parse's child learns them late)."""
    files = discover(root)
    kustomize_charts = _KustomizeChartsWhenAsked(root, charts)
    code = parse_code(root, files, helm=kustomize_charts)
    code.helm_renders += kustomize_charts.renders
    if code.helm_releases or code.argo_apps:  # the chart options are asked for only when a render needs them
        render_charts(root, code, charts())
    return files.total, code


class _KustomizeChartsWhenAsked:
    """A kustomization's ``helmCharts`` renderer (``KustomizeCharts``), made when one first asks."""

    def __init__(self, root: Path, charts: Callable[[], ChartOptions | None]) -> None:
        self.root, self.charts = root, charts
        self.made: KustomizeCharts | None = None

    def __call__(self, request: HelmChartRequest) -> list[dict[str, Any]] | None:
        if self.made is None:
            from tools.helm.kustomize_charts import KustomizeCharts

            self.made = KustomizeCharts(self.root, self.charts())
        return self.made(request)

    @property
    def renders(self) -> list[HelmRender]:
        return self.made.renders if self.made is not None else []


def _taken(root: Path, charts: ChartOptions | None) -> tuple[int, Records] | None:
    """What the child ``infra-audit run`` started as it began made of ``root`` (``parse_early.py``), if
    it parsed it with these chart options and ended well."""
    from tools.inventory.parse_early import EarlyParse

    options = charts or _no_charts()
    data = EarlyParse.take(root, options.cache_dir, options.fetch)
    if data is None:
        return None
    try:
        files_scanned, code = pickle.loads(data)  # bytes our own child printed, never read from disk
    except Exception:
        return None
    return (files_scanned, code) if isinstance(files_scanned, int) and isinstance(code, Records) else None


def _no_charts() -> ChartOptions:
    from tools.helm.options import ChartOptions

    return ChartOptions()


def build_inventory(
    path: str | Path,
    cluster: KubeBackend | None = None,
    live: LiveState | None = None,
    charts: ChartOptions | None = None,
) -> Inventory:
    """Parse the estate at ``path`` (and the cluster, if given) into one linked inventory.

    ``live`` is a cluster state this run already loaded: the code is parsed again and linked to it,
    and the cluster is not read a second time (``cluster`` is then not used). ``charts`` says where the
    Helm releases' charts come from (none: only the estate's own chart directories are rendered)."""
    root = check_root(path)
    with gc_paused():
        files_scanned, code = _taken(root, charts) or parse_estate(root, lambda: charts)
        inventory = Inventory(root=pathnames.shown(str(root)), files_scanned=files_scanned, code=code)
        if live is None and cluster is not None:
            from tools.inventory.live import load_live_state

            live = load_live_state(cluster)
        if live is not None:
            inventory.live = live
            inventory.links = link(code, live)
    return inventory
