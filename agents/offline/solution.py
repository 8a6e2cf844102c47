"""What another mechanism in the estate already covers, and the two reads every resolver makes.

Shared by ``solved_elsewhere.py`` (the resolver table) and the resolvers that live in their own
module (``generated_defaults.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.concerns import agent_label
from domain.errors import SandboxViolation
from domain.evidence import Evidence
from domain.findings import RawFinding
from tools.inventory.inventory import Inventory
from tools.inventory.loading import LoadError
from tools.inventory.yaml_lines import load_values
from tools.registry import Toolbox

AGENT = agent_label("challenge", "intent")


@dataclass
class Solution:
    """What another mechanism covers: some subjects, or the whole finding (reframed)."""

    where: str
    reason: str
    evidence: list[str]
    subjects: list[str] = field(default_factory=list)
    reframe: str | None = None


Resolver = Callable[[RawFinding, Inventory, Toolbox], Solution | None]


def search(toolbox: Toolbox, pattern: str, glob: str | None = None) -> tuple[Evidence, list[dict[str, Any]]]:
    args: dict[str, Any] = {"pattern": pattern, "max_results": 200}
    if glob:
        args["glob"] = glob
    evidence = toolbox.call("repo_search", args, agent=AGENT)
    data = toolbox.ledger.data(evidence.id)
    return evidence, [m for m in data or [] if isinstance(m, dict)]


def yaml_docs(toolbox: Toolbox, path: str) -> list[Any]:
    try:
        return load_values(toolbox.jail.read_text(path))  # bounded: nesting, alias expansion
    except (SandboxViolation, OSError, LoadError):
        return []
