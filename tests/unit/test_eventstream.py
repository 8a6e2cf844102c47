"""Bedrock's streamed replies in a cassette (``pipeline/eventstream.py``): readable, and back to bytes.

The stream under test is written by the scripted server's own encoder (``fakes/cloud.event_frame``)
and read back by botocore's decoder, the one the anthropic SDK uses: neither is the code under test.
"""

from __future__ import annotations

import base64
import json
import struct

import pytest
from fakes.cloud import event_frame

from pipeline import eventstream
from pipeline.recording import ReadableSerializer

pytestmark = pytest.mark.unit

CHUNK = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
EVENTS = [
    {"type": "message_start", "message": {"id": "msg_1", "content": [], "model": "m"}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ünïcode"}},
    {"type": "message_stop"},
]


def _stream() -> bytes:
    chunks = [
        event_frame(
            json.dumps(
                {
                    "bytes": base64.b64encode(
                        json.dumps(e, separators=(",", ":"), ensure_ascii=False).encode()
                    ).decode()
                }
            ).encode(),
            CHUNK,
        )
        for e in EVENTS
    ]
    refused = event_frame(
        json.dumps({"message": "slow down"}).encode(),
        {
            ":message-type": "exception",
            ":exception-type": "throttlingException",
            ":content-type": "application/json",
        },
    )
    return b"".join([*chunks, refused])


def _botocore_read(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(dict(message.headers), message.payload) for message in buffer]


def test_a_stream_reads_as_its_events_and_writes_back_the_same_bytes() -> None:
    data = _stream()
    frames = eventstream.decode(data)
    assert frames is not None
    assert [f.get("chunk") for f in frames[:3]] == EVENTS
    assert frames[3] == {
        "headers": {
            ":message-type": "exception",
            ":exception-type": "throttlingException",
            ":content-type": "application/json",
        },
        "text": '{"message": "slow down"}',
    }
    assert eventstream.encode(frames) == data
    assert _botocore_read(eventstream.encode(frames)) == _botocore_read(data)


def test_what_is_not_an_event_stream_is_left_to_the_caller() -> None:
    data = bytearray(_stream())
    data[-1] ^= 0xFF  # the last message's CRC
    assert eventstream.decode(bytes(data)) is None
    assert eventstream.decode(_stream()[:-3]) is None  # cut short
    typed = b"\x04:int\x04" + struct.pack(">i", 7)  # a header of another type than string
    prelude = struct.pack(">II", 16 + len(typed), len(typed))
    assert eventstream.decode(prelude + b"\x00" * 4 + typed + b"\x00" * 4) is None
    assert eventstream.decode(b"") is None


def test_a_cassette_keeps_a_bedrock_stream_readable_and_replays_its_bytes() -> None:
    serializer = ReadableSerializer({"provider": "bedrock"})
    interaction = {
        "request": {
            "method": "POST",
            "uri": "https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/invoke-with-response-stream",
            "body": b"{}",
            "headers": {},
        },
        "response": {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": _stream()}},
    }
    text = serializer.serialize({"interactions": [interaction], "version": 1})
    assert '"message_stop"' in text or "message_stop" in text
    assert "aws_eventstream" in text and "base64" not in text
    back = serializer.deserialize(text)["interactions"][0]["response"]["body"]["string"]
    assert back == _stream()
    broken = bytearray(_stream())
    broken[-1] ^= 0xFF
    interaction["response"]["body"]["string"] = bytes(broken)
    kept = serializer.deserialize(serializer.serialize({"interactions": [interaction], "version": 1}))
    assert kept["interactions"][0]["response"]["body"]["string"] == bytes(broken)  # as base64, unchanged


def test_a_chunks_padding_is_kept_beside_its_event() -> None:
    event = {"type": "ping"}
    inner = base64.b64encode(json.dumps(event).encode()).decode()
    data = event_frame(json.dumps({"bytes": inner, "p": "abcdefgh"}).encode(), CHUNK)
    frames = eventstream.decode(data)
    assert frames == [{"headers": CHUNK, "chunk": event, "rest": {"p": "abcdefgh"}}]
    assert (
        _botocore_read(eventstream.encode(frames))[0][1]
        == json.dumps({"bytes": base64.b64encode(b'{"type":"ping"}').decode(), "p": "abcdefgh"}).encode()
    )
