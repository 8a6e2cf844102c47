"""A kustomization's ``helmCharts``, rendered by the Helm engine: the renderer the Kustomize build
calls through its seam (``kustomize/model.py`` ``HelmChartRenderer``).

Each entry is one release, rendered exactly as a Flux or Argo CD release is (``render.render_objects``:
the chart cache or a chart directory of the estate, values files then ``valuesInline``, once per
(chart, values) by hash) and handed back to the build as plain objects, which the build then
namespaces, labels and patches like any other. Each entry is a ``HelmRender`` (rendered or not, with
the reason), so a chart that is not in the cache is a gap, never silence.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from tools.helm.cache import ChartCache
from tools.helm.estate_view import Estate
from tools.helm.options import ChartOptions
from tools.helm.sources import ChartSpec, RenderRequest, ValuesLayer
from tools.inventory.inventory import Records
from tools.inventory.kustomize.model import HelmChartRequest
from tools.inventory.models import CodeRef, HelmRender

CHART_HOME = "charts"
"""kustomize's default ``chartHome``: a chart without ``repo`` is a directory under it."""


class KustomizeCharts:
    """The ``helm=`` renderer of ``parse_manifests``; ``renders`` is every entry it was asked for."""

    def __init__(self, root: Path, options: ChartOptions | None = None) -> None:
        self.options = options or ChartOptions()
        self.estate = Estate(root, Records())
        self.cache = ChartCache(self.options.cache_dir) if self.options.cache_dir is not None else None
        self.renders: list[HelmRender] = []

    def __call__(self, request: HelmChartRequest) -> list[dict[str, Any]] | None:
        from tools.helm.render import render_objects

        release = _request(request, self.estate)
        summary, objects, _ = render_objects(release, self.estate, self.cache, self.options, False)
        self.renders.append(summary)
        return objects if summary.rendered else None


def _request(entry: HelmChartRequest, estate: Estate) -> RenderRequest:
    source = CodeRef(path=entry.kustomization, line=entry.line or 1)
    namespace = entry.namespace or "default"
    if entry.repo:
        chart = ChartSpec(repository=entry.repo, name=entry.name, version=entry.version)
    else:
        chart = ChartSpec(
            local_dir=posixpath.join(posixpath.dirname(entry.kustomization), CHART_HOME, entry.name)
        )
    request = RenderRequest("kustomize", entry.release_name, namespace, source, chart)
    if chart.local_dir is not None and not estate.is_chart_dir(chart.local_dir):
        request.problem = f"no chart {entry.name!r} under {CHART_HOME}/ and no repo"
    for path in entry.values_files:
        layer = estate.values_file(path)
        if layer is None:
            request.notes.append(f"values file {path} not found")
        else:
            request.layers.append(layer)
    if entry.values:
        request.layers.append(ValuesLayer(entry.values))
    if entry.include_crds:
        request.notes.append("includeCRDs: CRDs are not rendered")
    return request
