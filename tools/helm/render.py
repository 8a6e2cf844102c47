"""The render phase of the inventory: every Helm release of the estate, rendered by the Helm engine into
the same records as hand-written objects (through ``k8s_objects.records_from_object``), or a gap.

Releases come from the Flux HelmRelease and Argo CD Application documents of the estate and from
Terraform ``helm_release`` records (``sources.py``); charts from the estate (a local or wrapper chart;
its dependencies from its ``charts/``, a ``file://`` path, or the cache) or from the chart cache
(``cache.py``, filled by ``infra-audit charts import`` or ``--fetch-charts``). Each (chart, values,
name, namespace) is rendered once per process, by hash. A release that cannot be rendered is a
``HelmRender`` with ``rendered=False`` and a one-line reason, never an exception: the rest goes on.

A rendered workload's source is its release (``path:line``) and so is each container's, unless the
image (or its tag) was written in a values file or inline values of the estate: then the container's
source is that line, and ``release`` keeps the release.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from domain.errors import ChartError, HelmEngineError
from tools.helm import engine
from tools.helm.cache import ChartCache, ChartRef
from tools.helm.estate_view import Estate
from tools.helm.options import ChartOptions
from tools.helm.sources import (
    EstateView,
    RenderRequest,
    argo_application,
    flux_release,
    terraform_release,
)
from tools.helm.values import ValueLines, merge
from tools.inventory.inventory import Records
from tools.inventory.k8s_objects import records_from_object
from tools.inventory.models import CodeRef, HelmRender
from tools.inventory.yaml_lines import LineOf, YamlParseError, load_documents

CLUSTER_SCOPED = frozenset(
    {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
     "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
     "ClusterPolicy", "IngressClass", "RuntimeClass", "APIService"}
)  # fmt: skip
_MEMO: OrderedDict[str, engine.Rendered] = OrderedDict()
_MEMO_LOCK = threading.Lock()  # the run's parse and the numbers challenger's may overlap
_MEMO_SIZE = 512


def render_releases(
    root: Path,
    code: Records,
    options: ChartOptions | None = None,
    generated: Iterable[tuple[dict[str, Any], str, LineOf | None]] = (),
) -> Records:
    """Records of every rendered release, and one ``HelmRender`` per release (rendered or not).

    ``generated`` are release objects made from others (an ApplicationSet's Applications, a Flux
    Kustomization's build): (object, the file that made it, its key-line lookup or None); they are
    handled exactly as the documents written in the estate, and a written document of the same kind and
    name is left to them (a build of it: the same release, with what the build gave it)."""
    options = options or ChartOptions()
    estate = Estate(root, code)
    requests: list[RenderRequest] = []
    generated = list(generated)
    superseded = {_identity(obj) for obj, _, _ in generated}
    documents = [
        (_namespaced(doc.data, path, estate), path, doc.line_of)
        for doc, path in estate.release_documents()
        if _identity(doc.data) not in superseded
    ]
    for obj, path, line_of in [*documents, *generated]:
        requests += requests_from_object(obj, path, line_of, estate)
    requests += [terraform_release(r, estate) for r in code.helm_releases if r.defined_by == "terraform"]
    out = Records()
    cache = ChartCache(options.cache_dir) if options.cache_dir is not None else None
    for request in requests:
        out.extend(render_one(request, estate, cache, options))
    return out


def _identity(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata")
    return (str(obj.get("kind")), str(meta.get("name") if isinstance(meta, dict) else None))


def _namespaced(obj: dict[str, Any], path: str, estate: Estate) -> dict[str, Any]:
    """A written release without a namespace takes the one its kustomization gives it."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or meta.get("namespace"):
        return obj
    namespace = estate.kustomize_namespace(path)
    return {**obj, "metadata": {**meta, "namespace": namespace}} if namespace else obj


def requests_from_object(
    obj: dict[str, Any], path: str, line_of: LineOf | None, view: EstateView
) -> list[RenderRequest]:
    """The render requests of one Flux HelmRelease or Argo CD Application object (none for other kinds)."""
    kind, api = obj.get("kind"), str(obj.get("apiVersion") or "")
    if kind == "HelmRelease" and api.startswith("helm.toolkit.fluxcd.io/"):
        return [flux_release(obj, path, line_of, view)]
    if kind == "Application" and api.startswith("argoproj.io/"):
        return argo_application(obj, path, line_of, view)
    return []


def render_one(
    request: RenderRequest, estate: Estate, cache: ChartCache | None, options: ChartOptions
) -> Records:
    out = Records()
    summary = HelmRender(
        defined_by=request.defined_by,
        name=request.name,
        namespace=request.namespace,
        chart=request.chart.label(),
        rendered=False,
        notes=request.notes,
        source=request.source,
    )
    out.helm_renders.append(summary)
    if request.problem is not None:
        summary.reason, summary.cause = request.problem, "unresolved"
        return out
    try:
        archive = _archive(request, estate, cache, options)
    except _Missing as missing:
        summary.reason, summary.cause = str(missing), "chart_missing"
        return out
    except (HelmEngineError, ChartError) as exc:
        summary.reason, summary.cause = str(exc), "chart_error"
        return out
    values: dict[str, Any] = {}
    lines = ValueLines()
    if (
        request.chart.local_dir is not None
    ):  # a wrapper chart's own values.yaml is a values file of the estate
        own = estate.values_file(f"{request.chart.local_dir}/values.yaml")
        if own is not None:
            lines.add(own.values, f"{request.chart.local_dir}/values.yaml", own.line_of, ())
    for layer in request.layers:
        values = merge(values, layer.values)
        if layer.path is not None:
            lines.add(layer.values, layer.path, layer.line_of, layer.prefix)
    try:
        rendered = _render(archive, values, request.name, request.namespace)
    except HelmEngineError as exc:
        summary.reason = str(exc)
        summary.cause = "engine" if exc.stage == "engine" else "chart_error"
        return out
    summary.rendered, summary.schema_skipped = True, rendered.schema_skipped
    for template in sorted(rendered.manifests):
        try:
            docs = load_documents(rendered.manifests[template])
        except YamlParseError as exc:
            summary.notes.append(f"{template}: rendered output is not YAML ({exc.reason})")
            continue
        for doc in docs:
            obj = doc.data
            if not isinstance(obj.get("kind"), str):
                continue
            summary.objects += 1
            meta = obj.get("metadata")
            if isinstance(meta, dict) and not meta.get("namespace") and obj["kind"] not in CLUSTER_SCOPED:
                obj = {**obj, "metadata": {**meta, "namespace": request.namespace}}
            found = records_from_object(obj, request.source, "helm")
            _attribute(found, request.source, lines)
            out.extend(found)
    if request.chart.local_dir is not None:
        estate.rendered_charts.add(request.chart.local_dir)
    return out


def _attribute(found: Records, release: CodeRef, lines: ValueLines) -> None:
    for workload in found.workloads:
        workload.release = release
        for container in workload.containers:
            container.release = release
            image = container.image or ""
            name, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
            where = lines.find(image, tag, name)
            if where is not None:
                container.source, container.image_line = where, where.line
            container.probes_source = lines.probes_of(container.name)


class _Missing(Exception):
    """The chart (or a dependency) is not in the cache: the reason is the message."""


def _archive(
    request: RenderRequest, estate: Estate, cache: ChartCache | None, options: ChartOptions
) -> bytes:
    chart = request.chart
    if chart.local_dir is not None:
        return estate.local_archive(
            chart.local_dir, lambda repo, name, version: _cached(repo, name, version, cache, options)
        )
    assert chart.repository is not None and chart.name is not None
    return _cached(chart.repository, chart.name, chart.version, cache, options)


def _cached(
    repository: str, name: str, version: str | None, cache: ChartCache | None, options: ChartOptions
) -> bytes:
    label = ChartRef(repository.rstrip("/"), name, version or "(newest)")
    if cache is None:
        raise _Missing(f"chart not in the cache ({label}; no chart cache in this run)")
    ref = cache.resolve(repository, name, version)
    if ref is None and options.fetch:
        from tools.helm.fetch import fetch

        try:
            ref = fetch(repository, name, version, cache, options.timeout)
        except HelmEngineError as exc:
            raise _Missing(f"chart not in the cache ({label}); --fetch-charts failed: {exc}") from None
    data = cache.get(ref) if ref is not None else None
    if data is None:
        raise _Missing(f"chart not in the cache ({label})")
    return data


def _render(archive: bytes, values: dict[str, Any], name: str, namespace: str) -> engine.Rendered:
    digest = hashlib.sha256(archive)
    digest.update(json.dumps([values, name, namespace], sort_keys=True, default=str).encode())
    key = digest.hexdigest()
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    rendered = engine.render(archive, values, name=name, namespace=namespace)
    with _MEMO_LOCK:
        _MEMO[key] = rendered
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return rendered


def renders_done() -> int:
    """How many distinct renders the process holds (tests: a second build renders nothing new)."""
    return len(_MEMO)
