"""Print one alert check's number over an estate's files: the alert rules they hold and what applies them.

A reader's script (the standard library and PyYAML), apart from infra-audit's parser. It reads every
file under ROOT but tool caches, cluster snapshots (a directory holding ``_snapshot.json``), SKIP
paths (files the audit left out as not deployed) and files over 10 MiB, as the audit's manifest walk
does. Alerting rules
(a rule with ``alert:``; recording rules are not) are read from:

* ``PrometheusRule`` objects (``monitoring.coreos.com``): ``spec.groups``;
* rule files: a YAML document with no ``kind`` and a ``groups`` list;
* Helm values: any other YAML document without a ``kind``, a Flux ``HelmRelease``'s ``spec.values``, an
  Argo CD ``Application`` source's ``helm.valuesObject`` (``additionalPrometheusRulesMap.*.groups``,
  ``additionalPrometheusRules[].groups``, ``serverFiles."alerting_rules.yml"``/``alerts``, also one
  mapping down, as an umbrella chart nests them);
* chart templates (a ``.tpl`` file, or a file under ``templates/`` with ``{{``): one rule per
  ``alert:`` line, its ``expr:`` the first one after it.

A PrometheusRule or rule file outside a chart (no ``Chart.yaml`` above it) must be applied by
Kustomize when the estate has a ``kustomization.yaml``: a kustomization names its file (``resources``,
``bases``, ``components``, ``crds``, generator files), and, when the estate has Flux Kustomizations or
Argo CD Applications, that kustomization is one their ``path`` reaches (through ``resources``, any
depth); or it lies under a Flux Kustomization's path that has no kustomization file. Else it is not
wired. Argo CD ApplicationSets are not expanded here: an estate with one may show more rules unwired.

* MNT-ALERTS-NOT-WIRED: the rules not wired.
* REL-ALERT-GAPS: of 6 categories (OOM kills, unschedulable pods, node CPU, PVC capacity, failing Jobs
  and CronJobs, certificate expiry), those whose patterns no wired rule's name or expr matches
  (case-insensitive). Rules a chart ships itself (kube-prometheus-stack's defaults) are not read.

    python3 tools/checks/reproduce_scripts/alerts_count.py ROOT CHECK [SKIP ...]
"""

from __future__ import annotations

import posixpath
import re
import sys
from pathlib import Path
from typing import Any

from estate_files import MANIFEST_CAP, SNAPSHOT_MARKER
from k8s_objects import load_all, walk

CATEGORIES = {
    "oomkill": r"OOMKill|container_oom_events_total|last_terminated_reason.*OOMKilled",
    "unschedulable": r"Unschedulable|kube_pod_status_unschedulable|PodNotScheduled|FailedScheduling",
    "node-cpu": r"node_cpu_seconds_total|NodeCPU|NodeHighCPU|instance:node_cpu",
    "pvc-capacity": r"kubelet_volume_stats_available_bytes|kubelet_volume_stats_used_bytes"
    r"|PersistentVolumeFillingUp|VolumeFull|PVCFull",
    "cronjob-failure": r"KubeJobFailed|kube_job_status_failed|kube_job_failed|CronJobFailed"
    r"|kube_cronjob_status_last_successful_time",
    "cert-expiry": r"certmanager_certificate_expiration|CertificateExpir|probe_ssl_earliest_cert_expiry"
    r"|ssl_cert_not_after|x509",
}
CACHES = {"node_modules", ".venv", "__pycache__", ".mypy_cache"}
"""Directories the audit's walk skips besides those ``walk`` skips (.git, .terraform, .terragrunt-cache)."""
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
ALERT_LINE = re.compile(r"""^(\s*)(?:-\s*)?alert:\s*["']?([A-Za-z_][\w:-]*)""")
EXPR_LINE = re.compile(r"^(\s*)(?:-\s*)?expr:\s*[|>]?[-+]?\s*(.*)$")
REMOTE = re.compile(
    r"://|^(?:github\.com/|gitlab\.com/|bitbucket\.org/|git@|git::|ssh:|https?:)|\?ref=|^[\w-]+(?:\.[\w-]+)+/"
)


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in as_list(value) if isinstance(v, str)]


