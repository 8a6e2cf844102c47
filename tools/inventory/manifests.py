"""Every YAML (and JSON) file of a repo estate into records: Kubernetes objects, Kustomize files, Helm
values, Prometheus rule files, CI files, and Renovate/Dependabot config.

Each file is read once and classified by its path, then by its content: a document with
``apiVersion`` and ``kind`` goes to the shared object mapper (``k8s_objects``); anything else may be
Helm values or a Prometheus rule file. Broken files become ``ParseIssue``s and the rest of the estate
still parses. Helm chart templates (``{{ }}`` under ``templates/``) are not YAML and are skipped.

After all files are read, alert rules are checked for wiring: in an estate that uses Kustomize, a
PrometheusRule or rule file that no kustomization references is never applied, so its alerts never
fire. That is worth a finding, and only the whole estate can tell.
"""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import Path
from typing import Any

from domain.unread import SkipReason
from tools.inventory.alert_wiring import KUSTOMIZATION_NAMES, rules_from_template, wire
from tools.inventory.ci_files import ci_file, ci_system, commands, dependabot, package_json, renovate
from tools.inventory.inventory import Records
from tools.inventory.k8s_core import as_list, as_map, as_str
from tools.inventory.k8s_objects import alert_rules_from_groups, alert_rules_from_values, records_from_object
from tools.inventory.kustomize.estate import GitOps, RawObject, resolve
from tools.inventory.kustomize.model import HelmChartRenderer, Resource
from tools.inventory.loading import LoadError, load_json
from tools.inventory.models import AlertRule, CodeRef, Kustomization, Origin
from tools.inventory.parsers import RENOVATE_NAMES, bot_config, manifest_claims
from tools.inventory.provenance import Origins, Provenance
from tools.inventory.sources import ParseIssue
from tools.inventory.yaml_lines import YamlDocument, YamlParseError, load_documents
from tools.pathnames import on_disk
from tools.sizes import MIB, format_size

MAX_FILE_BYTES = 10 * MIB
_FILE_SUFFIXES = (".yaml", ".yml", ".json")
_REMOTE = ("github.com/", "gitlab.com/", "bitbucket.org/", "git@", "git::", "ssh:", "http:", "https:")
_REMOTE_HOST = re.compile(r"^[\w-]+(?:\.[\w-]+)+/")


def parse_manifests(root: Path, paths: list[str], helm: HelmChartRenderer | None = None) -> Records:
    """Parse the estate's YAML/JSON/CI/bot files (paths relative to ``root``) into one Records.

    ``helm`` renders a kustomization's ``helmCharts`` (the Helm engine's seam); without it they are
    noted as not rendered."""
    reader = _EstateReader(root, helm)
    for path in paths:  # build_inventory pauses the collector for the whole parse (build.gc_paused)
        reader.read(path)
    reader.map_documents()
    reader.wire_alerts()
    return reader.records


