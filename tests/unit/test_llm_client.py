"""The model clients, offline: AnthropicModel against an in-process fake of the Messages API, the
scripted and function models, and the accountant.

The fake is an ``httpx2.MockTransport`` handed to the SDK as its HTTP client, so the SDK's own
request building, retry loop, SSE parsing and error classes all run for real; only the socket is
replaced. Retry waits are made instant by recording what the SDK computed and returning 0, which
also shows that it honoured ``retry-after-ms``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from agents.llm.anthropic_model import AnthropicModel
from agents.llm.protocol import (
    Message,
    ModelReply,
    ModelRequest,
    TextBlock,
    ToolChoice,
    ToolDef,
    ToolUseBlock,
    Usage,
    tool_results,
    user_text,
)
from agents.llm.settings import DEFAULT_MODEL, ModelSettings
from domain.errors import ModelRejected, ModelUnavailable, SettingsError
from pipeline.settings import Environment

pytestmark = pytest.mark.unit

KEY = "sk-ant-api03-TESTKEY-0123456789abcdef"
MODEL = "claude-sonnet-4-6"
Step = httpx2.Response | Exception


class FakeAPI:
    """A scripted Messages endpoint: one step (a response, or a transport error to raise) per request."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        assert self.steps, f"unplanned request #{len(self.requests)} to the fake Messages API"
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    def body(self, n: int = 0) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.requests[n].content)
        return parsed


def message(content: list[dict[str, Any]], stop: str = "end_turn", **usage: int) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
        },
        headers={"request-id": "req_ok"},
    )


def error(status: int, kind: str, text: str = "nope", request_id: str = "req_err") -> httpx2.Response:
    return httpx2.Response(
        status,
        json={"type": "error", "error": {"type": kind, "message": text}},
        headers={"request-id": request_id, "retry-after-ms": "1"},
    )


def sse_text(events: list[dict[str, Any]]) -> str:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)


def sse(events: list[dict[str, Any]]) -> httpx2.Response:
    text = sse_text(events)
    return httpx2.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})


class Waits:
    """Stands in for the SDK's retry-wait computation: records the wait, returns 0."""

    def __init__(self, model: AnthropicModel, monkeypatch: pytest.MonkeyPatch) -> None:
        self.computed: list[float] = []
        real = model._client._calculate_retry_timeout

        def instant(*args: Any, **kwargs: Any) -> float:
            self.computed.append(real(*args, **kwargs))
            return 0.0

        monkeypatch.setattr(model._client, "_calculate_retry_timeout", instant)


def make(fake: FakeAPI, **settings: Any) -> AnthropicModel:
    options: dict[str, Any] = {"api_key": KEY, "model": MODEL, **settings}
    client = httpx2.Client(transport=httpx2.MockTransport(fake))
    return AnthropicModel(ModelSettings(**options), http_client=client)


TOOLS = [
    ToolDef(name="repo_search", description="Search.", input_schema={"type": "object", "properties": {}}),
    ToolDef(name="submit_findings", description="Submit.", input_schema={"type": "object"}),
]


def request(**overrides: Any) -> ModelRequest:
    values: dict[str, Any] = {
        "agent": "research:security",
        "system": "You audit infrastructure.",
        "messages": [user_text("Audit the security concern.")],
        "tools": TOOLS,
        "tool_choice": ToolChoice(mode="auto"),
        "max_tokens": 4096,
    }
    values.update(overrides)
    return ModelRequest(**values)


# --- the request ------------------------------------------------------------------------------


def test_request_json_caches_system_and_tools() -> None:
    fake = FakeAPI(message([{"type": "text", "text": "ok"}]))
    make(fake).complete(request())
    sent = fake.requests[0]
    assert (sent.method, sent.url.path) == ("POST", "/v1/messages")
    assert fake.body() == {
        "model": MODEL,
        "max_tokens": 4096,
        # the last block of the conversation is the third cache breakpoint (after system and tools)
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "Audit the security concern.",
                        "cache_control": {"type": "ephemeral"},
                    }
                ],
            }
        ],
        "system": [
            {"type": "text", "text": "You audit infrastructure.", "cache_control": {"type": "ephemeral"}}
        ],
        "tools": [
            {
                "name": "repo_search",
                "description": "Search.",
                "input_schema": {"type": "object", "properties": {}},
            },
            {
                "name": "submit_findings",
                "description": "Submit.",
                "input_schema": {"type": "object"},
                "cache_control": {"type": "ephemeral"},
            },
        ],
        "tool_choice": {"type": "auto"},
    }
    # SDK 2.12 sends an api_key as a bearer token, not as x-api-key.
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in sent.headers


