"""The scripted Anthropic server, checked against the real ``anthropic`` SDK over loopback HTTP.

If the SDK parses these replies, retries these faults and accumulates these streams as it would the
real API's, then tests that drive our LLM path through the server exercise the real client code.
The SDK's retry sleep is replaced by a recorder, so the waits it *computed* are asserted and none
are slept.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import anthropic
import httpx2
import pytest
from anthropic import _base_client
from anthropic.types import MessageParam
from fakes import (
    Router,
    ScriptedAnthropicServer,
    ScriptError,
    by_turn,
    drop,
    fail,
    first_system_line,
    reply,
    text,
    tool_use,
)

pytestmark = pytest.mark.unit

MODEL = "claude-sonnet-4-6"
RELIABILITY = "You are the reliability researcher of infra-audit, auditing one estate.\nBe terse."
SECURITY = "You are the security researcher of infra-audit, auditing one estate.\nBe terse."
RELIABILITY_KEY, SECURITY_KEY = RELIABILITY.splitlines()[0], SECURITY.splitlines()[0]  # the route keys
USER: list[MessageParam] = [{"role": "user", "content": "Audit the estate."}]

FIRST = reply(
    text("Backups are worth a look; the state bucket has no versioning."),
    tool_use(
        "read_file", {"path": "infra/state.tf", "lines": [1, 40], "why": 'quote "x"\\n'}, id="toolu_fixed"
    ),
    tool_use("list_checks", {}),
)


class _SleepRecorder:
    """Stands in for the ``time`` module inside the SDK's base client: records retry waits."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorder = _SleepRecorder()
    monkeypatch.setattr(_base_client, "time", recorder)
    return recorder.waits


@pytest.fixture
def server() -> Iterator[ScriptedAnthropicServer]:
    with ScriptedAnthropicServer(
        Router({RELIABILITY_KEY: [FIRST, reply("Done.")], SECURITY_KEY: [reply("Clean.")]})
    ) as s:
        yield s


def sdk(server: ScriptedAnthropicServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="test-key", base_url=server.base_url, max_retries=2)


def ask(client: anthropic.Anthropic, system: str = RELIABILITY, **extra: Any) -> anthropic.types.Message:
    message = client.messages.create(model=MODEL, max_tokens=1024, system=system, messages=USER, **extra)
    assert isinstance(message, anthropic.types.Message)
    return message


