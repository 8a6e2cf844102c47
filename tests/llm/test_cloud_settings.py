"""Bedrock and Vertex refuse to start without what they need: one line, exit 2, before any agent.

Each case runs ``infra-audit run --provider ...`` in-process with an environment missing one thing
(the extra, the region, the project, the credentials) and asserts the exact line, that nothing ran
(no report, no "LLM agents on" line) and that no credential value was printed. The test environment
(``tests/conftest.py``) has no AWS or Google variables, no AWS config files, no instance or GCE
metadata lookups.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from estates import REPO

from pipeline.cli import main

pytestmark = pytest.mark.e2e

SECRET = "canary-preflight-secret-Jd5Qx"
ARGV = ["run", "examples/gitops-base", "--concern", "maintenance", "--date", "2026-11-20"]
PREFIX = "infra-audit: error: "


def _run(provider: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out = tmp_path / "out"
    code = main([*ARGV, "--provider", provider, "--out", str(out), "--state-dir", str(tmp_path / "s")])
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert not out.exists() and "LLM agents on" not in printed  # refused before anything ran
    assert SECRET not in printed
    return code, printed


BEDROCK_CASES = {
    "no-region": (
        {"AWS_ACCESS_KEY_ID": "AKIDPREFLIGHT", "AWS_SECRET_ACCESS_KEY": SECRET},
        "--provider bedrock needs an AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a region in "
        "the AWS profile)",
    ),
    "no-credentials": (
        {"AWS_REGION": "eu-west-1"},
        "--provider bedrock: no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN for temporary ones), or AWS_BEARER_TOKEN_BEDROCK",
    ),
    "half-a-key": (
        {"AWS_REGION": "eu-west-1", "AWS_SECRET_ACCESS_KEY": SECRET},
        "--provider bedrock: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together; one is set without "
        "the other",
    ),
    "unknown-profile": (
        {"AWS_REGION": "eu-west-1", "AWS_PROFILE": "nowhere"},
        "--provider bedrock: the AWS profile 'nowhere' (AWS_PROFILE) is not configured",
    ),
}


@pytest.mark.parametrize("case", list(BEDROCK_CASES))
def test_bedrock_without_what_it_needs_is_one_line(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env, line = BEDROCK_CASES[case]
    monkeypatch.chdir(REPO)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert _run("bedrock", tmp_path, capsys) == (2, f"{PREFIX}{line}\n")


def _service_account(tmp_path: Path, token_uri: str, **extra: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {"type": "service_account", "client_email": "x@y.iam.gserviceaccount.com", "private_key": pem}
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({**info, "token_uri": token_uri, **extra}), encoding="utf-8")
    return str(path)


def _closed_port() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/token"  # nothing listens once it is closed


def test_vertex_without_a_region_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "p")
    line = "--provider vertex needs a region: set CLOUD_ML_REGION (us-east5, europe-west1, global, ...)"
    assert _run("vertex", tmp_path, capsys) == (2, f"{PREFIX}{line}\n")


def test_vertex_without_credentials_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CLOUD_ML_REGION", "us-east5")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    line = (
        "--provider vertex: no Google credentials: run 'gcloud auth application-default login', or set "
        "GOOGLE_APPLICATION_CREDENTIALS to a credentials file"
    )
    assert _run("vertex", tmp_path, capsys) == (2, f"{PREFIX}{line}\n")


def test_vertex_without_a_project_is_one_line_and_asks_for_no_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CLOUD_ML_REGION", "us-east5")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", _service_account(tmp_path, _closed_port()))
    line = (
        "--provider vertex needs a Google Cloud project: set ANTHROPIC_VERTEX_PROJECT_ID (the credentials "
        "name none)"
    )
    code, printed = _run("vertex", tmp_path, capsys)
    assert (code, printed.splitlines()[-1]) == (2, f"{PREFIX}{line}")
    assert printed.count(PREFIX) == 1


def test_vertex_credentials_that_give_no_token_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("CLOUD_ML_REGION", "us-east5")
    monkeypatch.setenv("ANTHROPIC_VERTEX_PROJECT_ID", "p")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", _service_account(tmp_path, _closed_port()))
    line = (
        "--provider vertex: the Google credentials did not give an access token (TransportError); run "
        "'gcloud auth application-default login' again"
    )
    assert _run("vertex", tmp_path, capsys) == (2, f"{PREFIX}{line}\n")


@pytest.mark.parametrize(("provider", "module"), [("bedrock", "boto3"), ("vertex", "google.auth")])
def test_a_missing_extra_is_one_line_naming_it(
    provider: str,
    module: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setitem(sys.modules, module, None)  # an import of it raises ImportError: not installed
    line = f"--provider {provider} needs the {provider} extra: pip install 'infra-audit[{provider}]'"
    assert _run(provider, tmp_path, capsys) == (2, f"{PREFIX}{line}\n")
