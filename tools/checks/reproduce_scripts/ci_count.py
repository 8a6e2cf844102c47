"""Print one check's number over an estate's CI files and what they must validate.

A reader's script (the standard library and PyYAML, with ``k8s_objects.py``): CI files are GitHub
workflows (``.github/workflows/*``), ``.gitlab-ci.yml``, Woodpecker (``.woodpecker.y*ml``,
``.woodpecker/*``), Drone (``.drone.y*ml``) and CircleCI (``.circleci/config.y*ml``); a step's
commands are the values under ``run``, ``script``, ``before_script``, ``after_script``, ``commands``,
``command``, ``entrypoint`` and GitHub ``uses`` (not a ``setup-*`` action, which only installs).

* MNT-NO-CI-VALIDATION: of the validations the estate needs (Terraform files: ``terraform validate``
  or tflint; a kustomization or a Flux Kustomization: ``kustomize build`` or a Flux build; Kubernetes
  manifests in YAML: kubeconform; a ``Chart.yaml``: ``helm lint`` or ``helm template``), those no CI
  command runs.
* SEC-NO-IMAGE-VERIFY: of {signature verification, vulnerability scanning}, the ones missing.
  Verification: a Kyverno (Cluster)Policy rule with ``verifyImages``, an ImageValidatingPolicy
  (policies.kyverno.io), a ClusterImagePolicy (policy.sigstore.dev), a Helm release of Connaisseur or
  Ratify. Scanning: a CI command running trivy, grype or snyk, a Helm release of trivy-operator or
  Harbor.

    python3 tools/checks/reproduce_scripts/ci_count.py ROOT CHECK [SKIP_DIR ...]
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from k8s_objects import load_all, objects, read_hcl, walk


@functools.cache
def estate_paths(root: Path, skip: tuple[str, ...]) -> list[Path]:
    """The estate's files (``walk``), listed once per run of this script: read, never changed."""
    return walk(root, skip)


@functools.cache
def estate_objects(root: Path, skip: tuple[str, ...]) -> list[dict[str, Any]]:
    """The estate's objects (``objects``), parsed once per run of this script: read, never changed."""
    return objects(root, skip)


STEPS = {
    "terraform-validate": r"\b(?:terraform|tofu|terragrunt)(?:\s+-[\w=./-]+)*\s+"
    r"(?:run-all\s+|run\s+--all\s+)?validate(?![\w-])",
    "tflint": r"\btflint\b",
    "kustomize-build": r"\bkustomize\s+build\b|\bkubectl\s+kustomize\b",
    "flux-build": r"\bflux\s+build\b|\bflux-local(?::[\w.-]+)?\s+(?:test|build)\b|\bflux-local/action/test\b",
    "kubeconform": r"\bkubeconform\b|\bkubeval\b",
    "helm-lint": r"\bhelm\s+(?:lint|template)\b|\bct\s+lint\b",
    "scan": r"\btrivy\b|\bgrype\b|\bsnyk\s+(?:test|container|iac|monitor)\b|\bsnyk/actions\b",
}
COMMAND_KEYS = {"run", "script", "before_script", "after_script", "commands", "command", "entrypoint", "uses"}
MANIFEST_KINDS = {
    "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "PersistentVolumeClaim", "Namespace",
    "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "CiliumNetworkPolicy", "ResourceQuota",
    "LimitRange", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "Secret", "HelmRelease",
    "Application", "ApplicationSet", "GitRepository", "OCIRepository", "HelmRepository", "Bucket",
}  # fmt: skip
"""Kinds that make YAML manifests worth kubeconform (workloads, their policies, Flux and Argo CD objects)."""


def is_ci(rel: tuple[str, ...]) -> bool:
    name, parent = rel[-1], rel[-2] if len(rel) > 1 else ""
    return (
        (parent == "workflows" and len(rel) > 2 and rel[-3] == ".github")
        or name in (".gitlab-ci.yml", ".woodpecker.yml", ".woodpecker.yaml", ".drone.yml", ".drone.yaml")
        or parent == ".woodpecker"
        or (parent == ".circleci" and name in ("config.yml", "config.yaml"))
    )


def commands(data: Any, collect: bool = False) -> list[str]:
    if isinstance(data, str):
        return [data] if collect else []
    out: list[str] = []
    if isinstance(data, dict):
        uses, args = (
            data.get("uses"),
            (data.get("with") or {}).get("args") if isinstance(data.get("with"), dict) else None,
        )
        if isinstance(uses, str) and uses.startswith("docker://") and isinstance(args, str):
            out.append(f"{uses} {args}")
        for key, value in data.items():
            if key == "uses" and isinstance(value, str) and "setup-" in value:
                continue
            out += commands(value, collect or key in COMMAND_KEYS)
    elif isinstance(data, list):
        for item in data:
            out += commands(item, collect)
    return out