def raw_post(
    base_url: str, body: Any, *, path: str = "/v1/messages", headers: dict[str, str] | None = None
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One request with the standard library, to see exact status, headers and bytes."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=5)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"content-type": "application/json", "x-api-key": "test-key"} if headers is None else headers
        conn.request("POST", path, body=data, headers=sent)
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def test_json_reply_parses_into_the_sdk_message(server: ScriptedAnthropicServer) -> None:
    with sdk(server) as client:
        raw = client.messages.with_raw_response.create(
            model=MODEL, max_tokens=1024, system=RELIABILITY, messages=USER
        )
        message = raw.parse()
    assert isinstance(message, anthropic.types.Message)
    assert message.id.startswith("msg_01") and message.model == MODEL and message.role == "assistant"
    assert message.stop_reason == "tool_use" and message.stop_sequence is None
    first, second, third = message.content
    assert isinstance(first, anthropic.types.TextBlock)
    assert first.text == "Backups are worth a look; the state bucket has no versioning."
    assert isinstance(second, anthropic.types.ToolUseBlock) and isinstance(
        third, anthropic.types.ToolUseBlock
    )
    assert (second.id, second.name) == ("toolu_fixed", "read_file")
    assert second.input == {"path": "infra/state.tf", "lines": [1, 40], "why": 'quote "x"\\n'}
    assert third.id.startswith("toolu_01") and (third.name, third.input) == ("list_checks", {})
    usage = message.usage
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (0, 0)
    assert raw.headers["request-id"].startswith("req_01")
    assert raw.headers["content-type"] == "application/json"
    assert raw.headers["anthropic-ratelimit-requests-limit"] == "4000"
    assert "date" not in raw.headers and "scripted" in raw.headers["server"]


def test_stream_accumulates_to_the_same_message(server: ScriptedAnthropicServer) -> None:
    with sdk(server) as client:
        whole = ask(client)
        with client.messages.stream(
            model=MODEL, max_tokens=1024, system=RELIABILITY, messages=USER
        ) as stream:
            kinds = [event.type for event in stream]
            final = stream.get_final_message()
    assert final.to_dict() == whole.to_dict()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"  # the SDK skips the ping

    status, headers, body = raw_post(
        server.base_url,
        {"model": MODEL, "max_tokens": 9, "messages": USER, "system": RELIABILITY, "stream": True},
    )
    assert status == 200 and ("content-type", "text/event-stream; charset=utf-8") in headers
    events = [json.loads(line[6:]) for line in body.decode().splitlines() if line.startswith("data: ")]
    assert [e["type"] for e in events][:3] == ["message_start", "content_block_start", "ping"]
    json_pieces = [
        e["delta"]["partial_json"] for e in events if e.get("delta", {}).get("type") == "input_json_delta"
    ]
    assert len([p for p in json_pieces if p]) >= 4  # two tool inputs, the longer one in three pieces
    assert events[-2]["usage"]["output_tokens"] == whole.usage.output_tokens


def test_interleaved_conversations_are_routed_by_system_prompt() -> None:
    roles = ["reliability", "security", "scalability", "maintenance", "cost"]
    systems = {r: f"You are the {r} researcher of infra-audit.\nRules follow." for r in roles}
    first_lines = {r: systems[r].splitlines()[0] for r in roles}
    script = Router(
        {first_lines[r]: [reply(tool_use("read_file", {"who": r})), reply(f"{r} done.")] for r in roles}
    )
    barrier = threading.Barrier(len(roles))

    def converse(role: str, client: anthropic.Anthropic) -> list[str]:
        messages: list[Any] = [{"role": "user", "content": "Audit."}]
        first = client.messages.create(model=MODEL, max_tokens=64, system=systems[role], messages=messages)
        barrier.wait(timeout=5)  # every conversation is mid-flight before any takes its second turn
        tool = first.content[0]
        assert isinstance(tool, anthropic.types.ToolUseBlock)
        messages += [
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "ok"}]},
        ]
        second = client.messages.create(model=MODEL, max_tokens=64, system=systems[role], messages=messages)
        return [json.dumps(tool.input), second.content[0].text]  # type: ignore[union-attr]

    with ScriptedAnthropicServer(script) as server, sdk(server) as client, ThreadPoolExecutor(5) as pool:
        results = dict(zip(roles, pool.map(lambda r: converse(r, client), roles), strict=True))
    assert results == {r: [json.dumps({"who": r}), f"{r} done."] for r in roles}
    assert server.route_counts() == {first_lines[r]: 2 for r in roles}
    assert [q.turn for q in server.requests_for(first_lines["cost"], turn=1)] == [1]


@pytest.mark.parametrize(
    ("fault", "times", "expected_requests", "raised", "expected_waits"),
    [
        (fail(429, "rate_limit_error", "slow down", {"retry-after": "0"}), 1, 2, None, "backoff"),
        (fail(529, "overloaded_error", "Overloaded"), 3, 3, anthropic.OverloadedError, [0.001, 0.001]),
        (fail(500, "api_error", "Internal server error"), 3, 3, anthropic.InternalServerError, [0.001] * 2),
        (drop(), 3, 3, anthropic.APIConnectionError, "backoff"),
        (fail(400, "invalid_request_error", "messages: bad"), 1, 1, anthropic.BadRequestError, []),
    ],
    ids=["429-then-ok", "529x3", "500x3", "dropx3", "400"],
)
def test_sdk_retries_injected_faults(
    server: ScriptedAnthropicServer,
    waits: list[float],
    fault: Any,
    times: int,
    expected_requests: int,
    raised: type[Exception] | None,
    expected_waits: Any,
) -> None:
    server.fail_next(fault, times=times)
    with sdk(server) as client:
        if raised is None:
            assert ask(client).stop_reason == "tool_use"
        else:
            with pytest.raises(raised) as caught:
                ask(client)
            assert type(caught.value) is raised  # exactly this class, e.g. OverloadedError for 529
    assert len(server.requests) == expected_requests
    if expected_waits == "backoff":  # no usable retry-after: the SDK's own 0.5 s * 2^n with jitter
        assert all(0.5 * 2**n * 0.75 <= w <= 0.5 * 2**n for n, w in enumerate(waits))
        assert len(waits) == expected_requests - 1
    else:
        assert waits == expected_waits  # retry-after-ms: 1 honoured


def test_route_faults_leave_other_routes_untouched(
    server: ScriptedAnthropicServer, waits: list[float]
) -> None:
    server.fail_on(RELIABILITY_KEY, fail(529, "overloaded_error", "Overloaded"), turn=0, times=3)
    with sdk(server) as client:
        with pytest.raises(anthropic.OverloadedError):
            ask(client)
        assert ask(client, system=SECURITY).content[0].text == "Clean."  # type: ignore[union-attr]
        assert ask(client).stop_reason == "tool_use"  # the fault is spent; the script resumes
    assert server.route_counts() == {RELIABILITY_KEY: 4, SECURITY_KEY: 1}
    assert [r.status for r in server.requests] == [529, 529, 529, 200, 200]


