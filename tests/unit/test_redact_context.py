"""Secrets known by their context: Terraform blocks and attributes (``tools.redact_hcl``), Terraform state
(``tools.redact_state``), and the same contexts seen again through a tool's prefixed output."""

from __future__ import annotations

import json
from textwrap import dedent

import pytest
from redaction import check

from tools.redact import fingerprint, redact_text

pytestmark = pytest.mark.unit

FP = fingerprint


# ------------------------------------------------------------------------------------------ HCL


def test_kubernetes_secret_data_maps_multi_line_with_heredocs() -> None:
    text = dedent(
        """\
        resource "kubernetes_secret_v1" "api" {
          metadata {
            name = "api"
          }
          data = {
            user     = "svc"
            dsn      = "pg-1"
            password = random_password.db.result
            ca       = file("${path.module}/ca.pem")
            "config.json" = <<-EOT
              {"user": "${var.user}", "key": "k-2"}
            EOT
          }
          string_data = { token = "t-3", note = "n-4" }
          binary_data = {
            blob = "YjEtNQ=="
          }
        }
        """
    )
    out = check(text)
    for value in ("svc", "pg-1", "k-2", "t-3", "n-4", "YjEtNQ=="):
        assert value not in out
    assert f'    user     = "{FP("svc")}"\n' in out and f'    dsn      = "{FP("pg-1")}"\n' in out
    assert "    password = random_password.db.result\n" in out  # a reference
    assert '    ca       = file("${path.module}/ca.pem")\n' in out  # a path given to file()
    assert '    "config.json" = <<-EOT\n' in out and "${var.user}" in out  # key and reference stay
    assert f'{{ token = "{FP("t-3")}", note = "{FP("n-4")}" }}' in out
    assert '    name = "api"\n' in out  # metadata is not data


def test_the_same_names_outside_a_secret_resource_are_not_secret() -> None:
    text = 'resource "kubernetes_config_map" "x" {\n  data = {\n    mode = "fast"\n  }\n}\n'
    assert check(text) == text


@pytest.mark.parametrize(
    ("block", "value"),
    [
        ('variable "db_password" {\n  default = "v-1"\n}\n', "v-1"),
        ('variable "storage_account_key" {\n  default = "v-2"\n}\n', "v-2"),
        ('variable "api_token" {\n  type = string\n  default = "v-3"\n}\n', "v-3"),
        (
            'variable "target" {\n  default   = "v-4"\n  sensitive = true\n}\n',
            "v-4",
        ),  # sensitive after default
        ('variable "db_password" {\n  default = <<EOT\nv-5\nEOT\n}\n', "v-5"),
        ('variable "admin_credentials" {\n  default = {\n    user = "u"\n    pass = "v-6"\n  }\n}\n', "v-6"),
        ('variable "pin_secret" {\n  default = 8642\n}\n', "8642"),
        ('output "admin" {\n  value     = "v-7"\n  sensitive = true\n}\n', "v-7"),
        (
            'resource "helm_release" "x" {\n  set_sensitive {\n    name  = "a.b"\n'
            '    value = "v-8"\n  }\n}\n',
            "v-8",
        ),
        (
            'resource "helm_release" "x" {\n  set {\n    name  = "auth.password"\n'
            '    value = "v-9"\n  }\n}\n',
            "v-9",
        ),
        ('locals {\n  encoded_password = base64encode("v-10")\n}\n', "v-10"),
        ('inputs = {\n  db = {\n    password = "v-11"\n  }\n}\n', "v-11"),
        (
            'resource "kubernetes_manifest" "s" {\n  manifest = {\n    kind = "Secret"\n'
            '    stringData = {\n      config = "v-12"\n    }\n  }\n}\n',
            "v-12",
        ),
        ('env = [{ name = "DB_PASSWORD", value = "v-13" }]\n', "v-13"),
    ],
)
def test_secret_hcl_contexts_fingerprint_their_literals(block: str, value: str) -> None:
    out = check(block)
    assert value not in out and "<redacted:sha256:" in out


@pytest.mark.parametrize(
    "text",
    [
        'variable "db_host" {\n  default = "db.local"\n}\n',
        'variable "ssh_public_key" {\n  default = "ssh-ed25519 AAAAC3Nza"\n}\n',
        'variable "key_name" {\n  default = "deployer"\n}\n',
        'variable "db_password" {\n  type = string\n  default = var.fallback\n}\n',
        'variable "db_password" {\n  default = "${var.prefix}"\n}\n',
        'variable "creds" {\n  type = object({ user = string, password = string })\n}\n',
        'output "endpoint" {\n  value = "db.local"\n}\n',
        'output "admin" {\n  value     = random_password.db.result\n  sensitive = true\n}\n',
        'password = data.vault_generic_secret.x.data["pw"]\n',
        'resource "x" "y" {\n  backup_target_credential_secret = "longhorn-backup-credentials"\n}\n',
    ],
)
def test_references_types_and_plain_variables_stay(text: str) -> None:
    assert check(text) == text


def test_interpolations_stay_visible_between_fingerprinted_parts() -> None:
    out = check('variable "db_password" {\n  default = "pre-${var.x}-post"\n}\n')
    assert out == f'variable "db_password" {{\n  default = "{FP("pre-")}${{var.x}}{FP("-post")}"\n}}\n'