def ci_runs(root: Path, skip: tuple[str, ...]) -> tuple[bool, set[str]]:
    """(whether the estate has a CI file, the steps its commands run)."""
    files = [p for p in estate_paths(root, skip) if is_ci(p.relative_to(root).parts)]
    text = []
    for path in files:
        try:
            docs = load_all(path.read_text(encoding="utf-8"))
        except Exception:  # a broken CI file runs nothing here; its text is never printed
            continue
        text += [c for doc in docs for c in commands(doc)]
    joined = "\n".join(text)
    return bool(files), {step for step, pattern in STEPS.items() if re.search(pattern, joined)}


def needed(root: Path, skip: tuple[str, ...]) -> list[set[str]]:
    """Each needed validation as the steps that satisfy it."""
    paths = estate_paths(root, skip)
    # Terraform's objects carry no apiVersion
    yaml_objects = [o for o in estate_objects(root, skip) if "apiVersion" in o]
    out = []
    if any(p.suffix == ".tf" or p.name == "terragrunt.hcl" for p in paths):
        out.append({"terraform-validate", "tflint"})
    kustomized = any(p.name in ("kustomization.yaml", "kustomization.yml", "Kustomization") for p in paths)
    if kustomized or any(o.get("kind") == "Kustomization" for o in yaml_objects):
        out.append({"kustomize-build", "flux-build"})
    if any(o.get("kind") in MANIFEST_KINDS for o in yaml_objects):
        out.append({"kubeconform"})
    if any(p.name == "Chart.yaml" for p in paths):
        out.append({"helm-lint"})
    return out


def no_ci_validation(root: Path, skip: tuple[str, ...]) -> int:
    _, runs = ci_runs(root, skip)
    return sum(not (steps & runs) for steps in needed(root, skip))


def charts(root: Path, skip: tuple[str, ...]) -> list[str]:
    """The chart of every Helm release: Flux HelmRelease, Argo CD Application, Terraform helm_release."""
    found = []
    for o in estate_objects(root, skip):
        spec: dict[str, Any] = o["spec"] if isinstance(o.get("spec"), dict) else {}
        if o.get("kind") == "HelmRelease":
            chart = (spec.get("chart") or {}).get("spec") or {}
            found.append(str(chart.get("chart") or (spec.get("chartRef") or {}).get("name") or ""))
        elif o.get("kind") == "Application":
            sources = [spec.get("source")] + (spec.get("sources") or [])
            found += [str(s.get("chart")) for s in sources if isinstance(s, dict) and s.get("chart")]
    for path in estate_paths(root, skip):
        if path.suffix == ".tf":
            for name, labels, body in read_hcl(path, {}):
                if name == "resource" and labels[:1] == ["helm_release"] and isinstance(body, list):
                    found += [str(v) for k, _, v in body if k == "chart"]
    return [c.rsplit("/", 1)[-1].lower() for c in found]


def group(o: dict[str, Any]) -> str:
    return str(o.get("apiVersion", "")).rpartition("/")[0]


def verifies(o: dict[str, Any]) -> bool:
    spec: dict[str, Any] = o["spec"] if isinstance(o.get("spec"), dict) else {}
    kind = o.get("kind")
    if group(o) == "kyverno.io" and kind in ("ClusterPolicy", "Policy"):
        rules: list[Any] = spec["rules"] if isinstance(spec.get("rules"), list) else []
        return any(isinstance(r, dict) and r.get("verifyImages") for r in rules)
    return (kind, group(o)) in {
        ("ImageValidatingPolicy", "policies.kyverno.io"),
        ("ClusterImagePolicy", "policy.sigstore.dev"),
    }


def no_image_verify(root: Path, skip: tuple[str, ...], live: list[dict[str, Any]] | None = None) -> int:
    """``live``: a cluster's objects (``joined_count.py``), whose admission policies verify too."""
    releases = set(charts(root, skip))
    policies = [*estate_objects(root, skip), *(live or [])]
    verification = any(verifies(o) for o in policies) or bool({"connaisseur", "ratify"} & releases)
    _, runs = ci_runs(root, skip)
    scanning = "scan" in runs or bool({"trivy-operator", "harbor"} & releases)
    return int(not verification) + int(not scanning)


CHECKS: dict[str, Callable[[Path, tuple[str, ...]], int]] = {
    "MNT-NO-CI-VALIDATION": no_ci_validation,
    "SEC-NO-IMAGE-VERIFY": no_image_verify,
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in CHECKS:
        print(f"usage: ci_count.py ROOT CHECK [SKIP_DIR ...]; CHECK one of {sorted(CHECKS)}", file=sys.stderr)
        return 2
    print(CHECKS[argv[1]](Path(argv[0]), tuple(argv[2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
