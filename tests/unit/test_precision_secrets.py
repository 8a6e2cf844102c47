"""Precision corpus, secrets (issue 10): SEC-PLAINTEXT-SECRET and SEC-DEFAULT-CREDENTIALS.

Negatives: each is one trap class the check must not count (references, placeholders, type maps,
SOPS, example files, comments, docs code blocks, a chart's documented default). Each asserts an empty
result; all but the ones marked ``already`` were counted by the check before issue 10. Positives
assert the exact locations, and that one credential in many files is one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from precision import context, detect, found, write

from tools.checks.spec import get_detector

pytestmark = pytest.mark.unit

PW = "Xq7vLm2RtZ9wPk4s"  # a credential-looking literal no placeholder rule matches
TOKEN = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5"  # GitHub's shape: ghp_ + 36

NEGATIVES: dict[str, dict[str, str]] = {
    "op-reference": {"config/app.yaml": 'password: "op://infra/db/password"\n'},
    "vault-reference": {"config/app.yaml": 'token: "vault:secret/data/app#token"\n'},
    "vals-reference": {"config/app.yaml": 'db_password: "ref+vault://secret/db#/password"\n'},
    "env-reference (already)": {"config/app.yaml": "password: ${DB_PASSWORD}\n"},
    "angle placeholder (already)": {"config/app.yaml": 'password: "<your password here>"\n'},
    "changeme": {"config/app.yaml": 'password: "changeme"\n'},
    "ellipsis": {"config/app.yaml": 'api_key: "..."\n'},
    "xxx": {"config/app.yaml": 'token: "xxxxxxxxxxxx"\n'},
    "example": {"config/app.yaml": 'password: "example-password"\n'},
    "foobar": {"config/app.yaml": 'password: "foobar"\n'},
    "abc123": {"config/app.yaml": 'password: "abc123"\n'},
    "type map": {"schema/db.json": '{"password": "String", "token": "SecureString"}\n'},
    "type map lower (already)": {"schema/db.json": '{"password": "string"}\n'},
    "example file": {".env.example": f'DB_PASSWORD="{PW}"\n'},
    "sample file": {"deploy/values.sample.yaml": f'password: "{PW}"\n'},
    "comment": {"config/app.yaml": f'# password: "{PW}"\nuser: app\n'},
    "trailing comment": {"config/app.yaml": f'user: app  # password: "{PW}"\n'},
    "docs code block": {"README.md": f'Run:\n\n```\nexport DB_PASSWORD="{PW}"\n```\n'},
    "sops ciphertext (already)": {
        "secrets/db.yaml": "password: ENC[AES256_GCM,data:q1w2e3,iv:a,tag:b,type:str]\n"
    },
    "sops metadata block (already)": {
        "secrets/db.enc.yaml": """
            password: ENC[AES256_GCM,data:q1w2e3,iv:a,tag:b,type:str]
            sops:
                age:
                    - recipient: age1qyqszqgpqyqszqgpqyqszqgpqyqszqgp
                      enc: |
                        -----BEGIN AGE ENCRYPTED FILE-----
                        YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBhYmNkZWZnaGlqa2xt
                        -----END AGE ENCRYPTED FILE-----
                lastmodified: "2026-01-01T00:00:00Z"
                mac: ENC[AES256_GCM,data:zz,iv:a,tag:b,type:str]
                version: 3.9.1
            """
    },
    "chart default in values": {"charts/grafana/values.yaml": 'adminPassword: "prom-operator"\n'},
    "aws docs key (already)": {"scripts/env.sh": "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n"},
    "private key placeholder": {
        "docs/tls.md": "```\n-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n```\n"
    },
}


@pytest.mark.parametrize("case", sorted(NEGATIVES))
def test_not_a_plaintext_secret(tmp_path: Path, case: str) -> None:
    d = detect(tmp_path, NEGATIVES[case], "SEC-PLAINTEXT-SECRET")
    assert (d.count, found(d)) == (0, [])


POSITIVES = {
    "stacks/db/main.tf": f"""
        resource "kubernetes_secret_v1" "db" {{
          data = {{
            password = "{PW}"
          }}
        }}
        """,
    "apps/api/.env": f"DB_PASSWORD={PW}\nLOG_LEVEL=info\n",
    "apps/worker/config.yaml": f'database:\n  url: "postgres://app:{PW}@db:5432/app"\n',
    "apps/legacy/app.config": "conn: Server=db;User Id=sa;Password=Mh8sQz2LkV7nRt4w;\n",
    "scripts/release.sh": f"# GH_TOKEN={TOKEN}\ngh release create v1\n",
    "keys/deploy.pem": """
        -----BEGIN OPENSSH PRIVATE KEY-----
        b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
        -----END OPENSSH PRIVATE KEY-----
        """,
}


def test_plaintext_secrets_found_and_one_credential_counted_once(tmp_path: Path) -> None:
    d = detect(tmp_path, POSITIVES, "SEC-PLAINTEXT-SECRET")
    assert found(d) == [
        ("apps/api/.env:1", "password assignment"),
        ("apps/legacy/app.config:1", "connection string"),
        ("apps/worker/config.yaml:2", "URL credential"),
        ("keys/deploy.pem:1", "private key"),
        ("scripts/release.sh:1", "API token"),
        ("stacks/db/main.tf:3", "password assignment"),
    ]
    # PW sits in three files (a .tf literal, a .env line, a URL): one credential; the others are one each
    assert d.count == 4
    assert d.measures == {"locations": 6, "files": 6, "secret_manifests": 0}
    shared = [loc.detail for loc in d.locations if loc.detail and "at 3 places in 3 files" in loc.detail]
    assert len(shared) == 3
    shown = d.model_dump_json()
    assert PW not in shown and TOKEN not in shown


def test_one_credential_in_many_files_is_one_finding(tmp_path: Path) -> None:
    files = {f"clusters/site{i}/app.yaml": f'db_password: "{PW}"\n' for i in range(68)}
    files["clusters/other/app.yaml"] = 'db_password: "Zr5tYp8qWn3mKc6v"\n'
    d = detect(tmp_path, files, "SEC-PLAINTEXT-SECRET")
    assert d.count == 2
    assert d.measures == {"locations": 69, "files": 69, "secret_manifests": 0}
    assert sum(1 for loc in d.locations if loc.detail and "at 68 places in 68 files" in loc.detail) == 68


def test_two_copies_of_one_secret_manifest_are_one_credential(tmp_path: Path) -> None:
    secret = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: db
          namespace: {ns}
        stringData:
          password: "{pw}"
        """
    files = {
        "apps/a/secret.yaml": secret.format(ns="a", pw=PW),
        "apps/b/secret.yaml": secret.format(ns="b", pw=PW),
        "apps/c/secret.yaml": secret.format(ns="c", pw="Zr5tYp8qWn3mKc6v"),
    }
    d = detect(tmp_path, files, "SEC-PLAINTEXT-SECRET")
    assert found(d) == [
        ("apps/a/secret.yaml:7", "Secret/a/db"),
        ("apps/b/secret.yaml:7", "Secret/b/db"),
        ("apps/c/secret.yaml:7", "Secret/c/db"),
    ]
    assert d.count == 2


SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n{body}\n"


@pytest.mark.parametrize(
    "body",
    [
        "stringData:\n  password: ${DB_PASSWORD}\n  user: app",  # envsubst / Flux postBuild substitution
        'stringData:\n  password: "changeme"',
        "data:\n  password: Y2hhbmdlbWU=",  # base64 of changeme
    ],
)
def test_a_secret_manifest_of_references_or_placeholders_is_not_plaintext(tmp_path: Path, body: str) -> None:
    d = detect(tmp_path, {"apps/db/secret.yaml": SECRET.format(body=body)}, "SEC-PLAINTEXT-SECRET")
    assert (d.count, found(d)) == (0, [])


def test_a_secret_manifest_in_an_example_file_is_not_plaintext(tmp_path: Path) -> None:
    files = {"apps/db/secret.example.yaml": SECRET.format(body=f"stringData:\n  password: {PW}")}
    d = detect(tmp_path, files, "SEC-PLAINTEXT-SECRET")
    assert (d.count, found(d)) == (0, [])


def test_default_credentials_are_their_own_finding(tmp_path: Path) -> None:
    files = {
        "charts/grafana/values.yaml": 'adminPassword: "prom-operator"\n',
        "infrastructure/minio/helmrelease.yaml": """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata:
              name: minio
            spec:
              values:
                rootPassword: minioadmin
            """,
        "apps/api/config.yaml": 'password: "admin"\n',  # not a chart's values: a weak plaintext secret
        "charts/app/values.yaml": 'password: "changeme"  # a placeholder in values is a default too\n',
        "charts/commented/values.yaml": '# adminPassword: "admin"\n',
    }
    write(tmp_path, files)
    ctx = context(tmp_path)
    defaults = get_detector("SEC-DEFAULT-CREDENTIALS")(ctx)
    assert found(defaults) == [
        ("charts/app/values.yaml:1", "values.yaml"),
        ("charts/grafana/values.yaml:1", "values.yaml"),
        ("infrastructure/minio/helmrelease.yaml:7", "helmrelease.yaml"),
    ]
    plaintext = get_detector("SEC-PLAINTEXT-SECRET")(ctx)
    assert found(plaintext) == [("apps/api/config.yaml:1", "password assignment")]
    shown = defaults.model_dump_json() + plaintext.model_dump_json()
    evidence = json.dumps([ctx.toolbox.ledger.data(e.id) for e in ctx.toolbox.ledger.items()])
    assert not [v for v in ("prom-operator", "minioadmin") if v in shown or v in evidence]
