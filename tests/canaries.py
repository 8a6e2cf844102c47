"""Canary secrets of every class the redactor must catch, and the non-secrets it must leave alone.

Each canary is unique to its class: ``CANARY-<class>-<tail>`` where the format allows a free value,
else a realistic token shape (a Slack webhook, a SendGrid key, a Telegram bot token...) whose tail is
derived from the class name. Tails come from sha256 of the class name, never from a random generator,
so every run plants the same bytes. ``plant_estate`` writes them into an estate (HCL, YAML, a
tfstate, docs, scripts) with a cluster snapshot inside it (``cluster/``), beside the non-secrets that
must stay readable: key names, a git SHA, a Helm ``checksum/config`` annotation, an image digest, a
``password: string`` type map, ``${VAR}`` references.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from textwrap import dedent
from typing import Any

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64 = _ALNUM + "+/"
_HEX = "0123456789abcdef"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def tail(name: str, size: int, alphabet: str = _ALNUM) -> str:
    """``size`` characters of ``alphabet``, a deterministic function of ``name``."""
    out, counter = "", 0
    while len(out) < size:
        digest = hashlib.sha256(f"{name}/{counter}".encode()).digest()
        out += "".join(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return out[:size]


def _plain(name: str) -> str:
    return f"CANARY-{name}-{tail(name, 10, _HEX)}"


def _b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# Values that are secret because of where they are written (structure, key, header, command line).
PLAIN_CLASSES = (
    "tf-secret-data",
    "tf-secret-v1-string-data",
    "tf-secret-heredoc",
    "tf-secret-binary",
    "tf-var-password",
    "tf-var-key",
    "tf-var-sensitive",
    "tf-var-heredoc",
    "tf-var-map",
    "tf-output-sensitive",
    "tf-manifest-secret",
    "tf-set-sensitive",
    "tf-secret-call",
    "vault-header",
    "api-key-header",
    "mysql-p",
    "mysql-password-flag",
    "pgpassword",
    "tfstate-result",
    "tfstate-bcrypt",
    "tfstate-sensitive-attr",
    "tfstate-output",
    "tfstate-k8s-data",
    "doc-var-default",
    "tf-parse-error",
    "yaml-parse-error",
    "yaml-int-tag",
    "kustomize-secret-literal",
    "kustomize-secret-env",
    "flux-substitute-secret",
    "snapshot-unread-reason",
    "live-env-password",
    "live-mysql-args",
    "live-last-applied",
    "live-event-header",
    "live-secret-data",
)
PLAIN: dict[str, str] = {name: _plain(name) for name in PLAIN_CLASSES}

# The 14 token shapes, each under a neutral key (``value:``, ``NOTIFY=``, an env entry named ``HOOK``).
TOKENS: dict[str, str] = {
    "slack-webhook": "https://hooks.slack.com/services/T"
    + tail("slack-t", 9, _UPPER)
    + "/B"
    + tail("slack-b", 9, _UPPER)
    + "/"
    + tail("slack-webhook", 24),
    "sendgrid": f"SG.{tail('sendgrid-a', 22)}.{tail('sendgrid-b', 43)}",
    "azure-account-key": tail("azure-account-key", 86, _B64) + "==",
    "twilio": "AC" + tail("twilio", 32, _HEX),
    "telegram": "8" + tail("telegram-id", 8, "0123456789") + ":" + tail("telegram", 35),
    "pypi": "pypi-AgEIcHlwaS5vcmc" + tail("pypi", 80),
    "openai": f"sk-{tail('openai-a', 20)}T3BlbkFJ{tail('openai-b', 20)}",
    "anthropic": f"sk-ant-api03-{tail('anthropic', 93)}AA",
    "hex-blob": tail("hex-blob", 64, _HEX),
    "base64-blob": "Q2" + tail("base64-blob", 58, _B64) + "==",
    "github": "ghp_" + tail("github", 36),
    "aws": "AKIA" + tail("aws", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    "slack-bot": f"xoxb-{tail('slack-bot-a', 11, '0123456789')}-{tail('slack-bot-b', 24).lower()}",
    "jwt": ".".join(
        (_b64url({"alg": "HS256", "typ": "JWT"}), _b64url({"sub": tail("jwt", 16)}), tail("jwt-sig", 43))
    ),
}
SNAPSHOT_TOKENS = ("telegram", "slack-webhook", "sendgrid", "twilio")  # also planted in the cluster

GIT_SHA = tail("git-sha", 40, _HEX)
CHECKSUM = tail("helm-checksum", 64, _HEX)
DIGEST = "sha256:" + tail("image-digest", 64, _HEX)


def secrets() -> dict[str, str]:
    """Every canary by class."""
    return {**PLAIN, **{f"token-{k}": v for k, v in TOKENS.items()}}


def forms() -> list[str]:
    """Every string that must never appear: each canary, its unique tail, and base64 of each plain one."""
    out: set[str] = set()
    for value in secrets().values():
        out |= {value, value[-12:]}
    for value in PLAIN.values():
        encoded = base64.b64encode(value.encode()).decode()
        out |= {encoded, encoded.rstrip("=")[:-4]}
    return sorted(out)


def leaked(payload: object) -> list[str]:
    """The canary forms found in ``payload`` (text, bytes, or anything JSON can show)."""
    if isinstance(payload, bytes):
        return [f for f in forms() if f.encode() in payload]
    text = payload if isinstance(payload, str) else json.dumps(payload, default=str)
    return [f for f in forms() if f in text]


# Non-secrets: each must still be readable after redaction, exactly as written.
KEPT = (
    f"commit: {GIT_SHA}",
    f"checksum/config: {CHECKSUM}",
    f"image: registry.local/app@{DIGEST}",
    "password: string",
    "token: ${GITHUB_TOKEN}",
    "password = var.db_password",
    "db_password",
    "X-Vault-Token",
    "AccountKey=",
    "config.json",
)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def estate_files() -> dict[str, str]:
    p, t = PLAIN, TOKENS
    main_tf = dedent(
        f"""\
        variable "db_password" {{
          type    = string
          default = "{p["tf-var-password"]}"
        }}

        variable "storage_account_key" {{
          default = "{p["tf-var-key"]}"
        }}

        variable "notify_target" {{
          sensitive = true
          default   = "{p["tf-var-sensitive"]}"
        }}

        variable "api_token" {{
          default = <<-EOT
            {p["tf-var-heredoc"]}
          EOT
        }}

        variable "admin_credentials" {{
          type = object({{ user = string, password = string }})
          default = {{
            user     = "admin"
            password = "{p["tf-var-map"]}"
          }}
        }}

        resource "kubernetes_secret" "db" {{
          metadata {{
            name      = "db"
            namespace = "app"
          }}
          data = {{
            username = "app"
            password = var.db_password
            dsn      = "{p["tf-secret-data"]}"
          }}
        }}

        resource "kubernetes_secret_v1" "api" {{
          metadata {{ name = "api" }}
          string_data = {{
            "config.json" = <<-EOT
              {{"user": "${{var.db_user}}", "key": "{p["tf-secret-heredoc"]}"}}
            EOT
            plain = "{p["tf-secret-v1-string-data"]}"
          }}
          binary_data = {{ blob = "{_b64(p["tf-secret-binary"])}" }}
        }}

        resource "kubernetes_manifest" "extra" {{
          manifest = {{
            apiVersion = "v1"
            kind       = "Secret"
            metadata   = {{ name = "extra", namespace = "app" }}
            stringData = {{
              config = "{p["tf-manifest-secret"]}"
            }}
          }}
        }}

        resource "helm_release" "db" {{
          name  = "db"
          chart = "postgresql"
          set_sensitive {{
            name  = "auth.extra"
            value = "{p["tf-set-sensitive"]}"
          }}
        }}

        locals {{
          encoded_password = base64encode("{p["tf-secret-call"]}")
        }}

        module "net" {{
          source = "git::https://git.local/net.git?ref={GIT_SHA}"
        }}

        output "admin" {{
          value     = "{p["tf-output-sensitive"]}"
          sensitive = true
        }}

        resource "kubernetes_deployment_v1" "app" {{
          metadata {{
            name      = "app"
            namespace = "app"
          }}
          spec {{
            template {{
              spec {{
                container {{
                  name  = "app"
                  image = "registry.local/app@{DIGEST}"
                  env {{
                    name  = "DB_PASSWORD"
                    value = var.db_password
                  }}
                }}
              }}
            }}
          }}
        }}
        """
    )
    state = {
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 7,
        "lineage": "5f1c0c8e-1d1b-4b7e-9c55-0e6a1f2b3c4d",
        "outputs": {
            "admin": {"value": p["tfstate-output"], "type": "string", "sensitive": True},
            "endpoint": {"value": "db.app.svc", "type": "string"},
        },
        "resources": [
            {
                "mode": "managed",
                "type": "random_password",
                "name": "db",
                "provider": 'provider["registry.terraform.io/hashicorp/random"]',
                "instances": [
                    {
                        "schema_version": 3,
                        "attributes": {
                            "id": "none",
                            "length": 24,
                            "result": p["tfstate-result"],
                            "bcrypt_hash": p["tfstate-bcrypt"],
                        },
                        "sensitive_attributes": [],
                    }
                ],
            },
            {
                "mode": "managed",
                "type": "azurerm_linux_virtual_machine",
                "name": "vm",
                "instances": [
                    {
                        "attributes": {
                            "id": "/subscriptions/x/vm",
                            "custom_data": p["tfstate-sensitive-attr"],
                        },
                        "sensitive_attributes": [[{"type": "get_attr", "value": "custom_data"}]],
                    }
                ],
            },
            {
                "mode": "managed",
                "type": "kubernetes_secret",
                "name": "db",
                "instances": [{"attributes": {"id": "app/db", "data": {"dsn": p["tfstate-k8s-data"]}}}],
            },
            {
                "mode": "managed",
                "type": "random_pet",
                "name": "name",
                "instances": [{"attributes": {"id": "bold-heron", "length": 2}}],
            },
        ],
    }
    suffix = "EndpointSuffix=core.windows.net"
    workloads = dedent(
        f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: notifier
          namespace: app
        spec:
          replicas: 1
          template:
            metadata:
              annotations:
                checksum/config: {CHECKSUM}
            spec:
              containers:
                - name: notifier
                  image: registry.local/app@{DIGEST}
                  env:
                    - name: HOOK
                      value: {t["slack-webhook"]}
                    - name: MAILER
                      value: "{t["sendgrid"]}"
                    - name: CHAT
                      value: {t["telegram"]}
                    - name: GITHUB_TOKEN
                      value: ${{GITHUB_TOKEN}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: notifier
          namespace: app
        data:
          commit: {GIT_SHA}
          account: {t["twilio"]}
          index: {t["pypi"]}
          llm: {t["openai"]}
          assistant: {t["anthropic"]}
          digest_of_nothing: plain
          value: {t["hex-blob"]}
          blob: {t["base64-blob"]}
          azure: "DefaultEndpointsProtocol=https;AccountName=app;AccountKey={t["azure-account-key"]};{suffix}"
        """
    )
    gateway = dedent(
        f"""\
        routes:
          - match: /vault
            headers:
              X-Vault-Token: {p["vault-header"]}
              X-Api-Key: "{p["api-key-header"]}"
              X-Request-Id: keep-me
        schema:
          password: string
          token: ${{GITHUB_TOKEN}}
        """
    )
    script = dedent(
        f"""\
        #!/bin/sh
        set -eu
        curl -fsS -H "X-Vault-Token: {p["vault-header"]}" https://vault.local/v1/secret/db
        mysql -h db -u root -p{p["mysql-p"]} app < dump.sql
        mysqldump --password={p["mysql-password-flag"]} app > dump.sql
        PGPASSWORD={p["pgpassword"]} psql -h pg -U app -c 'select 1'
        export TOKEN="${{VAULT_TOKEN}}"
        """
    )
    runbook = dedent(
        f"""\
        # Runbook

        The outage was fixed in {GIT_SHA}; roll back to it if the notifier fails again.
        The old keys were {t["aws"]} and {t["github"]} (rotated), the bot was {t["slack-bot"]}
        and the session {t["jwt"]}.

        ```hcl
        variable "db_password" {{
          default = "{p["doc-var-default"]}"
        }}
        ```
        """
    )
    return {
        "stacks/app/main.tf": main_tf,
        "stacks/app/terraform.tfstate": json.dumps(state, indent=2) + "\n",
        "k8s/notifier.yaml": workloads,
        "k8s/gateway.yaml": gateway,
        "scripts/backup.sh": script,
        "docs/runbook.md": runbook,
        # does not parse: the parser's message quotes the offending token, a string here
        "stacks/broken/main.tf": f'locals {{\n  admin_password = "{p["tf-parse-error"]}" "oops"\n}}\n',
        # YAML that does not parse: a secret on the line before the syntax error, and one whose tag it
        # does not fit (the YAML library's message quotes such a value, with no key beside it)
        "k8s/broken-password.yaml": broken_yaml("broken", f'password: "{p["yaml-parse-error"]}"\n  : oops ['),
        "k8s/broken-tag.yaml": broken_yaml("tagged", f"db_password: !!int {p['yaml-int-tag']}"),
        # built by Kustomize (a secretGenerator) and deployed by Flux, which substitutes a Secret's value
        # into the Deployment: the generated Secret and the substituted env value hold it, no record does
        "k8s/kustomize/kustomization.yaml": dedent(
            f"""\
            resources: [relay.yaml]
            secretGenerator:
              - name: relay-creds
                literals: [password={p["kustomize-secret-literal"]}]
                envs: [relay.env]
            """
        ),
        "k8s/kustomize/relay.env": f"DB_PASSWORD={p['kustomize-secret-env']}\n",
        "k8s/kustomize/relay.yaml": dedent(
            """\
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: relay, namespace: app}
            spec:
              template:
                spec:
                  containers:
                    - name: relay
                      image: ghcr.io/example/relay:1.0.0
                      env:
                        - {name: UPSTREAM_TOKEN, value: "${RELAY_TOKEN}"}
            """
        ),
        "clusters/relay.yaml": dedent(
            f"""\
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {{name: relay, namespace: flux-system}}
            spec:
              path: ./k8s/kustomize
              sourceRef: {{kind: GitRepository, name: flux-system}}
              postBuild:
                substituteFrom: [{{kind: Secret, name: relay-vars}}]
            ---
            apiVersion: v1
            kind: Secret
            metadata: {{name: relay-vars, namespace: flux-system}}
            stringData:
              RELAY_TOKEN: {p["flux-substitute-secret"]}
            """
        ),
    }


