"""A small estate written for the intent challenger's tests, and the way to challenge its findings.

The base estate has, on purpose, one finding per topic the decision fixtures talk about: containers
with a CPU request and no CPU limit (and no memory limit), a standalone MySQL next to a second
single-replica app, privileged workloads, Kyverno policies in Audit, Terraform ``ignore_changes``
with the lifecycle marker, ``timestamp()`` triggers, and namespaces without a ResourceQuota or
LimitRange. Each test adds the decision text it is about and reads the one verdict it expects.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from agents.offline.challenge_intent import challenge_intent
from agents.offline.research import finding_from_outcome
from domain.findings import RawFinding, Verdict
from tools.checks.runner import run_check
from tools.checks.spec import CheckContext, spec_by_id
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.inventory import Inventory
from tools.registry import Toolbox
from tools.sandbox import Jail

DATE = "2026-11-20"


def _deployment(name: str, ns: str, resources: str, extra: str = "", replicas: int = 1) -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns}
spec:
  replicas: {replicas}
  strategy:
    type: Recreate
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: example/{name}:1.2.3
{textwrap.indent(extra, "          ")}          resources:
{textwrap.indent(resources, "            ")}
"""


MYSQL = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: mysql
  namespace: dbaas
spec:
  replicas: 1
  serviceName: mysql
  selector:
    matchLabels: {app: mysql}
  template:
    metadata:
      labels: {app: mysql}
    spec:
      containers:
        - name: mysql
          image: mysql:8.4.3
          resources:
            requests: {cpu: 500m, memory: 1Gi}
            limits: {memory: 2Gi}
  volumeClaimTemplates:
    - metadata: {name: data}
      spec:
        accessModes: [ReadWriteOnce]
        resources: {requests: {storage: 10Gi}}
"""


def _policy(name: str, mode: str) -> str:
    return f"""\
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: {name}
spec:
  validationFailureAction: {mode}
  rules:
    - name: check
      match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}
      validate: {{message: "no", pattern: {{spec: {{containers: [{{name: "*"}}]}}}}}}
"""


TERRAFORM = """\
terraform {
  required_providers {
    null = { source = "hashicorp/null", version = "~> 3.2" }
  }
}

resource "null_resource" "seed" {
  triggers = {
    always = timestamp()
  }
}

resource "null_resource" "rotate" {
  triggers = {
    always = timestamp()
  }
}

resource "kubernetes_deployment_v1" "web" {
  metadata {
    name      = "web"
    namespace = "apps"
  }
  spec {
    template {
      metadata {}
      spec {
        container {
          name  = "web"
          image = "example/web:1.0.0"
        }
      }
    }
  }
  lifecycle {
    # KYVERNO_LIFECYCLE_V1
    ignore_changes = [spec[0].template[0].spec[0].dns_config]
  }
}
"""

PRIVILEGED = "securityContext:\n  privileged: true\n"
BASE: dict[str, str] = {
    "apps/frigate.yaml": _deployment("frigate", "apps", "requests: {cpu: 1500m, memory: 1Gi}\n", PRIVILEGED),
    "apps/grafana.yaml": _deployment("grafana", "apps", "requests: {cpu: 100m, memory: 128Mi}\n"),
    "apps/coral.yaml": _deployment(
        "coral", "apps", "requests: {cpu: 100m}\nlimits: {memory: 1Gi}\n", PRIVILEGED
    ),
    "dbaas/mysql.yaml": MYSQL,
    "policies/require-requests.yaml": _policy("require-requests", "Audit"),
    "policies/disallow-latest.yaml": _policy("disallow-latest", "Audit"),
    "stacks/app/main.tf": TERRAFORM,
    "namespaces.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: dbaas}\n",
}


@dataclass
class _Ctx:
    """The two things the intent challenger asks of its run."""

    _toolbox: Toolbox
    _inventory: Inventory
    date: str = DATE

    def toolbox(self) -> Toolbox:
        return self._toolbox

    def inventory(self) -> Inventory:
        return self._inventory


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def challenge(root: Path, docs: dict[str, str], checks: list[str], base: bool = True) -> dict[str, Verdict]:
    """Write the base estate and ``docs``, run ``checks``, challenge their findings: verdict by check."""
    return challenge_outcome(root, docs, checks, base)[0]


def challenge_outcome(
    root: Path, docs: dict[str, str], checks: list[str], base: bool = True
) -> tuple[dict[str, Verdict], list[str]]:
    """``challenge``, and the gaps the challenger reported."""
    write(root, {**(BASE if base else {}), **docs})
    inventory = build_inventory(root)
    toolbox = Toolbox(Jail(root), None, Ledger())
    ctx = CheckContext(inventory=inventory, toolbox=toolbox)
    findings: list[RawFinding] = []
    for seq, check in enumerate(checks, start=1):
        spec = spec_by_id(check)
        outcome = run_check(spec, ctx)
        assert outcome.detection.count > 0, f"the fixture must give {check} a finding"
        findings.append(finding_from_outcome(spec.concern, seq, outcome))
    outcome = challenge_intent(findings, _Ctx(toolbox, inventory), DATE)  # type: ignore[arg-type]
    by_id = {f.id: f.check for f in findings}
    return {str(by_id[v.finding]): v for v in outcome.verdicts}, outcome.gaps


def subjects(root: Path, check: str) -> list[str]:
    """Every subject the check reports on the estate as written (before any challenge)."""
    inventory = build_inventory(root)
    ctx = CheckContext(inventory=inventory, toolbox=Toolbox(Jail(root), None, Ledger()))
    return sorted(loc.subject for loc in run_check(spec_by_id(check), ctx).detection.locations)
