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
locals {
  extra = { for k, v in var.labels : k => v if v != null }
  names = [for s in ["a", "b"] : upper(s)]
}

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
    assert applies(spec, {}, cluster=False, scoped_out=True)  # told the left-out files, it skips them
    where = Where(estate="examples/homelab", snapshot_dirs=("cluster",), excluded=("test/web.yaml",))
    assert shell(spec, where) == (
        "python3 tools/checks/reproduce_scripts/objects_count.py examples/homelab REL-PROBE-ANY"
        " cluster test/web.yaml"
    )


RBAC_AND_STRATEGIES = """\
resource "kubernetes_cluster_role_v1" "reader" {
  metadata {
    name = "reader"
  }
  rule {
    api_groups = [""]
    resources  = ["secrets"]
    verbs      = ["get"]
  }
}

resource "kubernetes_cluster_role_v1" "apps" {
  metadata {
    name = "apps-star"
  }
  rule {
    api_groups = ["apps"]
    resources  = ["*"]
    verbs      = ["get"]
  }
}

resource "kubernetes_role_v1" "named_like_a_wildcard" {
  metadata {
    name      = "star-*-role"
    namespace = "shop"
  }
  rule {
    api_groups = [""]
    resources  = ["configmaps"]
    verbs      = ["get"]
  }
}

resource "kubernetes_stateful_set_v1" "db" {
  metadata {
    name      = "postgres"
    namespace = "shop"
  }
  spec {
    replicas     = 1
    service_name = "postgres"
    update_strategy {
      type = "OnDelete"
    }
    template {
      spec {
        container {
          name  = "postgres"
          image = "postgres:16"
        }
      }
    }
  }
}

resource "kubernetes_deployment_v1" "exporter" {
  metadata {
    name      = "postgres-exporter"
    namespace = "shop"
  }
  spec {
    replicas = 1
    strategy {
      type = "Recreate"
    }
    template {
      spec {
        container {
          name  = "exporter"
          image = "prometheuscommunity/postgres-exporter:0.15"
        }
      }
    }
  }
}
"""


def test_rbac_strategies_and_singletons_count_as_the_checks_do(tmp_path: Path) -> None:
    """Look-alikes: a ClusterRole with ``*`` resources outside the core group (a wildcard, not a Secret
    reader), a Role whose *name* has a ``*``, a Deployment with Recreate (no OnDelete), a
    postgres-exporter (serves the database, is not one)."""
    root = tmp_path / "estate"
    files = {"stacks/rbac/main.tf": RBAC_AND_STRATEGIES}
    expected = {
        "SEC-RBAC-WILDCARD": 1,  # apps-star
        "SEC-RBAC-SECRETS": 1,  # reader
        "REL-STS-ONDELETE": 1,  # postgres
        "SCA-SINGLETON-INFRA": 1,  # postgres, not postgres-exporter
    }
    for check, count in expected.items():
        detection = detect(root, files, check)
        assert detection.count == count, (check, [loc.subject for loc in detection.locations])
        assert recount(root, check) == count, check


PROVIDERS = """\
terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.30"
    }
    helm = {
      source = "hashicorp/helm"
    }
    legacy = "~> 1.0"
  }
}

locals {
  # required_providers { fake = { source = "not/a/provider" } } in a comment is not one
  text = <<EOT
terraform {
  required_providers {
    heredoc = { source = "not/either" }
  }
}
EOT
}
"""
GENERATE = """\
generate "versions" {
  path      = "versions.tf"
  if_exists = "overwrite"
  contents  = <<EOF
terraform {
  required_providers {
    null = {
      source = "hashicorp/null"
    }
  }
}
EOF
}
"""


def test_the_provider_command_reads_required_providers_and_terragrunt_generate_only(tmp_path: Path) -> None:
    """helm (no version) and null (written by a Terragrunt generate block) are unconstrained; a bare
    string is a constraint; a comment and a heredoc outside a generate block are not providers."""
    root = tmp_path / "estate"
    files = {"stacks/app/main.tf": PROVIDERS, "stacks/app/terragrunt.hcl": GENERATE}
    detection = detect(root, files, "MNT-PROVIDER-UNCONSTRAINED")
    assert (detection.count, detection.total) == (2, 4)
    assert recount(root, "MNT-PROVIDER-UNCONSTRAINED") == 2


def test_the_deprecated_api_command_counts_removed_types_and_versions_not_their_successors(
    tmp_path: Path,
) -> None:
    """kubernetes_cron_job (batch/v1beta1) counts, kubernetes_cron_job_v1 does not; a YAML document on
    batch/v1beta1 counts, one on batch/v1 and a commented-out apiVersion do not."""
    cron = 'resource "{t}" "gc" {{\n  metadata {{\n    name = "gc"\n  }}\n}}\n'
    files = {
        "stacks/app/main.tf": cron.format(t="kubernetes_cron_job") + cron.format(t="kubernetes_cron_job_v1"),
        "apps/old.yaml": "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata: {name: old, namespace: a}\n",
        "apps/new.yaml": "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: new, namespace: a}\n"
        "# apiVersion: batch/v1beta1 (before the upgrade)\n",
    }
    root = tmp_path / "estate"
    assert detect(root, files, "MNT-DEPRECATED-API").count == 2
    assert recount(root, "MNT-DEPRECATED-API") == 2
