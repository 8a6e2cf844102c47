"""The scripting model behind ``ScriptedAnthropicServer``: replies, routes, faults, and their wire form.

Nothing here is a model. A test writes down what "the model" says at each turn of each conversation
(``reply(text(...), tool_use(...))``), and the server plays it back in the exact shape of the
Anthropic Messages API, so that the real SDK, our client and vcrpy see real traffic. Whatever is
recorded against it is scripted traffic and must be labelled so.

Determinism is the point of the design: replies are chosen by *what the request says* (its route
key and how many assistant turns it already holds), never by arrival order, so five research agents
calling in parallel get the same answers in every run; ids and token counts are hashes and lengths
of the request and the reply, never random and never the clock, so recorded bodies are byte-stable.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

StopReason: TypeAlias = Literal[
    "end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"
]


class ScriptError(Exception):
    """The script has no answer for a request: a bug in the test, never a simulated API failure."""


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: Mapping[str, Any]
    id: str | None = None  # None: derived from the request and the reply, so it is stable


Block: TypeAlias = Text | ToolUse


@dataclass(frozen=True)
class Usage:
    """Token counts to report; ``None`` means "derive from the size of the request / reply"."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0


@dataclass(frozen=True)
class Reply:
    """One assistant message as the script wants it; the server fills in ids, model and usage."""

    blocks: tuple[Block, ...]
    stop_reason: StopReason | None = None  # None: tool_use if any block is one, else end_turn
    usage: Usage = field(default_factory=Usage)
    stop_sequence: str | None = None


@dataclass(frozen=True)
class Fault:
    """A failure the server plays instead of a reply.

    ``status`` None is a dropped connection: closed with no response at all, or, for a streamed
    request with ``after_events`` set, closed after that many SSE events (a non-streamed request
    is always dropped before its response). ``stall`` > 0 is a slow server instead: the scripted
    reply, held back ``stall`` seconds before the response, or, streamed, before every event.
    """

    status: int | None
    error_type: str = ""
    message: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    after_events: int | None = None
    stall: float = 0.0


Script: TypeAlias = Callable[[dict[str, Any]], Reply]
RouteKey: TypeAlias = Callable[[dict[str, Any]], str]

_RETRYABLE = frozenset({408, 409, 429})


def text(value: str) -> Text:
    return Text(value)


def tool_use(name: str, input: Mapping[str, Any], id: str | None = None) -> ToolUse:
    return ToolUse(name=name, input=dict(input), id=id)


def reply(
    *blocks: Block | str,
    stop_reason: StopReason | None = None,
    usage: Usage | Mapping[str, int] | None = None,
    stop_sequence: str | None = None,
) -> Reply:
    """A scripted assistant message; bare strings are text blocks."""
    content = tuple(Text(b) if isinstance(b, str) else b for b in blocks)
    if stop_reason is None:
        if stop_sequence is not None:
            stop_reason = "stop_sequence"
        else:
            stop_reason = "tool_use" if any(isinstance(b, ToolUse) for b in content) else "end_turn"
    if usage is None:
        usage = Usage()
    elif not isinstance(usage, Usage):
        usage = Usage(**usage)
    return Reply(blocks=content, stop_reason=stop_reason, usage=usage, stop_sequence=stop_sequence)


def fail(status: int, error_type: str, message: str = "", headers: Mapping[str, str] | None = None) -> Fault:
    """An error response in the API's shape.

    With no ``headers``, a retryable status (408, 409, 429, 5xx) carries ``retry-after-ms: 1`` so the
    SDK's retry waits one millisecond; pass headers (e.g. ``{"retry-after": "0"}``) to test others.
    """
    if headers is None:
        headers = {"retry-after-ms": "1"} if status in _RETRYABLE or status >= 500 else {}
    return Fault(status=status, error_type=error_type, message=message or error_type, headers=dict(headers))


def drop(after_events: int | None = None) -> Fault:
    """Close the connection without a response, or after ``after_events`` SSE events of a stream."""
    return Fault(status=None, after_events=after_events)


