"""Every cassette is readable, labelled as scripted or as a real model's, scrubbed of secrets, and used.

Cassettes are committed files that people read in review: YAML with the JSON bodies shown parsed.
They must never carry a credential (headers are scrubbed when recorded) nor a secret of the estate
(tool outputs inside request bodies went through the redactor before the model saw them), and a
scripted recording must say so where a reader looks first: its name and its header, and so must the
one recording of a real (tiny) model: ``real-`` in its name, ``scripted: 'false'`` and the model that
served it in its header, and a note that it is not a capable model's output.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from estates import ESTATES, REPO, canary_forms
from scenarios.common import SCRIPTED_MODEL

pytestmark = pytest.mark.vcr

CASSETTES = sorted((REPO / "cassettes").glob("*.yaml"))
SCRIPTED = [p for p in CASSETTES if p.name.startswith("scripted-")]
REAL = [p for p in CASSETTES if p.name.startswith("real-")]
API_KEY = "scripted-test-key"
SECRET_HEADERS = re.compile(r"^(authorization|x-api-key|anthropic-.*|request-id|cookie|date|x-stainless.*)$")
HEADER_KEY_LINE = re.compile(
    r"^\s*(authorization|x-api-key|anthropic-[\w-]+|request-id|cookie):", re.M | re.I
)


@cache
def document(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    return loaded


def test_the_expected_cassettes_exist() -> None:
    assert [p.name for p in SCRIPTED] == [
        "scripted-gitops-full.yaml",
        "scripted-homelab-full.yaml",
        "scripted-homelab-rerun-security.yaml",
    ]
    assert [p.name for p in REAL] == ["real-smollm2-homelab.yaml"]
    assert sorted(SCRIPTED + REAL) == CASSETTES


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.name)
def test_name_and_header_say_a_real_tiny_model(path: Path) -> None:
    label = document(path)["infra_audit"]
    assert label["scripted"] == "false" and label["model"] == "smollm2"
    assert label["recorded_against"].startswith("SmolLM2-135M-Instruct, Q4_1 GGUF")
    assert "llama.cpp llama-server" in label["recorded_against"]
    assert label["note"].startswith("A REAL run of a real but tiny (135M) model")
    assert "not a capable model's" in label["note"]
    assert label["replay_match"] == "turn"
    assert label["run"]["model"] == "smollm2" and len(label["run"]["concerns"]) == 5


@pytest.mark.parametrize("path", SCRIPTED, ids=lambda p: p.name)
def test_name_and_header_say_scripted(path: Path) -> None:
    label = document(path)["infra_audit"]
    assert path.name.startswith("scripted-")
    assert label["scripted"] == "true" and label["model"] == SCRIPTED_MODEL
    assert "scripted" in label["recorded_against"] and label["recorded_against"].endswith("not a model")
    assert label["note"].startswith("SCRIPTED traffic") and "No model produced any of it." in label["note"]
    assert Path(REPO / label["scenario"]).is_file()


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.name)
def test_bodies_are_parsed_json_and_headers_are_scrubbed(path: Path) -> None:
    interactions = document(path)["interactions"]
    model = document(path)["infra_audit"]["model"]
    assert interactions and model == (SCRIPTED_MODEL if path in SCRIPTED else "smollm2")
    for item in interactions:
        request, response = item["request"], item["response"]
        assert (request["method"], request["uri"]) == ("POST", "http://127.0.0.1/v1/messages")
        assert request["body"]["json"]["model"] == model
        assert response["status"]["code"] == 200 and response["body"]["json"]["type"] == "message"
        for headers in (request["headers"], response["headers"]):
            assert not [h for h in headers if SECRET_HEADERS.match(h.lower())], headers
        assert list(response["headers"]) == ["content-type"]


@pytest.mark.parametrize("path", CASSETTES, ids=lambda p: p.name)
def test_no_credential_and_no_estate_secret_is_recorded(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    assert API_KEY not in raw and "replay-from-cassette" not in raw
    assert not HEADER_KEY_LINE.findall(raw)
    for word in ("authorization", "x-api-key", "anthropic-", "request-id"):  # header spellings, anywhere
        # but not inside a name (a real run's tool output lists rbac.authorization.k8s.io)
        assert not re.search(rf"(?<![.\w]){word}", raw), word
    for estate in ESTATES:
        leaked = [c for c in canary_forms(estate) if c in raw]
        assert not leaked, f"{estate} canaries in {path.name}: {leaked}"
    if path in SCRIPTED:  # the scenarios read files that hold secrets: the redactor's marks prove it
        assert "<redacted:sha256:" in raw


def test_every_cassette_is_used_by_a_test(tmp_path: Path) -> None:
    script = REPO / "tests" / "check_cassettes.py"
    clean = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    assert (clean.returncode, clean.stdout) == (0, "")
    spare = tmp_path / "cassettes"
    spare.mkdir()
    orphan = "-".join(["scripted", "orphan"]) + ".yaml"  # built, so that this file does not name it
    (spare / orphan).write_text("interactions: []\n", encoding="utf-8")
    for path in CASSETTES[:1]:
        (spare / path.name).write_text("interactions: []\n", encoding="utf-8")
    found = subprocess.run(
        [sys.executable, str(script), "--cassettes", str(spare)], capture_output=True, text=True, check=False
    )
    assert found.returncode == 1
    assert found.stdout == f"unused cassette: {spare / orphan}\n"