def from_groups(groups: Any) -> list[tuple[str, str]]:
    """(alert, expr) of each alerting rule of a ``groups`` list."""
    return [
        (rule["alert"], str(rule.get("expr") or ""))
        for group in as_list(groups)
        for rule in (as_map(r) for r in as_list(as_map(group).get("rules")))
        if isinstance(rule.get("alert"), str)
    ]


def from_values(values: Any) -> list[tuple[str, str]]:
    top = as_map(values)
    out: list[tuple[str, str]] = []
    for scope in [top, *(v for v in top.values() if isinstance(v, dict))]:
        for item in as_map(scope.get("additionalPrometheusRulesMap")).values():
            out += from_groups(as_map(item).get("groups"))
        for item in as_list(scope.get("additionalPrometheusRules")):
            out += from_groups(as_map(item).get("groups"))
        files = as_map(scope.get("serverFiles"))
        for key in ("alerting_rules.yml", "alerts"):
            out += from_groups(as_map(files.get(key)).get("groups"))
    return out


def from_template(text: str) -> list[tuple[str, str]]:
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        m = ALERT_LINE.match(line)
        if m is None:
            continue
        expr = ""
        for follow in lines[i + 1 :]:
            if ALERT_LINE.match(follow):
                break
            if (e := EXPR_LINE.match(follow)) is not None:
                expr = e.group(2)
                break
        out.append((m.group(2), expr))
    return out