def slow(seconds: float) -> Fault:
    """The scripted reply, ``seconds`` late: all at once, or for a stream, ``seconds`` before each event.

    The wait ends early when the server stops, so a test never waits out a stall its client gave up on.
    """
    return Fault(status=None, stall=seconds)


def first_system_line(request: Mapping[str, Any]) -> str:
    """The default route key: the first line of the system prompt (a string or text blocks).

    Our prompts open with a role line ("You are the reliability researcher of infra-audit ..."), and
    the agent's name is not in the API request, so this is what tells conversations apart.
    """
    system = request.get("system")
    if isinstance(system, list):
        system = next((b.get("text") for b in system if isinstance(b, dict) and b.get("type") == "text"), "")
    return system.strip().splitlines()[0] if isinstance(system, str) and system.strip() else ""


def assistant_turns(request: Mapping[str, Any]) -> int:
    """How many assistant turns the conversation already holds: the index of the reply it wants."""
    messages = request.get("messages")
    if not isinstance(messages, list):
        return 0
    return sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")


class Router:
    """Dispatch each request to a route by ``key(request)`` and answer its N-th turn with reply N.

    A route is a list of replies (reply N answers a request holding N assistant turns) or a script
    of its own. Choosing by the request's content and not by arrival order keeps interleaved
    conversations deterministic. ``default`` answers keys with no route.
    """

    def __init__(
        self,
        routes: Mapping[str, Sequence[Reply] | Script],
        *,
        key: RouteKey = first_system_line,
        default: Script | None = None,
    ) -> None:
        self.routes = dict(routes)
        self.key = key
        self.default = default

    def __call__(self, request: dict[str, Any]) -> Reply:
        name = self.key(request)
        route = self.routes.get(name)
        if route is None:
            if self.default is None:
                raise ScriptError(f"no route for key {name!r}; routes: {sorted(self.routes)}")
            return self.default(request)
        if callable(route):
            return route(request)
        turn = assistant_turns(request)
        if turn >= len(route):
            raise ScriptError(f"route {name!r} has {len(route)} replies; the request wants reply {turn}")
        return route[turn]


def by_turn(*replies: Reply) -> Router:
    """A single-conversation script: reply N answers the request holding N assistant turns."""
    return Router({"": list(replies)}, key=lambda _request: "")


# --- wire form -------------------------------------------------------------------------------------

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dumps(value: Any) -> bytes:
    """JSON as the API sends it: compact, keys in the order built here."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def stable_id(prefix: str, *parts: str) -> str:
    """An id shaped like the API's (``msg_01`` + 22 base62 characters), hashed from ``parts``."""
    n = int.from_bytes(hashlib.sha256("\x1f".join([prefix, *parts]).encode()).digest()[:16], "big")
    digits = []
    for _ in range(22):
        n, r = divmod(n, 62)
        digits.append(_B62[r])
    return f"{prefix}_01{''.join(digits)}"


