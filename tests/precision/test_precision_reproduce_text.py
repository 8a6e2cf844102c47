"""The text checks' standard-tool commands (issue 11) print what the checks count, on the trap classes of
each check's context rules, and a secret's command prints a number, never a value.

The commands are reader scripts of ``tools/checks/reproduce_scripts/`` with their own rules (the
standard library and PyYAML): they agree with the detector on every class here, so a systematic
disagreement on an estate is a bug in one of the two.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import detect

from tools.checks.reproduce import SCRIPTS, Where, shell
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import spec_by_id
from tools.sandbox import Jail


def recount(root: Path, check: str, key: str = "count", skip: tuple[str, ...] = ()) -> float | None:
    spec = spec_by_id(check).reproduce[key]
    printed = run_spec(spec, Jail(root), Where(estate=str(root), snapshot_dirs=skip), None)
    assert printed.error is None, printed.error
    return printed.value


# ------------------------------------------------------------------------------ SEC-PLAINTEXT-SECRET

PW = "Trap-PW-4d1c9e"  # the one credential held in two places
URLPW = "Trap-URL-77a0b3"
BEARER = "Trap-Bearer-0c5e1f"
B64 = base64.b64encode(b"Trap-B64-e3a6d2").decode()
AWS = "Trap/AwsKey+6b0e2c9d41f7a35e8c0b"  # keys that end in a secret word, not in ``secret`` itself
PASSPHRASE = "Trap-Passphrase-5f1a"
COUNTED = (PW, URLPW, BEARER, B64, AWS, PASSPHRASE, "Trap-PW-")
NOT_COUNTED = {
    "placeholders": "a: 1\ndb_password: changeme\napi_key: xxx\ntoken: '${API_TOKEN}'\nsecret: op://vault/item\n",
    "a type map": '{"password": "string", "api_key": "SecureString"}\n',
    "a comment": "# password: Trap-Comment-55b1\nuser: admin\n",
    "an example file": "DB_PASSWORD=Trap-Example-a1b2\n",
    "a sops block": "data: ENC[AES256_GCM,data:abcd,iv:x,tag:y,type:str]\nsops:\n"
    "  mac: ENC[AES256_GCM,data:zz]\n  password: Trap-Sops-c3d4\n",
    "names a Secret": "existingSecret: db-credentials\nbackupTargetCredentialSecret: longhorn-creds\n",
    "prose": "Set the password: ask Bob\n",
    "secret-key references": 'export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY}"\n'
    "secret_key: changeme\nRESTIC_PASSPHRASE_FILE=/run/secrets/restic\n",
    "an ExternalSecret's key names": "kind: ExternalSecret\nspec:\n  data:\n    - secretKey: db-password\n"
    "      remoteRef: {key: paperless, property: Trap-RemoteProp-1c2d}\n",
}
FILES = {
    "stacks/db/main.tf": f'resource "x" "y" {{\n  password = "{PW}"\n  other    = var.password\n}}\n',
    "apps/api/values.yaml": f"env:\n  API_PASSWORD: {PW}\n",  # the same credential, another file
    "scripts/deploy.sh": f'URL="https://bot:{URLPW}@git.example.com/x.git"\n'
    f'curl -H "Authorization: Bearer {BEARER}" https://x\n',
    "apps/wiki/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: wiki, namespace: wiki}\n"
    f"data:\n  db-password: {B64}\n",
    "apps/shop/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: shop, namespace: shop}\n"
    "stringData:\n  DATABASE_USER: shop\n  DATABASE_PASSWORD: '${DB_PASSWORD}'\n",  # a reference: not counted
    "apps/blog/secret.sops.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: blog}\nstringData:\n"
    "  password: ENC[AES256_GCM,data:Zm9v,iv:x,tag:y,type:str]\nsops:\n  version: 3.8.1\n",
    "apps/old/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: old}\ndata:\n"
    f"  password: {base64.b64encode(b'changeme').decode()}\n",  # a placeholder, base64-encoded
    "scripts/offsite.sh": f'export AWS_SECRET_ACCESS_KEY="{AWS}"\nexport RESTIC_PASSPHRASE={PASSPHRASE}\n',
    "docs/runbook.md": "# Runbook\n\n```sh\nexport VAULT_TOKEN=Trap-Fenced-9e8f\n```\n"
    "For example, password: Trap-DocExample-0a0b\n",
    ".gitignore": "local.env\n",
    "local.env": "DB_PASSWORD=Trap-Ignored-2e2e\n",  # gitignored: ripgrep does not read it
    "ops/placeholders.yaml": NOT_COUNTED["placeholders"],
    "ops/types.json": NOT_COUNTED["a type map"],
    "ops/comment.yaml": NOT_COUNTED["a comment"],
    "ops/app.env.example": NOT_COUNTED["an example file"],
    "ops/enc.yaml": NOT_COUNTED["a sops block"],
    "ops/helm.yaml": NOT_COUNTED["names a Secret"],
    "ops/notes.yaml": NOT_COUNTED["prose"],
    "ops/offsite-refs.sh": NOT_COUNTED["secret-key references"],
    "ops/externalsecret.yaml": NOT_COUNTED["an ExternalSecret's key names"],
}  # fmt: skip


@pytest.fixture(scope="module")
def secrets_estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("secrets") / "estate"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)  # .gitignore holds in a repository
    return root


def test_the_secret_command_counts_what_the_check_counts(secrets_estate: Path) -> None:
    found = detect(secrets_estate, {}, "SEC-PLAINTEXT-SECRET")
    assert sorted(loc.ref for loc in found.locations) == [
        "apps/api/values.yaml:2", "apps/wiki/secret.yaml:5", "scripts/deploy.sh:1", "scripts/deploy.sh:2",
        "scripts/offsite.sh:1", "scripts/offsite.sh:2", "stacks/db/main.tf:2",
    ]  # fmt: skip
    expected = {"count": 6, "locations": 7, "files": 5, "secret_manifests": 1}
    assert {"count": found.count, **{k: found.measures[k] for k in expected if k != "count"}} == expected
    for key, value in expected.items():
        assert recount(secrets_estate, "SEC-PLAINTEXT-SECRET", key) == value, key


def test_the_secret_command_prints_a_number_never_a_value(secrets_estate: Path) -> None:
    """Run as the appendix has it, each measure's command prints digits only: no value of the estate,
    counted or not, reaches its stdout or stderr."""
    planted = [*COUNTED, "Trap-"]
    for key in ("count", "locations", "files", "secret_manifests"):
        spec = spec_by_id("SEC-PLAINTEXT-SECRET").reproduce[key]
        command = shell(spec, Where(estate=str(secrets_estate)))
        assert command.startswith(f"python3 tools/checks/reproduce_scripts/secret_count.py {secrets_estate} ")
        argv = [sys.executable, str(SCRIPTS / "secret_count.py"), str(secrets_estate), key]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stdout.strip().isdigit(), key
        assert [p for p in planted if p in done.stdout + done.stderr] == []


def test_a_secret_command_that_fails_names_the_exception_type_only(tmp_path: Path) -> None:
    argv = [sys.executable, str(SCRIPTS / "secret_count.py"), str(tmp_path), "no-such-measure"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr.strip()) == (1, "", "secret_count.py: KeyError")


# ------------------------------------------------------------------ REL-ALERT-GAPS, MNT-ALERTS-NOT-WIRED

FLUX = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {name}, namespace: flux-system}}
spec: {{path: {path}, prune: true, sourceRef: {{kind: GitRepository, name: repo}}}}
"""
PROM_RULE = """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: {name}, namespace: monitoring}}
spec:
  groups:
    - name: g
      rules:
        - record: job:up:sum
          expr: sum(up)
        - alert: {name}
          expr: {expr}
"""


