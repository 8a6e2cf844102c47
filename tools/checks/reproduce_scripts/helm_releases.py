"""The Helm releases an estate's GitOps objects declare, rendered with ``helm template``.

A reader's script, not part of infra-audit: the Python standard library, PyYAML and the ``helm``
command (Helm 3 or 4 on PATH; ``REPRODUCE_HELM`` names another command line that takes the same
arguments). It shares no code with infra-audit's release resolution: it finds the releases itself,
as the controllers would, and hands each to ``helm template``:

* a Flux ``HelmRelease`` (helm.toolkit.fluxcd.io): release name ``spec.releaseName``, else
  ``[spec.targetNamespace-]metadata.name``; namespace ``spec.targetNamespace``, else its own, which
  the Flux ``Kustomization`` whose ``spec.path`` holds the file sets (``targetNamespace``); the
  text after that Kustomization's ``postBuild`` substitution (``substitute``, and ``substituteFrom``
  ConfigMaps of the estate; a Secret is not read, its ``${VAR}`` stays as written); the chart from
  ``chartRef`` (an ``OCIRepository``: ``helm template NAME URL --version TAG``) or ``chart.spec``
  (a ``HelmRepository``: ``--repo URL CHART`` or ``oci://URL/CHART``; a ``GitRepository``: the
  chart directory); values: each ``valuesFrom`` ConfigMap of the estate in order, then ``spec.values``
  (what helm-controller merges last), each as a ``-f`` file.
* an Argo CD ``Application`` (argoproj.io), written or made by an ``ApplicationSet``'s ``git``
  ``directories`` generator (``{{ .path.path }}``, ``{{ .path.basename }}``, ``{{ index .path.segments
  N }}``): each source with ``chart`` (``--repo URL`` / ``oci://``, ``--version targetRevision``) or a
  ``path`` holding ``Chart.yaml``; release name ``helm.releaseName`` else the Application's name;
  namespace ``destination.namespace``; ``-f`` each ``helm.valueFiles`` (relative to the path, or
  ``$REF/...`` of another source), then ``helm.valuesObject`` (else ``helm.values``), then
  ``--set``/``--set-string`` of ``helm.parameters``.
* a chart directory whose dependencies are not in its ``charts/``: copied to a temporary directory
  and ``helm dependency build`` there (what Argo CD does), so the estate is never written.

A rendered namespaced object without a namespace gets the release's (what ``helm install -n`` does).

    python3 tools/checks/reproduce_scripts/helm_releases.py ROOT [SKIP_DIR ...]   # the helm commands
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from k8s_objects import SAFE, d, load_all, meta, seq, walk

Obj = dict[str, Any]
CLUSTER_SCOPED = {
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
    "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
    "ClusterPolicy", "IngressClass", "RuntimeClass", "APIService", "ClusterIssuer",
}  # fmt: skip
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")
GO_TEMPLATE = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}")


@dataclass
class Release:
    name: str
    namespace: str
    chart: list[str]
    """``helm template``'s arguments after the name: the chart, ``--version``, ``--repo``."""
    values: list[Obj] = field(default_factory=list)
    value_files: list[Path] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    chart_dir: Path | None = None
    problem: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def load(path: Path, text: str | None = None) -> list[Obj]:
    try:
        # k8s_objects' reading: each text read once per interpreter (batch.py), a copy per call
        docs = load_all(text if text is not None else path.read_text(encoding="utf-8"))
        return [doc for doc in docs if isinstance(doc, dict)]
    except Exception as exc:  # a broken file is skipped; its text (a secret?) is never printed
        print(f"{path}: skipped, {type(exc).__name__}", file=sys.stderr)
        return []


def chart_dirs(root: Path) -> list[Path]:
    """Directories holding a ``Chart.yaml``: their files are templates, objects only once rendered."""
    return sorted({p.parent for p in walk(root) if p.name == "Chart.yaml"})


def documents(root: Path, skip: tuple[str, ...]) -> list[tuple[Path, Obj]]:
    charts = chart_dirs(root)
    return [
        (path, doc)
        for path in walk(root, skip)
        if path.suffix in (".yaml", ".yml") and not any(path.is_relative_to(c) for c in charts)
        for doc in load(path)
    ]


def api(obj: Obj, group: str, kind: str) -> bool:
    return obj.get("kind") == kind and str(obj.get("apiVersion", "")).startswith(f"{group}/")


