"""The deterministic check catalog: declarative metadata in ``catalog.yaml``, detection in code.

Why checks live in ``tools/``: a check is evidence gathering, not reasoning. It reads the shared
inventory (and, for a few, the repo through the same sandboxed tools an agent uses) and returns a
count, the total it is out of and every location. It never decides whether the finding matters;
that is the challenger's and the synthesizer's job in ``agents/``.

A detection is a small typed function registered under the check id with ``@detector``. The runner
records every result in the evidence ledger as tool ``check`` with a command that reproduces it
(``infra-audit check PATH ID``) so a challenger can re-run it and a person can paste it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from tools.inventory.inventory import Inventory
    from tools.registry import Toolbox

Concern = Literal["reliability", "declarative", "maintenance", "scalability", "security"]
CONCERNS: tuple[Concern, ...] = ("reliability", "declarative", "maintenance", "scalability", "security")
CONCERN_CODES: dict[Concern, str] = {
    "reliability": "R1",
    "declarative": "R2",
    "maintenance": "R3",
    "scalability": "R4",
    "security": "R5",
}


class CheckSpec(BaseModel):
    """What a check is and how a finding from it is scored by default (1-5 scales)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^(REL|DEC|MNT|SCA|SEC)-[A-Z0-9-]+$")
    concerns: tuple[Concern, ...] = Field(min_length=1, description="First one is the owning concern.")
    title: str = Field(description="Title template; {count} and {total} are filled in.")
    impact: int = Field(ge=1, le=5)
    effort: int = Field(ge=1, le=5)
    risk: int = Field(ge=1, le=5)
    fatigue: bool = Field(description="True when the unfixed state causes daily/weekly manual toil.")
    reads: Literal["repo", "cluster", "both"]
    rationale: str
    recommendation: str
    merge_key: str | None = Field(default=None, description="Checks sharing a key become one finding.")
    theme: str | None = Field(default=None, description="Cross-cutting theme this check feeds.")
    dangerous: str | None = Field(default=None, description="Why a naive fix is dangerous, with the rollout.")
    deliberate_terms: tuple[str, ...] = Field(
        default=(),
        description="Words that, next to an intent phrase in the repo's docs, mark a deliberate choice.",
    )
    shell: str | None = Field(default=None, description="A grep/kubectl command that approximates the count.")

    @property
    def concern(self) -> Concern:
        return self.concerns[0]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str = Field(description="path:line for code, cluster/namespace/kind/name for live objects.")
    subject: str = Field(description="What is affected, e.g. Deployment/immich/immich-server.")
    detail: str | None = None


class Detection(BaseModel):
    """What a detection found: ``count`` of ``total``, each location, and any extra measures."""

    model_config = ConfigDict(extra="forbid")

    count: int
    total: int | None = None
    locations: list[Location] = Field(default_factory=list)
    measures: dict[str, float] = Field(default_factory=dict)
    evidence: list[str] = Field(default_factory=list, description="Ids of tool calls the detection made.")
    applicable: bool = Field(default=True, description="False when the estate has nothing this check reads.")
    note: str | None = None
    incomplete: str | None = Field(
        default=None,
        description="Set by the runner when the check read a cluster population the audit lost in whole or "
        "part (a snapshot file that did not load, a list the server refused): which, and why.",
    )


@dataclass(frozen=True)
class CheckContext:
    inventory: Inventory
    toolbox: Toolbox
    command_prefix: str = "infra-audit check ."
    """How a person reruns a check from the shell, e.g. ``infra-audit check examples/homelab``."""


Detector = Callable[[CheckContext], Detection]
_DETECTORS: dict[str, Detector] = {}


def detector(check_id: str) -> Callable[[Detector], Detector]:
    """Register a detection function under a check id (at most one per id)."""

    def register(fn: Detector) -> Detector:
        if check_id in _DETECTORS:
            raise ValueError(f"duplicate detector for {check_id}")
        _DETECTORS[check_id] = fn
        return fn

    return register


@cache
def load_catalog() -> tuple[CheckSpec, ...]:
    """The catalog, in file order. Every spec has a detector and every detector a spec."""
    from tools.checks import detections  # noqa: F401  (registers the detectors)

    text = resources.files("tools.checks").joinpath("catalog.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~5 ms instead of ~35 ms
    specs = tuple(CheckSpec.model_validate(item) for item in yaml.load(text, Loader=loader))
    ids = [s.id for s in specs]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate check id in catalog.yaml")
    missing = set(ids) - set(_DETECTORS)
    orphans = set(_DETECTORS) - set(ids)
    if missing or orphans:
        raise ValueError(
            f"catalog/detector mismatch: no detector {sorted(missing)}, no spec {sorted(orphans)}"
        )
    return specs


def get_detector(check_id: str) -> Detector:
    load_catalog()
    return _DETECTORS[check_id]


def spec_by_id(check_id: str) -> CheckSpec:
    for spec in load_catalog():
        if spec.id == check_id:
            return spec
    raise KeyError(check_id)
