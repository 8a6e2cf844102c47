"""The Helm releases of the two chart-based bundled estates, rendered by Helm's own engine.

This is test scaffolding, not the product's renderer: it knows the two estates' shapes (Flux
HelmReleases of podkit through ``chartRef`` -> ``OCIRepository``; Argo CD wrapper charts generated
by one ApplicationSet) and resolves them the way the controllers do, so the ground truth's rendered
inventory can be checked against Helm itself:

- Flux: release name = HelmRelease name, namespace = the Flux Kustomization's ``targetNamespace``,
  values = ``spec.values`` after ``postBuild.substitute`` (``substituteFrom`` comes from SOPS
  Secrets and is left as written), chart = the OCIRepository's ``url:ref.tag``.
- Argo CD: one release per ``apps/*`` and ``system/*`` directory, named and namespaced by the
  directory; the wrapper chart with its dependency vendored into ``charts/`` (what Argo CD's
  ``helm dependency build`` does) and its own ``values.yaml`` as the value file.

Charts come from ``examples/charts/packaged/``; a release whose chart is not there (an upstream
chart) is returned unrendered with the reason, never dropped.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
PACKAGED = REPO / "examples" / "charts" / "packaged"
FLUX = REPO / "examples" / "flux-homelab"
ARGO = REPO / "examples" / "argocd-homelab"
# Where each packaged chart would be pulled from: the refs `infra-audit charts import --as` takes.
CHART_REFS = {
    "oci://ghcr.io/example-org/charts/podkit:3.7.2": "podkit-3.7.2.tgz",
    "oci://ghcr.io/example-org/charts/podkit:4.0.1": "podkit-4.0.1.tgz",
    "oci://ghcr.io/example-org/charts/raw:2.0.0": "raw-2.0.0.tgz",
}


def import_charts(cache: Path) -> Path:
    """The bundled charts imported into ``cache`` by the product's own ``infra-audit charts import``,
    under the refs the chart estates pull them from (what ``make estate-charts`` does)."""
    from pipeline.cli import main

    for ref, archive in sorted(CHART_REFS.items()):
        argv = ["charts", "import", str(PACKAGED / archive), "--as", ref, "--chart-cache", str(cache)]
        if main(argv) != 0:
            raise AssertionError(f"charts import {archive} failed")
    return cache


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Release:
    name: str
    namespace: str
    chart_ref: str  # oci://host/path/name:version, or "REPO_URL NAME VERSION" for HTTP repos
    ref: str  # path:line of the HelmRelease, or the wrapper's Chart.yaml
    values: dict[str, Any] = field(default_factory=dict)
    wrapper: Path | None = None  # Argo CD: the wrapper chart directory
    manifests: list[dict[str, Any]] = field(default_factory=list)
    not_rendered: str | None = None


def _load(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict)]


def _substitute(text: str, variables: dict[str, str]) -> str:
    return _VAR.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def flux_releases() -> list[Release]:
    """Every HelmRelease of flux-homelab, resolved through its app's ks.yaml."""
    out: list[Release] = []
    for ks_path in sorted((FLUX / "kubernetes" / "apps").glob("*/*/ks.yaml")):
        ks = _load(ks_path)[0]["spec"]
        variables = {k: str(v) for k, v in ks.get("postBuild", {}).get("substitute", {}).items()}
        app_dir = FLUX / ks["path"].removeprefix("./")
        hr_path = app_dir / "helmrelease.yaml"
        hr = yaml.safe_load(_substitute(hr_path.read_text(encoding="utf-8"), variables))
        spec = hr["spec"]
        if "chartRef" in spec:
            oci = _load(app_dir / "ocirepository.yaml")[0]["spec"]
            chart_ref = f"{oci['url']}:{oci['ref']['tag']}"
        else:
            chart = spec["chart"]["spec"]
            repo = next(d for d in _load(app_dir / "helmrepository.yaml") if d["kind"] == "HelmRepository")
            url = repo["spec"]["url"]
            chart_ref = (
                f"{url}/{chart['chart']}:{chart['version']}"
                if url.startswith("oci://")
                else f"{url} {chart['chart']} {chart['version']}"
            )
        out.append(
            Release(
                name=hr["metadata"]["name"],
                namespace=ks["targetNamespace"],
                chart_ref=chart_ref,
                ref=f"{hr_path.relative_to(FLUX).as_posix()}:2",
                values=spec.get("values") or {},
            )
        )
    return out


def argo_releases() -> list[Release]:
    """One release per directory the platform ApplicationSet's git directory generator lists."""
    appset = _load(ARGO / "appsets" / "platform.yaml")[0]
    patterns = [d["path"] for g in appset["spec"]["generators"] for d in g["git"]["directories"]]
    out: list[Release] = []
    for pattern in patterns:
        for directory in sorted(p for p in ARGO.glob(pattern) if p.is_dir()):
            meta = yaml.safe_load((directory / "Chart.yaml").read_text(encoding="utf-8"))
            dep = meta["dependencies"][0]
            repo = dep["repository"]
            chart_ref = (
                f"{repo}/{dep['name']}:{dep['version']}"
                if repo.startswith("oci://")
                else f"{repo} {dep['name']} {dep['version']}"
            )
            out.append(
                Release(
                    name=directory.name,
                    namespace=directory.name,
                    chart_ref=chart_ref,
                    ref=f"{directory.relative_to(ARGO).as_posix()}/Chart.yaml:1",
                    wrapper=directory,
                )
            )
    return out


def render(release: Release) -> Release:
    """Render ``release`` with helm_python; an absent chart leaves it unrendered with the reason."""
    import helm_python

    archive = CHART_REFS.get(release.chart_ref)
    if archive is None:
        release.not_rendered = f"chart not in the cache: {release.chart_ref}"
        return release
    if release.wrapper is None:
        chart = helm_python.Chart.load(PACKAGED / archive)
        files = chart.render(release.values, name=release.name, namespace=release.namespace, is_install=True)
    else:
        with tempfile.TemporaryDirectory(prefix="wrapper-") as scratch:
            work = Path(scratch, release.wrapper.name)
            shutil.copytree(release.wrapper, work)
            (work / "charts").mkdir(exist_ok=True)
            shutil.copy(PACKAGED / archive, work / "charts" / archive)
            chart = helm_python.Chart.load(work)
            files = chart.render(None, name=release.name, namespace=release.namespace, is_install=True)
    release.manifests = [
        doc
        for _path, text in sorted(files.items())
        for doc in yaml.safe_load_all(text)
        if isinstance(doc, dict)
    ]
    return release


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod: dict[str, Any] = spec["template"]["spec"]
    return pod


def containers(release: Release) -> dict[str, dict[str, Any]]:
    """``Kind/namespace/name/container`` -> {image, probes, privileged, init} of every rendered container."""
    found: dict[str, dict[str, Any]] = {}
    for obj in release.manifests:
        if obj.get("kind") not in WORKLOAD_KINDS:
            continue
        pod = pod_spec(obj)
        for init, key in ((True, "initContainers"), (False, "containers")):
            for c in pod.get(key) or []:
                namespace = obj["metadata"].get("namespace") or release.namespace
                subject = f"{obj['kind']}/{namespace}/{obj['metadata']['name']}/{c['name']}"
                found[subject] = {
                    "image": c["image"],
                    "probes": sorted(k.removesuffix("Probe") for k in c if k.endswith("Probe")),
                    "privileged": bool((c.get("securityContext") or {}).get("privileged")),
                    "init": init,
                }
    return found