# ------------------------------------------------------------------------------------------- Flux


def substitute(text: str, variables: dict[str, str]) -> str:
    """Flux's ``postBuild`` substitution: ``${VAR}`` (``${VAR:=default}``); an unknown one as written."""
    return VAR.sub(lambda m: variables.get(m.group(1), m.group(2) or m.group(0)), text)


Build = tuple[Path, Any, dict[str, str]]
"""A Flux Kustomization: the directory it builds, its ``targetNamespace``, its substitution variables."""


def flux_builds(root: Path, docs: list[tuple[Path, Obj]]) -> list[Build]:
    config = {meta(o).get("name"): o for _, o in docs if o.get("kind") == "ConfigMap"}
    builds = []
    for _, ks in docs:
        spec = d(ks, "spec")
        if api(ks, "kustomize.toolkit.fluxcd.io", "Kustomization") and isinstance(spec.get("path"), str):
            post = d(spec, "postBuild")
            variables: dict[str, str] = {}
            for ref in seq(post, "substituteFrom"):
                if isinstance(ref, dict) and ref.get("kind") == "ConfigMap":
                    variables.update({k: str(v) for k, v in d(config.get(ref.get("name")), "data").items()})
            variables.update({k: str(v) for k, v in d(post, "substitute").items()})
            builds.append(((root / spec["path"]).resolve(), spec.get("targetNamespace"), variables))
    return builds


def build_of(path: Path, builds: list[Build]) -> Build | None:
    """The Flux Kustomization that deploys the file: the deepest whose directory holds it."""
    inside = [b for b in builds if path.resolve().is_relative_to(b[0])]
    return max(inside, key=lambda b: len(str(b[0])), default=None)


def placed(root: Path, docs: list[tuple[Path, Obj]]) -> list[Obj]:
    """The files' objects, each namespaced object in the ``targetNamespace`` of the Flux Kustomization
    that deploys it, if it has one (Flux sets it on every namespaced object it applies)."""
    builds = flux_builds(root, docs)
    out = []
    for path, obj in docs:
        if not isinstance(obj.get("kind"), str):
            continue
        build = build_of(path, builds)
        if build is not None and build[1] and obj["kind"] not in CLUSTER_SCOPED:
            obj = {**obj, "metadata": {**meta(obj), "namespace": build[1]}}
        out.append(obj)
    return out


def flux_releases(root: Path, docs: list[tuple[Path, Obj]]) -> list[Release]:
    config = {meta(o).get("name"): o for _, o in docs if o.get("kind") == "ConfigMap"}
    builds = flux_builds(root, docs)
    out = []
    for path, obj in docs:
        if not api(obj, "helm.toolkit.fluxcd.io", "HelmRelease"):
            continue
        build = build_of(path, builds)
        hr, namespace = obj, meta(obj).get("namespace")
        if build is not None:
            namespace = build[1] or namespace
            text = substitute(path.read_text("utf-8"), build[2])
            same = [o for o in load(path, text) if o.get("kind") == obj["kind"] and meta(o) == meta(obj)]
            hr = same[0] if same else obj
        out.append(flux_release(root, hr, namespace or "default", docs, config))
    return out


def flux_release(
    root: Path, hr: Obj, own_ns: str, docs: list[tuple[Path, Obj]], config: dict[Any, Obj]
) -> Release:
    spec = d(hr, "spec")
    target = spec.get("targetNamespace")
    name = spec.get("releaseName") or (f"{target}-{meta(hr).get('name')}" if target else meta(hr).get("name"))
    release = Release(str(name), str(target or own_ns), [])

    def source(kind: str, source_name: Any) -> Obj:
        found = [o for _, o in docs if o.get("kind") == kind and meta(o).get("name") == source_name]
        return d(found[0], "spec") if found else {}

    if spec.get("chartRef"):
        ref = d(spec, "chartRef")
        oci = source("OCIRepository", ref.get("name"))
        version = d(oci, "ref").get("tag") or d(oci, "ref").get("semver")
        release.chart = [str(oci.get("url")), "--version", str(version)]
        if not oci.get("url") or version is None:
            release.problem = f"OCIRepository {ref.get('name')} has no url or tag"
    else:
        chart = d(d(spec, "chart"), "spec")
        src = d(chart, "sourceRef")
        if src.get("kind") in ("GitRepository", "Bucket"):
            release.chart_dir = root / str(chart.get("chart"))
            release.chart = [str(release.chart_dir)]
        else:
            url = str(source("HelmRepository", src.get("name")).get("url") or "")
            version = ["--version", str(chart["version"])] if chart.get("version") else []
            if url.startswith("oci://"):
                release.chart = [f"{url.rstrip('/')}/{chart.get('chart')}", *version]
            else:
                release.chart = [str(chart.get("chart")), "--repo", url, *version]
    for ref in seq(spec, "valuesFrom"):
        if isinstance(ref, dict) and ref.get("kind") == "ConfigMap" and not ref.get("targetPath"):
            text = d(config.get(ref.get("name")), "data").get(ref.get("valuesKey") or "values.yaml")
            if isinstance(text, str):
                release.values.append(yaml.safe_load(text) or {})
            else:
                print(
                    f"release {release.key}: valuesFrom ConfigMap {ref.get('name')} not in the estate",
                    file=sys.stderr,
                )
    if isinstance(spec.get("values"), dict):
        release.values.append(spec["values"])
    return release


