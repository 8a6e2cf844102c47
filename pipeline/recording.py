"""Record and replay the model's HTTP traffic with vcrpy: ``infra-audit run --record/--replay CASSETTE``.

Cassettes are YAML with JSON bodies shown parsed (readable and diffable; a Bedrock stream's binary
frames as their events, ``pipeline/eventstream.py``), secrets and volatile
headers scrubbed, and a header block saying what they were recorded against, so a cassette made
against the project's scripted test server can never pass for a real model's traffic, and with
which arguments (``run``: estate, cluster, run id, date, model, concerns, budget), so
``infra-audit run --replay FILE`` needs nothing else. Requests
match on method, path and the parsed JSON body. Replay runs with record mode ``none`` (an unplanned
request fails) and a cassette that was only partly played is an error.

A cassette of a real model's run (``cassettes/real-*.yaml``) costs an hour of CPU to record, and any
later change to a prompt, the catalog or a tool's output changes the request bodies. Its header says
``replay_match: turn``: requests then match on the conversation (the first line of the system prompt,
which names the agent) and the turn (how many messages it carries), and the recorded replies play
back to today's prompts. The model's decisions stay as recorded; what our code does with them (tool
calls, validation, the caps, the floor) runs again.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml

from domain.errors import SettingsError
from pipeline import eventstream

if TYPE_CHECKING:
    from vcr.cassette import Cassette

Mode = Literal["record", "replay"]

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: cassettes are large

SCRUBBED_REQUEST_HEADERS = ("authorization", "x-api-key", "cookie", "date", "request-id", "user-agent")
KEPT_RESPONSE_HEADERS = ("content-type",)
HEADER = "infra_audit"


def _scrub_request(request: Any) -> Any:
    # a base URL may carry user:password@ or a ?key= query: keep scheme, host and path only
    parts = urlsplit(request.uri)
    request.uri = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
    for name in list(request.headers):
        lower = name.lower()
        # x-amz-*: Bedrock's SigV4 headers (its date, the session token of temporary credentials)
        if lower in SCRUBBED_REQUEST_HEADERS or lower.startswith(("anthropic-", "x-stainless", "x-amz-")):
            del request.headers[name]
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {
        k: v for k, v in response.get("headers", {}).items() if k.lower() in KEPT_RESPONSE_HEADERS
    }
    return response


def _json_or_text(body: Any) -> Any:
    if body is None:
        return None
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
    except UnicodeDecodeError:  # binary: Bedrock's streamed replies (the AWS event stream encoding)
        frames = eventstream.decode(body)
        if frames is not None:
            return {"aws_eventstream": frames}
        return {"base64": base64.b64encode(body).decode("ascii")}
    try:
        return {"json": json.loads(text)}
    except json.JSONDecodeError:
        return {"text": text}


def _body_back(body: Any) -> str | bytes | None:
    if body is None:
        return None
    if "json" in body:
        return json.dumps(body["json"], separators=(",", ":"), ensure_ascii=False)
    if "aws_eventstream" in body:
        return eventstream.encode(body["aws_eventstream"])
    if "base64" in body:
        return base64.b64decode(body["base64"])
    return str(body["text"])


class ReadableSerializer:
    """vcrpy serializer: request and response bodies as parsed JSON (or text, e.g. SSE) in YAML."""

    def __init__(self, label: dict[str, Any]) -> None:
        self.label = label

    def serialize(self, cassette: dict[str, Any]) -> str:
        interactions = []
        for item in cassette["interactions"]:
            request = dict(item["request"])
            request["body"] = _json_or_text(request.get("body"))
            response = dict(item["response"])
            response["body"] = _json_or_text(response.get("body", {}).get("string"))
            interactions.append({"request": request, "response": response})
        document = {HEADER: self.label, "interactions": interactions, "version": cassette.get("version", 1)}
        return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)

    def deserialize(self, text: str) -> dict[str, Any]:
        document = yaml.load(text, Loader=_Loader) or {}
        if not isinstance(document, dict) or not isinstance(document.get("interactions", []), list):
            raise SettingsError("the cassette is not a mapping with a list of interactions")
        interactions = []
        for i, item in enumerate(document.get("interactions", []), start=1):
            if not (
                isinstance(item, dict)
                and isinstance(item.get("request"), dict)
                and isinstance(item.get("response"), dict)
            ):
                raise SettingsError(f"cassette interaction {i} has no request and response")
            request = dict(item["request"])
            request["body"] = _body_back(request.get("body"))
            response = dict(item["response"])
            response["body"] = {"string": _body_back(response.get("body")) or ""}
            interactions.append({"request": request, "response": response})
        return {"interactions": interactions, "version": document.get("version", 1)}


def _json_body(r1: Any, r2: Any) -> None:
    def parsed(request: Any) -> Any:
        body = request.body
        if body is None:
            return None
        text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    if parsed(r1) != parsed(r2):
        raise AssertionError("request bodies differ")


def turn_key(body: Any) -> tuple[str, int] | None:
    """The conversation and turn of a Messages request body: the first line of its system prompt and
    how many messages it carries. None for a body that is not a Messages request."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        request = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        return None
    if not isinstance(request, dict) or not isinstance(request.get("messages"), list):
        return None
    system = request.get("system")
    if isinstance(system, list):
        system = next((b.get("text") for b in system if isinstance(b, dict) and b.get("type") == "text"), "")
    first = system.strip().splitlines()[0] if isinstance(system, str) and system.strip() else ""
    return first, len(request["messages"])


