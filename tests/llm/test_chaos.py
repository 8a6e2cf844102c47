"""The chaos model: what real models get wrong, one case per failure mode, on the whole graph.

The gitops-base scenario answers every request, except the turns a case replaces with a fault
(``agents/llm/chaos.py``). Each case asserts the exact outcome for the faulted agent, the exact
number of requests it made, and that every other agent made the same requests as in a clean run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from graphs import llm_settings
from scenarios import gitops
from scenarios.common import as_model_function, catalog, catalog_finding

from agents.llm import chaos
from agents.llm.chaos import ChaosModel, Fault
from agents.llm.loop import COMPACTED, CUT_OFF, MAX_PAUSES
from agents.llm.protocol import ModelRequest, ToolResultBlock
from pipeline.audit import run_audit
from pipeline.state import AuditState

pytestmark = pytest.mark.graph

RESEARCH = "research:maintenance"
NUMBERS = "challenge:numbers"
CHECKS = ["MNT-HELM-UNPINNED", "MNT-NO-DEP-BOT", "MNT-NO-CI-VALIDATION", "MNT-ALERTS-NOT-WIRED"]
INVENTED = "E-0000000000"


def catalog_submission(request: ModelRequest) -> dict[str, Any]:
    return {"findings": [catalog_finding(row) for row in catalog(request.system).values()]}


def with_invented_evidence(request: ModelRequest) -> dict[str, Any]:
    submission = catalog_submission(request)
    submission["findings"][0]["claims"][0]["evidence"] = [INVENTED]
    return submission


@dataclass
class Chaos:
    state: AuditState
    model: ChaosModel

    def requests(self, agent: str) -> list[ModelRequest]:
        return self.model.requests_of(agent)

    def results(self, agent: str, turn: int) -> list[ToolResultBlock]:
        return self.requests(agent)[turn].messages[-1].tool_results

    @property
    def note(self) -> str | None:
        return self.state.results["maintenance"].note


def play(plan: Mapping[str, Mapping[int, Fault]]) -> Chaos:
    model = ChaosModel(as_model_function(gitops.router()), plan)
    state = run_audit(llm_settings(), "chaos", model=model)
    return Chaos(state, model)


@pytest.fixture(scope="module")
def clean() -> Chaos:
    return play({})


def intact(run: Chaos, clean: Chaos, faulted: str) -> None:
    """Every agent but ``faulted`` made the requests it makes in a clean run."""
    counts = Counter(r.agent for r in run.model.requests)
    expected = Counter(r.agent for r in clean.model.requests)
    assert {a: n for a, n in counts.items() if a != faulted} == {
        a: n for a, n in expected.items() if a != faulted
    }
    assert run.state.report is not None


def fell_back(why: str) -> str:
    return f"the maintenance researcher did not submit ({why}); findings are the deterministic checks"


def test_the_clean_run_is_the_baseline(clean: Chaos) -> None:
    assert len(clean.requests(RESEARCH)) == 2  # explore, submit
    assert clean.note is None
    assert [f.check for f in clean.state.results["maintenance"].findings][1:] == CHECKS


def test_a_malformed_tool_input_is_answered_and_never_run(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.malformed("repo_list", '{"path": "clus')}})
    assert len(run.requests(RESEARCH)) == 2
    [answer] = run.results(RESEARCH, 1)
    assert answer.is_error
    assert answer.content == (
        'repo_list was not run: its input was not a JSON object (malformed JSON: {"path": "clus). '
        "Send the call again, complete and shorter."
    )
    assert run.note is None  # the next turn's submission was accepted
    intact(run, clean, RESEARCH)


def test_a_malformed_submission_is_rejected_and_the_same_again_ends_the_agent(clean: Chaos) -> None:
    bad = chaos.malformed("submit_findings")
    run = play({RESEARCH: {0: bad, 1: bad, 2: bad}})
    assert len(run.requests(RESEARCH)) == 2  # the second, unchanged, is a loop: no third request
    [answer] = run.results(RESEARCH, 1)
    assert answer.is_error and answer.content.startswith(
        "Submission rejected, nothing was recorded: its input was not a JSON object (malformed JSON: "
    )
    assert run.note == fell_back("the same rejected submission again")
    assert [f.check for f in run.state.results["maintenance"].findings][1:] == CHECKS
    intact(run, clean, RESEARCH)


def test_an_unknown_tool_is_error_evidence_and_the_agent_goes_on(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.call("kubectl_apply", {"manifest": "x"})}})
    assert len(run.requests(RESEARCH)) == 2
    [answer] = run.results(RESEARCH, 1)
    assert answer.is_error and answer.content.startswith("evidence E-")
    assert " | kubectl_apply | status error" in answer.content.splitlines()[0]
    assert run.note is None
    intact(run, clean, RESEARCH)


def test_arguments_of_the_wrong_type_are_error_evidence(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.call("repo_list", {"path": 42, "max_entries": "many"})}})
    assert len(run.requests(RESEARCH)) == 2
    [answer] = run.results(RESEARCH, 1)
    assert answer.is_error and " | repo_list | status error" in answer.content.splitlines()[0]
    assert run.note is None
    intact(run, clean, RESEARCH)


def test_an_invented_evidence_id_is_rejected_and_a_fixed_submission_accepted(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.call("submit_findings", with_invented_evidence)}})
    assert len(run.requests(RESEARCH)) == 2
    [answer] = run.results(RESEARCH, 1)
    assert answer.is_error and answer.content.startswith("Submission rejected, nothing was recorded.")
    assert f"evidence {INVENTED} is not one of your tool calls" in answer.content
    assert run.note is None
    intact(run, clean, RESEARCH)


def test_an_invented_finding_id_sent_twice_falls_back_to_the_recount(clean: Chaos) -> None:
    verdicts = {"verdicts": [{"finding": "R3#99", "action": "CONFIRMED", "reason": "fine"}]}
    bad = chaos.call("submit_verdicts", verdicts)
    run = play({NUMBERS: {0: bad, 1: bad, 2: bad}})
    assert len(run.requests(NUMBERS)) == 2
    [answer] = run.results(NUMBERS, 1)
    assert answer.is_error and "- no such finding: R3#99" in answer.content.splitlines()
    report = run.state.report
    assert report is not None
    assert (
        "The numbers challenger did not submit (the same rejected submission again); fell back: its "
        "deterministic recount verdicts stand." in report.gaps
    )
    assert not [v for v in run.state.verdicts if v.challenger == "numbers"]
    assert {v.challenger for v in run.state.verdicts} == {v.challenger for v in clean.state.verdicts} - {
        "numbers"
    }
    intact(run, clean, NUMBERS)


def test_an_empty_submission_is_accepted_and_the_floor_restores_every_result(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.call("submit_findings", {"findings": []})}})
    assert len(run.requests(RESEARCH)) == 1
    checks = [f.check for f in run.state.results["maintenance"].findings]
    assert (
        checks[1:] == CHECKS
        and run.note is not None
        and run.note.startswith("the maintenance researcher's submission left out ")
    )
    intact(run, clean, RESEARCH)


def test_a_submission_cut_off_at_max_tokens_is_never_accepted(clean: Chaos) -> None:
    # what arrived of it parses, and validates: accepting it would drop every finding it lost
    run = play({RESEARCH: {0: chaos.cut_off("submit_findings", {"findings": []})}})
    assert len(run.requests(RESEARCH)) == 2
    [answer] = run.results(RESEARCH, 1)
    assert answer.is_error and answer.content == CUT_OFF
    assert run.note is None  # the resent submission was accepted, nothing restored
    intact(run, clean, RESEARCH)


def test_a_tool_call_cut_off_at_max_tokens_is_not_run(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.cut_off("repo_list", {"path": "clu"})}})
    assert len(run.requests(RESEARCH)) == 2
    [answer] = run.results(RESEARCH, 1)
    assert answer.is_error and answer.content.startswith(
        "repo_list was not run: your reply was cut off at the output token limit inside this call"
    )
    intact(run, clean, RESEARCH)


def test_a_refusal_ends_the_agent_at_once_and_its_role_falls_back(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.refusal("I can't help with that.")}})
    assert len(run.requests(RESEARCH)) == 1
    assert run.note == fell_back("the model refused")
    assert [f.check for f in run.state.results["maintenance"].findings][1:] == CHECKS
    intact(run, clean, RESEARCH)


def test_a_refusal_with_no_content_ends_the_agent_too(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.refusal()}})
    assert len(run.requests(RESEARCH)) == 1
    assert run.note == fell_back("the model refused")


def test_a_paused_turn_is_sent_back_to_carry_on(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.pause("Reading the catalog.")}})
    requests = run.requests(RESEARCH)
    assert len(requests) == 2
    last = requests[1].messages[-1]
    assert last.role == "assistant" and last.text == "Reading the catalog."  # no nudge in between
    assert requests[1].tool_choice is not None and requests[1].tool_choice.mode == "auto"
    assert run.note is None
    intact(run, clean, RESEARCH)


def test_pauses_are_bounded_then_nudged(clean: Chaos) -> None:
    paused = chaos.pause("More.")
    run = play({RESEARCH: {i: paused for i in range(MAX_PAUSES + 1)}})
    requests = run.requests(RESEARCH)
    assert len(requests) == MAX_PAUSES + 2
    assert [m.role for m in requests[-1].messages] == ["user", "assistant", "user"]
    assert requests[-1].messages[1].text == "More." * (MAX_PAUSES + 1)
    assert requests[-1].messages[-1].text.startswith("Continue with a tool call")
    assert run.note is None


def test_an_empty_content_list_is_kept_as_a_turn_and_nudged(clean: Chaos) -> None:
    run = play({RESEARCH: {0: chaos.empty()}})
    requests = run.requests(RESEARCH)
    assert len(requests) == 2
    assert requests[1].messages[-2].text == "(no reply)"
    assert requests[1].messages[-1].text == (
        "Continue with a tool call, or submit what you have with submit_findings."
    )
    assert run.note is None
    intact(run, clean, RESEARCH)


def test_text_when_the_submission_is_forced_ends_the_agent(clean: Chaos) -> None:
    talk = chaos.text_only()
    run = play({RESEARCH: {0: talk, 1: talk, 2: talk}})
    requests = run.requests(RESEARCH)
    assert len(requests) == 3
    forced = requests[2].tool_choice
    assert forced is not None and (forced.mode, forced.name) == ("tool", "submit_findings")
    assert [t.name for t in requests[2].tools] == ["submit_findings"]
    assert run.note == fell_back("no-submission")
    intact(run, clean, RESEARCH)


@pytest.mark.parametrize(
    ("fault", "why"),
    [(chaos.too_large, "request too large"), (chaos.context_overflow, "context window exceeded")],
)
def test_a_first_request_too_large_ends_the_agent_not_the_concern(
    fault: Callable[[], Fault], why: str, clean: Chaos
) -> None:
    run = play({RESEARCH: {0: fault()}})
    assert len(run.requests(RESEARCH)) == 1  # nothing to drop: no second request
    result = run.state.results["maintenance"]
    assert result.status == "ok" and result.note == fell_back(why)
    assert [f.check for f in result.findings][1:] == CHECKS
    intact(run, clean, RESEARCH)


def test_an_overflow_mid_way_is_retried_once_from_the_prompt_with_the_submission_forced(clean: Chaos) -> None:
    run = play(
        {RESEARCH: {1: chaos.context_overflow(), 2: chaos.call("submit_findings", catalog_submission)}}
    )
    requests = run.requests(RESEARCH)
    assert len(requests) == 3
    retry = requests[2]
    assert len(retry.messages) == 1 and retry.messages[0].text.endswith(COMPACTED)
    assert retry.messages[0].text.startswith(requests[0].messages[0].text)
    assert [t.name for t in retry.tools] == ["submit_findings"]
    assert retry.tool_choice is not None and retry.tool_choice.name == "submit_findings"
    assert run.note is None
    intact(run, clean, RESEARCH)


def test_a_second_overflow_ends_the_agent(clean: Chaos) -> None:
    run = play({RESEARCH: {1: chaos.too_large(), 2: chaos.context_overflow()}})
    assert len(run.requests(RESEARCH)) == 3
    assert run.note == fell_back("context window exceeded")
    intact(run, clean, RESEARCH)


def test_a_challenger_too_large_falls_back_and_the_others_stand(clean: Chaos) -> None:
    run = play({NUMBERS: {0: chaos.too_large()}})
    assert len(run.requests(NUMBERS)) == 1
    report = run.state.report
    assert report is not None and (
        "The numbers challenger did not submit (request too large); fell back: its deterministic "
        "recount verdicts stand." in report.gaps
    )
    assert not report.meta.concerns_failed
    intact(run, clean, NUMBERS)
