"""Findings, claims and verdicts: what the agents produce and the report renders.

Field descriptions are written for a model: these classes become the structured-output schemas the
LLM researchers and challengers submit through.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
    model_validator,
)

from domain.concerns import Concern, Stance
from domain.evidence import Evidence
from domain.identity import Severity, occurrence_keys, rule_of, severity_of

Status = Literal["confirmed", "corrected", "dropped", "reframed"]
Action = Literal["CONFIRMED", "CORRECTED", "DROPPED", "REFRAMED"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Location(_Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ref: str = Field(description="path:line for code, cluster/namespace/kind/name for live objects.")
    subject: str = Field(description="What is affected, e.g. Deployment/immich/immich-server.")
    detail: str | None = None


class Claim(_Model):
    text: str = Field(
        description="One factual statement, e.g. '7 of 12 long-running workloads have no probe'."
    )
    value: float | None = Field(default=None, description="The number the statement asserts, if any.")
    evidence: list[str] = Field(
        min_length=1, description="Ids of the tool calls (evidence) that support this claim. At least one."
    )
    measure: str | None = Field(
        default=None,
        description="Which number of the first evidence the value is; omit for the evidence's main value.",
    )


class FindingDraft(_Model):
    """One finding, as the researcher submits it."""

    check: str | None = Field(
        default=None, description="The catalog check id this finding comes from, or null."
    )
    title: str = Field(
        description="One-line headline with the key number, e.g. '12 of 29 workloads have no probe'."
    )
    summary: str = Field(description="Why it matters in this estate, two or three sentences.")
    recommendation: str = Field(description="What to do, concretely.")
    impact: int = Field(ge=1, le=5, description="1 cosmetic .. 5 outage or breach.")
    effort: int = Field(ge=1, le=5, description="1 an hour .. 5 weeks.")
    risk: int = Field(ge=1, le=5, description="Risk of the fix itself: 1 safe .. 5 can break production.")
    fatigue: bool = Field(description="True when the unfixed state causes daily or weekly manual toil.")
    claims: list[Claim] = Field(min_length=1, description="The first claim is the headline number.")
    total: int | None = Field(default=None, description="What the headline number is out of, if anything.")
    locations: list[Location] = Field(
        default_factory=list, description="Every affected place (path:line or live ref)."
    )
    extra_concerns: list[Concern] = Field(
        default_factory=list, description="Other concerns this finding hits."
    )


class RawFinding(FindingDraft):
    """A finding of one concern before the challenge: a draft with its research id and concern."""

    id: str = Field(description="Research id, e.g. 'R1#3' (concern code and sequence).")
    concern: Concern

    @model_serializer(mode="wrap")
    def _id_first(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Serialized with its id and concern first, as a reader of audit.json looks for them."""
        data = handler(self)
        return {"id": data.pop("id"), "concern": data.pop("concern"), **data}

    @property
    def refs(self) -> list[str]:
        return [loc.ref for loc in self.locations]


class VerdictDraft(_Model):
    finding: str = Field(description="Research id of the finding judged, e.g. 'R1#3'.")
    action: Action
    reason: str = Field(description="Why, citing what you re-ran or read.")
    evidence: list[str] = Field(default_factory=list, description="Evidence ids behind the verdict.")
    measured_value: float | None = Field(default=None, description="For CORRECTED: the value you measured.")
    framing: str | None = Field(default=None, description="For REFRAMED: the new framing.")
    documented_at: str | None = Field(default=None, description="path:line where a decision is written down.")
    removed_subjects: list[str] = Field(
        default_factory=list,
        description="Subjects to take out of the finding (deliberate, accepted, solved).",
    )


class Verdict(VerdictDraft):
    """A verdict as the report keeps it: a draft and the stance of the challenger that gave it."""

    challenger: Stance = Field(description="Stance of the challenger that judged: numbers, intent, recount.")

    @model_serializer(mode="wrap")
    def _challenger_second(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        return {"finding": data.pop("finding"), "challenger": data.pop("challenger"), **data}


class ConcernResult(_Model):
    concern: Concern
    status: Literal["ok", "failed"]
    error: str | None = None
    findings: list[RawFinding] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    checks_run: int = 0
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Checks that had nothing to read, with why (e.g. no cluster)."
    )
    note: str | None = Field(
        default=None,
        description="How this result was produced when not as planned (e.g. fallback to checks).",
    )


class Finding(_Model):
    """A finding of the final backlog: merged, challenged, scored."""

    id: str = Field(description="Backlog id, F01...")
    raw_ids: list[str]
    checks: list[str] = Field(default_factory=list)
    title: str
    summary: str
    recommendation: str
    concerns: list[Concern]
    status: Status
    impact: int
    effort: int
    risk: int
    fatigue: bool
    rank_a: int
    rank_b: int
    refs: list[str]
    claims: list[Claim]
    theme: str | None = None
    dangerous: str | None = None
    locations: list[Location] = Field(
        default_factory=list, description="Every affected place with its subject, after the challenge."
    )
    new: bool | None = Field(
        default=None,
        description="Against a baseline (--baseline): true when the finding or one of its subjects is new "
        "since it; null without a baseline.",
    )
    new_occurrences: list[str] = Field(
        default_factory=list, description="Against a baseline: the occurrence keys new since it."
    )

    @model_validator(mode="before")
    @classmethod
    def _derived_are_not_input(cls, data: Any) -> Any:
        """``severity``, ``rule`` and ``occurrences`` are derived (below) and written out; reading a
        report back ignores them, so they can never disagree with what they derive from."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in _DERIVED}
        return data

    @computed_field(description="From impact: 5 critical, 4 high, 3 medium, 2 low, 1 info.")  # type: ignore[prop-decorator]
    @property
    def severity(self) -> Severity:
        return severity_of(self.impact)

    @computed_field(  # type: ignore[prop-decorator]
        description="The stable key of the finding across runs: its first check, or LLM-<PREFIX>-<hash> "
        "for a finding no check produced. Never the run-local id."
    )
    @property
    def rule(self) -> str:
        return rule_of(self.checks, self.concerns, self.title)

    @computed_field(  # type: ignore[prop-decorator]
        description="The stable key of each affected subject: rule|subject, + |file for a file-level one."
    )
    @property
    def occurrences(self) -> list[str]:
        return occurrence_keys(self.rule, self.places)

    @property
    def places(self) -> list[Location]:
        """The locations; for a report written before findings kept them, its refs as subjects."""
        return self.locations or [Location(ref=ref, subject=ref) for ref in self.refs]


_DERIVED = ("severity", "rule", "occurrences")


class Theme(_Model):
    title: str
    summary: str
    concerns: list[Concern]
    findings: list[str]


When = Literal["Week 1", "Week 2", "Month 2", "Month 3+"]


class NextMove(_Model):
    when: When
    finding: str
    text: str
