"""Docs, scripts, CI files and assets for the generated bench estate.

Runbooks in the shape of ``examples/homelab/docs/runbooks`` (imperative ``kubectl``/``helm``/``ssh``
steps; some cite files that do not exist), decision records, maintenance scripts, Grafana dashboards
(JSON that is not a Kubernetes object), stack READMEs, Woodpecker and GitHub Actions CI, Renovate and
``.infra-audit.yaml``.
"""

from __future__ import annotations

import json
import random


def runbook(rng: random.Random, app: str, ns: str, path: str) -> str:
    steps = [
        f"kubectl scale deploy {app} -n {ns} --replicas={rng.randint(2, 4)}",
        f'kubectl -n {ns} patch deploy {app} --type merge -p \'{{"spec":{{"paused":false}}}}\'',
        f"helm upgrade {app} {app}/{app} -n {ns} --reuse-values --set image.tag=latest",
        f"ssh root@pve systemctl restart {app}-nfs",
        f"kubectl -n {ns} rollout restart deploy/{app}",
        f"kubectl -n {ns} logs deploy/{app} --tail=100",
    ]
    chosen = rng.sample(steps, k=3)
    fix = "\n".join(f"{i + 1}. Run:\n\n   ```\n   {s}\n   ```\n" for i, s in enumerate(chosen))
    return f"""# Runbook: {app} is unavailable

- Last reviewed: 2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}
- Owner: lab owner

## Symptoms

Uptime Kuma shows `{app}` down; Grafana shows the pod restarting in `{ns}`.

## Check

```
kubectl -n {ns} get pods -l app={app}
kubectl -n {ns} describe pod -l app={app}
```

The stack is defined in `{path}`.

## Fix

{fix}
## Verify

```
kubectl -n {ns} get deploy {app}
```
"""


def decision(n: int, app: str, topic: str) -> str:
    return f"""# {n:04d}. {topic} for {app}

- Status: accepted
- Date: 2025-0{n % 9 + 1}-1{n % 10}

## Context

{app} needed a decision about {topic.lower()}: the default chart behaviour did not fit the lab.

## Decision

- {topic} is applied to {app} on purpose (`stacks/{app}/main.tf`).
- Audits should report it as a documented decision, not as a defect.

## Consequences

Revisit when the lab gets a fourth node.
"""


def script(app: str) -> str:
    return f"""#!/usr/bin/env bash
# Maintenance helper for {app}: dump, rotate, and notify.
set -euo pipefail

NS="{app}"
kubectl -n "$NS" exec deploy/{app} -- {app}-cli export > "/backups/{app}-$(date +%F).json"
find /backups -name '{app}-*.json' -mtime +14 -delete
kubectl -n "$NS" annotate deploy/{app} homelab/last-export="$(date -Iseconds)" --overwrite
curl -fsS -X POST "https://ntfy.home.example.net/maintenance" -d "{app} exported"
"""


def dashboard(app: str, panels: int) -> str:
    return (
        json.dumps(
            {
                "title": f"{app} overview",
                "uid": f"{app[:20]}-ov",
                "schemaVersion": 39,
                "tags": ["homelab", app],
                "panels": [
                    {
                        "id": i,
                        "type": "timeseries",
                        "title": f"{app} panel {i}",
                        "targets": [
                            {"expr": f'sum(rate(http_requests_total{{job="{app}"}}[5m]))', "refId": "A"}
                        ],
                        "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i // 2) * 8},
                    }
                    for i in range(panels)
                ],
            },
            indent=2,
        )
        + "\n"
    )


def stack_readme(app: str, ns: str, kinds: list[str]) -> str:
    return (
        f"# {app}\n\nNamespace `{ns}`. Workloads: {', '.join(kinds) or 'none (Helm only)'}.\n\n"
        "Apply with `terragrunt apply` in this directory; the root `terragrunt.hcl` supplies the\n"
        "backend and providers. Variables are documented in `variables.tf`.\n"
    )


WOODPECKER = """# CI for the lab repo. Runs on every push and pull request.
when:
  - event: [push, pull_request]

steps:
  - name: fmt
    image: hashicorp/terraform:1.9.8
    commands:
      - terraform fmt -check -recursive stacks modules
  - name: lint
    image: cytopia/yamllint:1.26
    commands:
      - yamllint -c .yamllint.yaml gitops
"""

GITHUB_CI = """name: ci

on:
  pull_request:
  push:
    branches: [main]

jobs:
  lint:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - name: kubeconform
        run: |
          kustomize build gitops/clusters/prod | kubeconform -strict -ignore-missing-schemas
"""

RENOVATE = """{
  "$schema": "https://docs.renovatebot.com/renovate-schema.json",
  "extends": ["config:recommended"],
  "enabledManagers": ["flux", "helm-values", "kubernetes"]
}
"""

INFRA_AUDIT = """# Risks the lab owner has reviewed and accepted.
accepted_risks:
  - check: REL-PVC-NO-BACKUP
    subject: PersistentVolumeClaim/registry/registry-data
    reason: "Mirror cache only; rebuilt from git."
    until: 2027-06-30
"""
