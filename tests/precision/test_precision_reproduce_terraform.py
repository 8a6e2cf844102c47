"""The reader's script (``tools/checks/reproduce_scripts/objects_count.py``) counts Terraform
``kubernetes_*`` workloads as the checks do, and not their look-alikes.

Before it, a check's command read only YAML: an estate of Terraform workloads (the home-lab) had its
claims listed. Look-alikes that must not count: a ``data`` source of the same type, a resource block
inside a heredoc or a comment, a ``helm_release``; and a namespace given by ``var.namespace`` resolves
through the stack's ``terragrunt.hcl`` inputs (the PDB that selects the workload is in that namespace).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from corpus import detect

from tools.checks.reproduce import SCRIPTS, Where, applies, shell
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import spec_by_id
from tools.sandbox import Jail

DEPLOYMENT = """\
resource "kubernetes_deployment_v1" "{name}" {{
  metadata {{
    name      = "{name}"
    namespace = var.namespace
    labels = {{
      app = "{name}"
    }}
  }}
  spec {{
    replicas = {replicas}
    selector {{
      match_labels = {{
        app = "{name}"
      }}
    }}
    template {{
      metadata {{
        labels = {{
          app = "{name}"
        }}
      }}
      spec {{
        container {{
          name  = "{name}"
          image = "ghcr.io/example/{name}:1.0"
{probe}
          security_context {{
            run_as_non_root = {nonroot}
          }}
        }}
      }}
    }}
  }}
}}
"""
PROBE = """\
          readiness_probe {
            http_get {
              path = "/ready"
              port = 8080
            }
          }
          liveness_probe {
            http_get {
              path = "/live"
              port = 8080
            }
          }"""
LOOK_ALIKES = """\
# resource "kubernetes_deployment_v1" "commented" { spec { replicas = 3 } }
data "kubernetes_deployment_v1" "existing" {
  metadata {
    name      = "existing"
    namespace = "shop"
  }
}

resource "helm_release" "chart" {
  name  = "chart"
  chart = "podinfo"
  values = [<<EOT
resource "kubernetes_deployment_v1" "in_a_heredoc" {
  spec { replicas = 5 }
}
EOT
  ]
}

resource "kubernetes_pod_disruption_budget_v1" "web" {
  metadata {
    name      = "web"
    namespace = var.namespace
  }
  spec {
    max_unavailable = 1
    selector {
      match_labels = {
        app = "web"
      }
    }
  }
}
"""
FILES = {
    "stacks/shop/main.tf": DEPLOYMENT.format(name="web", replicas=2, probe=PROBE, nonroot="true")
    + DEPLOYMENT.format(name="api", replicas=2, probe="", nonroot="false")
    + LOOK_ALIKES,
    "stacks/shop/variables.tf": 'variable "namespace" {\n  type    = string\n  default = "wrong"\n}\n',
    "stacks/shop/terragrunt.hcl": 'inputs = {\n  namespace = "shop"\n}\n',
}


def recount(root: Path, check: str) -> float | None:
    spec = spec_by_id(check).reproduce["count"]
    printed = run_spec(spec, Jail(root), Where(estate=str(root)), None)
    assert printed.error is None, printed.error
    return printed.value


def test_terraform_workloads_are_counted_and_their_look_alikes_are_not(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    expected = {"REL-PROBE-ANY": 1, "REL-PROBE-BOTH": 1, "SEC-RUN-AS-ROOT": 1, "REL-NO-PDB": 1}
    for check, count in expected.items():
        detection = detect(root, FILES, check)
        assert detection.count == count, (check, [loc.subject for loc in detection.locations])
        assert recount(root, check) == count, check
    # the PDB of var.namespace (= "shop" by the inputs, not the default "wrong") selects web, not api
    assert [loc.subject for loc in detect(root, FILES, "REL-NO-PDB").locations] == ["Deployment/shop/api"]


def test_the_script_prints_its_objects_without_infra_audit(tmp_path: Path) -> None:
    """The appendix's reader runs the script with python3 alone: it lists the two Deployments and the
    PDB, in the namespace the inputs give, and none of the look-alikes."""
    root = tmp_path / "estate"
    detect(root, FILES, "REL-PROBE-ANY")  # writes the files
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPTS / "k8s_objects.py"), str(root)],
        capture_output=True, text=True, check=True, cwd=SCRIPTS,
    )  # fmt: skip
    assert done.stdout.splitlines() == [
        "Deployment shop/web",
        "Deployment shop/api",
        "PodDisruptionBudget shop/web",
    ]


def test_a_count_of_code_is_exact_only_when_the_check_counted_no_live_object() -> None:
    spec = spec_by_id("REL-PROBE-ANY").reproduce["count"]
    assert spec.when == ("no-live-items",)
    assert applies(spec, {}, cluster=True, live_items=False)
    assert not applies(spec, {}, cluster=True, live_items=True)
    assert not applies(spec, {"rendered_objects": 3}, cluster=False)  # a Helm render is in no file
    assert not applies(spec, {}, cluster=False, scoped_out=True)  # the script reads every file
    where = Where(estate="examples/homelab", snapshot_dirs=("cluster",))
    assert shell(spec, where) == (
        "python3 tools/checks/reproduce_scripts/objects_count.py examples/homelab REL-PROBE-ANY cluster"
    )
