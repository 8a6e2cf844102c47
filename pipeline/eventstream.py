"""Bedrock's streamed replies in a cassette: the AWS event stream encoding, read and written back.

``invoke-with-response-stream`` answers in ``application/vnd.amazon.eventstream``: binary frames of
a prelude (total length, headers length, CRC32), typed headers, a payload and a CRC32 of the whole.
Each ``chunk`` frame's payload is ``{"bytes": <base64 of one Messages stream event>}``. A cassette
keeps them readable: one entry per frame with its headers and, for a chunk, the event as parsed
JSON (``message_start``, ``content_block_delta``, ...); a replay encodes them back. Anything that is
not such a stream (a bad CRC, a header type other than string) is left to the caller (base64).
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import zlib
from typing import Any

PRELUDE = 12  # total length, headers length, prelude CRC
STRING = 7  # the header value type Bedrock sends (":event-type", ":content-type", ":message-type")


def decode(data: bytes) -> list[dict[str, Any]] | None:
    """The frames of ``data`` as readable entries, or None when it is not a well-formed event stream."""
    frames: list[dict[str, Any]] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < PRELUDE + 4:
            return None
        total, headers_length = struct.unpack_from(">II", data, offset)
        message = data[offset : offset + total]
        if total < PRELUDE + 4 + headers_length or len(message) != total:
            return None
        (prelude_crc,) = struct.unpack_from(">I", message, 8)
        (message_crc,) = struct.unpack_from(">I", message, total - 4)
        if zlib.crc32(message[:8]) != prelude_crc or zlib.crc32(message[:-4]) != message_crc:
            return None
        headers = _headers(message[PRELUDE : PRELUDE + headers_length])
        if headers is None:
            return None
        frames.append(_readable(headers, message[PRELUDE + headers_length : -4]))
        offset += total
    return frames or None


def encode(frames: list[dict[str, Any]]) -> bytes:
    """The event stream bytes of readable entries (``decode``'s output)."""
    return b"".join(frame(_payload(entry), entry["headers"]) for entry in frames)


def frame(payload: bytes, headers: dict[str, str]) -> bytes:
    """One event stream message with string headers."""
    encoded = b"".join(
        struct.pack(">B", len(k.encode()))
        + k.encode()
        + struct.pack(">BH", STRING, len(v.encode()))
        + v.encode()
        for k, v in headers.items()
    )
    prelude = struct.pack(">II", PRELUDE + 4 + len(encoded) + len(payload), len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _headers(raw: bytes) -> dict[str, str] | None:
    headers: dict[str, str] = {}
    at = 0
    try:
        while at < len(raw):
            size = raw[at]
            name = raw[at + 1 : at + 1 + size].decode()
            at += 1 + size
            if raw[at] != STRING:
                return None
            (length,) = struct.unpack_from(">H", raw, at + 1)
            headers[name] = raw[at + 3 : at + 3 + length].decode()
            at += 3 + length
    except (IndexError, struct.error, UnicodeDecodeError):
        return None
    return headers


def _readable(headers: dict[str, str], payload: bytes) -> dict[str, Any]:
    """A chunk as its event (``rest``: the payload's other keys, such as Bedrock's ``p`` padding);
    any other payload as its text, or base64 when it is not UTF-8."""
    try:
        body = json.loads(payload) if headers.get(":event-type") == "chunk" else None
        if isinstance(body, dict) and isinstance(body.get("bytes"), str):
            event = json.loads(base64.b64decode(body["bytes"], validate=True))
            rest = {k: v for k, v in body.items() if k != "bytes"}
            return {"headers": headers, "chunk": event, **({"rest": rest} if rest else {})}
    except (ValueError, binascii.Error):
        pass
    try:
        return {"headers": headers, "text": payload.decode("utf-8")}
    except UnicodeDecodeError:
        return {"headers": headers, "base64": base64.b64encode(payload).decode("ascii")}


def _payload(entry: dict[str, Any]) -> bytes:
    if "chunk" in entry:
        event = json.dumps(entry["chunk"], separators=(",", ":"), ensure_ascii=False).encode()
        body = {"bytes": base64.b64encode(event).decode("ascii"), **entry.get("rest", {})}
        return json.dumps(body).encode()
    if "text" in entry:
        return str(entry["text"]).encode("utf-8")
    return base64.b64decode(entry["base64"])