def broken_yaml(name: str, data: str) -> str:
    """A ConfigMap whose ``data`` is ``data`` (indented by the caller past its first line)."""
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {data}\n"


def _list(items: list[dict[str, Any]]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=2) + "\n"


def _meta(name: str, namespace: str | None = "app", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": f"uid-{name}", "creationTimestamp": "2026-11-01T00:00:00Z"}
    if namespace:
        meta["namespace"] = namespace
    return {**meta, **extra}


def snapshot_files() -> dict[str, str]:
    p, t = PLAIN, TOKENS
    container = {
        "name": "notifier",
        "image": f"registry.local/app@{DIGEST}",
        "args": ["sh", "-c", f"mysql -h db -u root -p{p['live-mysql-args']} app"],
        "env": [
            {"name": "DB_PASSWORD", "value": p["live-env-password"]},
            {"name": "CHAT", "value": t["telegram"]},
            {"name": "MAILER", "value": t["sendgrid"]},
        ],
    }
    applied = {"kind": "Deployment", "spec": {"env": [{"name": "X", "value": p["live-last-applied"]}]}}
    annotations = {
        "checksum/config": CHECKSUM,
        "kubectl.kubernetes.io/last-applied-configuration": json.dumps(applied),
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta("notifier", annotations=annotations),
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "notifier"}},
            "template": {
                "metadata": {"labels": {"app": "notifier"}, "annotations": {"checksum/config": CHECKSUM}},
                "spec": {"containers": [container]},
            },
        },
        "status": {"replicas": 1, "readyReplicas": 1},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta("notifier-7d9f-abcde", labels={"app": "notifier"}),
        "spec": {"containers": [container], "nodeName": "node-1"},
        "status": {
            "phase": "Running",
            "containerStatuses": [{"name": "notifier", "ready": True, "restartCount": 0}],
        },
    }
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta("notifier", annotations={"checksum/config": CHECKSUM}),
        "data": {"hook": t["slack-webhook"], "account": t["twilio"], "commit": GIT_SHA},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta("db"),
        "type": "Opaque",
        "data": {"password": _b64(p["live-secret-data"])},
    }
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": _meta("notifier.1"),
        "involvedObject": {"kind": "Pod", "name": "notifier-7d9f-abcde", "namespace": "app"},
        "reason": "Unhealthy",
        "type": "Warning",
        "message": f"Readiness probe failed: curl -H 'X-Vault-Token: {p['live-event-header']}' http://vault",
        "count": 3,
        "lastTimestamp": "2026-11-19T10:00:00Z",
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("app", None)}
    header = {
        "format": "infra-audit-snapshot/1",
        "cluster": "canary",
        "context": "canary-admin",
        "captured_at": "2026-11-20T09:00:00Z",
        "server_version": "v1.30.4",
    }
    return {
        "cluster/_snapshot.json": json.dumps(header, indent=2) + "\n",
        "cluster/apps.v1.deployments.json": _list([deployment]),
        "cluster/core.v1.pods.json": _list([pod]),
        "cluster/core.v1.configmaps.json": _list([configmap]),
        "cluster/core.v1.secrets.json": _list([secret]),
        "cluster/core.v1.events.json": _list([event]),
        "cluster/core.v1.namespaces.json": _list([namespace]),
    }


def plant_estate(root: Path) -> Path:
    """Write the canary estate (with its snapshot in ``cluster/``) under ``root``; returns ``root``."""
    for rel, text in {**estate_files(), **snapshot_files()}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
