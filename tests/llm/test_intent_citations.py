"""A model's verdict that takes a finding out must cite a doc line about that finding's topic.

The phrase matcher this replaced dropped findings on unrelated lines; a model can do the same (cite
the first decision it read). For each stance: a DROPPED citing a line of the docs about another topic
is refused with a reason the model can act on, and the corrected submission (the right line, or
the finding kept) is what stands. A citation of a values file (another mechanism solves it) is not
judged by topic.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphs import results_of, run_graph
from scenarios.common import INTENT_KEY, NUMBERS_KEY, Agent, Conversation, judged, submit

pytestmark = pytest.mark.graph

SECRETS_LINE = "docs/standards.md:21"  # "Secrets are committed SOPS-encrypted ..."
VELERO_ADR = "docs/decisions/0001-velero-privileged-namespace.md:15"


def _verdicts(where: str) -> Any:
    def build(convo: Conversation) -> dict[str, Any]:
        out = []
        for finding in judged(convo.system):
            verdict: dict[str, Any] = {"finding": finding.id, "action": "CONFIRMED", "reason": "Stands."}
            if finding.check == "SEC-NO-PSS":
                verdict = {
                    "finding": finding.id,
                    "action": "DROPPED",
                    "reason": "Documented.",
                    "documented_at": where,
                }
            out.append(verdict)
        return {"verdicts": out}

    return build


def _kept(convo: Conversation) -> dict[str, Any]:
    return {
        "verdicts": [
            {"finding": f.id, "action": "CONFIRMED", "reason": "Stands."} for f in judged(convo.system)
        ]
    }


@pytest.mark.parametrize(
    ("key", "agent"), [(INTENT_KEY, "challenge:intent"), (NUMBERS_KEY, "challenge:numbers")]
)
def test_a_drop_citing_a_line_about_another_topic_is_refused(key: str, agent: str) -> None:
    script = Agent(
        "cites the wrong line",
        [submit("submit_verdicts", _verdicts(SECRETS_LINE)), submit("submit_verdicts", _kept)],
    )
    run = run_graph({key: script}, concerns=("security",))
    first, second = run.requests(agent)
    (rejection,) = results_of(second)
    assert rejection.is_error
    pss = next(f.id for f in judged(first.system) if f.check == "SEC-NO-PSS")
    assert (
        f"{pss}: documented_at {SECRETS_LINE} is not about pod-security, the topic of this finding; cite the "
        "line that states the decision on it, or keep the finding"
    ) in rejection.content
    verdicts = [v for v in run.state.verdicts if v.challenger == key.split()[3] and v.finding == pss]
    assert [(v.action, v.documented_at) for v in verdicts] == [("CONFIRMED", None)]


def test_a_drop_citing_the_decision_on_its_topic_is_accepted() -> None:
    script = Agent("cites the decision", [submit("submit_verdicts", _verdicts(VELERO_ADR))])
    run = run_graph({INTENT_KEY: script}, concerns=("security",))
    assert len(run.requests("challenge:intent")) == 1
    pss = next(v for v in run.state.verdicts if v.challenger == "intent" and v.action == "DROPPED")
    assert pss.documented_at == VELERO_ADR


def test_a_citation_past_the_end_of_a_doc_is_refused() -> None:
    script = Agent(
        "cites no line",
        [submit("submit_verdicts", _verdicts("docs/standards.md:999")), submit("submit_verdicts", _kept)],
    )
    run = run_graph({INTENT_KEY: script}, concerns=("security",))
    _, second = run.requests("challenge:intent")
    (rejection,) = results_of(second)
    assert "documented_at docs/standards.md:999 is not a line of docs/standards.md" in rejection.content
