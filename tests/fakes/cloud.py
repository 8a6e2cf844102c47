"""Bedrock's and Vertex's wire for ``ScriptedAnthropicServer`` (``dialect=``): scripted traffic still.

The anthropic SDK's ``AnthropicBedrock`` and ``AnthropicVertex`` send the Messages body elsewhere:
the model moves into the path, ``anthropic_version`` into the body, and each request carries the
cloud's authentication. A dialect checks exactly that (the path, and the credential a real service
would refuse the request without), puts ``model`` (and Bedrock's ``stream``) back into the body so
the same scripts answer, and answers in the cloud's own shape: Bedrock streams in the AWS event
stream encoding and sends AWS error bodies; Vertex streams SSE and sends Google error bodies.

Nothing here verifies a SigV4 signature (that would need the secret on the server side, and the
signing is botocore's): the ``Authorization`` header must be a SigV4 one naming the expected key id,
service ``bedrock`` and the region, with ``x-amz-date`` beside it.
"""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Accepted:
    """A request the dialect let through: its model, whether it streams, how it authenticated."""

    model: str
    stream: bool
    auth: str


@dataclass(frozen=True)
class Refused:
    status: int
    error_type: str
    message: str


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def event_frame(payload: bytes, headers: Mapping[str, str]) -> bytes:
    """One message of the AWS event stream encoding (``application/vnd.amazon.eventstream``):
    prelude (total length, headers length, CRC32), string headers, payload, CRC32 of it all."""
    encoded = b"".join(
        struct.pack(">B", len(k)) + k.encode() + b"\x07" + struct.pack(">H", len(v)) + v.encode()
        for k, v in headers.items()
    )
    prelude = struct.pack(">II", 16 + len(encoded) + len(payload), len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


@dataclass(frozen=True)
class Bedrock:
    """``POST /model/{model}/invoke`` and ``/invoke-with-response-stream``, SigV4 or a Bedrock API key."""

    access_key_id: str
    region: str
    api_key: str | None = None
    name: str = "bedrock"

    _PATH = re.compile(r"^/model/(?P<model>[^/]+)/(?P<op>invoke|invoke-with-response-stream)$")

    def accept(self, method: str, path: str, headers: Mapping[str, str]) -> Accepted | Refused:
        found = self._PATH.match(path)
        if method != "POST" or found is None:
            return Refused(404, "UnknownOperationException", f"Not found: {method} {path}")
        auth = _header(headers, "authorization")
        scope = f"Credential={self.access_key_id}/"
        sigv4 = (
            auth.startswith("AWS4-HMAC-SHA256 ")
            and scope in auth
            and f"/{self.region}/bedrock/aws4_request" in auth
            and "Signature=" in auth
            and bool(_header(headers, "x-amz-date"))
        )
        if sigv4:
            shown = "sigv4 " + auth.split(",")[0].removeprefix("AWS4-HMAC-SHA256 ")
        elif self.api_key is not None and auth == f"Bearer {self.api_key}":
            shown = "bearer"
        else:
            return Refused(403, "UnrecognizedClientException", "The security token included is invalid.")
        stream = found["op"] == "invoke-with-response-stream"
        return Accepted(unquote(found["model"]), stream, shown)

    def body(self, body: dict[str, Any], accepted: Accepted) -> dict[str, Any]:
        return {**body, "model": accepted.model, "stream": accepted.stream}

    def stream(self, events: Iterable[tuple[str, dict[str, Any]]]) -> tuple[Headers, list[bytes]]:
        frame_headers = {
            ":event-type": "chunk",
            ":content-type": "application/json",
            ":message-type": "event",
        }
        frames = [
            event_frame(
                json.dumps({"bytes": base64.b64encode(_dumps(data)).decode()}).encode(), frame_headers
            )
            for _, data in events
        ]
        return [("content-type", "application/vnd.amazon.eventstream")], frames

    def error(self, status: int, error_type: str, message: str) -> tuple[Headers, bytes]:
        kind = error_type if error_type[:1].isupper() else _aws_type(status)
        headers = [
            ("content-type", "application/json"),
            ("x-amzn-errortype", f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
        ]
        return headers, _dumps({"message": message})


def _aws_type(status: int) -> str:
    return {403: "AccessDeniedException", 429: "ThrottlingException", 413: "ValidationException"}.get(
        status, "ServiceUnavailableException" if status >= 500 else "ValidationException"
    )


@dataclass(frozen=True)
class Vertex:
    """``POST /v1/projects/{p}/locations/{r}/publishers/anthropic/models/{m}:rawPredict`` (or
    ``streamRawPredict``) with ``Authorization: Bearer <token>``; ``POST /token`` plays Google's
    OAuth token endpoint for an ``authorized_user`` credentials file whose ``token_uri`` points here."""

    project: str
    region: str
    token: str
    name: str = "vertex"

    @property
    def _path(self) -> re.Pattern[str]:
        where = f"/v1/projects/{re.escape(self.project)}/locations/{re.escape(self.region)}"
        return re.compile(
            rf"^{where}/publishers/anthropic/models/(?P<model>[^/:]+):(?P<op>rawPredict|streamRawPredict)$"
        )

    def accept(self, method: str, path: str, headers: Mapping[str, str]) -> Accepted | Refused:
        found = self._path.match(path)
        if method != "POST" or found is None:
            return Refused(404, "NOT_FOUND", f"Not found: {method} {path}")
        if _header(headers, "authorization") != f"Bearer {self.token}":
            return Refused(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        return Accepted(unquote(found["model"]), found["op"] == "streamRawPredict", "bearer")

    def body(self, body: dict[str, Any], accepted: Accepted) -> dict[str, Any]:
        return {**body, "model": accepted.model}

    def stream(self, events: Iterable[tuple[str, dict[str, Any]]]) -> tuple[Headers, list[bytes]]:
        frames = [b"event: %s\ndata: %s\n\n" % (name.encode(), _dumps(data)) for name, data in events]
        return [("content-type", "text/event-stream; charset=utf-8")], frames

    def error(self, status: int, error_type: str, message: str) -> tuple[Headers, bytes]:
        google = {401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED"}
        kind = (
            error_type
            if error_type.isupper()
            else google.get(status, "UNAVAILABLE" if status >= 500 else "INVALID_ARGUMENT")
        )
        body = {"error": {"code": status, "message": message, "status": kind}}
        return [("content-type", "application/json")], _dumps(body)

    def token_reply(self) -> bytes:
        return _dumps({"access_token": self.token, "expires_in": 3600, "token_type": "Bearer"})


Dialect = Bedrock | Vertex


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
