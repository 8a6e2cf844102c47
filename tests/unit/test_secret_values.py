"""The in-memory rules under SEC-PLAINTEXT-SECRET: what a value is, where it sits, which credential."""

from __future__ import annotations

import pytest

from tools.checks.detections.secret_values import (
    CredentialKey,
    fenced_lines,
    in_comment,
    is_example_file,
    is_placeholder,
    is_reference,
    redacted_values,
    sops_lines,
)
from tools.redact import redact_text

pytestmark = pytest.mark.unit

PW = "Xq7vLm2RtZ9wPk4s"


def test_the_values_behind_the_fingerprints_are_read_back_and_checked() -> None:
    raw = f'url: "postgres://app:{PW}@db/app"'
    shown = redact_text(raw)
    assert PW not in shown
    [(start, end, value)] = redacted_values(raw, shown) or []
    assert value == PW and shown[start:end].startswith("<redacted:sha256:")
    assert redacted_values(raw.replace(PW, "Other0000value99"), shown) is None  # not the same line
    assert redacted_values("user: app", "user: app") == []


def test_one_key_gives_equal_identities_for_one_value_and_another_key_does_not() -> None:
    key, other = CredentialKey(), CredentialKey()
    assert key.identity(PW) == key.identity(PW) != key.identity("Zr5tYp8qWn3mKc6v")
    assert key.identity(PW) != other.identity(PW)
    assert PW.encode() not in key.identity(PW) and PW not in repr(key)
    assert key.unique("a.tf:1") != key.unique("a.tf:2")


@pytest.mark.parametrize(
    ("value", "reference", "placeholder"),
    [
        ("op://vault/item/field", True, False),
        ("vault:secret/data/x#k", True, False),
        ("ref+awsssm://x/y", True, False),
        ("${DB_PASSWORD}", True, False),
        ("<password>", True, True),
        ("changeme", False, True),
        ("...", False, True),
        ("xxxxxx", False, True),
        ("example-pass", False, True),
        ("abc123", False, True),
        ("String", False, True),
        ("********", False, True),
        (PW, False, False),
        ("mastodon-db-2026", False, False),
    ],
)
def test_references_and_placeholders(value: str, reference: bool, placeholder: bool) -> None:
    assert (is_reference(value), is_placeholder(value)) == (reference, placeholder)


def test_example_files() -> None:
    assert [is_example_file(p) for p in (".env.example", "a/values.sample.yaml", "x-example.json")] == [
        True
    ] * 3
    assert [is_example_file(p) for p in ("values.yaml", "examples.md/x.tf", "exampled.txt")] == [False] * 3


def test_comments() -> None:
    assert in_comment('  # password: "x"', 14)
    assert in_comment('user: a  # password: "x"', 20)
    assert not in_comment('password: "a#b"', 12)
    assert not in_comment('url: "https://a:b@c"', 16)


def test_fenced_lines_and_sops_blocks() -> None:
    assert fenced_lines("a\n```\nb\nc\n```\nd\n~~~\ne\n") == {3, 4, 8}
    yaml_text = "data:\n  x: ENC[...]\nsops:\n  age:\n    - enc: |\n        body\n  mac: m\nnext: 1\n"
    assert sops_lines(yaml_text) == {3, 4, 5, 6, 7}
    json_text = '{\n  "a": 1,\n  "sops": {\n    "mac": "m",\n    "age": [{"enc": "x"}]\n  }\n}\n'
    assert sops_lines(json_text) == {3, 4, 5, 6}
    assert sops_lines("A=ENC[x]\nsops_mac=ENC[y]\nsops_version=3\n") == {2, 3}
    assert sops_lines("[app]\na=1\n[sops]\nmac=m\n[other]\n") == {3, 4}
