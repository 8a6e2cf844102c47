"""What a cassette keeps of a request: method, path and body; never credentials in the URI or headers."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pipeline.recording import _scrub_request

pytestmark = pytest.mark.unit


@dataclass
class FakeRequest:
    uri: str
    headers: dict[str, str] = field(default_factory=dict)


def test_userinfo_query_and_secret_headers_are_scrubbed() -> None:
    request = FakeRequest(
        uri="https://user:s3cret@gateway.example:8443/v1/messages?key=abc123",
        headers={
            "Authorization": "Bearer x",
            "x-api-key": "k",
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
            "X-Stainless-Os": "Linux",
        },
    )
    scrubbed = _scrub_request(request)
    assert scrubbed.uri == "https://gateway.example/v1/messages"
    assert scrubbed.headers == {"content-type": "application/json"}
