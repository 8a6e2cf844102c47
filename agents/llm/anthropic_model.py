"""``AnthropicModel``: the ``ModelClient`` over the Messages API; the one module importing ``anthropic``.

What this module decides, and why:

* **Prompt caching.** Every turn of an agent resends the same system prompt and tool definitions,
  so the system prompt goes as one text block with ``cache_control: ephemeral`` and the last tool
  carries ``cache_control`` too. The cached prefix is tools, then system: the last tool's breakpoint
  covers the tools, the system block's covers both (5-minute TTL; prefixes under the model's minimum
  cacheable length are simply not cached).
* **Retries: the SDK's, and only the SDK's.** The SDK retries 408/409/429/5xx and dropped
  connections ``max_retries`` times, honouring ``retry-after`` / ``retry-after-ms``. There is no
  retry loop here. When the SDK gives up, the failure is mapped to the project's two classes: what
  the SDK itself thought worth retrying (408, 409, 429, >= 500 including 529 overloaded, connection
  errors, timeouts) becomes ``ModelUnavailable``, which the graph's node retry policy tries again
  later; any other 4xx (400, 401, 402, 403, 404, 413, 422, ...) becomes ``ModelRejected``, never
  retried. Two of those name their failure, since the agent loop handles them (it compacts the
  conversation once): a 413 is ``too_large``, a 400 refusing a prompt over the context window is
  ``context_overflow``. The split is the SDK's own (``anthropic/lib/_retry.py``: 408/409/429 are
  its transient 4xx), with one exception: a 429 saying the organisation's spend limit is reached is
  ``ModelRejected``, since no node retry within the run can lift it.
* **Timeouts** (``ModelSettings.timeout``, ``--request-timeout``) bound each wait for the server:
  every read of the socket, so without streaming the whole reply (a server sends nothing until it
  has generated it), and with streaming the gap between two events, never the whole stream. A
  request that timed out is **not** retried by the SDK (a middleware turns its timeout into one
  the SDK does not retry): a local server with one slot is most likely still generating, and an
  immediate retry would queue behind it. It is ``ModelUnavailable(failure="timeout")``, which the
  node retry tries once more after its long pause.
* **Streaming** (``stream=True``): the SDK retries only the opening of a stream. A stream that
  breaks half-way (an ``error`` event such as ``overloaded_error``, a dropped connection, or an end
  without ``message_stop``) is ``ModelUnavailable`` and left to the node retry: a partial reply is
  never handed to an agent.
* **The settings decide, not the environment.** The SDK falls back to ``ANTHROPIC_*`` variables,
  credential profiles on disk and workload identity when a credential or base URL is missing, so
  both are always passed. (Its constructor still reads ``ANTHROPIC_CUSTOM_HEADERS`` and
  ``ANTHROPIC_WEBHOOK_SIGNING_KEY`` whatever it is given.)
* **Error texts are one line**: status, error type, the API's message, the request id; credentials
  are scrubbed from them (a gateway may echo the key it was sent).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import anthropic
import httpx2
from anthropic.types import Message

from agents.llm.anthropic_wire import request_body
from agents.llm.protocol import ContentBlock, ModelReply, ModelRequest, TextBlock, ToolUseBlock, Usage
from agents.llm.settings import DEFAULT_BASE_URL, ModelSettings
from domain.errors import ModelError, ModelRejected, ModelUnavailable, SettingsError

log = logging.getLogger(__name__)

# Statuses the SDK retries (anthropic/_base_client.py ``_should_retry``): still failing after its
# retries means an outage, worth a later try. Every other 4xx is the request's own fault.
TRANSIENT_4XX = frozenset({408, 409, 429})
# 429s that no wait within a run lifts: the organisation's spend limit, monthly or contractual.
SPEND_LIMIT_CODES = frozenset({"enforced_spend_limit_reached", "contract_spend_limit_reached"})
# Error types an SSE ``error`` event can carry mid-stream (the HTTP status is then 200).
TRANSIENT_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})
MESSAGE_CAP = 300
INPUT_SHOWN = 120
# A request larger than the model takes: its HTTP status, and the error types and messages with which
# servers refuse a prompt over the context window with a 400 (the Messages API's "prompt is too long",
# llama.cpp's exceed_context_size_error, vLLM's and LiteLLM's "maximum context length").
TOO_LARGE_STATUS = 413
OVERFLOW_TYPES = frozenset({"exceed_context_size_error", "context_length_exceeded"})
_OVERFLOW = re.compile(
    r"prompt is too long|input is too long|context (?:window|length|size)|maximum context|"
    r"too many (?:input )?tokens",
    re.I,
)
_KEYLIKE = re.compile(r"\bsk-[A-Za-z0-9_-]{8,}")


class AnthropicModel:
    """A ``ModelClient`` over the Anthropic Messages API, or any endpoint that speaks it."""

    transient_stream_types: frozenset[str] = TRANSIENT_TYPES
    """Error types of an error event mid-stream that an outage explains (a later try may pass)."""

    def __init__(self, settings: ModelSettings, *, http_client: httpx2.Client | None = None) -> None:
        """``http_client`` is for tests (an ``httpx2.MockTransport``); the SDK's own client otherwise."""
        self.settings = settings
        self._client = self._make_client(http_client)

    def _make_client(self, http_client: httpx2.Client | None) -> anthropic.Anthropic:
        """The SDK's client of this provider. Bedrock and Vertex (``cloud_models.py``) give theirs:
        the same Messages resource, retries, middleware and error types over another wire."""
        settings = self.settings
        if not settings.has_credentials:
            raise SettingsError(
                "no model credential: set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN, or run --offline"
            )
        # The SDK refuses both at once; the key wins, as it does when the SDK reads the environment.
        api_key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        token = settings.auth_token.get_secret_value() if settings.auth_token is not None else None
        return anthropic.Anthropic(
            api_key=api_key,
            auth_token=None if api_key is not None else token,
            base_url=settings.base_url or DEFAULT_BASE_URL,
            **client_options(settings, http_client),
        )

    @property
    def model(self) -> str:
        return self.settings.model

    @property
    def endpoint(self) -> str:
        return self.settings.endpoint

    def close(self) -> None:
        self._client.close()

    def params(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body of the Messages call (without ``stream``), deterministic for cassettes."""
        model = request.model or self.settings.model
        return request_body(request, model, min(request.max_tokens, self.settings.max_tokens))

    def complete(self, request: ModelRequest) -> ModelReply:
        params = self.params(request)
        try:
            message = self._stream(params) if self.settings.stream else self._client.messages.create(**params)
        except _TimedOut as exc:
            raise ModelUnavailable(
                self._line(
                    request.agent,
                    f"{self.settings.endpoint} sent nothing for {self.settings.timeout:g}s (the request "
                    "timeout); not retried at once, the server may still be busy with it",
                ),
                failure="timeout",
            ) from exc
        except _StreamBroke as broke:  # after the first event: the SDK never retries a stream mid-way
            cause = broke.__cause__
            if _timed_out(cause):
                raise ModelUnavailable(
                    self._line(
                        request.agent,
                        f"stream from {self.settings.endpoint} sent no event for {self.settings.timeout:g}s "
                        "(the request timeout), not retried at once",
                    ),
                    failure="timeout",
                ) from cause
            raise ModelUnavailable(
                self._line(
                    request.agent,
                    f"stream from {self.settings.endpoint} broke mid-way ({_cause_name(cause)}), not retried",
                ),
                failure="stream_broke",
            ) from cause
        except anthropic.APIError as exc:
            raise self._error(exc, request.agent) from exc
        except httpx2.TransportError as exc:  # a transport failure the SDK did not wrap
            raise ModelUnavailable(
                self._line(
                    request.agent, f"connection to {self.settings.endpoint} broke: {type(exc).__name__}"
                ),
                failure="connection",
            ) from exc
        if message is None:
            raise ModelUnavailable(
                self._line(request.agent, f"stream from {self.settings.endpoint} ended before message_stop"),
                failure="stream_truncated",
            )
        reply = to_reply(message)
        log.debug(
            "%s: %s stop=%s in=%d out=%d cache_w=%d cache_r=%d",
            request.agent,
            reply.model,
            reply.stop_reason,
            reply.usage.input_tokens,
            reply.usage.output_tokens,
            reply.usage.cache_creation_input_tokens,
            reply.usage.cache_read_input_tokens,
        )
        return reply

    def _stream(self, params: dict[str, Any]) -> Message | None:
        """The streamed reply, or None when the stream ended without ``message_stop`` (truncated).

        A read that fails once the stream has opened raises ``_StreamBroke``, whatever the SDK
        wrapped it in (older releases let ``httpx2`` errors through, newer ones wrap them in
        ``APIConnectionError``): the SDK retries only the opening of a stream, never its body.
        An SSE ``error`` event is an ``APIStatusError`` and keeps its own mapping.
        """
        finished = False
        with self._client.messages.stream(**params) as stream:
            try:
                for event in stream:
                    finished = finished or event.type == "message_stop"
            except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
                raise _StreamBroke from exc
            return stream.get_final_message() if finished else None

    def _error(self, exc: anthropic.APIError, agent: str) -> ModelError:
        retried = f"after up to {self.settings.max_retries} SDK retries"
        if isinstance(exc, anthropic.APITimeoutError):  # _NoTimeoutRetry turns these into _TimedOut first
            text = f"{self.settings.endpoint} timed out ({self.settings.timeout:g}s)"
            return ModelUnavailable(self._line(agent, text), failure="timeout")
        if isinstance(exc, anthropic.APIConnectionError):
            if _unrecorded(exc):
                # a cassette replay that has no answer for this request: no retry can change that
                return ModelRejected(
                    self._line(
                        agent,
                        "replay: no recorded interaction matches this request (the prompt, the "
                        "estate, the run id or the date differ from the recording)",
                    ),
                    failure="replay",
                )
            text = f"connection to {self.settings.endpoint} failed ({_cause_name(exc.__cause__)}) {retried}"
            return ModelUnavailable(self._line(agent, text), failure="connection", sdk_retried=True)
        if isinstance(exc, anthropic.APIStatusError):
            status = exc.status_code
            kind, said, request_id = self._described(exc)
            rid = f" [request-id {request_id}]" if request_id else ""
            if status >= 400:
                head = f"HTTP {status} {kind} from {self.settings.endpoint}"
            else:  # an SSE error event after a 200: the SDK does not retry a stream once it has begun
                head, retried = (
                    f"stream error {kind} from {self.settings.endpoint}",
                    "mid-stream, not retried",
                )
            mid_stream = status < 400 and kind in self.transient_stream_types
            transient = status in TRANSIENT_4XX or status >= 500 or mid_stream
            if exc.error_code in SPEND_LIMIT_CODES:
                transient, said = False, f"{exc.error_code}: {said}"
            failure = "status" if status >= 400 else "stream_error"
            if status == TOO_LARGE_STATUS:
                failure = "too_large"
            elif status == 400 and (kind in OVERFLOW_TYPES or _OVERFLOW.search(said)):
                failure = "context_overflow"
            if transient:
                return ModelUnavailable(
                    self._line(agent, f"{head}: {said}{rid} ({retried})"),
                    failure=failure,
                    sdk_retried=status >= 400,
                )
            return ModelRejected(self._line(agent, f"{head}: {said}{rid}"), failure=failure)
        return ModelUnavailable(
            self._line(agent, f"{type(exc).__name__} from {self.settings.endpoint}"), failure="connection"
        )

    def _described(self, exc: anthropic.APIStatusError) -> tuple[str, str, str | None]:
        """The error's type, the server's message and the request id, as this provider sends them."""
        return exc.type or "error", exc.api_message or "", exc.request_id

    def _line(self, agent: str, text: str) -> str:
        """``agent: model: text`` on one line, capped, with every credential scrubbed out."""
        for secret in self.settings.secrets():
            text = text.replace(secret, "<redacted>")
        text = _KEYLIKE.sub("<redacted>", " ".join(text.split()))
        if len(text) > MESSAGE_CAP:
            text = text[: MESSAGE_CAP - 3] + "..."
        return f"{agent}: model {self.settings.model}: {text}"


def client_options(settings: ModelSettings, http_client: httpx2.Client | None) -> dict[str, Any]:
    """What every provider's SDK client is given alike: retries, the timeout, the middleware."""
    return {
        "max_retries": settings.max_retries,
        # connect, write, pool and every read: with a stream, each read is the wait for an event
        "timeout": httpx2.Timeout(settings.timeout),
        "http_client": http_client,
        "middleware": [_NoTimeoutRetry()],
    }


class _TimedOut(Exception):
    """Internal: a request timed out; raised without a cause, so the SDK's retry loop lets it through."""


class _NoTimeoutRetry(anthropic.Middleware):
    """The SDK retries a timed-out attempt at once; against a busy server that only queues behind
    the request still running, so a timeout leaves the SDK as ``_TimedOut`` (the node retry waits)."""

    def handle(self, request: Any, call_next: Any) -> Any:
        try:
            return call_next(request)
        except anthropic.APITimeoutError as exc:
            raise _TimedOut(str(exc)) from None


def _timed_out(cause: BaseException | None) -> bool:
    while cause is not None:
        if isinstance(cause, (httpx2.TimeoutException, anthropic.APITimeoutError)):
            return True
        cause = cause.__cause__
    return False


class _StreamBroke(Exception):
    """Internal: a streamed reply's body failed to read after the stream opened (``__cause__`` says why)."""


def _cause_name(cause: BaseException | None) -> str:
    """The innermost transport error's class name (``ReadError``), for a message only."""
    while cause is not None and cause.__cause__ is not None and not isinstance(cause, httpx2.TransportError):
        cause = cause.__cause__
    return type(cause).__name__ if cause is not None else "connection error"


def to_reply(message: Message) -> ModelReply:
    """The SDK's ``Message`` as a ``ModelReply``: text and tool_use blocks, stop reason, usage, model id.

    Other block kinds (thinking, server tools) are never asked for; one that arrives anyway is
    dropped and logged. Compatible servers may omit usage fields: they count as 0.
    """
    content: list[ContentBlock] = []
    for block in message.content:
        if block.type == "text":
            content.append(TextBlock(text=block.text))
        elif block.type == "tool_use":
            content.append(_tool_use(block.id, block.name, block.input))
        else:
            log.warning("dropped a %s block from %s: infra-audit does not use it", block.type, message.model)
    usage = getattr(message, "usage", None)
    return ModelReply(
        model=str(message.model),
        content=content,
        stop_reason=message.stop_reason,
        usage=Usage(
            input_tokens=getattr(usage, "input_tokens", None) or 0,
            output_tokens=getattr(usage, "output_tokens", None) or 0,
            cache_creation_input_tokens=getattr(usage, "cache_creation_input_tokens", None) or 0,
            cache_read_input_tokens=getattr(usage, "cache_read_input_tokens", None) or 0,
        ),
    )


def _tool_use(tool_id: str, name: str, raw: object) -> ToolUseBlock:
    """A tool call whose input is a JSON object, or one marked ``invalid_input`` (the loop answers it).

    Compatible servers (llama.cpp's adapter among them) may send the input as a JSON string, or one a
    model left malformed or cut short: a string that parses to an object is that object."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return ToolUseBlock(id=tool_id, name=name, input={}, invalid_input=_shown(raw, "malformed JSON"))
    if isinstance(raw, dict):
        return ToolUseBlock(id=tool_id, name=name, input=raw)
    return ToolUseBlock(id=tool_id, name=name, input={}, invalid_input=_shown(raw, type(raw).__name__))


def _shown(raw: object, what: str) -> str:
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    return f"{what}: {text[:INPUT_SHOWN]}{'...' if len(text) > INPUT_SHOWN else ''}"


def _unrecorded(exc: BaseException) -> bool:
    """Is vcrpy's 'no recorded interaction matches' somewhere in the cause chain?"""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ == "CannotOverwriteExistingCassetteException":
            return True
        seen = seen.__cause__ or seen.__context__
    return False
