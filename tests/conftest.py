"""Shared test fixtures. Every test runs offline; the bundled estates are the fixtures of record."""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from estates import ground_truth


@pytest.fixture(scope="session")
def homelab_truth() -> dict[str, Any]:
    return ground_truth("homelab")


@pytest.fixture(scope="session")
def gitops_truth() -> dict[str, Any]:
    return ground_truth("gitops-base")


# --- No unplanned network: every test runs offline ---------------------------------------------------

_MODEL_ENV = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL")
# Bedrock's and Vertex's: what pipeline/settings.CLOUD_ENV reads, and what boto3 and google-auth read
# on their own (a developer's credentials, profile or gcloud login must never reach a test)
_CLOUD_ENV = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "CLOUD_ML_REGION",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "ANTHROPIC_VERTEX_BASE_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
)
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class UnplannedNetworkRequest(RuntimeError):
    """A test tried to reach a non-loopback address. Not an OSError, so no retry layer mistakes it."""


def _is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%", 1)[0].lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a name other than localhost: refused before any DNS lookup


class NetworkGuard:
    """Refuses connections outside 127.0.0.0/8 and ::1, and remembers them.

    The refusal is raised where the connection is attempted, but an HTTP client or an SDK may wrap
    it into a "connection error" and retry or swallow it, so every refusal is also recorded and the
    test fails at teardown if there was any. A test that provokes one on purpose clears
    ``violations`` after asserting on it.
    """

    def __init__(self) -> None:
        self.violations: list[str] = []

    def check(self, address: object) -> None:
        if not isinstance(address, tuple) or not address:
            return  # AF_UNIX paths and other families: not the network
        if _is_loopback(address[0]):
            return
        where = ":".join(str(part) for part in address[:2])
        self.violations.append(where)
        raise UnplannedNetworkRequest(
            f"unplanned network request in a test: {where} (only 127.0.0.0/8 and ::1 are allowed)"
        )


@pytest.fixture(autouse=True)
def empty_chart_cache(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test renders Helm releases against an empty chart cache unless it gives its own, so a
    developer's ~/.cache/infra-audit/charts can never change what a test sees."""
    monkeypatch.setenv("INFRA_AUDIT_CHART_CACHE", str(tmp_path_factory.getbasetemp() / "no-chart-cache"))


@pytest.fixture(autouse=True)
def own_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Every test keeps its runs (``$INFRA_AUDIT_HOME``) in a directory of its own unless it names one,
    never in the developer's ~/.local/state/infra-audit: the run store prunes to the newest runs of
    an estate, so tests that share a store (two pytest-xdist workers, or a developer's own runs)
    could delete each other's runs. Created by the store on first use."""
    monkeypatch.setenv("INFRA_AUDIT_HOME", str(tmp_path_factory.getbasetemp() / "state" / uuid.uuid4().hex))


@pytest.fixture(autouse=True)
def network_guard(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NetworkGuard]:
    """No model credentials in the environment, and no connection outside loopback, in every test."""
    for name in (*_MODEL_ENV, *_CLOUD_ENV):
        monkeypatch.delenv(name, raising=False)
    nowhere = tmp_path_factory.getbasetemp() / "no-cloud-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(nowhere / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # boto3's chain never asks an instance
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(nowhere / "gcloud"))  # google-auth's gcloud login
    monkeypatch.setenv("NO_GCE_CHECK", "true")  # google-auth never asks a metadata server
    guard = NetworkGuard()
    connect, connect_ex, create_connection = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.create_connection,
    )

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address)
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            guard.check(address)
        return connect_ex(self, address)

    def guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        guard.check(address)
        return create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", guarded_create_connection)
    yield guard
    if guard.violations:
        pytest.fail(
            f"unplanned network request(s) in this test: {', '.join(guard.violations)}", pytrace=False
        )
