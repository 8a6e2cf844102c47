"""``--provider bedrock|vertex``: the anthropic SDK's own cloud clients, against the scripted server.

The server speaks each cloud's wire (``fakes/cloud.py``): it refuses a request whose path or
authentication is not what Bedrock or Vertex would accept, so a run that finishes proves the path
(``/model/{model}/invoke[-with-response-stream]``; ``/v1/projects/{p}/locations/{r}/publishers/
anthropic/models/{m}:rawPredict`` or ``streamRawPredict``) and the credential (a SigV4 header from
static keys in the environment; a bearer token google-auth got from application default
credentials, refreshed against the same loopback server). Everything is scripted traffic.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from estates import REPO
from fakes import ScriptedAnthropicServer
from fakes.cloud import Bedrock, Vertex
from replays import DATE, run_cli
from scenarios import gitops
from scenarios.common import INTENT_KEY, NUMBERS_KEY, SYNTH_KEY, researcher_key

from pipeline.cli import main
from pipeline.recorded_run import RecordedRun
from pipeline.recording import read_label

pytestmark = pytest.mark.vcr

KEY_ID = "AKIDSCRIPTEDTEST0001"
SECRET = "canary-aws-secret-Xq7pLm2Rv9"
SESSION = "canary-aws-session-Tk3Jw8Nz5"
REGION = "eu-west-1"
BEDROCK_MODEL = "anthropic.claude-sonnet-scripted-v1:0"
PROJECT = "scripted-project-17"
VERTEX_REGION = "us-east5"
VERTEX_MODEL = "claude-sonnet-scripted@20261101"
TOKEN = "canary-vertex-token-Hy4Qe6Vb1"
ARGV = ["run", "examples/gitops-base", "--concern", "maintenance", "--run-id", "cloud", "--date", DATE]
# what the gitops scenario asks of each agent of the maintenance concern (as on the direct path)
ROUTES = {researcher_key("maintenance"): 2, NUMBERS_KEY: 2, INTENT_KEY: 3, SYNTH_KEY: 1}


def _cli(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*argv, "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _bedrock_env(env: pytest.MonkeyPatch, base_url: str) -> None:
    env.chdir(REPO)
    env.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    env.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    env.setenv("AWS_SESSION_TOKEN", SESSION)
    env.setenv("AWS_REGION", REGION)
    env.setenv("ANTHROPIC_BEDROCK_BASE_URL", base_url)


def _adc_file(tmp_path: Path, token_uri: str, **extra: str) -> Path:
    """A service account key file (what GOOGLE_APPLICATION_CREDENTIALS names), with a key made now and
    the loopback server as its token endpoint: google-auth signs a JWT grant and gets ``TOKEN``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "client_email": "scripted@scripted-project.iam.gserviceaccount.com",
        "private_key_id": "scripted-key-1",
        "private_key": pem,
        "token_uri": token_uri,
        **extra,
    }
    path = tmp_path / "adc.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def _files_holding(root: Path, *secrets: str) -> list[str]:
    """Every file under ``root`` (run store, report, transcript, cassette) that holds a secret."""
    return sorted(
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and any(s.encode() in path.read_bytes() for s in secrets)
    )


