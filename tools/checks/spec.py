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

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from domain.evidence import Evidence
    from tools.inventory.inventory import Inventory
    from tools.registry import Toolbox

from domain.concerns import CHECK_ID_PATTERN, Concern
from domain.findings import Location
from tools.checks.reproduce import ReproSpec, Where, every_option


class CheckSpec(BaseModel):
    """What a check is and how a finding from it is scored by default (1-5 scales)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=CHECK_ID_PATTERN)
    concerns: tuple[Concern, ...] = Field(min_length=1, description="First one is the owning concern.")
    title: str = Field(description="Title template; {count} and {total} are filled in.")
    impact: int = Field(ge=1, le=5)
    effort: int = Field(ge=1, le=5)
    risk: int = Field(ge=1, le=5)
    fatigue: bool = Field(description="True when the unfixed state causes daily/weekly manual toil.")
    reads: Literal["repo", "cluster", "both"]
    covered_by: tuple[str, ...] = Field(
        default=(),
        description="Kinds whose objects take an item out of the count (a PodDisruptionBudget for a "
        "workload with none): with one of them unread on the cluster the count is no lower bound but "
        "unknown, since an unread one may cover a counted item.",
    )
    rationale: str
    recommendation: str
    merge_key: str | None = Field(default=None, description="Checks sharing a key become one finding.")
    theme: str | None = Field(default=None, description="Cross-cutting theme this check feeds.")
    dangerous: str | None = Field(default=None, description="Why a naive fix is dangerous, with the rollout.")
    topics: tuple[str, ...] = Field(
        default=(),
        description="What a decision written in the estate must be about to cover it (topics.yaml keys).",
    )
    shell: str | None = Field(default=None, description="A grep/kubectl command that approximates the count.")
    counts: str | None = Field(
        default=None, description="What one unit of the count is, and where it is looked for."
    )
    not_counted: tuple[str, ...] = Field(
        default=(),
        description="What the check deliberately does not count (look-alikes it leaves out), one per item; "
        "a single sentence is one item.",
    )

    @field_validator("not_counted", mode="before")
    @classmethod
    def _one_item(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    reproduce: dict[str, ReproSpec] = Field(
        default_factory=dict,
        description="How each number (count, or a measure) is recounted with standard tools (reproduce.py).",
    )
    clock: bool = Field(
        default=False,
        description="True when the detection compares times with the audit clock (its command has --date).",
    )

    @property
    def concern(self) -> Concern:
        return self.concerns[0]


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


@dataclass(frozen=True)
class CheckContext:
    inventory: Inventory
    toolbox: Toolbox
    command_prefix: str = "infra-audit check ."
    """How a person reruns a check from the shell, e.g. ``infra-audit check examples/homelab``."""
    now: datetime | None = None
    """The audit clock (``tools/clock.py``), from the run settings. The runner gives it only to the
    checks whose spec says ``clock: true``, so a detection cannot judge time without saying so."""
    where: Where = field(default_factory=Where)
    """Where the run read the estate and the cluster, for the standard-tool commands (reproduce.py)."""
    counted: Callable[[Evidence], None] | None = None
    """Given the evidence of each check that counted something, as the check ends (the offline
    research: the numbers challenger starts its commands then, beside the checks still to run)."""

    def clock(self) -> datetime:
        """The run's one 'now'. A detection reads time here, never from the wall clock."""
        if self.now is None:
            raise RuntimeError("this check reads the audit clock: catalog.yaml must say 'clock: true' for it")
        return self.now


Detector = Callable[[CheckContext], Detection]
_CHECK_ID = "__check_id__"


def detector(check_id: str) -> Callable[[Detector], Detector]:
    """Mark a detection function as the one for ``check_id``.

    Marking changes nothing global: ``tools/checks/detections/__init__.py`` lists the detection
    modules, and ``detectors()`` collects the marked functions from them when the catalog loads.
    """

    def mark(fn: Detector) -> Detector:
        setattr(fn, _CHECK_ID, check_id)
        return fn

    return mark


def check_id_of(obj: object) -> str | None:
    """The check id a function was marked with by ``@detector``, or None."""
    value = getattr(obj, _CHECK_ID, None)
    return value if isinstance(value, str) and callable(obj) else None