def _question(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request without ``stream``: streamed or not, the same question gets the same message."""
    return {k: v for k, v in request.items() if k != "stream"}


def reply_seed(request: Mapping[str, Any], answer: Reply) -> str:
    """What ids hash from: the request and the reply, so equal inputs give equal bytes."""
    blocks = [
        {"text": b.text} if isinstance(b, Text) else {"name": b.name, "input": b.input, "id": b.id}
        for b in answer.blocks
    ]
    return canonical([_question(request), blocks, answer.stop_reason, answer.stop_sequence])


def _block(block: Block, seed: str, index: int) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    tool_id = block.id or stable_id("toolu", seed, str(index))
    return {"type": "tool_use", "id": tool_id, "name": block.name, "input": dict(block.input)}


def render_message(answer: Reply, request: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Message`` object of a non-streamed response."""
    seed = reply_seed(request, answer)
    content = [_block(b, seed, i) for i, b in enumerate(answer.blocks)]
    u = answer.usage  # unset counts: about four characters a token, a stand-in that only has to be stable
    input_tokens = (
        max(1, len(canonical(_question(request))) // 4) if u.input_tokens is None else u.input_tokens
    )
    output_tokens = max(1, len(canonical(content)) // 4) if u.output_tokens is None else u.output_tokens
    usage = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": u.cache_creation_input_tokens,
        "cache_read_input_tokens": u.cache_read_input_tokens,
        "output_tokens": output_tokens,
    }
    return {
        "id": stable_id("msg", seed),
        "type": "message",
        "role": "assistant",
        "model": request.get("model", ""),
        "content": content,
        "stop_reason": answer.stop_reason,
        "stop_sequence": answer.stop_sequence,
        "stop_details": None,
        "usage": usage,
    }


def _text_chunks(value: str, words: int = 4) -> list[str]:
    """A few words per ``text_delta``, as the API streams them."""
    pieces = value.split(" ")
    groups = [" ".join(pieces[i : i + words]) for i in range(0, len(pieces), words)]
    return [g + " " for g in groups[:-1]] + groups[-1:]


def _json_chunks(value: Mapping[str, Any]) -> list[str]:
    """The tool input's JSON in 2-3 pieces, cut after a ``,`` or ``:`` outside strings.

    The API cuts anywhere; cutting at structure keeps every prefix readable by the SDK's partial
    parser, whatever escapes the strings hold.
    """
    whole = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    cuts: list[int] = []
    in_string = escaped = False
    for i, ch in enumerate(whole):
        if in_string:
            escaped, in_string = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in ",:":
            cuts.append(i + 1)
    chosen = sorted({min(cuts, key=lambda c: abs(c - len(whole) * k // 3)) for k in (1, 2)}) if cuts else []
    bounds = [0, *chosen, len(whole)]
    return [whole[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def render_events(answer: Reply, request: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The SSE events of a streamed response, whose accumulation equals ``render_message``."""
    message = render_message(answer, request)
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None, "stop_details": None}
    start["usage"] = {**usage, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        opening = {"type": "text", "text": ""} if block["type"] == "text" else {**block, "input": {}}
        yield "content_block_start", {"type": "content_block_start", "index": index, "content_block": opening}
        if index == 0:
            yield "ping", {"type": "ping"}
        if block["type"] == "text":
            deltas = [{"type": "text_delta", "text": c} for c in _text_chunks(block["text"]) if c]
        else:
            deltas = [{"type": "input_json_delta", "partial_json": c} for c in _json_chunks(block["input"])]
        for delta in deltas:
            yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    if not message["content"]:
        yield "ping", {"type": "ping"}
    delta = {key: message[key] for key in ("stop_reason", "stop_sequence", "stop_details")}
    final_usage = {"output_tokens": usage["output_tokens"]}
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage}
    yield "message_stop", {"type": "message_stop"}


RATELIMIT_HEADERS = (  # fixed: a count that moved with arrival order would break byte-stability
    ("anthropic-ratelimit-requests-limit", "4000"),
    ("anthropic-ratelimit-requests-remaining", "3999"),
    ("anthropic-ratelimit-tokens-limit", "400000"),
    ("anthropic-ratelimit-tokens-remaining", "400000"),
)
Headers: TypeAlias = list[tuple[str, str]]


def reply_response(answer: Reply, request: Mapping[str, Any]) -> tuple[Headers, bytes | list[bytes]]:
    """Headers and body of a 200: a JSON ``Message``, or with ``stream: true`` the SSE events."""
    request_id = stable_id("req", reply_seed(request, answer))
    if request.get("stream") is not True:
        headers = [("content-type", "application/json"), ("request-id", request_id), *RATELIMIT_HEADERS]
        return headers, dumps(render_message(answer, request))
    events = [
        b"event: %s\ndata: %s\n\n" % (name.encode(), dumps(data))
        for name, data in render_events(answer, request)
    ]
    headers = [
        ("content-type", "text/event-stream; charset=utf-8"),
        ("cache-control", "no-cache"),
        ("request-id", request_id),
        *RATELIMIT_HEADERS,
    ]
    return headers, events


def error_response(error_type: str, message: str, seed: str) -> tuple[Headers, bytes]:
    """Headers and body of an error in the API's shape, its ``request-id`` hashed from ``seed``."""
    request_id = stable_id("req", seed)
    body = {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}
    return [("content-type", "application/json"), ("request-id", request_id)], dumps(body)
