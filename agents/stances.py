"""Challenger stances as values: what each one distrusts, how it runs without a model, how it fails.

A stance is one ``StanceSpec`` in ``STANCES``: the graph fans out one challenger per entry, the LLM
challenger renders ``prompts/stances/_<name>.md.j2`` with its role, the offline function runs when
there is no model (or beside the model, relabelled, when ``beside_model`` says so), a crash leaves
``failure`` in the report's gaps, and synthesis applies verdicts in ``order``. Adding a stance is a
module with its offline function and prompt partial, and one line here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from agents.challenge import ChallengeOutcome
from agents.context import AgentContext
from agents.offline.challenge_intent import challenge_intent
from agents.offline.challenge_numbers import challenge_numbers
from domain.findings import ConcernResult, RawFinding

OfflineChallenger = Callable[[list[RawFinding], Mapping[str, ConcernResult], AgentContext], ChallengeOutcome]


@dataclass(frozen=True)
class StanceSpec:
    name: str
    role: str
    """The LLM challenger's first line: who it is."""
    distrust: str
    """What it distrusts, in its own prompt ('every number and fact')."""
    known_as: str
    """What it distrusts, as the other challengers' prompts name it ('numbers and facts')."""
    offline: OfflineChallenger
    progress: str
    """What the progress display says while the offline function runs."""
    failure: str
    """What the report's gaps say is missing when this challenger crashed."""
    order: int
    """Synthesis applies verdicts by this order, lowest first."""
    beside_model: str | None = None
    """With a model, the offline function still runs, its verdicts relabelled with this stance."""
    cites_documents: bool = False
    """The LLM challenger must say where a decision is written (documented_at) to drop or reframe."""

    @property
    def partial(self) -> str:
        return f"stances/_{self.name}.md.j2"


def _numbers(
    findings: list[RawFinding], results: Mapping[str, ConcernResult], ctx: AgentContext
) -> ChallengeOutcome:
    verdicts, evidence, gaps = challenge_numbers(findings, results, ctx)
    return ChallengeOutcome(verdicts=verdicts, evidence=evidence, gaps=gaps)


def _intent(
    findings: list[RawFinding], results: Mapping[str, ConcernResult], ctx: AgentContext
) -> ChallengeOutcome:
    return challenge_intent(findings, ctx, ctx.date)


NUMBERS = StanceSpec(
    name="numbers",
    role="You are the numbers challenger of infra-audit, re-checking the numbers and facts of an "
    "infrastructure audit as a skeptical senior SRE.",
    distrust="every number and fact",
    known_as="numbers and facts",
    offline=_numbers,
    progress="re-running evidence",
    failure="claims were not recounted",
    order=1,
    beside_model="recount",
)
INTENT = StanceSpec(
    name="intent",
    role="You are the intent challenger of infra-audit, re-checking the intent and scope of an "
    "infrastructure audit as a skeptical senior SRE.",
    distrust="intent and scope",
    known_as="intent and scope",
    offline=_intent,
    progress="reading decisions",
    failure="decisions were not read",
    order=2,
    cites_documents=True,
)

STANCES: dict[str, StanceSpec] = {
    "numbers": NUMBERS,
    "intent": INTENT,
}


def verdict_order(stances: Mapping[str, StanceSpec] = STANCES) -> dict[str, int]:
    """Order of application by verdict label: a relabelled offline verdict goes before its stance's."""
    order: dict[str, int] = {}
    for spec in stances.values():
        order[spec.name] = 2 * spec.order
        if spec.beside_model is not None:
            order[spec.beside_model] = 2 * spec.order - 1
    return order