# ---------------------------------------------------------------------------------------- Argo CD


def expand(value: Any, params: dict[str, Any]) -> Any:
    """An ApplicationSet template with the git directory generator's parameters filled in."""
    if isinstance(value, dict):
        return {k: expand(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, params) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        words = m.group(1).split()
        if words[0] == "index" and len(words) == 3:
            return str(params[words[1].lstrip(".").replace(".", "_")][int(words[2])])
        return str(params[words[0].lstrip(".").replace(".", "_")])

    return GO_TEMPLATE.sub(one, value)


def applications(root: Path, docs: list[tuple[Path, Obj]]) -> list[Obj]:
    apps = [o for _, o in docs if api(o, "argoproj.io", "Application")]
    for _, appset in docs:
        if not api(appset, "argoproj.io", "ApplicationSet"):
            continue
        for gen in seq(d(appset, "spec"), "generators"):
            dirs = seq(d(gen, "git"), "directories")
            found: set[Path] = set()
            for entry in dirs:
                matched = {
                    p for p in root.glob(str(entry.get("path"))) if p.is_dir() and ".git" not in p.parts
                }
                found = found - matched if entry.get("exclude") else found | matched
            for directory in sorted(found):
                rel = directory.relative_to(root).as_posix()
                normalized = re.sub(r"[^a-z0-9-]", "-", directory.name.lower())
                params = {
                    "path_path": rel,
                    "path_basename": directory.name,
                    "path_segments": rel.split("/"),
                    "path": rel,
                    "path_basenameNormalized": normalized,
                }
                apps.append(expand(d(d(appset, "spec"), "template"), params))
    return apps


def argo_releases(root: Path, docs: list[tuple[Path, Obj]]) -> list[Release]:
    out = []
    for app in applications(root, docs):
        spec = d(app, "spec")
        sources = ([d(spec, "source")] if spec.get("source") else []) + [
            s for s in seq(spec, "sources") if isinstance(s, dict)
        ]
        refs = {s["ref"]: s for s in sources if s.get("ref")}
        namespace = str(d(spec, "destination").get("namespace") or meta(app).get("namespace") or "default")
        for src in sources:
            helm = d(src, "helm")
            name = str(helm.get("releaseName") or meta(app).get("name"))
            base = None
            if src.get("chart"):
                repo = str(src.get("repoURL") or "")
                version = ["--version", str(src["targetRevision"])] if src.get("targetRevision") else []
                if repo.startswith("oci://") or "://" not in repo:
                    oci = repo if repo.startswith("oci://") else f"oci://{repo}"
                    chart = [f"{oci.rstrip('/')}/{src['chart']}", *version]
                else:
                    chart = [str(src["chart"]), "--repo", repo, *version]
                release = Release(name, namespace, chart)
            elif isinstance(src.get("path"), str) and (root / src["path"] / "Chart.yaml").is_file():
                base = root / src["path"]
                release = Release(name, namespace, [str(base)], chart_dir=base)
            else:
                continue
            for file in seq(helm, "valueFiles"):
                head, _, rest = str(file).partition("/")
                path = (
                    root / rest if head.startswith("$") and head[1:] in refs else (base or root) / str(file)
                )
                if path.is_file():
                    release.value_files.append(path)
                elif helm.get("ignoreMissingValueFiles") is not True:
                    release.problem = f"value file {file} is not in the estate"
            if isinstance(helm.get("valuesObject"), dict):
                release.values.append(helm["valuesObject"])
            elif isinstance(helm.get("values"), str):
                release.values.append(yaml.safe_load(helm["values"]) or {})
            for param in seq(helm, "parameters"):
                flag = "--set-string" if param.get("forceString") else "--set"
                release.sets += [flag, f"{param.get('name')}={param.get('value')}"]
            out.append(release)
    return out


# ------------------------------------------------------------------------------------------ helm


def releases(root: Path, skip: tuple[str, ...] = ()) -> list[Release]:
    docs = documents(root, skip)
    return flux_releases(root, docs) + argo_releases(root, docs)


def helm() -> list[str]:
    return shlex.split(os.environ.get("REPRODUCE_HELM", "helm"))


def needs_dependencies(chart_dir: Path) -> bool:
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text(encoding="utf-8")) or {}
    vendored = (
        {p.name for p in (chart_dir / "charts").glob("*")} if (chart_dir / "charts").is_dir() else set()
    )
    return any(
        not any(v.startswith(str(dep.get("name"))) for v in vendored) for dep in seq(chart, "dependencies")
    )


