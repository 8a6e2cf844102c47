"""Where releases come from: a Flux HelmRelease, an Argo CD Application or a Terraform helm_release, as a
render request (which chart, which values in which order, under which name and namespace).

Each function takes the object as written (its dict, the file it came from, the key-line lookup of its
document) and an ``EstateView`` for what it points at in the estate (Flux sources, values files, local
charts), so an object generated elsewhere (an ApplicationSet's Applications) is handled the same way.
The value layers are in the order the controller merges them (later wins):

* Flux: ``valuesFrom`` in order, then ``spec.values`` (helm-controller merges the inline values last).
* Argo CD: ``helm.valueFiles`` in order, ``helm.values``, ``helm.valuesObject``, then ``parameters``.
* Terraform: ``values`` in order, then ``set`` (``set_sensitive`` values are never read: redacted).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tools.inventory.k8s_core import as_list, as_map, as_str
from tools.inventory.models import CodeRef, HelmRelease
from tools.inventory.yaml_lines import LineOf

KeyPath = tuple[str | int, ...]


@dataclass
class ValuesLayer:
    values: dict[str, Any]
    path: str | None = None
    """Estate path the values were written in (for value lines), when they were."""
    line_of: LineOf | None = None
    prefix: KeyPath = ()


@dataclass
class ChartSpec:
    """A local chart directory of the estate, or a chart of a repository (HTTP or ``oci://``)."""

    local_dir: str | None = None
    repository: str | None = None
    name: str | None = None
    version: str | None = None

    def label(self) -> str:
        if self.local_dir is not None:
            return self.local_dir
        return f"{self.repository or '?'} {self.name or '?'} {self.version or '(no version)'}"


@dataclass
class RenderRequest:
    defined_by: Literal["terraform", "flux", "argocd", "kustomize"]
    name: str
    namespace: str
    source: CodeRef
    chart: ChartSpec
    layers: list[ValuesLayer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    """Why it cannot be rendered, known before any chart is looked for (then nothing is rendered)."""


class EstateView(Protocol):
    def values_file(self, path: str) -> ValuesLayer | None:
        """A values file of the estate (estate-relative path), or None when it is not there."""
        ...

    def is_chart_dir(self, path: str) -> bool: ...

    def flux_source(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The spec of a Flux source object of the estate."""
        ...

    def template_values(self, path: str, variables: dict[str, Any]) -> ValuesLayer | None:
        """A Terraform ``templatefile`` of the estate with its ``${name}`` variables substituted."""
        ...

    def generated_values(self, kind: str, namespace: str | None, name: str, key: str) -> ValuesLayer | None:
        """Values of a ConfigMap made by a Kustomize configMapGenerator from a file of the estate."""
        ...


def _doc_line(line_of: LineOf | None) -> int:
    """The line of the object's first key, as the mappers cite it."""
    if line_of is None:
        return 1
    return line_of(("apiVersion",)) or line_of(("kind",)) or 1


def _clean(path: str) -> str:
    return posixpath.normpath(path.strip().removeprefix("./")).lstrip("/")


# ------------------------------------------------------------------------------------------ Flux


def flux_release(obj: dict[str, Any], path: str, line_of: LineOf | None, view: EstateView) -> RenderRequest:
    meta, spec = as_map(obj.get("metadata")), as_map(obj.get("spec"))
    name = as_str(meta.get("name")) or "?"
    own_ns = as_str(meta.get("namespace"))
    target = as_str(spec.get("targetNamespace"))
    namespace = target or own_ns or "default"
    release = as_str(spec.get("releaseName")) or (f"{target}-{name}" if target else name)
    line = _doc_line(line_of)
    request = RenderRequest("flux", release, namespace, CodeRef(path=path, line=line), ChartSpec())
    chart_spec = as_map(as_map(spec.get("chart")).get("spec"))
    chart_ref = as_map(spec.get("chartRef"))
    if chart_spec:
        _flux_chart_spec(request, chart_spec, own_ns, view)
    elif chart_ref:
        _flux_chart_ref(request, chart_ref, own_ns, view)
    else:
        request.problem = "no spec.chart or spec.chartRef"
    for item in as_list(spec.get("valuesFrom")):
        ref = as_map(item)
        kind, ref_name = as_str(ref.get("kind")), as_str(ref.get("name"))
        key = as_str(ref.get("valuesKey")) or "values.yaml"
        if kind == "Secret":
            request.notes.append(f"valuesFrom Secret/{ref_name} not read (secret values are never read)")
        elif kind == "ConfigMap" and ref_name and ref.get("targetPath") is None:
            layer = view.generated_values(kind, own_ns, ref_name, key)
            if layer is not None:
                request.layers.append(layer)
            else:
                request.notes.append(f"valuesFrom ConfigMap/{ref_name} not found in the estate")
        else:
            request.notes.append(f"valuesFrom {kind}/{ref_name} not applied")
    if isinstance(spec.get("values"), dict):
        request.layers.append(ValuesLayer(spec["values"], path, line_of, ("spec", "values")))
    if spec.get("suspend") is True:
        request.notes.append("suspended")
    return request


def _flux_chart_spec(
    request: RenderRequest, chart_spec: dict[str, Any], ns: str | None, view: EstateView
) -> None:
    chart, version = as_str(chart_spec.get("chart")), as_str(chart_spec.get("version"))
    source_ref = as_map(chart_spec.get("sourceRef"))
    kind, src_name = as_str(source_ref.get("kind")) or "HelmRepository", as_str(source_ref.get("name")) or ""
    src_ns = as_str(source_ref.get("namespace")) or ns
    if chart is None:
        request.problem = "no spec.chart.spec.chart"
        return
    if as_list(chart_spec.get("valuesFiles")):
        request.notes.append("chart.spec.valuesFiles not applied (the chart's values.yaml is used)")
    if kind in ("GitRepository", "Bucket"):
        local = _clean(chart)
        if view.is_chart_dir(local):
            request.chart = ChartSpec(local_dir=local)
        else:
            request.problem = (
                f"chart path {chart} of {kind}/{src_name} is not a chart directory of this estate"
            )
        return
    source = view.flux_source(kind, src_ns, src_name)
    url = as_str(as_map(source).get("url")) if source is not None else None
    if url is None:
        request.problem = f"{kind}/{src_name} (the chart's repository) is not in the estate"
        return
    request.chart = ChartSpec(repository=url, name=chart, version=version)


def _flux_chart_ref(
    request: RenderRequest, chart_ref: dict[str, Any], ns: str | None, view: EstateView
) -> None:
    kind, ref_name = as_str(chart_ref.get("kind")) or "", as_str(chart_ref.get("name")) or ""
    if kind != "OCIRepository":
        request.problem = f"chartRef to {kind}/{ref_name} is not followed (only OCIRepository)"
        return
    source = view.flux_source(kind, as_str(chart_ref.get("namespace")) or ns, ref_name)
    url = as_str(as_map(source).get("url")) if source is not None else None
    if url is None:
        request.problem = f"OCIRepository/{ref_name} (the chart's source) is not in the estate"
        return
    ref = as_map(as_map(source).get("ref"))
    version = as_str(ref.get("tag")) or as_str(ref.get("semver"))
    if version is None and as_str(ref.get("digest")):
        request.problem = (
            f"OCIRepository/{ref_name} is pinned by digest only: import the chart by its version"
        )
        return
    repository, _, chart = url.rstrip("/").rpartition("/")
    request.chart = ChartSpec(repository=repository, name=chart, version=version)


# --------------------------------------------------------------------------------------- Argo CD


def argo_application(
    obj: dict[str, Any], path: str, line_of: LineOf | None, view: EstateView
) -> list[RenderRequest]:
    """One request per source that deploys a Helm chart (a ``chart``, or a ``path`` holding Chart.yaml)."""
    meta, spec = as_map(obj.get("metadata")), as_map(obj.get("spec"))
    name = as_str(meta.get("name")) or "?"
    namespace = (
        as_str(as_map(spec.get("destination")).get("namespace")) or as_str(meta.get("namespace")) or "default"
    )
    sources: list[tuple[KeyPath, dict[str, Any]]] = []
    if isinstance(spec.get("source"), dict):
        sources.append((("spec", "source"), spec["source"]))
    sources += [
        (("spec", "sources", i), s) for i, s in enumerate(as_list(spec.get("sources"))) if isinstance(s, dict)
    ]
    refs = {r: s for _, s in sources if (r := as_str(s.get("ref")))}
    requests = []
    for at, item in sources:
        chart, src_path = as_str(item.get("chart")), as_str(item.get("path"))
        line = (line_of(at) if line_of else None) or _doc_line(line_of)
        helm = as_map(item.get("helm"))
        release = as_str(helm.get("releaseName")) or name
        request = RenderRequest("argocd", release, namespace, CodeRef(path=path, line=line), ChartSpec())
        base: str | None = None
        if chart is not None:
            repo = as_str(item.get("repoURL")) or ""
            repo = repo if "://" in repo else f"oci://{repo}"
            request.chart = ChartSpec(repository=repo, name=chart, version=as_str(item.get("targetRevision")))
        elif src_path is not None and view.is_chart_dir(_clean(src_path)):
            base = _clean(src_path)
            request.chart = ChartSpec(local_dir=base)
        else:
            continue
        for file in as_list(helm.get("valueFiles")):
            text = as_str(file)
            if text is None:
                continue
            head, _, rest = text.partition("/")
            if head.startswith("$") and head[1:] in refs:
                resolved = _clean(rest)
            elif base is not None:
                resolved = _clean(posixpath.join(base, text))
            else:
                request.notes.append(f"value file {text} of a remote chart not read")
                continue
            layer = view.values_file(resolved)
            if layer is None:
                if helm.get("ignoreMissingValueFiles") is not True:
                    request.problem = f"value file {text} not found in the estate"
                continue
            request.layers.append(layer)
        _argo_inline(request, helm, path, line_of, (*at, "helm"))
        requests.append(request)
    return requests


def _argo_inline(
    request: RenderRequest, helm: dict[str, Any], path: str, line_of: LineOf | None, at: KeyPath
) -> None:
    from tools.inventory.yaml_lines import YamlParseError, load_documents

    text = as_str(helm.get("values"))
    if text is not None:
        try:
            docs = load_documents(text)
        except YamlParseError:
            request.problem = "helm.values is not valid YAML"
            return
        key_line = line_of((*at, "values")) if line_of else None
        if docs:
            inner = docs[0].line_of
            offset_of: LineOf | None = (
                (lambda p: (n + key_line) if (n := inner(p)) is not None else None) if key_line else None
            )
            request.layers.append(ValuesLayer(docs[0].data, path, offset_of))
    if isinstance(helm.get("valuesObject"), dict):
        request.layers.append(ValuesLayer(helm["valuesObject"], path, line_of, (*at, "valuesObject")))
    parameters: dict[str, Any] = {}
    from tools.helm.values import set_path, typed

    for item in as_list(helm.get("parameters")):
        param = as_map(item)
        key, value = as_str(param.get("name")), param.get("value")
        force = param.get("forceString") is True
        if key is not None and not set_path(parameters, key, value if force else typed(value)):
            request.notes.append(f"parameter {key} not applied (list index)")
    if parameters:
        request.layers.append(ValuesLayer(parameters))


# ------------------------------------------------------------------------------------- Terraform


def terraform_release(release: HelmRelease, view: EstateView) -> RenderRequest:
    """A ``helm_release`` block, from its record: chart, repository, version and its values files."""
    source = release.source if isinstance(release.source, CodeRef) else CodeRef(path="?", line=1)
    request = RenderRequest(
        "terraform", release.name or "?", release.namespace or "default", source, ChartSpec()
    )
    chart = release.chart
    if release.name is None or chart is None:
        request.problem = "name or chart is an expression that did not resolve"
        return request
    if release.repository:
        request.chart = ChartSpec(repository=release.repository, name=chart, version=release.version)
    elif chart.startswith("oci://"):
        repository, _, chart_name = chart.rstrip("/").rpartition("/")
        request.chart = ChartSpec(repository=repository, name=chart_name, version=release.version)
    else:
        local = _clean(posixpath.join(posixpath.dirname(source.path), chart))
        if not view.is_chart_dir(local):
            request.problem = (
                f"chart {chart} is neither a repository chart nor a chart directory of this estate"
            )
            return request
        request.chart = ChartSpec(local_dir=local)
    inputs = release.render_inputs
    if inputs is None:
        request.notes.append("values not read")
        return request
    request.notes += inputs.notes
    for item in inputs.values:
        if item.kind == "file":
            layer = view.values_file(_clean(item.path))
        elif item.kind == "template":
            layer = view.template_values(_clean(item.path), item.template_vars)
        elif isinstance(item.data, dict):
            layer = ValuesLayer(item.data)
        else:
            layer = _yaml_layer(str(item.data))
        if layer is None:
            request.notes.append(f"values {item.path or '(inline)'} not read")
        else:
            request.layers.append(layer)
    sets: dict[str, Any] = {}
    from tools.helm.values import set_path, typed

    for name, value in inputs.sets:
        if not set_path(sets, name, typed(value)):
            request.notes.append(f"set {name} not applied (list index)")
    if sets:
        request.layers.append(ValuesLayer(sets))
    return request


def _yaml_layer(text: str) -> ValuesLayer | None:
    from tools.inventory.yaml_lines import YamlParseError, load_documents

    try:
        docs = load_documents(text)
    except YamlParseError:
        return None
    return ValuesLayer(docs[0].data) if docs else ValuesLayer({})
