"""Bedrock's and Vertex's failures map to our error types exactly as the direct Anthropic path's do.

One table of faults, played by the scripted server in each wire's own error shape (AWS's
``{"message"}`` with ``x-amzn-errortype``; Google's ``{"error": {"code", "message", "status"}}``;
the Messages API's), and one expected outcome per fault for all three providers: the class, our
failure name, whether the SDK retried, and how many requests it cost. The request timeout is
streaming-aware on every wire: a stream that keeps sending is never cut, a silent one is, and a
timeout is never retried at once.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fakes import Fault, ScriptedAnthropicServer, by_turn, fail, reply, slow, text
from fakes.cloud import Bedrock, Vertex, event_frame
from pydantic import SecretStr

from agents.llm.anthropic_model import AnthropicModel
from agents.llm.cloud_models import BedrockModel
from agents.llm.protocol import ModelRequest, user_text
from agents.llm.providers import make_model
from agents.llm.settings import CloudCredentials, ModelSettings
from domain.errors import ModelError, ModelRejected, ModelUnavailable

pytestmark = pytest.mark.graph

PROVIDERS = ["anthropic", "bedrock", "vertex"]
KEY_ID, SECRET, TOKEN = "AKIDSCRIPTEDTEST0002", "canary-fault-secret-Lp4", "canary-fault-token-Wm8"
REGION, PROJECT = "us-west-2", "scripted-project-9"
MODELS = {"anthropic": "scripted-test-model", "bedrock": "anthropic.claude-scripted-v1:0"}
MODELS["vertex"] = "claude-scripted@20261101"
ANSWER = reply(text("one two three four five six seven eight nine ten eleven twelve"))
FOREVER = 100

# fault, how many times, then: the error class (None: the reply arrives), failure, SDK retried, requests
CASES: dict[str, tuple[Fault, int, type[ModelError] | None, str, bool, int]] = {
    "403-rejected-once": (
        fail(403, "permission_error", "denied"),
        FOREVER,
        ModelRejected,
        "status",
        False,
        1,
    ),
    "429-retried-then-ok": (fail(429, "rate_limit_error", "slow down"), 1, None, "", False, 2),
    "429-persistent": (
        fail(429, "rate_limit_error", "slow down"),
        FOREVER,
        ModelUnavailable,
        "status",
        True,
        3,
    ),
    "500-retried-then-ok": (fail(500, "api_error", "oops"), 1, None, "", False, 2),
    "503-persistent": (fail(503, "api_error", "unavailable"), FOREVER, ModelUnavailable, "status", True, 3),
    "413-too-large": (
        fail(413, "request_too_large", "too big"),
        FOREVER,
        ModelRejected,
        "too_large",
        False,
        1,
    ),
    "400-input-too-long": (
        fail(400, "invalid_request_error", "Input is too long for requested model."),
        FOREVER,
        ModelRejected,
        "context_overflow",
        False,
        1,
    ),
}


def _dialect(provider: str) -> Bedrock | Vertex | None:
    if provider == "bedrock":
        return Bedrock(access_key_id=KEY_ID, region=REGION)
    return Vertex(project=PROJECT, region=REGION, token=TOKEN) if provider == "vertex" else None


def _model(provider: str, base_url: str, **options: Any) -> AnthropicModel:
    common: dict[str, Any] = {"model": MODELS[provider], "max_retries": 2, **options}
    if provider == "bedrock":
        cloud = CloudCredentials(aws_access_key_id=SecretStr(KEY_ID), aws_secret_access_key=SecretStr(SECRET))
        settings = ModelSettings(provider="bedrock", region=REGION, base_url=base_url, cloud=cloud, **common)
    elif provider == "vertex":
        cloud = CloudCredentials(vertex_access_token=SecretStr(TOKEN))
        settings = ModelSettings(
            provider="vertex",
            region=REGION,
            project=PROJECT,
            base_url=f"{base_url}/v1",
            cloud=cloud,
            **common,
        )
    else:
        settings = ModelSettings(api_key="scripted-test-key", base_url=base_url, **common)
    model = make_model(settings)
    assert isinstance(model, AnthropicModel)
    model._client._calculate_retry_timeout = lambda *a, **k: 0.001  # type: ignore[method-assign]
    return model


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Any]:
    servers: list[ScriptedAnthropicServer] = []

    def start(provider: str) -> ScriptedAnthropicServer:
        server = ScriptedAnthropicServer(by_turn(ANSWER), dialect=_dialect(provider)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


REQUEST = ModelRequest(agent="research:security", system="You audit.", messages=[user_text("Audit.")])


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("case", list(CASES))
def test_a_fault_maps_to_the_same_outcome_on_every_provider(provider: str, case: str, served: Any) -> None:
    fault, times, error, failure, retried, requests = CASES[case]
    server = served(provider)
    server.fail_next(fault, times)
    model = _model(provider, server.base_url)
    try:
        if error is None:
            assert model.complete(REQUEST).text == ANSWER.blocks[0].text  # type: ignore[union-attr]
        else:
            with pytest.raises(error) as raised:
                model.complete(REQUEST)
            assert type(raised.value) is error
            assert (raised.value.failure, raised.value.sdk_retried) == (failure, retried)
            assert str(raised.value).startswith(f"research:security: model {MODELS[provider]}: HTTP ")
            assert SECRET not in str(raised.value) and TOKEN not in str(raised.value)
    finally:
        model.close()
    assert len(server.requests) == requests
    assert [r.status for r in server.requests][-1] == (200 if error is None else fault.status)


@pytest.mark.parametrize("provider", ["bedrock", "vertex"])
@pytest.mark.parametrize(
    ("stream", "stall", "ok"),
    [
        (False, 4.0, False),  # the whole reply is late: one wait, cut at the timeout
        (True, 4.0, False),  # the stream opens, then no event for longer than the timeout
        (True, 0.3, True),  # ~10 events 0.3 s apart: longer than the timeout in all, never silent for it
    ],
)
def test_the_request_timeout_is_streaming_aware_and_not_retried_at_once(
    provider: str, stream: bool, stall: float, ok: bool, served: Any
) -> None:
    server = served(provider)
    server.fail_next(slow(stall), FOREVER)
    model = _model(provider, server.base_url, timeout=1.5, stream=stream)
    try:
        if ok:
            assert model.complete(REQUEST).stop_reason == "end_turn"
        else:
            with pytest.raises(ModelUnavailable) as raised:
                model.complete(REQUEST)
            assert raised.value.failure == "timeout" and not raised.value.sdk_retried
    finally:
        model.close()
    assert len(server.requests) == 1  # a timeout is not retried by the SDK: the node retry waits first
    operation = {("bedrock", True): "invoke-with-response-stream", ("bedrock", False): "invoke"}
    operation |= {("vertex", True): "streamRawPredict", ("vertex", False): "rawPredict"}
    assert server.requests[0].path.endswith(operation[(provider, stream)])


def _bedrock_stream(frames: list[bytes]) -> tuple[AnthropicModel, list[httpx2.Request]]:
    seen: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        return httpx2.Response(200, headers=headers, content=b"".join(frames))

    cloud = CloudCredentials(aws_access_key_id=SecretStr(KEY_ID), aws_secret_access_key=SecretStr(SECRET))
    settings = ModelSettings(
        provider="bedrock", model=MODELS["bedrock"], region=REGION, cloud=cloud, stream=True, max_retries=2
    )
    client = httpx2.Client(transport=httpx2.MockTransport(answer))
    return BedrockModel(settings, http_client=client), seen


def _chunk(event: dict[str, Any]) -> bytes:
    payload = json.dumps({"bytes": base64.b64encode(json.dumps(event).encode()).decode()}).encode()
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return event_frame(payload, headers)


@pytest.mark.parametrize(
    ("exception", "error"),
    [
        ("throttlingException", ModelUnavailable),  # as an overloaded_error event is on the direct path
        ("modelStreamErrorException", ModelUnavailable),
        ("serviceUnavailableException", ModelUnavailable),
        ("validationException", ModelRejected),
    ],
)
def test_a_bedrock_exception_frame_mid_stream_maps_as_an_error_event_does(
    exception: str, error: type[ModelError]
) -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": MODELS["bedrock"],
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    }
    broken = event_frame(
        json.dumps({"message": "mid-stream"}).encode(),
        {":message-type": "exception", ":exception-type": exception, ":content-type": "application/json"},
    )
    model, seen = _bedrock_stream([_chunk(start), broken])
    with pytest.raises(error) as raised:
        model.complete(REQUEST)
    assert type(raised.value) is error
    assert (raised.value.failure, raised.value.sdk_retried) == ("stream_error", False)
    assert f"stream error {exception} from https://bedrock-runtime.{REGION}.amazonaws.com" in str(
        raised.value
    )
    assert len(seen) == 1  # the SDK never retries a stream once it has begun
    assert seen[0].url.path == f"/model/{MODELS['bedrock']}/invoke-with-response-stream"
