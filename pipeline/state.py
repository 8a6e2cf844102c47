"""The graph state: small, typed, checkpointed. Heavy things (inventory, ledger) live in the run context.

``results`` is a dict reducer keyed by concern: a research branch writes only its own key, so
re-running one concern replaces that entry and nothing else. ``verdicts`` and ``challenge_evidence``
append, because the two challengers run in parallel and each adds its own.
"""

from __future__ import annotations

import operator
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.concerns import Concern, Mode, Stance
from domain.evidence import Evidence
from domain.findings import ConcernResult, Verdict
from domain.report import AuditReport
from domain.topology import ClusterTopology


def merge_results(
    left: dict[str, ConcernResult], right: dict[str, ConcernResult]
) -> dict[str, ConcernResult]:
    return {**left, **right}


class AuditState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str
    date: str
    mode: Mode
    concerns: list[Concern] = Field(description="The concerns researched (and challenged) in this run.")
    inventory_counts: dict[str, int] = Field(default_factory=dict)
    topology: ClusterTopology | None = Field(default=None, description="The cluster, for the context.")
    results: Annotated[dict[str, ConcernResult], merge_results] = Field(default_factory=dict)
    verdicts: Annotated[list[Verdict], operator.add] = Field(default_factory=list)
    challenge_evidence: Annotated[list[Evidence], operator.add] = Field(default_factory=list)
    gaps: Annotated[list[str], operator.add] = Field(default_factory=list)
    framings: Annotated[list[str], operator.add] = Field(default_factory=list)
    report: AuditReport | None = None
    written: list[str] = Field(default_factory=list)


class ChallengeTask(BaseModel):
    """What one challenger receives through ``Send``: its stance and the concerns to challenge.

    The research it judges is the state's ``results``, which the challenger reads from the run context
    (``RunContext.research``: ``challenge_round`` hands it over, a resume reads it from the checkpoint),
    not from here: a ``Send`` is checkpointed as a pending write and again in the step's checkpoint,
    so results carried here were serialized and stored four more times (36.5 MiB at 10k pods, the run's
    peak of memory while the checkpoint was written)."""

    model_config = ConfigDict(extra="forbid")

    stance: Stance
    date: str
    concerns: list[Concern] = Field(description="The concerns whose findings this round challenges.")


class ResearchTask(BaseModel):
    """What one research branch receives through ``Send``."""

    model_config = ConfigDict(extra="forbid")

    concern: Concern
    run_id: str
    date: str