def command(release: Release, scratch: Path) -> list[str]:
    """``helm template`` for one release; its values written under ``scratch`` as ``-f`` files."""
    files = [str(f) for f in release.value_files]
    for index, values in enumerate(release.values):
        path = scratch / f"{release.namespace}.{release.name}.{index}.yaml"
        path.write_text(json.dumps(values), encoding="utf-8")  # JSON is YAML
        files.append(str(path))
    flags = [arg for f in files for arg in ("-f", f)]
    return ["template", release.name, *release.chart, "--namespace", release.namespace, *flags, *release.sets]


def render(release: Release, scratch: Path) -> list[Obj]:
    """The release's objects as ``helm template`` prints them (exits on a failed render: no number)."""
    if release.problem is not None:
        sys.exit(f"release {release.key}: {release.problem}")
    kept = memo(release)
    out = kept.read_text(encoding="utf-8") if kept is not None and kept.is_file() else None
    if out is None:
        out = template(release, scratch)
        if kept is not None:
            kept.write_text(out, encoding="utf-8")
    docs = yaml.load_all(out, Loader=SAFE)
    objects = [o for o in docs if isinstance(o, dict) and isinstance(o.get("kind"), str)]
    for obj in objects:
        if obj["kind"] not in CLUSTER_SCOPED and isinstance(obj.get("metadata"), dict):
            obj["metadata"]["namespace"] = obj["metadata"].get("namespace") or release.namespace
    return objects


def memo(release: Release) -> Path | None:
    """Where ``REPRODUCE_HELM_CACHE`` (a directory for one sitting, unset by default) keeps this
    release's render: by its name, namespace, chart arguments and values, not by the chart's content,
    so it is for commands run one after another over the same charts (the audit's recount does that)."""
    where = os.environ.get("REPRODUCE_HELM_CACHE")
    if not where:
        return None
    files = [f.read_text(encoding="utf-8") for f in release.value_files]
    key = json.dumps(
        [release.name, release.namespace, release.chart, files, release.values, release.sets], default=str
    )
    return Path(where) / f"{hashlib.sha256(key.encode()).hexdigest()}.yaml"


def template(release: Release, scratch: Path) -> str:
    if release.chart_dir is not None and needs_dependencies(release.chart_dir):
        copy = scratch / f"chart-{release.namespace}-{release.name}"
        shutil.copytree(release.chart_dir, copy)
        run([*helm(), "dependency", "build", str(copy)], release)
        release.chart = [str(copy), *release.chart[1:]]
    return run([*helm(), *command(release, scratch)], release)


def run(argv: list[str], release: Release) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        sys.exit(f"release {release.key}: `{argv[len(helm())]} ...` exited {done.returncode}")
    return done.stdout


def rendered(
    root: Path, skip: tuple[str, ...] = (), left_out: set[str] | frozenset[str] = frozenset()
) -> list[Obj]:
    """The objects of every release except those in ``left_out`` (``namespace/name``)."""
    with tempfile.TemporaryDirectory(prefix="helm-values-") as tmp:
        return [o for r in releases(root, skip) if r.key not in left_out for o in render(r, Path(tmp))]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="helm-values-") as scratch:
        for found in releases(Path(sys.argv[1]), tuple(sys.argv[2:])):
            print(shlex.join(["helm", *command(found, Path(scratch))]), found.problem or "")