def ancestors(rel: str) -> list[str]:
    """The directories above a file, the estate root left out (a snapshot there is the estate)."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[:d]) for d in range(1, len(parts) + 1)]


def local(base: str, entry: str) -> str | None:
    """The root-relative path of a local reference; None for a remote one or one outside the root."""
    if REMOTE.search(entry) or entry.startswith("/"):
        return None
    path = posixpath.normpath(posixpath.join(base, entry))
    return None if path == ".." or path.startswith("../") else path


class Estate:
    def __init__(self, root: Path, skip: tuple[str, ...]) -> None:
        self.root = root
        self.rules: list[tuple[str, str, str, bool]] = []  # (file, alert, expr, must be wired)
        self.kustomizations: dict[str, list[str]] = {}  # dir -> resources entries
        self.named_by: dict[str, set[str]] = {}  # file -> dirs of the kustomizations naming it
        self.roots: list[str] = []  # Flux Kustomization and Argo CD Application paths
        self.flux_paths: list[str] = []
        for path in walk(root, skip):  # every file, as the audit's manifest walk (no .gitignore)
            rel = path.relative_to(root).as_posix()
            if CACHES & set(rel.split("/")) or path.is_symlink() or path.stat().st_size > MANIFEST_CAP:
                continue
            if any((root / d / SNAPSHOT_MARKER).is_file() for d in ancestors(rel)):
                continue  # a cluster snapshot: live state, not code
            try:
                self.read(rel, path)
            except Exception as exc:  # a broken file is skipped; its text (a secret?) is never printed
                print(f"{rel}: skipped, {type(exc).__name__}", file=sys.stderr)

    def in_chart(self, rel: str) -> bool:
        parts = rel.split("/")[:-1]
        depths = range(1, len(parts) + 1)
        return any((self.root / "/".join(parts[:d]) / "Chart.yaml").is_file() for d in depths)

    def read(self, rel: str, path: Path) -> None:
        name, parts = rel.rsplit("/", 1)[-1], rel.split("/")
        if not name.endswith((".yaml", ".yml", ".tpl")) and name != "Kustomization":
            return
        text = path.read_text(encoding="utf-8", errors="replace")
        if name.endswith(".tpl") or ("templates" in parts[:-1] and "{{" in text):
            self.rules += [(rel, a, e, False) for a, e in from_template(text)]
            return
        docs = load_all(text)
        for doc in (d for d in docs if isinstance(d, dict)):
            self.document(rel, name, doc)

    def document(self, rel: str, name: str, doc: dict[str, Any]) -> None:
        api, kind, spec = str(doc.get("apiVersion") or ""), doc.get("kind"), as_map(doc.get("spec"))
        if name in KUSTOMIZATIONS and not api.startswith("kustomize.toolkit.fluxcd.io"):
            self.kustomization(rel, doc)
        elif isinstance(kind, str) and doc.get("apiVersion") is not None:
            if kind == "PrometheusRule" and api.startswith("monitoring.coreos.com/"):
                wirable = not self.in_chart(rel)
                self.rules += [(rel, a, e, wirable) for a, e in from_groups(spec.get("groups"))]
            elif kind == "HelmRelease" and api.startswith("helm.toolkit.fluxcd.io/"):
                self.rules += [(rel, a, e, False) for a, e in from_values(spec.get("values"))]
            elif kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/"):
                if isinstance(spec.get("path"), str):
                    self.roots.append(spec["path"])
                    self.flux_paths.append(spec["path"])
            elif kind == "Application" and api.startswith("argoproj.io/"):
                one = spec.get("source")
                listed = [one] if isinstance(one, dict) else as_list(spec.get("sources"))
                sources = [s for s in listed if isinstance(s, dict)]
                if sources and isinstance(sources[0].get("path"), str):
                    self.roots.append(sources[0]["path"])
                for source in sources:
                    values = as_map(source.get("helm")).get("valuesObject")
                    self.rules += [(rel, a, e, False) for a, e in from_values(values)]
        elif isinstance(doc.get("groups"), list):
            self.rules += [(rel, a, e, not self.in_chart(rel)) for a, e in from_groups(doc["groups"])]
        else:
            self.rules += [(rel, a, e, False) for a, e in from_values(doc)]

    def kustomization(self, rel: str, doc: dict[str, Any]) -> None:
        base = posixpath.dirname(rel)
        resources = [e for key in ("resources", "bases", "components") for e in strings(doc.get(key))]
        self.kustomizations[base or "."] = resources
        generated = [
            e.rpartition("=")[2]
            for key in ("configMapGenerator", "secretGenerator")
            for gen in as_list(doc.get(key))
            for field in ("files", "envs", "env")
            for e in strings(as_map(gen).get(field))
        ]
        files = [e for e in resources if e.lower().endswith((".yaml", ".yml", ".json"))]
        for entry in [*files, *strings(doc.get("crds")), *generated]:
            target = local(base, entry)
            if target is not None:
                self.named_by.setdefault(target, set()).add(base or ".")

    def deployed(self) -> set[str] | None:
        """Directories of the kustomizations a Flux Kustomization or an Argo CD Application reaches."""
        if not self.roots:
            return None
        stack = [d for r in self.roots if (d := local("", r)) is not None and d in self.kustomizations]
        seen: set[str] = set()
        while stack:
            directory = stack.pop()
            if directory in seen:
                continue
            seen.add(directory)
            for entry in self.kustomizations[directory]:
                target = local("" if directory == "." else directory, entry)
                if target is not None and target in self.kustomizations:
                    stack.append(target)
        return seen

    def wired(self) -> list[tuple[str, str, bool]]:
        """(alert, expr, wired) of every rule."""
        if not self.kustomizations:
            return [(a, e, True) for _, a, e, _ in self.rules]
        applied = [
            d
            for p in self.flux_paths
            if (d := local("", p)) is not None
            and (self.root / d).is_dir()
            and not any((self.root / d / k).is_file() for k in KUSTOMIZATIONS)
        ]
        prefixes = tuple("" if d == "." else d + "/" for d in applied)
        deployed = self.deployed()
        out = []
        for rel, alert, expr, wirable in self.rules:
            owners = self.named_by.get(rel, set())
            unwired = (
                wirable
                and not rel.startswith(prefixes)
                and (not owners or (deployed is not None and not owners & deployed))
            )
            out.append((alert, expr, not unwired))
        return out


def main(root: Path, check: str, skip: tuple[str, ...]) -> int:
    rules = Estate(root, skip).wired()
    if check == "MNT-ALERTS-NOT-WIRED":
        print(sum(not wired for _, _, wired in rules))
    elif check == "REL-ALERT-GAPS":
        covered = [(a, e) for a, e, wired in rules if wired]
        print(
            sum(
                not any(re.search(p, a, re.I) or re.search(p, e, re.I) for a, e in covered)
                for p in CATEGORIES.values()
            )
        )
    else:
        sys.exit(f"alerts_count.py: no check {check}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], tuple(sys.argv[3:])))
