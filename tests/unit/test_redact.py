"""The central redactor: each secret form, each non-secret reference, structure, idempotence, and
a canary estate read through every repo tool."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from textwrap import dedent

import pytest
from canaries import estate_files, plant_estate, snapshot_files
from canaries import leaked as canary_leaks
from redaction import check

from tools.redact import fingerprint, redact_object
from tools.repo import repo_count, repo_search
from tools.repo_files import repo_list, repo_read
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

FP = fingerprint


def test_fingerprint_shape() -> None:
    assert FP("hunter2") == "<redacted:sha256:f52fbd32>"
    assert FP("") == "<redacted:sha256:e3b0c442>"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('password = "hunter2"', f'password = "{FP("hunter2")}"'),
        ("db_password: 'pw-1'", f"db_password: '{FP('pw-1')}'"),
        ("passwd: pw 2 with spaces", f"passwd: {FP('pw 2 with spaces')}"),
        ('secret = "s3"', f'secret = "{FP("s3")}"'),
        ("token: tok-4 # rotated", f"token: {FP('tok-4')} # rotated"),
        ("API_KEY=ak-5", f"API_KEY={FP('ak-5')}"),
        ('client_secret = "cs-6"', f'client_secret = "{FP("cs-6")}"'),
        ("access_key: ak-7", f"access_key: {FP('ak-7')}"),
        ('private_key = "pk-8"', f'private_key = "{FP("pk-8")}"'),
        (
            '{"user": "bob", "password": "j-9", "token": "j-10"}',
            f'{{"user": "bob", "password": "{FP("j-9")}", "token": "{FP("j-10")}"}}',
        ),
        ("- password: item-11", f"- password: {FP('item-11')}"),
        ("# token: commented-12", f"# token: {FP('commented-12')}"),
        (
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
            f"export AWS_SECRET_ACCESS_KEY={FP('wJalrXUtnFEMI/K7MDENG')}",
        ),
        ("postgres://admin:pw-13@db.local:5432/app", f"postgres://admin:{FP('pw-13')}@db.local:5432/app"),
        ("redis://:pw-14@redis:6379", f"redis://:{FP('pw-14')}@redis:6379"),
        ("Authorization: Bearer tok-15", f"Authorization: Bearer {FP('tok-15')}"),
        ('-H "authorization: basic dXNlcjpwYXNz"', f'-H "authorization: basic {FP("dXNlcjpwYXNz")}"'),
        ("curl --header bearer abcdef1234567890", f"curl --header bearer {FP('abcdef1234567890')}"),
        (
            "Server=db;User Id=sa;Password=pw-16;Database=app",
            f"Server=db;User Id=sa;Password={FP('pw-16')};Database=app",
        ),
        ("Driver={x};Uid=sa;Pwd=pw-17;", f"Driver={{x}};Uid=sa;Pwd={FP('pw-17')};"),
        ("host=db user=u password=pw-18 dbname=d", f"host=db user=u password={FP('pw-18')} dbname=d"),
        (
            "jdbc:mysql://h/db?user=u&password=pw-19&ssl=1",
            f"jdbc:mysql://h/db?user=u&password={FP('pw-19')}&ssl=1",
        ),
        ("jdbc:oracle:thin:scott/pw-20@h:1521/x", f"jdbc:oracle:thin:scott/{FP('pw-20')}@h:1521/x"),
        (
            "key: ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]",
            f"key: {FP('ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:str]')}",
        ),
        (
            "gh: ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            f"gh: {FP('ghp_abcdefghijklmnopqrstuvwxyz0123456789')}",
        ),
        (
            "pat github_pat_11ABCDEFG0123456789_abcdefghijk",
            f"pat {FP('github_pat_11ABCDEFG0123456789_abcdefghijk')}",
        ),
        ("aws AKIAIOSFODNN7EXAMPLE id", f"aws {FP('AKIAIOSFODNN7EXAMPLE')} id"),
        ("slack xoxb-1234567890-abcdefghij", f"slack {FP('xoxb-1234567890-abcdefghij')}"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            f"jwt {FP('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln')}",
        ),
    ],
)
def test_secret_forms_keep_the_key_and_fingerprint_the_value(text: str, expected: str) -> None:
    assert check(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "password = var.db_password",
        'password = data.vault_generic_secret.x.data["pw"]',
        "password = random_password.db.result",
        'password = "${var.db_password}"',
        "token: ${GITHUB_TOKEN}",
        "password: {{ .Values.password }}",
        'client_secret: "$oidc.clientSecret"',
        'password: ""',
        "password:",
        "password: null",
        "password:\n  valueFrom:\n    secretKeyRef:\n      name: db\n      key: password",
        f"password: {FP('x')}",
        'private_key = file("~/.ssh/id_rsa")',
        "secretName: tls-cert",
        "existingSecret: db-credentials",
        'password_file = "/etc/pw"',
        "token_ttl = 3600",
        "automountServiceAccountToken: false",
        "    certificate-authority-data: LS0tLS1CRUdJTg==",
        "Set the password: ask the platform team.",
        "We use bearer tokens. Basic Authentication is disabled.",
        "https://example.com:8443/path@v1",
        "image: registry.local:5000/app@sha256:abc",
        "kind: ConfigMap\ndata:\n  password_hint: see vault",
        '"secret": {',  # a volume source: a structure, not a scalar
        "backupTargetCredentialSecret: longhorn-backup-credentials",  # names a Secret object
        "kind: 'Authorization: Bearer token in a script'",
        "inside the ciphertext of a SOPS ENC[AES256_GCM,data:...] value",
        "a line inside an -----BEGIN OPENSSH PRIVATE KEY----- block, where: [x]",
        "- {what: 'SOPS-encrypted Secret: the ENC[...] value and the age block'}",
    ],
)
def test_references_and_non_secrets_are_left_alone(text: str) -> None:
    assert check(text) == text


def test_pem_blocks_keep_markers_and_line_count() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nQQ==\n-----END RSA PRIVATE KEY-----\nafter: 1"
    body = FP("MIIEowIBAAKCAQEA\nQQ==")
    assert check(key) == f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n\n-----END RSA PRIVATE KEY-----\nafter: 1"
    for label in ("OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "PRIVATE KEY"):
        out = check(f"x\n-----BEGIN {label}-----\nabc123\n-----END {label}-----\n")
        assert "abc123" not in out and f"-----END {label}-----" in out


def test_pem_unterminated_redacts_to_the_end_and_escaped_keys() -> None:
    body = FP("MIIE\nabcd")
    assert (
        check("-----BEGIN RSA PRIVATE KEY-----\nMIIE\nabcd") == f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n"
    )
    escaped = '{"key": "-----BEGIN EC PRIVATE KEY-----\\nMHcC\\n-----END EC PRIVATE KEY-----\\n"}'
    body = FP("\\nMHcC\\n")
    assert (
        check(escaped)
        == '{"key": "-----BEGIN EC PRIVATE KEY-----' + body + '-----END EC PRIVATE KEY-----\\n"}'
    )
    indented = "tls.key: |\n  -----BEGIN PRIVATE KEY-----\n  MIIE\n  -----END PRIVATE KEY-----\n"
    expected = f"tls.key: |\n  -----BEGIN PRIVATE KEY-----\n  {FP('MIIE')}\n  -----END PRIVATE KEY-----\n"
    assert check(indented) == expected


def test_pem_flattened_on_one_line() -> None:
    flat = "KEY=-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEAx1234567890 -----END RSA PRIVATE KEY-----"
    body = FP(" MIIEowIBAAKCAQEAx1234567890 ")
    assert check(flat) == f"KEY=-----BEGIN RSA PRIVATE KEY-----{body}-----END RSA PRIVATE KEY-----"


def test_numbered_and_listed_output_is_stable() -> None:
    """A BEGIN line inside tool output (a search hit, a numbered read) never swallows what follows."""
    listing = 'a.pem:1:-----BEGIN RSA PRIVATE KEY-----\nb.tf:3:image = "x"\ndocs/x.md:9:no keys here'
    assert check(listing) == listing
    numbered = f" 9: -----BEGIN RSA PRIVATE KEY-----\n10: {FP('k')}\n11: \n12: -----END RSA PRIVATE KEY-----"
    assert check(numbered) == numbered


def test_block_scalars_and_heredocs_under_secret_keys() -> None:
    body = FP("line-one\n  line-two")
    assert (
        check("password: |\n  line-one\n  line-two\nuser: bob\n") == f"password: |\n  {body}\n\nuser: bob\n"
    )
    body = FP("abc\ndef")
    hcl = 'private_key = <<EOT\nabc\ndef\nEOT\nname = "x"\n'
    assert check(hcl) == f'private_key = <<EOT\n  {body}\n\nEOT\nname = "x"\n'


def test_env_name_value_pairs() -> None:
    yaml_env = "env:\n  - name: DB_PASSWORD\n    value: pw-21\n  - name: LOG_LEVEL\n    value: debug\n"
    assert (
        check(yaml_env)
        == f"env:\n  - name: DB_PASSWORD\n    value: {FP('pw-21')}\n  - name: LOG_LEVEL\n    value: debug\n"
    )
    hcl_env = 'env {\n  name  = "API_TOKEN"\n  value = "tok-22"\n}\n'
    assert check(hcl_env) == f'env {{\n  name  = "API_TOKEN"\n  value = "{FP("tok-22")}"\n}}\n'


SECRET_YAML = dedent(
    """\
    apiVersion: v1
    kind: Secret
    metadata:
      name: db
      annotations:
        kubectl.kubernetes.io/last-applied-configuration: |
          {"apiVersion":"v1","kind":"Secret","stringData":{"password":"pw-23"}}
    type: Opaque
    data:
      password: cHctMjQ=
      ca.crt: |
        line-a
        line-b
    stringData:
      config.json: '{"pw": "pw-25"}'
    ---
    apiVersion: v1
    kind: ConfigMap
    data:
      mode: plain
    """
)


def test_secret_documents_in_text() -> None:
    out = check(SECRET_YAML)
    for value in ("pw-23", "cHctMjQ=", "line-a", "pw-25"):
        assert value not in out
    assert f"  password: {FP('cHctMjQ=')}\n" in out
    assert f"  ca.crt: {FP('line-a' + chr(10) + 'line-b' + chr(10))}\n\n\n" in out
    assert "  config.json: '" + FP('{"pw": "pw-25"}') + "'\n" in out
    assert "    kubectl.kubernetes.io/last-applied-configuration: <redacted:sha256:" in out
    assert "kind: ConfigMap\ndata:\n  mode: plain\n" in out  # a ConfigMap's data is not a secret
    as_json = json.dumps(
        {"kind": "Secret", "data": {"token": "dG9rLTI2"}, "metadata": {"name": "t"}}, indent=2
    )
    out = check(as_json)
    assert "dG9rLTI2" not in out and f'"token": "{FP("dG9rLTI2")}"' in out
    items = [{"kind": "Secret", "data": {"k": "djI3"}}, {"kind": "ConfigMap", "data": {"k": "v"}}]
    minified = json.dumps({"items": items})
    assert check(minified) == minified.replace('"djI3"', f'"{FP("djI3")}"')


def test_secret_documents_that_do_not_parse_use_the_fallback() -> None:
    template = (
        'kind: Secret\nmetadata:\n  name: {{ .Release.Name }}\n  labels: {{ include "x" . }}\n'
        "stringData:\n  password: pw-28\n  user: {{ .Values.user }}\n"
    )
    out = check(template)
    assert "pw-28" not in out and "user: {{ .Values.user }}" in out


def test_last_applied_single_line_forms() -> None:
    value = '{"data":{"k":"v"}}'
    line = f"    kubectl.kubernetes.io/last-applied-configuration: '{value}'"
    assert check(line) == f"    kubectl.kubernetes.io/last-applied-configuration: '{FP(value)}'"
    as_json = json.dumps({"kubectl.kubernetes.io/last-applied-configuration": value, "team": "a"})
    expected = {"kubectl.kubernetes.io/last-applied-configuration": FP(value), "team": "a"}
    assert check(as_json) == json.dumps(expected)  # composed: the decoded value is fingerprinted


def test_redact_object_secret_annotation_keys_and_no_mutation() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"data":{"p":"cHc="}}',
                "team": "a",
            },
        },
        "data": {"password": "cHctMjk=", "empty": None},
        "stringData": {"url": "postgres://u:pw-30@h/db"},
    }
    frozen = copy.deepcopy(obj)
    out = redact_object(obj)
    assert obj == frozen  # never mutated
    assert out["data"] == {"password": FP("cHctMjk="), "empty": None}
    assert out["stringData"] == {"url": FP("postgres://u:pw-30@h/db")}
    assert out["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": FP('{"data":{"p":"cHc="}}'),
        "team": "a",
    }
    assert out["metadata"]["name"] == "db"
    assert redact_object(out) == out


def test_redact_object_secret_looking_keys_and_references() -> None:
    obj = {
        "spec": {
            "password": "pw-31",
            "apiKey": "ak-32",
            "credentials": "c-33",
            "tokenSecretRef": {"name": "x", "key": "token"},
            "db_password": "var.db_password",
            "secretName": "tls",
            "token": "",
            "port": 5432,
            "retries": [1, 2],
            "env": [{"name": "DB_PASSWORD", "value": "pw-34"}, {"name": "MODE", "value": "fast"}],
            "note": "connect with postgres://u:pw-35@h/db",
        },
        "pair": ('password = "pw-36"', 1),
    }
    out = redact_object(obj)
    spec = out["spec"]
    assert (
        spec["password"] == FP("pw-31")
        and spec["apiKey"] == FP("ak-32")
        and spec["credentials"] == FP("c-33")
    )
    assert spec["tokenSecretRef"] == {"name": "x", "key": "token"}
    assert (spec["db_password"], spec["secretName"], spec["token"], spec["port"]) == (
        "var.db_password",
        "tls",
        "",
        5432,
    )
    assert spec["env"] == [{"name": "DB_PASSWORD", "value": FP("pw-34")}, {"name": "MODE", "value": "fast"}]
    assert spec["note"] == f"connect with postgres://u:{FP('pw-35')}@h/db"
    assert out["pair"] == (f'password = "{FP("pw-36")}"', 1)


# ---------------------------------------------------------------------------------- canaries

CANARIES = {
    "tf": "CANARY-tf-password-1a",
    "url": "CANARY-url-password-2b",
    "bearer": "CANARY-bearer-token-3c",
    "key": "CANARY-private-key-4d",
    "conn": "CANARY-conn-string-5e",
    "sops": "CANARY-sops-6f",
    "string_data": "CANARY-string-data-7g",
    "data": "CANARY-base64-data-8h",
}


def canary_estate(root: Path) -> None:
    c = CANARIES
    files = {
        "stacks/db/main.tf": f'resource "x" "db" {{\n  username = "app"\n  password = "{c["tf"]}"\n}}\n',
        "stacks/app/values.yaml": f"database:\n  url: postgres://app:{c['url']}@db:5432/app\n",
        "scripts/call.sh": f'curl -H "Authorization: Bearer {c["bearer"]}" https://api\n',
        "keys/deploy.pem": f"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXkt\n{c['key']}\n"
        "-----END OPENSSH PRIVATE KEY-----\n",
        "apps/settings.json": json.dumps({"ConnectionStrings": {"db": f"Server=db;Password={c['conn']};"}}),
        "secrets/prod.enc.yaml": f"password: ENC[AES256_GCM,data:{c['sops']},iv:aXY=,tag:dGFn,type:str]\n",
        "k8s/secret.yaml": (
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\n"
            f"stringData:\n  config.yaml: {c['string_data']}\n"
            f"data:\n  blob: {base64.b64encode(c['data'].encode()).decode()}\n"
        ),
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def leaks(payload: object) -> list[str]:
    text = json.dumps(payload, default=str)
    found = []
    for canary in CANARIES.values():
        b64 = base64.b64encode(canary.encode()).decode()
        found += [needle for needle in (canary, b64, b64.rstrip("=")) if needle in text]
    return found


def test_no_canary_leaves_any_repo_tool(tmp_path: Path) -> None:
    canary_estate(tmp_path)
    jail = Jail(tmp_path)
    results = [
        repo_search(jail, "CANARY"),
        repo_search(jail, "CANARY", context=3),
        repo_search(jail, "Q0FOQVJZ"),  # base64 of "CANARY"
        repo_search(jail, "PRIVATE KEY", context=2),
        repo_count(jail, "CANARY"),
        repo_list(jail),
    ]
    listing = repo_list(jail).data
    results += [repo_read(jail, entry["path"]) for entry in listing]
    assert len(results) == 6 + len(CANARIES) - 1  # one file per canary, two canaries share the Secret
    for result in results:
        shown = {"output": result.output, "data": result.data, "error": result.error, "value": result.value}
        assert leaks(shown) == [], (result.tool, result.args)
    hits = repo_search(jail, "CANARY")
    assert hits.value == 7  # every canary line is found, and every one is shown redacted
    # every hit is shown redacted; the key's second line is blank: its block became one fingerprint line
    assert [hit["text"].count("<redacted:sha256:") for hit in hits.data] == [1, 1, 0, 1, 1, 1, 1]


def test_no_canary_of_any_class_leaves_the_repo_tools_themselves(tmp_path: Path) -> None:
    """Every class of ``tests/canaries.py``, read by the repo tools directly (before the ledger's guard)."""
    jail = Jail(plant_estate(tmp_path))
    files = sorted(estate_files()) + sorted(snapshot_files())
    results = [repo_read(jail, f) for f in files]
    results += [
        repo_search(jail, p, context=3, max_results=1000) for p in ("CANARY", "=|:", "sk-|SG\\.|hooks")
    ]
    results += [repo_search(jail, "CANARY", path="cluster"), repo_count(jail, "CANARY"), repo_list(jail)]
    assert [r.status for r in results if r.status != "ok"] == []
    for result in results:
        shown = {"output": result.output, "data": result.data, "error": result.error}
        assert canary_leaks(shown) == [], (result.tool, result.args)