@pytest.mark.parametrize("stream", [False, True])
def test_bedrock_runs_a_concern_end_to_end_signed_and_its_cassette_replays_without_credentials(
    stream: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cassette = tmp_path / "bedrock.yaml"
    dialect = Bedrock(access_key_id=KEY_ID, region=REGION)
    with ScriptedAnthropicServer(gitops.router(), dialect=dialect) as server, monkeypatch.context() as env:
        _bedrock_env(env, server.base_url)
        flags = ["--provider", "bedrock", "--model", BEDROCK_MODEL, "--record", str(cassette)]
        code, out, err = _cli([*ARGV, *flags, *(["--stream"] if stream else [])], tmp_path, capsys)
    assert code == 0, err
    assert f"LLM agents on {BEDROCK_MODEL} (--provider bedrock)" in out
    operation = "invoke-with-response-stream" if stream else "invoke"
    assert {r.path for r in server.requests} == {f"/model/{BEDROCK_MODEL}/{operation}"}
    for request in server.requests:  # SigV4 from the environment's static keys (the server refuses others)
        assert request.status == 200 and request.auth is not None
        assert request.auth.startswith(f"sigv4 Credential={KEY_ID}/")
        assert request.auth.endswith(f"/{REGION}/bedrock/aws4_request")
    assert server.route_counts() == ROUTES

    label = read_label(cassette)
    assert (label["provider"], label["model"]) == ("bedrock", BEDROCK_MODEL)
    recorded = RecordedRun.model_validate(label["run"])
    assert (recorded.provider, recorded.region, recorded.project, recorded.stream) == (
        "bedrock",
        REGION,
        None,
        stream,
    )
    text = cassette.read_text(encoding="utf-8")
    for secret in (SECRET, SESSION, KEY_ID):  # the key id is only in the signature header: scrubbed
        assert secret not in text
    interactions = yaml.safe_load(text)["interactions"]
    headers = {k.lower() for i in interactions for k in i["request"]["headers"]}
    assert not {h for h in headers if h == "authorization" or h.startswith("x-amz-")}
    if stream:  # the binary AWS event stream is kept as its events, readable
        frames = [i["response"]["body"]["aws_eventstream"] for i in interactions]
        assert all(
            f[0]["chunk"]["type"] == "message_start" and f[-1]["chunk"]["type"] == "message_stop"
            for f in frames
        )

    assert _files_holding(tmp_path, SECRET, SESSION) == []  # never saved with the run nor in its outputs
    first = json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))
    replayed = run_cli(["run", "--replay", str(cassette), "--state-dir", str(tmp_path / "r")], tmp_path / "r")
    assert replayed.code == 0, replayed.stderr
    again = json.loads((tmp_path / "r" / "audit.json").read_text(encoding="utf-8"))
    assert [f["title"] for f in again["findings"]] == [f["title"] for f in first["findings"]]

    refused = run_cli(["run", "--replay", str(cassette), "--provider", "anthropic"], tmp_path / "x")
    assert (refused.code, refused.stderr) == (
        2,
        f"infra-audit: error: --provider anthropic contradicts the cassette {cassette}, recorded with "
        "--provider bedrock; omit it to replay the recording\n",
    )


@pytest.mark.parametrize("stream", [False, True])
def test_vertex_runs_a_concern_end_to_end_with_a_bearer_token_from_adc(
    stream: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cassette = tmp_path / "vertex.yaml"
    dialect = Vertex(project=PROJECT, region=VERTEX_REGION, token=TOKEN)
    with ScriptedAnthropicServer(gitops.router(), dialect=dialect) as server, monkeypatch.context() as env:
        env.chdir(REPO)
        env.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(_adc_file(tmp_path, f"{server.base_url}/token")))
        env.setenv("CLOUD_ML_REGION", VERTEX_REGION)
        env.setenv("ANTHROPIC_VERTEX_PROJECT_ID", PROJECT)
        env.setenv("ANTHROPIC_VERTEX_BASE_URL", f"{server.base_url}/v1")
        flags = ["--provider", "vertex", "--model", VERTEX_MODEL, "--record", str(cassette)]
        code, out, err = _cli([*ARGV, *flags, *(["--stream"] if stream else [])], tmp_path, capsys)
    assert code == 0, err
    assert f"LLM agents on {VERTEX_MODEL} (--provider vertex)" in out
    specifier = "streamRawPredict" if stream else "rawPredict"
    path = f"/v1/projects/{PROJECT}/locations/{VERTEX_REGION}/publishers/anthropic/models/{VERTEX_MODEL}"
    assert {r.path for r in server.requests} == {f"{path}:{specifier}"}
    assert {r.auth for r in server.requests} == {"bearer"}  # the server refuses any other token
    assert server.route_counts() == ROUTES
    assert all((r.body.get("stream") is True) == stream for r in server.requests)

    recorded = RecordedRun.model_validate(read_label(cassette)["run"])
    assert (recorded.provider, recorded.region, recorded.project) == ("vertex", VERTEX_REGION, PROJECT)
    text = cassette.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert _files_holding(tmp_path, TOKEN) == []
    replayed = run_cli(["run", "--replay", str(cassette), "--state-dir", str(tmp_path / "r")], tmp_path / "r")
    assert replayed.code == 0, replayed.stderr
