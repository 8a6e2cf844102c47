"""The two guards after the tools: the ledger redacts whatever it records, and inventory records never
hold a secret (secret variables' defaults are fingerprints, free-text fields pass the redactor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.results import ToolResult, ToolStatus
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.models import (
    CodeRef,
    EventRecord,
    FluxSource,
    LiveRef,
    ParseIssue,
    TerraformModule,
    UnreadResource,
)
from tools.redact import fingerprint

pytestmark = pytest.mark.unit

FP = fingerprint


def test_the_ledger_redacts_what_no_tool_redacted() -> None:
    """A check result is recorded directly (not through a tool): the ledger's pass still applies."""
    raw = ToolResult(
        tool="check",
        args={"id": "SEC-PLAINTEXT-SECRET"},
        status=ToolStatus.OK,
        command="infra-audit check . SEC-PLAINTEXT-SECRET",
        output="SEC-PLAINTEXT-SECRET: 2\nx.sh:3  curl -H 'X-Vault-Token: l-1'\nnotify: "
        + "SG."
        + "a" * 22
        + ".b"
        + "1" * 42,
        data={"locations": [{"detail": "password = 'l-2'"}], "db_password": "l-3"},
        value=2,
        error=None,
    )
    evidence = Ledger().record(raw)
    assert evidence.output.split("\n")[0] == "SEC-PLAINTEXT-SECRET: 2"  # a check's own count line stays
    assert "l-1" not in evidence.output and "SG.aaaa" not in evidence.output
    ledger = Ledger()
    eid = ledger.record(raw).id
    assert ledger.data(eid) == {
        "locations": [{"detail": f"password = '{FP('l-2')}'"}],
        "db_password": FP("l-3"),
    }
    failed = Ledger().record(ToolResult.fail("repo_read", {}, "cat x", "cannot read postgres://u:l-4@db"))
    assert failed.error == f"cannot read postgres://u:{FP('l-4')}@db" and "l-4" not in failed.output


def test_secret_and_sensitive_variable_defaults_are_fingerprints(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "db_password" {\n  default = "d-1"\n}\n'
        'variable "storage_account_key" {\n  default = "d-2"\n}\n'
        'variable "target" {\n  default   = "d-3"\n  sensitive = true\n}\n'
        'variable "hook" {\n  default = "https://hooks.slack.com/services/T0AAAA/B0BBBB/cccccccccccccccccccc"\n}\n'
        'variable "region" {\n  default = "eu-west-1"\n}\n'
        'variable "ssh_public_key" {\n  default = "ssh-ed25519 AAAA"\n}\n'
    )
    defaults = {v.name: v.default for v in build_inventory(tmp_path).code.variables}
    assert defaults == {
        "db_password": FP("d-1"),
        "storage_account_key": FP("d-2"),
        "target": FP("d-3"),
        "hook": FP("https://hooks.slack.com/services/T0AAAA/B0BBBB/cccccccccccccccccccc"),
        "region": "eu-west-1",
        "ssh_public_key": "ssh-ed25519 AAAA",
    }


def test_free_text_fields_of_records_are_redacted_when_built() -> None:
    code = CodeRef(path="x.tf", line=1)
    live = LiveRef(cluster="c", namespace="a", object_kind="Pod", name="p")
    module = TerraformModule(
        name="m", source_url="git::https://u:r-1@git.local/m.git", kind="git", source=code
    )
    assert module.source_url == f"git::https://u:{FP('r-1')}@git.local/m.git"
    flux = FluxSource(kind="GitRepository", name="f", url="https://x:r-2@git.local/f", source=code)
    assert flux.url == f"https://x:{FP('r-2')}@git.local/f"
    event = EventRecord(namespace="a", message="probe: curl -H 'X-Api-Key: r-3' http://x", source=live)
    assert event.message == f"probe: curl -H 'X-Api-Key: {FP('r-3')}' http://x"
    issue = ParseIssue(path="x.yaml", message="bad line: token=r-4")
    assert issue.message == f"bad line: token={FP('r-4')}"
    assert issue.path == "x.yaml"


def test_what_was_not_read_is_redacted_when_built_and_names_stay_escaped() -> None:
    """A file's message and a cluster type's reason are redacted by their record type, the one place
    every caller (estate walk, snapshot reader, live fetch, a report read back) goes through; the
    shown (escaped) path is left as it is."""
    issue = ParseIssue(path="caf\\xe9/x.yaml", line=3, message="bad: Authorization: Bearer r-6abcdefgh")
    assert (issue.path, str(issue)) == (
        "caf\\xe9/x.yaml",
        f"caf\\xe9/x.yaml:3: bad: Authorization: Bearer {FP('r-6abcdefgh')}",
    )
    lost = UnreadResource(resource="pods", kind="Pod", reason="forbidden: X-Vault-Token: r-7")
    assert lost.reason == f"forbidden: X-Vault-Token: {FP('r-7')}"
    read_back = UnreadResource.model_validate_json(lost.model_dump_json())
    assert read_back == lost  # a second pass (a report or checkpoint read back) changes nothing


def test_a_parse_error_does_not_quote_a_string(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('locals {\n  admin_password = "r-5" "oops"\n}\n')
    issues = build_inventory(tmp_path).code.issues
    assert [(i.path, i.line, i.message) for i in issues] == [
        ("main.tf", 2, "syntax error: unexpected '\"…\"'")
    ]