def test_fault_at_a_request_index(server: ScriptedAnthropicServer, waits: list[float]) -> None:
    server.fail_at(1, fail(500, "api_error", "boom"))
    with sdk(server) as client:
        ask(client, system=SECURITY)
        ask(client, system=SECURITY)
    assert [r.status for r in server.requests] == [200, 500, 200]


def test_drop_mid_stream_is_not_retried(server: ScriptedAnthropicServer) -> None:
    """The SDK returns a stream once headers arrive, so a cut body is not retried.

    Whether the SDK wraps the transport error (2.17 does, in ``APIConnectionError``) is its own
    business: only the class family is asserted, never its text.
    """
    server.fail_next(drop(after_events=4))
    cut = pytest.raises((httpx2.TransportError, anthropic.APIConnectionError))
    with (
        sdk(server) as client,
        cut,
        client.messages.stream(model=MODEL, max_tokens=64, system=RELIABILITY, messages=USER) as stream,
    ):
        stream.get_final_message()
    (only,) = server.requests
    assert (only.status, only.dropped, only.stream) == (200, True, True)


def test_refusals_have_the_api_error_shape(server: ScriptedAnthropicServer) -> None:
    body = {"model": MODEL, "max_tokens": 8, "messages": USER, "system": SECURITY}
    status, _, missing_key = raw_post(server.base_url, body, headers={"content-type": "application/json"})
    assert status == 401
    assert json.loads(missing_key)["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }
    status, _, unknown = raw_post(server.base_url, body, path="/v1/complete")
    assert status == 404 and json.loads(unknown)["type"] == "error"
    assert json.loads(unknown)["error"]["type"] == "not_found_error"
    status, _, invalid = raw_post(server.base_url, {"model": MODEL, "messages": USER})
    assert status == 400 and json.loads(invalid)["error"]["message"] == "max_tokens: Field required"
    with sdk(server) as client, pytest.raises(anthropic.AuthenticationError):
        ask(
            client,
            system=SECURITY,
            extra_headers={"X-Api-Key": anthropic.omit, "Authorization": anthropic.omit},
        )
    assert len(server.requests) == 4  # a 401 is not retried
    assert server.requests[1].headers["x-api-key"] == "<redacted>"
    assert server.requests[1].body == body


def test_same_script_and_requests_give_identical_bytes() -> None:
    def run() -> list[tuple[int, list[tuple[str, str]], bytes]]:
        script = Router({RELIABILITY_KEY: [FIRST]})
        body = {"model": MODEL, "max_tokens": 64, "system": RELIABILITY, "messages": USER}
        with ScriptedAnthropicServer(script) as server:
            return [raw_post(server.base_url, body), raw_post(server.base_url, {**body, "stream": True})]

    first, second = run(), run()
    assert first == second
    assert first[0][0] == 200 and b"msg_01" in first[0][2] and b"event: message_stop" in first[1][2]


def test_an_exhausted_script_is_a_loud_test_error(waits: list[float]) -> None:
    with pytest.raises(ScriptError, match="wants reply 1"), ScriptedAnthropicServer(by_turn(FIRST)) as server:
        with sdk(server) as client:
            messages: list[MessageParam] = [
                *USER,
                {"role": "assistant", "content": "x"},
                {"role": "user", "content": "y"},
            ]
            with pytest.raises(anthropic.BadRequestError, match="scripted server"):
                client.messages.create(model=MODEL, max_tokens=8, messages=messages)
        assert len(server.requests) == 1 and waits == []  # x-should-retry: false


def test_route_key_reads_a_system_prompt_given_as_blocks() -> None:
    blocks = [{"type": "text", "text": RELIABILITY, "cache_control": {"type": "ephemeral"}}]
    assert (
        first_system_line({"system": blocks}) == first_system_line({"system": RELIABILITY}) == RELIABILITY_KEY
    )
    assert first_system_line({"messages": USER}) == ""


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost", "::1", "192.168.1.10"])
def test_refuses_any_host_but_loopback(host: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1 only"):
        ScriptedAnthropicServer(by_turn(), host=host)


def test_stops_with_a_client_still_connected() -> None:
    server = ScriptedAnthropicServer(by_turn(reply("hi"))).start()
    client = sdk(server)
    try:
        ask(client)  # leaves a keep-alive connection open
        server.stop()  # must not wait on the idle connection's thread
    finally:
        client.close()