def rule(name: str, expr: str) -> str:
    return PROM_RULE.format(name=name, expr=expr)


RULE_FILE = "groups:\n  - name: f\n    rules:\n      - alert: {name}\n        expr: {expr}\n"
VALUES = """\
additionalPrometheusRulesMap:
  extra:
    groups:
      - name: certs
        rules:
          - alert: CertificateExpiringSoon
            expr: certmanager_certificate_expiration_timestamp_seconds - time() < 86400
"""
ALERT_CASES: dict[str, tuple[dict[str, str], int, int]] = {
    # (files, MNT-ALERTS-NOT-WIRED, REL-ALERT-GAPS)
    "wiring through Flux, an overlay, a path without kustomization; an archive no root reaches": (
        {
            "clusters/prod/apps.yaml": FLUX.format(name="apps", path="./overlays/prod")
            + "---\n" + FLUX.format(name="raw", path="./raw"),
            "overlays/prod/kustomization.yaml": "resources: [../../base]\n",
            "base/kustomization.yaml": "resources: [oom.yaml]\n",
            "base/oom.yaml": rule("ContainerOOMKilled", "increase(container_oom_events_total[5m]) > 0"),
            "raw/cpu.yaml": rule("NodeCPUHigh", "rate(node_cpu_seconds_total[5m]) > 0.9"),
            "archive/kustomization.yaml": "resources: [pvc.yaml]\n",
            "archive/pvc.yaml": PROM_RULE.format(name="PVCFull", expr="kubelet_volume_stats_used_bytes > 0"),
            "base/unlisted.yaml": rule("PodUnschedulable", "kube_pod_status_unschedulable > 0"),
            "monitoring/values.yaml": VALUES,  # Helm values: loaded by the chart, wired
        },
        2,
        3,
    ),
    "by hand: every kustomization applied; a chart's rule file and template": (
        {
            "apps/kustomization.yaml": "resources: [rules.yaml]\n",
            "apps/rules.yaml": PROM_RULE.format(name="KubeJobFailed", expr="kube_job_status_failed > 0"),
            "apps/orphan.yaml": RULE_FILE.format(name="Orphan", expr="x509_cert_expiry < 86400"),
            "charts/alerts/Chart.yaml": "apiVersion: v2\nname: alerts\nversion: 1.0.0\n",
            "charts/alerts/rules/cpu.yaml": RULE_FILE.format(name="NodeCPU", expr="up"),
            "charts/alerts/templates/_rules.tpl":
                '{{- define "r" -}}\n- alert: Unschedulable\n  expr: up\n{{- end }}\n',
        },
        1,
        3,
    ),
    "no kustomization at all: nothing to wire": (
        {"rules/a.yaml": RULE_FILE.format(name="CertificateExpiry", expr="up")},
        0,
        5,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ALERT_CASES))