def test_settings_cap_max_tokens_and_empty_parts_are_left_out() -> None:
    fake = FakeAPI(message([{"type": "text", "text": "ok"}]))
    make(fake, max_tokens=1000).complete(request(system="", tools=[], tool_choice=None, max_tokens=8192))
    assert fake.body() == {
        "model": MODEL,
        "max_tokens": 1000,
        # the last block of the conversation is the third cache breakpoint (after system and tools)
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "Audit the security concern.",
                        "cache_control": {"type": "ephemeral"},
                    }
                ],
            }
        ],
    }


def test_a_forced_tool_choice_goes_on_the_wire_in_the_api_shape() -> None:
    fake = FakeAPI(message([{"type": "text", "text": "ok"}]), message([{"type": "text", "text": "ok"}]))
    make(fake).complete(request(tool_choice=ToolChoice(mode="tool", name="submit_findings")))
    assert fake.body()["tool_choice"] == {"type": "tool", "name": "submit_findings"}
    once = ToolChoice(mode="tool", name="submit_findings", parallel=False)
    make(fake).complete(request(tool_choice=once))
    assert fake.body(1)["tool_choice"] == {
        "type": "tool",
        "name": "submit_findings",
        "disable_parallel_tool_use": True,
    }


def test_a_conversation_goes_on_the_wire_block_by_block() -> None:
    """Neutral messages in, the Messages API's blocks out (an is_error only when set)."""
    fake = FakeAPI(message([{"type": "text", "text": "ok"}]))
    convo = [
        user_text("go"),
        Message(role="assistant", content=[ToolUseBlock(id="t1", name="repo_list", input={"path": "."})]),
        tool_results([("t1", "listing", False), ("t2", "refused", True)]),
    ]
    make(fake).complete(request(messages=convo))
    assert fake.body()["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "go"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "repo_list", "input": {"path": "."}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "listing"},
                {
                    "type": "tool_result",
                    "tool_use_id": "t2",
                    "content": "refused",
                    "is_error": True,
                    "cache_control": {"type": "ephemeral"},
                },
            ],
        },
    ]


def test_auth_token_is_a_bearer_and_base_url_is_used() -> None:
    fake = FakeAPI(message([{"type": "text", "text": "ok"}]))
    model = make(fake, api_key=None, auth_token="tok-local", base_url="http://127.0.0.1:11434")
    model.complete(request())
    assert str(fake.requests[0].url) == "http://127.0.0.1:11434/v1/messages"
    assert fake.requests[0].headers["authorization"] == "Bearer tok-local"


# --- the reply --------------------------------------------------------------------------------


def test_tool_use_reply_and_usage_are_mapped() -> None:
    fake = FakeAPI(
        message(
            [
                {"type": "text", "text": "Counting images."},
                {"type": "tool_use", "id": "toolu_1", "name": "repo_search", "input": {"pattern": ":latest"}},
            ],
            stop="tool_use",
            cache_creation_input_tokens=1200,
            cache_read_input_tokens=3400,
        )
    )
    reply = make(fake).complete(request())
    assert reply == ModelReply(
        model=MODEL,
        content=[
            TextBlock(text="Counting images."),
            ToolUseBlock(id="toolu_1", name="repo_search", input={"pattern": ":latest"}),
        ],
        stop_reason="tool_use",
        usage=Usage(
            input_tokens=10, output_tokens=5, cache_creation_input_tokens=1200, cache_read_input_tokens=3400
        ),
    )


