"""The parser seam: which files each parser claims, and how it turns them into records.

A ``Parser`` has a name, a predicate on a file's base name (``claims``) and a function from the
estate root and the paths it claimed to ``Records``. The estate walk asks the parsers in
``PARSERS`` order and gives each file to the first that claims it, so the walk and the parsers
can never disagree on a file name. Adding an input format is its module (a ``parse`` function and
its ``claims``) and one line in ``PARSERS``. Parse functions import their module lazily: a command
that never parses (``--help``, ``checks``) does not pay for tree-sitter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tools.inventory.inventory import Records

if TYPE_CHECKING:
    from tools.inventory.kustomize.model import HelmChartRenderer

SNAPSHOT_MARKER = "_snapshot.json"
"""A directory holding it is a cluster snapshot, read by the kube tools, never parsed as code."""


@dataclass(frozen=True)
class Parser:
    name: str
    claims: Callable[[str], bool]
    """Whether a file of this base name is this parser's."""
    parse: Callable[[Path, list[str]], Records]
    """Records of the claimed files (paths estate-relative, shown forms); broken files are issues."""
    parse_rendering: Callable[[Path, list[str], HelmChartRenderer], Records] | None = None
    """The same, with the Helm engine for what the files ask it to render (kustomize ``helmCharts``)."""


def terraform_claims(name: str) -> bool:
    return name.endswith(".tf") or (name.endswith(".hcl") and name != ".terraform.lock.hcl")


def _terraform(root: Path, paths: list[str]) -> Records:
    from tools.inventory.terraform import parse_terraform

    return parse_terraform(root, paths)


YAML_SUFFIXES = (".yaml", ".yml")
RENOVATE_NAMES = frozenset(
    {"renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json", ".renovaterc.json5"}
)
"""Renovate's config file names; it reads them at the repo root, in ``.github/`` and in ``.gitlab/``."""
RENOVATE_DIRS = frozenset({"", ".github", ".gitlab"})
DEPENDABOT_NAMES = frozenset({"dependabot.yml", "dependabot.yaml"})
BotConfig = Literal["renovate", "package.json", "dependabot"]


def bot_config(path: str) -> BotConfig | None:
    """Which dependency-bot config an estate-relative path is, where the bots look for one, or None.

    The one list of locations: the walk claims these names (``manifest_claims``), the manifests reader
    parses exactly these paths, and MNT-NO-DEP-BOT says what it looked for from them. A ``renovate.json``
    elsewhere (an example, a preset's test data) configures nothing; ``package.json`` counts only at
    the root and only when it has a ``renovate`` key (the reader decides that).
    """
    directory, _, name = path.rpartition("/")
    if name in RENOVATE_NAMES and directory in RENOVATE_DIRS:
        return "renovate"
    if name == "package.json" and directory == "":
        return "package.json"
    if name in DEPENDABOT_NAMES and directory == ".github":
        return "dependabot"
    return None


def bot_locations() -> str:
    """The locations of ``bot_config`` as text, for a finding that found none."""
    renovate = ", ".join(sorted(RENOVATE_NAMES))
    return f"{renovate} (root, .github/ or .gitlab/), package.json's renovate key, .github/dependabot.yml"


OTHER_MANIFEST_NAMES = frozenset({"Jenkinsfile", "Kustomization"})


def manifest_claims(name: str) -> bool:
    """YAML and JSON (Kubernetes, Kustomize, Helm values, Flux, Argo CD, CI), bot configs, Jenkinsfiles,
    and Go templates (``.tpl``: only their alert rules are read)."""
    return (
        name.endswith(YAML_SUFFIXES)
        or (name.endswith(".json") and name != SNAPSHOT_MARKER)
        or name in RENOVATE_NAMES
        or name in OTHER_MANIFEST_NAMES
        or name.endswith(".tpl")
    )


def _manifests(root: Path, paths: list[str], helm: HelmChartRenderer | None = None) -> Records:
    from tools.inventory.manifests import parse_manifests

    return parse_manifests(root, paths, helm)


PARSERS: tuple[Parser, ...] = (
    Parser("terraform", terraform_claims, _terraform),
    Parser("manifests", manifest_claims, _manifests, _manifests),
)


def owner(name: str, parsers: tuple[Parser, ...] = PARSERS) -> Parser | None:
    """The first parser that claims a file of this base name, or None (a file no parser reads)."""
    return next((p for p in parsers if p.claims(name)), None)