def test_hcl_inside_markdown_is_read_too() -> None:
    text = '# Notes\nDon\'t paste "quotes.\n\n```hcl\nvariable "db_password" {\n  default = "md-1"\n}\n```\n'
    out = check(text)
    assert "md-1" not in out and 'variable "db_password" {' in out


def test_broken_hcl_is_still_read_and_an_unclosed_comment_hides_nothing() -> None:
    out = check('/* not closed\nvariable "db_password" {\n  default = "b-1"\n')
    assert "b-1" not in out


def test_tool_output_with_line_prefixes_is_stable_and_still_read() -> None:
    text = (
        'resource "kubernetes_secret" "s" {\n  data = {\n    "a.json" = <<-EOT\n      p-1\n    EOT\n  }\n}\n'
    )
    redacted = redact_text(text)
    numbered = "\n".join(f"{n:>2}: {line}" for n, line in enumerate(redacted.split("\n"), 1))
    assert check(numbered) == numbered  # a second pass over a numbered read changes nothing
    listing = "\n".join(
        f"x.tf{'-:'[n % 2]}{n}{'-:'[n % 2]}{line}" for n, line in enumerate(redacted.split("\n"), 1)
    )
    assert check(listing) == listing
    raw = "\n".join(f"{n:>2}: {line}" for n, line in enumerate(text.split("\n"), 1))
    out = check(raw)  # unredacted text behind prefixes: still found, every prefix kept
    assert "p-1" not in out and [line[:4] for line in out.split("\n")][:7] == [
        f"{n:>2}: " for n in range(1, 8)
    ]


# ------------------------------------------------------------------------------------ Terraform state

STATE = {
    "version": 4,
    "terraform_version": "1.9.5",
    "lineage": "5f1c0c8e-1d1b-4b7e-9c55-0e6a1f2b3c4d",
    "outputs": {
        "admin": {"value": "o-1", "type": "string", "sensitive": True},
        "nested": {"value": {"a": ["o-2", 5]}, "sensitive": True},
        "endpoint": {"value": "db.local", "type": "string"},
    },
    "resources": [
        {
            "type": "random_password",
            "name": "db",
            "instances": [
                {"attributes": {"id": "none", "result": "r-1", "bcrypt_hash": "r-2", "length": 24}}
            ],
        },
        {
            "type": "azurerm_linux_virtual_machine",
            "name": "vm",
            "instances": [
                {
                    "attributes": {"id": "/vm", "custom_data": "s-1", "tags": {"k": "s-2"}, "size": "B2"},
                    "sensitive_attributes": [
                        [{"type": "get_attr", "value": "custom_data"}],
                        {"type": "get_attr", "value": "tags"},  # the flat form of newer states
                    ],
                }
            ],
        },
        {"type": "kubernetes_secret", "name": "s", "instances": [{"attributes": {"data": {"k": "d-1"}}}]},
        {"type": "aws_db_instance", "name": "db", "instances": [{"attributes": {"password": "p-1"}}]},
        {"type": "random_pet", "name": "n", "instances": [{"attributes": {"id": "bold-heron"}}]},
    ],
}


def test_state_sensitive_values_are_fingerprinted_and_the_rest_stays() -> None:
    text = json.dumps(STATE, indent=2)
    out = check(text)
    for value in ("o-1", "o-2", "r-1", "r-2", "s-1", "s-2", "d-1", "p-1"):
        assert f'"{value}"' not in out
    data = json.loads(out)  # still JSON
    assert data["outputs"]["admin"]["value"] == FP("o-1")
    assert data["outputs"]["nested"]["value"] == {"a": [FP("o-2"), FP("5")]}
    assert data["outputs"]["endpoint"]["value"] == "db.local"
    assert data["resources"][0]["instances"][0]["attributes"] == {
        "id": "none",
        "result": FP("r-1"),
        "bcrypt_hash": FP("r-2"),
        "length": 24,
    }
    assert data["resources"][1]["instances"][0]["attributes"]["size"] == "B2"
    assert data["resources"][4]["instances"][0]["attributes"] == {"id": "bold-heron"}
    assert data["lineage"] == STATE["lineage"]


def test_state_v3_flat_attributes() -> None:
    state = {
        "version": 3,
        "terraform_version": "0.11.14",
        "modules": [
            {
                "outputs": {"pw": {"sensitive": True, "value": "o-3"}},
                "resources": {
                    "random_string.x": {
                        "type": "random_string",
                        "primary": {"attributes": {"result": "r-3"}},
                    },
                    "kubernetes_secret.s": {
                        "type": "kubernetes_secret",
                        "primary": {"attributes": {"data.%": "1", "data.k": "d-3", "id": "s"}},
                    },
                },
            }
        ],
    }
    out = check(json.dumps(state, indent=1))
    assert not {"o-3", "r-3", "d-3"} & set(json.dumps(json.loads(out)).split('"'))
    assert '"data.%": "1"' in out and '"id": "s"' in out


def test_a_truncated_state_fails_closed_and_its_numbered_read_is_stable() -> None:
    text = json.dumps(STATE, indent=2)
    cut = text[: text.index('"random_pet"')]
    out = check(cut)
    assert '"r-1"' not in out and '"o-1"' not in out and '"db.local"' in out
    numbered = "\n".join(f"{n:>3}: {line}" for n, line in enumerate(redact_text(text).split("\n"), 1))
    assert check(numbered) == numbered
