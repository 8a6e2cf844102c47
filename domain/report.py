"""The audit document as data: what the synthesizer produces, ``audit.json`` holds and renderers read."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.concerns import Concern, Mode
from domain.evidence import Evidence
from domain.findings import Action, ConcernResult, Finding, NextMove, Theme, Verdict
from domain.suppressions import Suppression
from domain.topology import ClusterTopology
from domain.unread import ParseIssue, UnreadResource


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentUsage(_Model):
    agent: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = Field(default=0.0, description="Estimated cost; None when the price is unknown.")
    tool_calls: int = 0


class RunMeta(_Model):
    run_id: str
    date: str = Field(description="The audit clock: YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ (tools/clock.py).")
    estate: str
    cluster: str | None = None
    cluster_name: str | None = None
    scope: str
    mode: Mode
    model: str | None = None
    usage: list[AgentUsage] = Field(default_factory=list)
    tool_version: str
    concerns_failed: dict[str, str] = Field(default_factory=dict)
    repo_path: str | None = Field(
        default=None,
        description="The estate's directory relative to the root of its git repository ('' at the root); "
        "null outside a git repository. SARIF URIs are relative to that root.",
    )
    anchor: str | None = Field(
        default=None,
        description="The estate's root configuration file (estate-relative): where SARIF points a "
        "finding about something missing.",
    )


class Correction(_Model):
    finding: str = Field(description="Research id and the finding as stated.")
    stated: str
    actual: str
    action: Action
    challenger: str


class ConcernSummary(_Model):
    concern: Concern
    status: Literal["ok", "failed"]
    raw: int
    real: int
    dropped: list[str] = Field(default_factory=list)


class Unread(_Model):
    """What the audit did not read, or read in part, and why: files (each with its typed ``reason``) and
    cluster resource types."""

    estate: list[ParseIssue] = Field(default_factory=list, description="Estate files reported and skipped.")
    cluster: list[ParseIssue] = Field(
        default_factory=list, description="Snapshot files (or objects in them) reported and skipped."
    )
    resources: list[UnreadResource] = Field(
        default_factory=list,
        description="Cluster resource types not read (refused, failed, not captured, or their snapshot dump "
        "did not load); the checks that read them say unknown or a lower bound.",
    )


SCHEMA_VERSION = "1.0"
"""The version of audit.json's contract (docs/audit.schema.json): the major part changes when a field
is removed or changes meaning, the minor part when one is added."""


class BaselineRef(_Model):
    """The older audit a run was compared with (``--baseline``): only findings new since it gate."""

    path: str = Field(description="The baseline audit.json as given.")
    run_id: str
    date: str
    fixed: list[str] = Field(
        default_factory=list, description="Keys of the baseline's findings this audit no longer has."
    )


class AuditReport(_Model):
    schema_version: str = Field(
        default=SCHEMA_VERSION, description="Version of this document's schema (docs/audit.schema.json)."
    )
    meta: RunMeta
    baseline: BaselineRef | None = Field(
        default=None, description="The audit this one was compared with (--baseline), if any."
    )
    inventory: dict[str, int] = Field(default_factory=dict, description="Record counts of the estate.")
    topology: ClusterTopology | None = Field(
        default=None, description="The cluster's nodes, pod phases and GitOps apps, when a cluster was read."
    )
    unread: Unread = Field(default_factory=Unread, description="Files and cluster types not read, and why.")
    concerns: dict[str, ConcernResult] = Field(description="Raw research results, keyed by concern.")
    verdicts: list[Verdict]
    corrections: list[Correction]
    findings: list[Finding]
    themes: list[Theme]
    summaries: list[ConcernSummary]
    leaders_a: list[str]
    leaders_b: list[str]
    leaders_both: list[str]
    gaps: list[str]
    framings: list[str]
    next_moves: list[NextMove]
    narratives: dict[str, str] = Field(
        default_factory=dict, description="Per-concern deep-dive prose written by the LLM synthesizer."
    )
    evidence: list[Evidence] = Field(description="Every piece of evidence cited, sorted by id.")
    suppressions: list[Suppression] = Field(
        default_factory=list,
        description="Inline suppressions and accepted risks, with their reasons and what became of them.",
    )