class _EstateReader:
    """Reads files one by one, then resolves what needs the whole estate (alert wiring)."""

    def __init__(self, root: Path, helm: HelmChartRenderer | None = None) -> None:
        self.root = root
        self.helm = helm
        self.real_root = os.path.realpath(root)
        self.records = Records()
        self._wirable: list[AlertRule] = []  # rules whose file must be referenced by a kustomization
        self._wired_files: dict[str, set[str]] = {}  # rule-capable file -> kustomization dirs naming it
        self._kustomize_used = False
        self._exists: dict[tuple[str, bool], bool | None] = {}
        self._pending: list[tuple[str, str, list[YamlDocument], Origin]] = []
        """Documents read, mapped once the GitOps builds are known (``map_documents``), in file order."""
        self._kustomization_files: list[str] = []
        self._origins = Origins()

    # ----------------------------------------------------------------------------- dispatch

    def read(self, path: str) -> None:
        parts = path.split("/")
        name = parts[-1]
        if not manifest_claims(name):
            return
        data = self._read_bytes(path)
        if data is None:
            return
        bot = bot_config(path)
        if name == "Jenkinsfile":
            self.records.ci_files.append(ci_file(path, "jenkins", [data.decode("utf-8", "replace")], 1))
        elif bot in ("renovate", "package.json"):
            found = renovate(path, data) if bot == "renovate" else package_json(path, data)
            if isinstance(found, ParseIssue):
                self.records.issues.append(found)
            elif found is not None:
                self.records.dependency_bots.append(found)
        elif name in RENOVATE_NAMES:
            return  # a Renovate file where Renovate does not look (an example, test data): no config
        elif name.endswith(".json"):
            self._json(path, data)
        elif name.endswith(".tpl") or ("templates" in parts[:-1] and b"{{" in data):
            # a Helm chart template: Go templating, not YAML; its alert rules are read by lines
            self.records.alert_rules += rules_from_template(path, data.decode("utf-8", "replace"))
        else:
            self._yaml(path, parts, data)

    def _read_bytes(self, path: str) -> bytes | None:
        try:
            with open(self.root / on_disk(path), "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            self._issue(path, None, f"unreadable: {exc.strerror or exc}", "unreadable")
            return None
        if len(data) > MAX_FILE_BYTES:
            self._issue(path, None, f"larger than {format_size(MAX_FILE_BYTES)}, skipped", "too_large")
            return None
        return data

    def _yaml(self, path: str, parts: list[str], data: bytes) -> None:
        try:
            docs = load_documents(data)
        except YamlParseError as exc:
            self._issue(path, exc.line, exc.message, exc.reason)
            return
        name = parts[-1]
        ci = ci_system(parts)
        if ci is not None:
            texts = [commands(doc.data) for doc in docs]
            self.records.ci_files.append(ci_file(path, ci, texts, docs[0].line if docs else 1))
        elif bot_config(path) == "dependabot":
            self.records.dependency_bots.append(dependabot(path, docs))
        else:
            origin: Origin = "helm" if self._in_chart_templates(parts) else "manifest"
            self._pending.append((path, name, docs, origin))
            if name in KUSTOMIZATION_NAMES and docs and not _is_flux(docs[0].data):
                self._kustomization_files.append(path)

    @staticmethod
    def _root_path(entry: str) -> str | None:
        return _local_path("", entry)

    def _in_chart(self, path: str) -> bool:
        """The file lies inside a chart directory (an ancestor holds ``Chart.yaml``)."""
        parts = path.split("/")[:-1]
        return any(
            self._exists_in_root(posixpath.join(*parts[:depth], "Chart.yaml"), True) is True
            for depth in range(1, len(parts) + 1)
        )

    def _in_chart_templates(self, parts: list[str]) -> bool:
        """A static file in a chart's ``templates/``: Helm applies it, not Kustomize."""
        if "templates" not in parts[:-1]:
            return False
        chart_dir = "/".join(parts[: len(parts) - 2 - parts[-2::-1].index("templates")])
        return self._exists_in_root(posixpath.join(chart_dir, "Chart.yaml"), True) is True

    def map_documents(self) -> None:
        """Map every document read: objects a GitOps build reaches come from the build (patched,
        namespaced), in place of their file's raw documents; patch files are not objects."""
        gitops = self._gitops()
        built: dict[str, list[Resource]] = {}
        for build in gitops.builds:
            for resource in build.resources:
                built.setdefault(resource.path, []).append(resource)
        skip = gitops.object_files | gitops.patch_files
        for path, name, docs, origin in self._pending:
            for resource in built.pop(path, []):
                self._built(resource, origin)
            for doc in docs:
                if path in skip and _is_object(doc.data) and name not in KUSTOMIZATION_NAMES:
                    continue
                self._document(path, name, doc, origin)
        for resources in built.values():
            for resource in resources:
                self._built(resource, "manifest")
        for app in gitops.applications:
            provenance = Provenance(self._origins, app.obj, app.source.path)
            found = records_from_object(app.obj, app.source, "manifest", provenance)
            for argo in found.argo_apps:
                argo.generated_by = app.appset
            self.records.extend(found)
            self.records.release_objects.append((app.obj, app.source.path, provenance))
        self.records.deployed_paths += gitops.deployed
        self.records.issues += gitops.issues

    def _gitops(self) -> GitOps:
        raw = [
            RawObject(path, doc)
            for path, name, docs, origin in self._pending
            if origin == "manifest" and name not in KUSTOMIZATION_NAMES
            for doc in docs
            if _is_object(doc.data)
        ]
        seeded = {path: docs for path, _, docs, _ in self._pending}
        gitops = resolve(self.root, self._kustomization_files, raw, seeded, self.helm)
        self._origins = gitops.origins
        return gitops

    def _built(self, resource: Resource, origin: Origin) -> None:
        source = CodeRef(path=resource.path, line=resource.line)
        provenance = Provenance(self._origins, resource.obj, resource.path)
        named = provenance.ref(("metadata", "name")) if resource.kind == "Namespace" else None
        if named is not None and named.path != resource.path:
            source = named  # a component's placeholder renamed by a kustomization: cite its namespace line
        found = records_from_object(resource.obj, source, origin, provenance)
        if _is_release(resource.obj):  # rendered as built, not as written (helm/render.py)
            self.records.release_objects.append((resource.obj, resource.path, provenance))
        self._wirable += found.alert_rules
        self.records.extend(found)

    def _document(self, path: str, name: str, doc: YamlDocument, origin: Origin = "manifest") -> None:
        data = doc.data
        source = CodeRef(path=path, line=doc.line)
        api_version, kind = data.get("apiVersion"), data.get("kind")
        if name in KUSTOMIZATION_NAMES and not str(api_version).startswith("kustomize.toolkit.fluxcd.io"):
            self._kustomization(path, data, source)
        elif isinstance(api_version, str) and isinstance(kind, str):
            found = records_from_object(data, source, origin, doc.line_of)
            if origin == "manifest" and not self._in_chart(path):
                self._wirable += found.alert_rules
            self.records.extend(found)
        elif isinstance(data.get("groups"), list):
            rules = alert_rules_from_groups(data["groups"], source, doc.line_of, ("groups",))
            if not self._in_chart(path):  # a chart's rule files are loaded by the chart
                self._wirable += rules
            self.records.alert_rules += rules
        else:
            self.records.alert_rules += alert_rules_from_values(data, source, doc.line_of, ())

    def _json(self, path: str, data: bytes) -> None:
        """Only JSON Kubernetes objects (or Lists) count; dashboards and package files are ignored.

        Broken JSON is reported when it looks like a Kubernetes object; JSON that is nested too deep or
        not UTF-8 is reported whatever it holds (it was refused, not read)."""
        try:
            obj = load_json(data)
        except LoadError as exc:
            if exc.reason != "syntax":
                self._issue(path, exc.line, exc.message, exc.reason)
            elif b'"apiVersion"' in data and b'"kind"' in data:
                self._issue(path, exc.line, f"a Kubernetes object that is not valid JSON: {exc.message}")
            return
        if not (
            isinstance(obj, dict)
            and isinstance(obj.get("apiVersion"), str)
            and isinstance(obj.get("kind"), str)
        ):
            return
        try:  # JSON is YAML: compose it again only to learn the lines
            docs = load_documents(data)
        except YamlParseError:
            docs = []
        if docs:
            self._pending.append((path, path.rsplit("/", 1)[-1], docs[:1], "manifest"))
        else:
            found = records_from_object(obj, CodeRef(path=path, line=1), "manifest")
            self._wirable += found.alert_rules
            self.records.extend(found)

    def _issue(self, path: str, line: int | None, message: str, reason: SkipReason = "syntax") -> None:
        self.records.issues.append(ParseIssue(path=path, line=line, message=message, reason=reason))

    # ---------------------------------------------------------------------------- Kustomize

    def _kustomization(self, path: str, data: dict[str, Any], source: CodeRef) -> None:
        """Record the file, its local references that do not exist, and what it wires in."""
        self._kustomize_used = True
        base = posixpath.dirname(path)
        resources = [
            entry for key in ("resources", "bases", "components") for entry in _strings(data.get(key))
        ]
        generated = [
            entry.rpartition("=")[2]
            for key in ("configMapGenerator", "secretGenerator")
            for generator in as_list(data.get(key))
            for field in ("files", "envs", "env")
            for entry in _strings(as_map(generator).get(field))
        ]
        patches = [
            entry
            for key in ("patches", "patchesJson6902", "replacements")
            for item in as_list(data.get(key))
            if (entry := as_str(as_map(item).get("path"))) is not None
        ]
        patches += [entry for entry in _strings(data.get("patchesStrategicMerge")) if "\n" not in entry]
        missing: list[str] = []
        for entries, file_only in (
            (resources, False),
            (_strings(data.get("crds")), True),
            (generated, True),
            (patches, True),
        ):
            for entry in entries:
                local = _local_path(base, entry)
                if local is None:
                    continue
                want_file = file_only or entry.lower().endswith(_FILE_SUFFIXES)
                if self._exists_in_root(local, want_file) is False and entry not in missing:
                    missing.append(entry)
                if want_file and entries is not patches:
                    self._wired_files.setdefault(local, set()).add(base or ".")
        self.records.kustomizations.append(
            Kustomization(
                path=path,
                namespace=as_str(data.get("namespace")),
                resources=resources,
                missing=missing,
                source=source,
            )
        )

    def _exists_in_root(self, local: str, want_file: bool) -> bool | None:
        """Whether ``local`` exists as a file (or directory); None when it resolves outside the root."""
        key = (local, want_file)
        if key not in self._exists:
            full = os.path.join(self.real_root, on_disk(local))
            real = os.path.realpath(full)
            if real != self.real_root and not real.startswith(self.real_root + os.sep):
                self._exists[key] = None
            else:
                self._exists[key] = os.path.isfile(real) if want_file else os.path.isdir(real)
        return self._exists[key]

    def wire_alerts(self) -> None:
        """Mark rules nothing deployed applies, once the whole estate is read (``alert_wiring``)."""
        if self._kustomize_used:
            wire(self.records, self._wirable, self._wired_files, self._root_path, self._exists_in_root)


# ------------------------------------------------------------------------------------ helpers


def _is_object(data: dict[str, Any]) -> bool:
    return isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str)


def _is_release(data: dict[str, Any]) -> bool:
    """A Flux HelmRelease or an Argo CD Application: what the render phase renders."""
    api = str(data.get("apiVersion"))
    return (data.get("kind") == "HelmRelease" and api.startswith("helm.toolkit.fluxcd.io/")) or (
        data.get("kind") == "Application" and api.startswith("argoproj.io/")
    )


def _is_flux(data: dict[str, Any]) -> bool:
    return str(data.get("apiVersion")).startswith("kustomize.toolkit.fluxcd.io")


def _strings(value: Any) -> list[str]:
    """A list of strings; a lone string (``env: app.env``) is a list of one."""
    if isinstance(value, str):
        return [value]
    return [item for item in as_list(value) if isinstance(item, str)]


def _local_path(base: str, entry: str) -> str | None:
    """The root-relative path of a local kustomize reference; None for remote or outside the root."""
    if "://" in entry or entry.startswith(_REMOTE) or "?ref=" in entry or _REMOTE_HOST.match(entry):
        return None
    if entry.startswith("/"):
        return None
    local = posixpath.normpath(posixpath.join(base, entry))
    return None if local == ".." or local.startswith("../") else local
