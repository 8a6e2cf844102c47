"""CI files and dependency bots of a repo estate: which validation steps CI runs, what bots update.

Read by the manifests reader (``manifests.py``): a CI file's commands (``run``, ``script``,
``commands``, GitHub ``uses:``) are searched once for the validation steps of ``VALIDATIONS``;
Dependabot's ecosystems and Renovate's enabled managers become ``DependencyBot`` records.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from tools.inventory.k8s_core import as_list, as_map, as_str
from tools.inventory.loading import LoadError, load_json
from tools.inventory.models import CIFile, CodeRef, DependencyBot
from tools.inventory.sources import ParseIssue
from tools.inventory.yaml_lines import YamlDocument

CISystem = Literal["github-actions", "gitlab-ci", "woodpecker", "drone", "jenkins", "circleci", "other"]

_ENABLED_MANAGERS = re.compile(r"""["']?enabledManagers["']?\s*:\s*\[([^\]]*)\]""")
_QUOTED = re.compile(r"""["']([^"']+)["']""")

# Validation steps recognised in CI commands: one alternation, run once over a file's commands.
VALIDATIONS: tuple[tuple[str, str], ...] = (
    (
        "terraform-validate",
        r"\b(?:terraform|tofu|terragrunt)(?:\s+-[\w=./-]+)*\s+(?:run-all\s+|run\s+--all\s+)?validate(?![\w-])",
    ),
    (
        "terraform-fmt",
        r"\b(?:terraform|tofu|terragrunt)(?:\s+-[\w=./-]+)*\s+(?:run-all\s+)?fmt\b|\bterragrunt\s+hclfmt\b",
    ),
    ("tflint", r"\btflint\b"),
    ("kustomize-build", r"\bkustomize\s+build\b|\bkubectl\s+kustomize\b"),
    ("kubeconform", r"\bkubeconform\b|\bkubeval\b"),
    ("helm-lint", r"\bhelm\s+(?:lint|template)\b|\bct\s+lint\b"),
    ("kyverno-test", r"\bkyverno\s+(?:test|apply)\b"),
    ("yamllint", r"\byamllint\b"),
    ("trivy", r"\btrivy\b"),
    ("grype", r"\bgrype\b"),
    ("snyk", r"\bsnyk\s+(?:test|container|iac|monitor)\b|\bsnyk/actions\b"),
    ("checkov", r"\bcheckov\b"),
    ("conftest", r"\bconftest\b"),
    # flux-local test/build runs kustomize build on every Flux Kustomization (CLI, docker image or action)
    (
        "flux-build",
        r"\bflux\s+build\b|\bflux-local(?::[\w.-]+)?\s+(?:test|build)\b|\bflux-local/action/test\b",
    ),
)
_VALIDATION_RE = re.compile("|".join(f"(?P<v{i}>{pattern})" for i, (_, pattern) in enumerate(VALIDATIONS)))
_COMMAND_KEYS = frozenset(
    {"run", "script", "before_script", "after_script", "commands", "command", "entrypoint", "uses"}
)


def ci_file(path: str, system: CISystem, texts: list[str], line: int) -> CIFile:
    found: set[str] = set()
    for text in texts:
        for match in _VALIDATION_RE.finditer(text):
            found.add(VALIDATIONS[int(match.lastgroup[1:])][0] if match.lastgroup else "")
    validations = [name for name, _ in VALIDATIONS if name in found]
    return CIFile(system=system, validations=validations, source=CodeRef(path=path, line=line))


def dependabot(path: str, docs: list[YamlDocument]) -> DependencyBot:
    ecosystems: list[str] = []
    for doc in docs:
        for update in as_list(doc.data.get("updates")):
            ecosystem = as_str(as_map(update).get("package-ecosystem"))
            if ecosystem is not None and ecosystem not in ecosystems:
                ecosystems.append(ecosystem)
    line = docs[0].line if docs else 1
    return DependencyBot(tool="dependabot", ecosystems=ecosystems, source=CodeRef(path=path, line=line))


def renovate(path: str, data: bytes) -> DependencyBot | ParseIssue:
    """Renovate config; JSON5 (comments, trailing commas) falls back to finding enabledManagers."""
    text = data.decode("utf-8", "replace")
    managers: list[str]
    try:
        config = load_json(text)
        managers = [m for m in as_list(as_map(config).get("enabledManagers")) if isinstance(m, str)]
    except LoadError as exc:
        if exc.reason != "syntax":
            return ParseIssue(path=path, line=exc.line, message=exc.message, reason=exc.reason)
        match = _ENABLED_MANAGERS.search(text)
        managers = _QUOTED.findall(match.group(1)) if match else []
    return DependencyBot(tool="renovate", ecosystems=managers or ["all"], source=CodeRef(path=path, line=1))


def package_json(path: str, data: bytes) -> DependencyBot | ParseIssue | None:
    """The root ``package.json``: a Renovate config when it has a ``renovate`` key (cited at its line)."""
    try:
        config = as_map(load_json(data)).get("renovate")
    except LoadError as exc:
        if exc.reason != "syntax":
            return ParseIssue(path=path, line=exc.line, message=exc.message, reason=exc.reason)
        return None
    if not isinstance(config, dict):
        return None
    managers = [m for m in as_list(config.get("enabledManagers")) if isinstance(m, str)]
    line = next((n for n, text in enumerate(data.splitlines(), 1) if b'"renovate"' in text), 1)
    return DependencyBot(
        tool="renovate", ecosystems=managers or ["all"], source=CodeRef(path=path, line=line)
    )


def ci_system(parts: list[str]) -> CISystem | None:
    name = parts[-1]
    parent = parts[-2] if len(parts) >= 2 else ""
    grandparent = parts[-3] if len(parts) >= 3 else ""
    if parent == "workflows" and grandparent == ".github":
        return "github-actions"
    if name == ".gitlab-ci.yml":
        return "gitlab-ci"
    if name in (".woodpecker.yml", ".woodpecker.yaml") or parent == ".woodpecker":
        return "woodpecker"
    if name in (".drone.yml", ".drone.yaml"):
        return "drone"
    if parent == ".circleci" and name in ("config.yml", "config.yaml"):
        return "circleci"
    return None


def commands(data: Any, collect: bool = False) -> str:
    """The text of every command in a CI document (``run``, ``script``, ``commands``...), one per line.

    GitHub ``uses:`` actions count too (``aquasecurity/trivy-action`` runs trivy), except
    ``setup-*`` actions, which only install a tool; a ``docker://`` action runs its image with
    ``with: args``, so the two are one command.
    """
    if isinstance(data, str):
        return data if collect else ""
    out: list[str] = []
    if isinstance(data, dict):
        uses, args = data.get("uses"), as_map(data.get("with")).get("args")
        if isinstance(uses, str) and uses.startswith("docker://") and isinstance(args, str):
            out.append(f"{uses} {args}")
        for key, value in data.items():
            if key == "uses" and isinstance(value, str) and "setup-" in value:
                continue
            out.append(commands(value, collect or key in _COMMAND_KEYS))
    elif isinstance(data, list):
        out.extend(commands(item, collect) for item in data)
    return "\n".join(text for text in out if text)