def _delta(index: int, **delta: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def stream_events(stop: bool = True) -> list[dict[str, Any]]:
    """The Anthropic streaming format, by hand: each event's SSE name is its ``type``."""
    usage = {
        "input_tokens": 25,
        "output_tokens": 1,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 2048,
    }
    head = {"id": "msg_s", "type": "message", "role": "assistant", "model": MODEL, "content": []}
    tool = {"type": "tool_use", "id": "toolu_9", "name": "repo_search", "input": {}}
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {**head, "stop_reason": None, "stop_sequence": None, "usage": usage},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "ping"},
        _delta(0, type="text_delta", text="Look"),
        _delta(0, type="text_delta", text="ing."),
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": tool},
        _delta(1, type="input_json_delta", partial_json='{"pattern": ":la'),
        _delta(1, type="input_json_delta", partial_json='test", "path": "stacks"}'),
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use", "stop_sequence": None},
            "usage": {"output_tokens": 42},
        },
    ]
    return [*events, {"type": "message_stop"}] if stop else events


def test_streaming_parses_sse_into_the_same_reply() -> None:
    fake = FakeAPI(sse(stream_events()))
    reply = make(fake, stream=True).complete(request())
    assert fake.body()["stream"] is True
    assert fake.body()["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert reply == ModelReply(
        model=MODEL,
        content=[
            TextBlock(text="Looking."),
            ToolUseBlock(id="toolu_9", name="repo_search", input={"pattern": ":latest", "path": "stacks"}),
        ],
        stop_reason="tool_use",
        usage=Usage(input_tokens=25, output_tokens=42, cache_read_input_tokens=2048),
    )


def test_a_stream_cut_before_message_stop_is_unavailable() -> None:
    fake = FakeAPI(sse(stream_events(stop=False)))
    with pytest.raises(ModelUnavailable) as cut:
        make(fake, stream=True).complete(request())
    assert (cut.value.failure, cut.value.sdk_retried) == ("stream_truncated", False)
    assert len(fake.requests) == 1


def test_an_error_event_mid_stream_is_unavailable() -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    fake = FakeAPI(sse([*stream_events(stop=False)[:4], overloaded]))
    with pytest.raises(ModelUnavailable, match="stream error overloaded_error") as err:
        make(fake, stream=True).complete(request())
    assert (err.value.failure, err.value.sdk_retried) == ("stream_error", False)
    assert len(fake.requests) == 1  # the SDK never retries a stream that already started


class _BreaksMidway(httpx2.SyncByteStream):
    def __init__(self, first: bytes) -> None:
        self.first = first

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise httpx2.ReadError("connection reset by peer")


def test_a_connection_dropped_mid_stream_is_unavailable() -> None:
    first = sse_text(stream_events()[:2]).encode()
    broken = httpx2.Response(200, stream=_BreaksMidway(first), headers={"content-type": "text/event-stream"})
    fake = FakeAPI(broken)
    with pytest.raises(ModelUnavailable) as broke:
        make(fake, stream=True).complete(request())
    # our own fields, not the SDK's wording: it changed between anthropic 2.16 and 2.17
    assert (broke.value.failure, broke.value.sdk_retried) == ("stream_broke", False)
    assert isinstance(broke.value.__cause__, (httpx2.TransportError, anthropic.APIConnectionError))
    assert "not retried" in str(broke.value) and "\n" not in str(broke.value)
    assert len(fake.requests) == 1


# --- faults: the SDK retries, then we map -----------------------------------------------------


def _ok() -> httpx2.Response:
    return message([{"type": "text", "text": "ok"}])