class ThemeSpec(BaseModel):
    """A cross-cutting theme the synthesizer can name (``themes.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    summary: str


class TopicSpec(BaseModel):
    """What a documented decision can be about, and the words that name it (``topics.yaml``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    stated: tuple[str, ...] = Field(default=(), description="Terms that, said plainly, state the finding.")
    negated: tuple[str, ...] = Field(default=(), description="Terms that state the finding when negated.")
    on_decision: Literal["drop", "reframe"]
    framing: str | None = Field(default=None, description="What stays open ({where}, {subjects})")
    only_where: str | None = Field(
        default=None,
        description="A regex a subject's detail must match for a decision on this topic to cover it.",
    )

    @field_validator("only_where")
    @classmethod
    def _a_regex(cls, value: str | None) -> str | None:
        try:  # a bad pattern fails when topics.yaml loads, not in a challenge
            re.compile(value or "")
        except re.error as exc:
            raise ValueError(f"only_where is not a regular expression: {exc}") from exc
        return value


def _yaml(name: str) -> object:
    text = resources.files("tools.checks").joinpath(name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~5 ms instead of ~35 ms
    return yaml.load(text, Loader=loader)


@cache
def load_themes() -> dict[str, ThemeSpec]:
    """The themes, keyed as ``theme:`` in catalog.yaml names them, in file order."""
    raw = _yaml("themes.yaml")
    if not isinstance(raw, dict):
        raise ValueError("themes.yaml must map theme keys to a title and a summary")
    return {str(k): ThemeSpec.model_validate({"key": k, **v}) for k, v in raw.items()}


@cache
def load_topics() -> dict[str, TopicSpec]:
    """The decision topics, keyed as ``topics:`` in catalog.yaml names them."""
    raw = _yaml("topics.yaml")
    if not isinstance(raw, dict):
        raise ValueError("topics.yaml must map topic keys to their terms")
    topics = {str(k): TopicSpec.model_validate({"key": k, **v}) for k, v in raw.items()}
    for topic in topics.values():
        if topic.on_decision == "reframe" and not topic.framing:
            raise ValueError(f"topics.yaml: {topic.key} reframes but has no framing")
    return topics


@cache
def _detectors() -> dict[str, Detector]:
    from tools.checks.detections import detectors

    return detectors()


@cache
def load_catalog() -> tuple[CheckSpec, ...]:
    """The catalog, in file order, validated against the detectors and the themes."""
    raw = _yaml("catalog.yaml")
    specs = tuple(CheckSpec.model_validate(item) for item in raw) if isinstance(raw, list) else ()
    return validate_catalog(specs, set(_detectors()), set(load_themes()), set(load_topics()))


def validate_catalog(
    specs: tuple[CheckSpec, ...], detectors: set[str], themes: set[str], topics: set[str] | None = None
) -> tuple[CheckSpec, ...]:
    """Every spec has a detector, every detector a spec, every ``theme:`` a row of themes.yaml, every
    ``topics:`` entry a row of topics.yaml."""
    ids = [s.id for s in specs]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate check id in catalog.yaml")
    missing = set(ids) - detectors
    orphans = detectors - set(ids)
    if missing or orphans:
        raise ValueError(
            f"catalog/detector mismatch: no detector {sorted(missing)}, no spec {sorted(orphans)}"
        )
    unknown = sorted(f"{s.id}: {s.theme}" for s in specs if s.theme is not None and s.theme not in themes)
    if unknown:
        raise ValueError(f"catalog.yaml names themes that themes.yaml does not define: {', '.join(unknown)}")
    if topics is not None:
        strays = sorted(f"{s.id}: {t}" for s in specs for t in s.topics if t not in topics)
        if strays:
            raise ValueError(f"catalog.yaml names topics topics.yaml does not define: {', '.join(strays)}")
    return specs


def get_detector(check_id: str) -> Detector:
    load_catalog()
    return _detectors()[check_id]


def catalog_types(*, jq_only: bool = False) -> list[str]:
    """The cluster types (``plural.group``) the catalog's recount commands read, in its order: every
    one, or those of its jq filters only."""
    names: dict[str, None] = {}
    for check in load_catalog():
        for spec in check.reproduce.values():
            for option in every_option(spec):
                if option.jq is not None or not jq_only:
                    names.update(dict.fromkeys(option.resources))
    return list(names)


def jq_weight(check: CheckSpec) -> int:
    """How heavy the jq filters recounting ``check``'s numbers over the cluster are: the most resource
    types one of them reads (0: none is jq). A proxy: at 10k pods the filters joining several types
    took 0.17-0.46 s each in the recount's jq engine (``bench/jq_filters.py``) and those of one type
    0.002-0.07 s, but for MNT-LIVE-DUPLICATE-WORKLOAD's (0.32 s over the Deployments alone; 0.14 s
    since its filter splits namespaces without a regex)."""
    weights = [
        len(option.resources) or 1
        for spec in check.reproduce.values()
        for option in every_option(spec)
        if option.jq is not None
    ]
    return max(weights, default=0)


def spec_by_id(check_id: str) -> CheckSpec:
    for spec in load_catalog():
        if spec.id == check_id:
            return spec
    raise KeyError(check_id)