def test_the_alert_commands_count_what_the_checks_count(tmp_path: Path, case: str) -> None:
    files, not_wired, gaps = ALERT_CASES[case]
    root = tmp_path / "estate"
    assert detect(root, files, "MNT-ALERTS-NOT-WIRED").count == not_wired
    assert detect(root, {}, "REL-ALERT-GAPS").count == gaps
    assert recount(root, "MNT-ALERTS-NOT-WIRED") == not_wired
    assert recount(root, "REL-ALERT-GAPS") == gaps


# --------------------------------------------------------- DEC-IMPERATIVE-DOCS, MNT-RUNBOOK-STALE-PATH

RUNBOOK = """\
# Restore

1. Scale down: `kubectl -n db scale statefulset pg --replicas=0`
2. Never run `kubectl edit`, `kubectl apply`
   or `helm upgrade` by hand; Flux reverts them.
3. To avoid downtime, run `kubectl rollout restart deploy/api` first.
4. Preview: `kubectl apply --dry-run=server -f x.yaml`
5. Look: `kubectl -n vault exec vault-0 -- cat /etc/vault.hcl` and `ssh pve cat /etc/exports`
6. Shell in: `kubectl -n vault exec -it vault-0 -- sh`
7. `ssh pve exportfs -v` lists; `ssh pve exportfs -ra` reloads.
8. Fetch: `scp pve:/etc/exports ./exports`; push: `scp ./exports pve:/etc/exports`
9. `kubectl get pods -n db` and `kubectl logs deploy/api` only read.
"""
DOCS_FILES = {
    "docs/runbooks/restore.md": RUNBOOK,  # steps on lines 3, 6, 9, 10, 11
    "scripts/reload": '#!/bin/sh\nssh "$HOST" systemctl restart nfs-server\n',  # no extension: a script
    "scripts/apply.yaml": "command: kubectl apply -f x.yaml\n",  # YAML: the declarative path
    "Makefile": "deploy:\n\thelm upgrade --install api ./chart\n",
    "CHANGELOG.md": "- ran `kubectl delete pod x` to fix it\n",  # a changelog: DEC-IMPERATIVE-NOTES
    "docs/plans/migrate.md": "kubectl apply -f new.yaml\n",  # a plan: DEC-IMPERATIVE-NOTES
    "apps/api/deploy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: api}\n",
    "docs/paths.md": """\
See `apps/api/deploy.yaml`, [the script](../scripts/reload) and `./apps/api/deploy.yaml`.
Stale: `apps/api/old.yaml`, [moved](runbooks/gone.md), `scripts/missing.sh:12`.
Not paths: `apps/v1`, `https://example.com/a/b.yaml`, `/etc/exports`, `~/.kube/config`, `<app>/values.yaml`.
Templates: `my-service/values.yaml`, `path/to/file.yaml`, `apps/.../x.yaml`, `NNNN-title/x.md`.
Elsewhere: `github.com/org/repo/x.yaml`, `org/repo:charts/x.yaml`, `charts/x.yaml` in the platform repo.
Generated: `stacks/home/terraform.tfstate`; outside: `../../other/x.yaml`.
""",
    ".gitignore": "*.tfstate\n",
    "README.md": "Start with `docs/runbooks/restore.md` and `docs/runbooks/missing.md`.\n",
}


def test_the_docs_commands_count_what_the_checks_count(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    steps = detect(root, DOCS_FILES, "DEC-IMPERATIVE-DOCS")
    runbook = [f"docs/runbooks/restore.md:{n}" for n in (3, 6, 9, 10, 11)]
    assert [loc.ref for loc in steps.locations] == ["Makefile:2", *runbook, "scripts/reload:2"]
    assert recount(root, "DEC-IMPERATIVE-DOCS") == steps.count == 7
    stale = detect(root, {}, "MNT-RUNBOOK-STALE-PATH")
    assert sorted(loc.subject for loc in stale.locations) == [
        "apps/api/old.yaml", "docs/runbooks/missing.md", "runbooks/gone.md", "scripts/missing.sh",
    ]  # fmt: skip
    assert recount(root, "MNT-RUNBOOK-STALE-PATH") == stale.count == 4