@pytest.mark.parametrize(
    ("steps", "expected_requests", "raised"),
    [
        pytest.param([error(429, "rate_limit_error"), _ok()], 2, None, id="429-then-200"),
        pytest.param([error(529, "overloaded_error")] * 3, 3, ModelUnavailable, id="529x3"),
        pytest.param([error(500, "api_error")] * 3, 3, ModelUnavailable, id="500x3"),
        pytest.param([error(503, "api_error")] * 3, 3, ModelUnavailable, id="503x3"),
        pytest.param([error(429, "rate_limit_error")] * 3, 3, ModelUnavailable, id="429x3"),
        pytest.param([error(408, "timeout_error")] * 3, 3, ModelUnavailable, id="408x3"),
        pytest.param([httpx2.ConnectError("refused")] * 3, 3, ModelUnavailable, id="connect-error-x3"),
        pytest.param([httpx2.ReadError("reset")] * 3, 3, ModelUnavailable, id="read-error-x3"),
        # our own timeout is not retried by the SDK (a busy server would queue the retry): the node's
        pytest.param([httpx2.ReadTimeout("slow")], 1, ModelUnavailable, id="read-timeout-once"),
        pytest.param([httpx2.ConnectTimeout("slow")], 1, ModelUnavailable, id="connect-timeout-once"),
        pytest.param([error(400, "invalid_request_error")], 1, ModelRejected, id="400"),
        pytest.param([error(401, "authentication_error")], 1, ModelRejected, id="401"),
        pytest.param([error(403, "permission_error")], 1, ModelRejected, id="403"),
        pytest.param([error(404, "not_found_error")], 1, ModelRejected, id="404"),
        pytest.param([error(413, "request_too_large")], 1, ModelRejected, id="413"),
        pytest.param([error(422, "invalid_request_error")], 1, ModelRejected, id="422"),
    ],
)
def test_request_counts_per_fault(
    steps: list[Step], expected_requests: int, raised: type[Exception] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeAPI(*steps)
    model = make(fake, max_retries=2)
    Waits(model, monkeypatch)
    if raised is None:
        assert model.complete(request()).text == "ok"
    else:
        with pytest.raises(raised):
            model.complete(request())
    assert len(fake.requests) == expected_requests
    assert not fake.steps


def test_a_request_timeout_is_unavailable_as_a_timeout_the_sdk_did_not_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeAPI(httpx2.ReadTimeout("slow"))
    model = make(fake, max_retries=2)
    Waits(model, monkeypatch)
    with pytest.raises(ModelUnavailable) as raised:
        model.complete(request())
    assert (raised.value.failure, raised.value.sdk_retried) == ("timeout", False)
    assert len(fake.requests) == 1 and not fake.steps


def test_a_spend_limit_429_is_rejected_after_the_sdk_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    limit = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "Monthly limit reached.",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    fake = FakeAPI(*[httpx2.Response(429, json=limit, headers={"retry-after-ms": "1"})] * 3)
    model = make(fake)
    Waits(model, monkeypatch)
    with pytest.raises(ModelRejected, match=r"HTTP 429 rate_limit_error .*enforced_spend_limit_reached"):
        model.complete(request())
    assert len(fake.requests) == 3  # the SDK still retries it: it decides by status alone


def test_the_sdk_honours_retry_after_and_backs_off_without_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeAPI(error(529, "overloaded_error"), httpx2.ConnectError("refused"), _ok())
    model = make(fake)
    waits = Waits(model, monkeypatch)
    model.complete(request())
    assert waits.computed[0] == pytest.approx(0.001)  # retry-after-ms: 1
    assert 0.375 <= waits.computed[1] <= 1.0  # no header: exponential backoff with jitter


def test_streaming_retries_the_opening_like_create(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeAPI(error(529, "overloaded_error"), sse(stream_events()))
    model = make(fake, stream=True)
    Waits(model, monkeypatch)
    assert model.complete(request()).tool_uses[0].input == {"pattern": ":latest", "path": "stacks"}
    assert len(fake.requests) == 2


def test_error_messages_are_one_line_with_status_and_request_id(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeAPI(*[error(529, "overloaded_error", "Overloaded\nplease wait", request_id="req_529")] * 3)
    model = make(fake)
    Waits(model, monkeypatch)
    with pytest.raises(ModelUnavailable) as caught:
        model.complete(request())
    text = str(caught.value)
    assert "\n" not in text
    assert text == (
        f"research:security: model {MODEL}: HTTP 529 overloaded_error from https://api.anthropic.com: "
        "Overloaded please wait [request-id req_529] (after up to 2 SDK retries)"
    )


def test_no_credential_ever_appears_in_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    echo = f"invalid x-api-key: {KEY} (received Authorization: Bearer {KEY})"
    fake = FakeAPI(error(401, "authentication_error", echo), *[httpx2.ConnectError(f"refused {KEY}")] * 3)
    model = make(fake, base_url="https://user:hunter2@gateway.example:8443/anthropic")
    Waits(model, monkeypatch)
    with pytest.raises(ModelRejected) as rejected:
        model.complete(request())
    with pytest.raises(ModelUnavailable) as unavailable:
        model.complete(request())
    for exc in (rejected.value, unavailable.value):
        assert KEY not in str(exc) and "hunter2" not in str(exc)
    assert "HTTP 401 authentication_error" in str(rejected.value)
    assert "<redacted>" in str(rejected.value)
    where = "https://gateway.example:8443/anthropic"
    assert f"connection to {where} failed (ConnectError)" in str(unavailable.value)
    assert KEY not in repr(model.settings) and KEY not in str(model.settings)


def test_an_other_key_shaped_string_is_scrubbed_too() -> None:
    fake = FakeAPI(error(403, "permission_error", "key sk-ant-api03-SOMEONEELSE99 is disabled"))
    with pytest.raises(ModelRejected) as caught:
        make(fake).complete(request())
    assert "SOMEONEELSE" not in str(caught.value)


# --- settings ---------------------------------------------------------------------------------


def test_settings_from_the_environment_then_flags() -> None:
    env = Environment.read(
        {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": "http://127.0.0.1:4000", "ANTHROPIC_AUTH_TOKEN": ""}
    )
    settings = env.model_settings(stream=True, model=None, max_retries=4)
    assert settings.api_key is not None and settings.api_key.get_secret_value() == KEY
    assert settings.auth_token is None  # empty counts as unset
    assert (settings.base_url, settings.stream, settings.max_retries) == ("http://127.0.0.1:4000", True, 4)
    assert settings.model == DEFAULT_MODEL
    assert (settings.timeout, settings.max_tokens) == (120.0, 8192)
    assert Environment.read({}).model_settings().has_credentials is False
    # saved with a run, the settings keep no credential
    assert KEY not in settings.model_dump_json() and "api_key" not in settings.model_dump()


def test_bad_settings_are_one_line_and_echo_nothing() -> None:
    with pytest.raises(SettingsError) as caught:
        Environment.read({"ANTHROPIC_API_KEY": KEY}).model_settings(max_retries=-1, timeout="soon")
    text = str(caught.value)
    assert "max_retries" in text and "timeout" in text and "\n" not in text and KEY not in text


def test_a_model_without_credentials_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="ANTHROPIC_API_KEY"):
        AnthropicModel(ModelSettings())


def test_the_cache_breakpoint_marks_only_the_last_block_and_copies() -> None:
    from agents.llm.anthropic_wire import cache_last_turn

    messages = [
        {"role": "user", "content": [{"type": "text", "text": "first"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "repo_list", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "a"},
                {"type": "text", "text": "b"},
            ],
        },
    ]
    marked = cache_last_turn(messages)
    assert marked[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in marked[-1]["content"][0]
    assert all("cache_control" not in b for m in marked[:-1] for b in m["content"])
    assert "cache_control" not in messages[-1]["content"][-1]  # the caller's conversation is untouched


def test_a_password_in_the_endpoint_is_never_saved_and_comes_back_from_the_environment() -> None:
    from pipeline.models import build_model

    env = Environment.read({"ANTHROPIC_BASE_URL": "http://user:S3cretInUrl@127.0.0.1:4000"})
    settings = env.model_settings()
    saved = settings.model_dump_json()
    assert "S3cretInUrl" not in saved and "http://127.0.0.1:4000" in saved
    restored = ModelSettings.model_validate_json(saved)  # as resume reads it from the run store
    model = build_model(restored, env)
    assert isinstance(model, AnthropicModel)
    assert model.settings.base_url == "http://user:S3cretInUrl@127.0.0.1:4000"
    assert model.endpoint == "http://127.0.0.1:4000"
    model.close()
