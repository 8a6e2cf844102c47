"""The chaos cases that depend on the provider, through the real SDK path (``AnthropicModel``).

The loop handles a request too large, a refusal, a paused turn and a tool input that is not a JSON
object (``test_chaos.py``); these tests show the Anthropic provider hands each over as the loop
expects: statuses and error bodies mapped to our own failure names, stop reasons passed through,
string inputs parsed or marked. Assertions read our fields (``failure``, ``stop_reason``,
``invalid_input``), never a library's message.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from estates import GITOPS, REPO
from fakes import Router, ScriptedAnthropicServer, fail, reply, text, tool_use
from rich.console import Console
from scenarios import gitops
from scenarios.common import SCRIPTED_MODEL, researcher_key

from agents.llm.anthropic_model import AnthropicModel
from agents.llm.loop import CUT_OFF
from agents.llm.protocol import ModelRequest, ToolUseBlock, user_text
from agents.llm.settings import ModelSettings
from domain.errors import ModelRejected
from pipeline.audit import run_audit
from pipeline.commands.common import finish
from pipeline.settings import RunSettings
from pipeline.state import AuditState

pytestmark = pytest.mark.graph

MAINTENANCE = researcher_key("maintenance")
KEY = "scripted-test-key"


def _model(handler: Any) -> tuple[AnthropicModel, list[httpx2.Request]]:
    seen: list[httpx2.Request] = []

    def recorded(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return handler(request)

    client = httpx2.Client(transport=httpx2.MockTransport(recorded))
    settings = ModelSettings(model=SCRIPTED_MODEL, api_key=KEY, max_retries=2)
    return AnthropicModel(settings, http_client=client), seen


def _request() -> ModelRequest:
    return ModelRequest(agent="research:maintenance", system="You audit.", messages=[user_text("Audit.")])


def _error(status: int, kind: str, message: str) -> Any:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return lambda request: httpx2.Response(status, json=body, headers={"request-id": "req_1"})


def _message(content: list[dict[str, Any]], stop: str) -> Any:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": SCRIPTED_MODEL,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }
    return lambda request: httpx2.Response(200, json=body)


@pytest.mark.parametrize(
    ("status", "kind", "message", "failure"),
    [
        (413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", "too_large"),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 212345 tokens > 200000 maximum",
            "context_overflow",
        ),
        # llama.cpp's server, with its own error type
        (
            400,
            "exceed_context_size_error",
            "request (9000 tokens) exceeds the available context",
            "context_overflow",
        ),
        (400, "invalid_request_error", "tools.0.name: String should match pattern", "status"),
    ],
)
def test_a_request_too_large_is_rejected_once_with_its_own_failure(
    status: int, kind: str, message: str, failure: str
) -> None:
    model, seen = _model(_error(status, kind, message))
    with pytest.raises(ModelRejected) as raised:
        model.complete(_request())
    assert raised.value.failure == failure and not raised.value.sdk_retried
    assert len(seen) == 1  # never retried by the SDK


@pytest.mark.parametrize("stop", ["refusal", "pause_turn", "max_tokens"])
def test_stop_reasons_reach_the_loop_as_sent(stop: str) -> None:
    model, _ = _model(_message([{"type": "text", "text": "..."}], stop))
    assert model.complete(_request()).stop_reason == stop


@pytest.mark.parametrize(
    ("raw", "expected", "invalid"),
    [
        ({"path": "apps"}, {"path": "apps"}, None),
        (json.dumps({"path": "apps"}), {"path": "apps"}, None),  # a compatible server's string input
        ('{"path": "ap', {}, 'malformed JSON: {"path": "ap'),
        (["apps"], {}, 'list: ["apps"]'),
    ],
)
def test_a_tool_input_that_is_not_a_json_object_is_marked_not_guessed(
    raw: Any, expected: dict[str, Any], invalid: str | None
) -> None:
    block = {"type": "tool_use", "id": "toolu_1", "name": "repo_list", "input": raw}
    model, _ = _model(_message([block], "tool_use"))
    [use] = model.complete(_request()).content
    assert use == ToolUseBlock(id="toolu_1", name="repo_list", input=expected, invalid_input=invalid)


def _audit(server: ScriptedAnthropicServer, out: Path, *, stream: bool = False) -> tuple[AuditState, int]:
    settings = ModelSettings(
        model=SCRIPTED_MODEL, api_key=KEY, base_url=server.base_url, max_retries=2, stream=stream
    )
    model = AnthropicModel(settings)
    run_settings = RunSettings(
        estate=GITOPS,
        estate_label="examples/gitops-base",
        concerns=("maintenance",),
        date="2026-11-20",
        workdir=REPO,
        mode="llm",
        llm=ModelSettings(model=SCRIPTED_MODEL),
        out=out,
        retry_wait=0.01,
    )
    state = run_audit(run_settings, "chaos-wire", model=model)
    model.close()
    return state, finish(Console(file=io.StringIO(), width=200), state)


@pytest.mark.parametrize(
    ("status", "kind", "message", "why"),
    [
        (
            413,
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
            "request too large",
        ),
        (
            400,
            "invalid_request_error",
            "prompt is too long: 212345 tokens > 200000 maximum",
            "context window exceeded",
        ),
    ],
)
def test_over_http_a_first_request_too_large_falls_back_and_the_run_succeeds(
    status: int, kind: str, message: str, why: str, tmp_path: Path
) -> None:
    with ScriptedAnthropicServer(gitops.router()) as server:
        server.fail_on(MAINTENANCE, fail(status, kind, message), turn=0, times=5)
        state, code = _audit(server, tmp_path)
    assert len(server.requests_for(MAINTENANCE)) == 1
    result = state.results["maintenance"]
    assert result.status == "ok" and result.findings
    assert result.note == (
        f"the maintenance researcher did not submit ({why}); findings are the deterministic checks"
    )
    assert code == 0 and state.report is not None and not state.report.meta.concerns_failed


@pytest.mark.parametrize(("stop", "requests"), [("refusal", 1), ("pause_turn", 2)])
def test_over_http_a_refusal_ends_the_researcher_and_a_pause_is_carried_on(
    stop: str, requests: int, tmp_path: Path
) -> None:
    routes = gitops.router().routes
    clean = routes[MAINTENANCE]
    assert callable(clean)

    def maintenance(body: dict[str, Any]) -> Any:
        last = body["messages"][-1]
        if len(body["messages"]) == 1:
            return reply(text("One moment."), stop_reason=stop)  # type: ignore[arg-type]
        assert last["role"] == "assistant"  # a paused turn goes back as it is, with nothing after it
        return clean(body)

    with ScriptedAnthropicServer(Router({**routes, MAINTENANCE: maintenance})) as server:
        state, code = _audit(server, tmp_path)
    assert len(server.requests_for(MAINTENANCE)) == requests and not server.script_errors
    note = state.results["maintenance"].note
    if stop == "refusal":
        assert note == (
            "the maintenance researcher did not submit (the model refused); findings are the "
            "deterministic checks"
        )
    else:
        assert note is None
    assert code == 0


@pytest.mark.parametrize("stream", [False, True])
def test_over_http_a_submission_cut_off_at_max_tokens_is_not_accepted(stream: bool, tmp_path: Path) -> None:
    routes = gitops.router().routes
    clean = routes[MAINTENANCE]
    assert callable(clean)

    def maintenance(body: dict[str, Any]) -> Any:
        if len(body["messages"]) == 1:  # what arrived of the submission validates: an empty list
            return reply(tool_use("submit_findings", {"findings": []}), stop_reason="max_tokens")
        return clean(body)

    with ScriptedAnthropicServer(Router({**routes, MAINTENANCE: maintenance})) as server:
        state, code = _audit(server, tmp_path, stream=stream)
    sent = server.requests_for(MAINTENANCE)
    assert len(sent) == 2 and not server.script_errors
    [answer] = [b for b in sent[1].body["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert answer["is_error"] is True and answer["content"] == CUT_OFF
    assert state.results["maintenance"].note is None  # the resent, whole submission was accepted
    assert code == 0