def _turn(r1: Any, r2: Any) -> None:
    key = turn_key(r1.body)
    if key is None or key != turn_key(r2.body):
        raise AssertionError("not the same conversation and turn")


MATCHERS = {"body": "json_body", "turn": "turn"}
"""``replay_match`` in a cassette's header: how its requests are matched on replay (default body)."""


def read_label(path: Path) -> dict[str, Any]:
    """The header block of a cassette: what it was recorded against, the model, and (``run``) the
    arguments of the recorded run (``pipeline.recorded_run``)."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SettingsError(f"cannot read cassette {path}: {first}") from None
    label = document.get(HEADER) if isinstance(document, dict) else None
    if not isinstance(label, dict):
        raise SettingsError(f"{path} is not an infra-audit cassette (no '{HEADER}' header)")
    return {str(k): v if isinstance(v, (dict, list)) else str(v) for k, v in label.items()}


@contextmanager
def cassette(path: Path, mode: Mode, label: dict[str, Any] | None = None) -> Iterator[Cassette]:
    """Record to, or replay from, ``path``. Replay fails on any unplanned request and on leftovers."""
    import vcr  # only a recording or replaying run needs vcrpy (a runtime dependency), so not at the top

    if mode == "replay":
        if not path.is_file():
            raise SettingsError(f"no cassette at {path}")
        label = read_label(path)
        match = str(label.get("replay_match", "body"))
        if match not in MATCHERS:
            raise SettingsError(
                f"cassette {path}: replay_match must be one of {', '.join(MATCHERS)}, not {match!r}"
            )
    elif path.exists():
        path.unlink()  # recording replaces a cassette: stale interactions would fail the next replay
    serializer = ReadableSerializer(label or {})
    recorder = vcr.VCR(
        record_mode="none" if mode == "replay" else "all",
        match_on=["method", "path", MATCHERS[str((label or {}).get("replay_match", "body"))]],
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    recorder.register_serializer("readable", serializer)
    recorder.register_matcher("json_body", _json_body)
    recorder.register_matcher("turn", _turn)
    path.parent.mkdir(parents=True, exist_ok=True)
    with recorder.use_cassette(str(path), serializer="readable", allow_playback_repeats=False) as tape:
        yield tape
        if mode == "replay" and not tape.all_played:
            raise SettingsError(
                f"cassette {path} was only partly played ({tape.play_count} of {len(tape)} interactions): "
                "the run asked for less than was recorded"
            )
