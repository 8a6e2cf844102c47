"""The conftest guard: a test can reach loopback (the kube emulator, the scripted model server) and
nothing else, and model credentials are never in a test's environment.

The tests that provoke a refusal on purpose clear ``network_guard.violations`` afterwards; without
that, the guard fails them at teardown, which is exactly what it does to an unplanned request that
an HTTP client or the SDK wrapped and swallowed.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agents.llm.anthropic_model import AnthropicModel
from agents.llm.protocol import ModelRequest, user_text
from agents.llm.settings import ModelSettings
from domain.errors import ModelUnavailable

pytestmark = pytest.mark.unit

OUTSIDE = ("203.0.113.7", 443)  # TEST-NET-3: documentation only, never routed


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP listener on 127.0.0.1 that accepts and closes connections; yields its port."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() at once (close() alone does not)
    server.close()
    thread.join(timeout=5)


def test_model_credentials_are_not_in_the_environment() -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        assert name not in os.environ


def test_a_non_loopback_connect_fails_naming_the_address(network_guard: Any) -> None:
    with (
        socket.socket() as sock,
        pytest.raises(RuntimeError, match=r"unplanned network request.*203\.0\.113\.7:443"),
    ):
        sock.connect(OUTSIDE)
    with socket.socket() as sock, pytest.raises(RuntimeError, match=r"203\.0\.113\.7:443"):
        sock.connect_ex(OUTSIDE)
    assert network_guard.violations == ["203.0.113.7:443", "203.0.113.7:443"]
    network_guard.violations.clear()


def test_a_hostname_is_refused_before_any_dns_lookup(
    network_guard: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the guard let a DNS lookup through")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    with pytest.raises(RuntimeError, match=r"api\.anthropic\.com:443"):
        socket.create_connection(("api.anthropic.com", 443))
    network_guard.violations.clear()


def test_a_real_model_request_is_caught_even_when_the_sdk_swallows_it(network_guard: Any) -> None:
    model = AnthropicModel(ModelSettings(api_key="sk-ant-test", base_url="http://203.0.113.7", max_retries=0))
    request = ModelRequest(agent="research:security", system="s", messages=[user_text("hi")])
    # The SDK turns the refusal into a connection error, which becomes a recorded outage; the
    # violation list is what still fails such a test at teardown.
    with pytest.raises(ModelUnavailable):
        model.complete(request)
    assert network_guard.violations == ["203.0.113.7:80"]
    network_guard.violations.clear()


def test_loopback_stays_allowed(listener: int, network_guard: Any) -> None:
    with socket.create_connection(("127.0.0.1", listener), timeout=5):
        pass
    with socket.create_connection(("localhost", listener), timeout=5):
        pass
    with socket.socket() as sock:
        sock.settimeout(5)
        assert sock.connect_ex(("127.0.0.1", listener)) == 0
    assert network_guard.violations == []


def test_ipv6_loopback_stays_allowed(network_guard: Any) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this environment")
    try:
        server = socket.socket(socket.AF_INET6)
        server.bind(("::1", 0))
    except OSError:
        pytest.skip("::1 is not configured here")
    with server:
        server.listen()
        port = server.getsockname()[1]
        with socket.socket(socket.AF_INET6) as sock:
            sock.settimeout(5)
            sock.connect(("::1", port))
    assert network_guard.violations == []


def test_unix_sockets_are_not_the_network(
    tmp_path: Any, network_guard: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a short relative path keeps under the 108-byte limit
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("s")
        server.listen()
        with socket.socket(socket.AF_UNIX) as client:
            client.connect("s")
    assert network_guard.violations == []
