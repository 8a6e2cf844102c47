"""Secrets known by their shape or their place on a line: token shapes under neutral keys (detect-secrets'
named-token plugins and our own), long blobs assigned to neutral keys, secret headers, and passwords on
command lines; and what must stay (git SHAs, checksums, digests, types, references)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from canaries import CHECKSUM, DIGEST, GIT_SHA, TOKENS

from tools.redact import fingerprint, redact_text
from tools.redact_tokens import (
    _ANY_LITERAL,
    _ANY_LOWER,
    _OWN_SHAPES,
    _detectors,
    _match_spans,
    _may_match,
    _token_spans,
    redact_tokens,
)

pytestmark = pytest.mark.unit

FP = fingerprint


def check(text: str) -> str:
    out = redact_text(text)
    assert redact_text(out) == out
    assert out.count("\n") == text.count("\n")
    return out


@pytest.mark.parametrize("shape", sorted(TOKENS))
@pytest.mark.parametrize(
    "line", ["value: {}", 'NOTIFY="{}"', '{{"x": "{}"}}', "see {} here", "- name: A\n  value: {}"]
)
def test_token_shapes_under_neutral_keys(shape: str, line: str) -> None:
    token = TOKENS[shape]
    out = check(line.format(token))
    if shape in ("hex-blob", "base64-blob", "azure-account-key") and line.startswith("see"):
        assert out == line.format(token)  # a bare blob in prose (no AccountKey=) is not known to be a secret
        return
    assert token not in out and token[-12:] not in out
    assert out == line.format(FP(token)) or (shape == "azure-account-key")


def test_azure_account_key_keeps_its_name() -> None:
    key = TOKENS["azure-account-key"]
    text = f"DefaultEndpointsProtocol=https;AccountName=a;AccountKey={key};EndpointSuffix=core.windows.net"
    assert check(text) == text.replace(key, FP(key))


@pytest.mark.parametrize(
    "text",
    [
        f"commit: {GIT_SHA}",
        f"Fixed in {GIT_SHA}, see the changelog.",
        f"checksum/config: {CHECKSUM}",
        f'"checksum/secret": "{CHECKSUM}"',
        f"image: registry.local/app@{DIGEST}",
        f"digest: {DIGEST}",
        f'source = "git::https://git.local/x.git?ref={GIT_SHA}"',
        f"targetRevision: {GIT_SHA}",
        f"client_id: {CHECKSUM[:32]}",
        "certificate-authority-data: "
        + "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUM1ekNDQWMrZ0F3SUJBZ0lCQURBTkJna3Fo",
        "password: string",
        "password = string",
        "token: ${GITHUB_TOKEN}",
        "X-Request-Id: 4f2a9c0d-1111",
        "mysql -h db -u root -p app",
        "mysql -u root -p$MYSQL_PWD app",
        "docker run -u 1000:1000 app",
        "kubeadm token create --token-ttl 0",
        "SEC-PLAINTEXT-SECRET: 5",
        "SEC-PLAINTEXT-SECRET: 3 of 12",
    ],
)
def test_non_secrets_stay(text: str) -> None:
    assert check(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('curl -fsS -H "X-Vault-Token: hvs.v-1" https://vault', "hvs.v-1"),
        ("curl --header 'X-Api-Key: Bearer v-2' https://x", "v-2"),
        ("headers:\n  X-Auth-Token: v-3\n", "v-3"),
        ('{"X-Api-Key": "v-4"}', "v-4"),
        ("PRIVATE-TOKEN: glpat-v5v5v5v5v5v5", "glpat-v5v5v5v5v5v5"),
        ("mysql -h db -u root -pv-6 app", "v-6"),
        ("mysql -u root -p'v 7' app", "v 7"),
        ("mysqldump --password=v-8 app", "v-8"),
        ("mysqladmin --password v-9 status", "v-9"),
        ("PGPASSWORD=v-10 psql -h db", "v-10"),
        ("export MYSQL_PWD=v-11", "v-11"),
        ("sshpass -p 'v-12' ssh host", "v-12"),
        ("redis-cli -h r -a v-13 ping", "v-13"),
        ("curl -u admin:v-14 https://x", "v-14"),
        ("helm repo add x https://x --username u --password v-15", "v-15"),
        ("DB_PASSWORD: 5", "5"),  # a number under a secret key is a secret; only a check's count is not
    ],
)
def test_headers_and_command_lines(text: str, secret: str) -> None:
    out = check(text)
    assert FP(secret) in out and out.replace(FP(secret), "") == text.replace(secret, "")


def test_detect_secrets_is_used_without_its_settings() -> None:
    """The plugins' regexes only: no global settings read or cached, no entropy plugin loaded."""
    _detectors.cache_clear()
    assert redact_tokens(f"x: {TOKENS['sendgrid']}") == f"x: {FP(TOKENS['sendgrid'])}"
    settings = sys.modules["detect_secrets.settings"]
    assert (settings.get_settings.cache_info().currsize, settings.get_plugins.cache_info().currsize) == (0, 0)
    assert "detect_secrets.plugins.high_entropy_strings" not in sys.modules
    assert "detect_secrets.plugins.keyword" not in sys.modules


def _spans_plugin_by_plugin(text: str) -> list[tuple[int, int, str]]:
    """``_token_spans`` as it was before its one search for every literal: each plugin's gate in turn."""
    spans: list[tuple[int, int, str]] = []
    shapes: dict[re.Pattern[str], bool] = {}
    lower = text.lower()
    for plugin, patterns in _detectors():
        if len(text) < plugin.min_len:
            break
        if _may_match(plugin, text, lower, shapes):
            spans += [
                s
                for regex, valid in patterns
                for m in regex.finditer(text)
                for s in _match_spans(m, text, valid)
            ]
    if "sk-" in text:
        spans += [(m.start(), m.end(), FP(m.group(0))) for m in _OWN_SHAPES.finditer(text)]
    return spans


def _texts() -> list[str]:
    """Every token canary in lines of every shape, each plugin's literals alone, and the lines of the
    bundled estates (names, paths and references: the texts the gate lets through fastest)."""
    lines = ["value: {}", 'NOTIFY="{}"', "see {} here", "{}", "x{}x", "{0}{0}"]
    texts = [line.format(token) for token in TOKENS.values() for line in lines]
    texts += [
        line.format(word)
        for plugin, _ in _detectors()
        for word in plugin.literals + plugin.lower
        for line in lines
    ]
    texts += [shown.lower() for shown in texts] + [shown.upper() for shown in texts]
    for path in sorted(Path("examples").rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".json", ".tf", ".md", ".env", ".sh"):
            texts += path.read_text(errors="replace").splitlines()[:400]
    return texts


def test_the_one_search_for_literals_finds_what_each_plugins_gate_does() -> None:
    texts = _texts()
    assert len(texts) > 5000
    gated = [text for text in texts if not (_ANY_LITERAL.search(text) or _ANY_LOWER.search(text.lower()))]
    assert len(gated) > 1000  # the gate does skip texts, and the same spans come out for them
    assert [_token_spans(t) for t in texts] == [_spans_plugin_by_plugin(t) for t in texts]


def test_the_search_for_literals_holds_every_plugins_literals() -> None:
    for plugin, _ in _detectors():
        for word in plugin.literals:
            assert _ANY_LITERAL.search(f"..{word}..")
        for word in plugin.lower:
            assert _ANY_LOWER.search(f"..{word}..")
