"""Terraform and Terragrunt text for the generated bench estate, other than the Kubernetes objects.

Copied from the bundled home-lab estate (``examples/homelab``) and varied: ``helm_release`` blocks
(pinned or not; ``templatefile``, ``yamlencode`` or ``set`` values), ``null_resource`` and
``terraform_data`` with ``local-exec``/``remote-exec``/``file`` provisioners and ``timestamp()``
triggers, Kyverno policies and a Deployment as ``kubernetes_manifest``, modules (local, git with and
without ``ref``, registry with and without ``version``), required providers (constrained or not),
variables, and Terragrunt includes, dependencies and inputs. Deterministic for a given
``random.Random``; the Kubernetes resources are in ``bench/estate_workloads.py``.
"""

from __future__ import annotations

import random

from bench.estate_workloads import blk, ident, resource

HELM_CHARTS = (
    ("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "65.1.1"),
    ("loki", "https://grafana.github.io/helm-charts", "6.18.0"),
    ("redis", "oci://registry-1.docker.io/bitnamicharts", "20.2.1"),
    ("postgresql", "oci://registry-1.docker.io/bitnamicharts", "16.0.5"),
    ("traefik", "https://traefik.github.io/charts", "32.1.1"),
    ("cert-manager", "https://charts.jetstack.io", "v1.16.1"),
    ("external-dns", "https://kubernetes-sigs.github.io/external-dns/", "1.15.0"),
    ("longhorn", "https://charts.longhorn.io", "1.7.2"),
    ("velero", "https://vmware-tanzu.github.io/helm-charts", "7.2.1"),
    ("kyverno", "https://kyverno.github.io/kyverno/", "3.3.3"),
    ("argo-cd", "https://argoproj.github.io/argo-helm", "7.7.5"),
    ("metallb", "https://metallb.github.io/metallb", "0.14.8"),
)


def helm_release(
    rng: random.Random, stack: str, ns_expr: str, chart: tuple[str, str, str], mode: str, pinned: bool
) -> str:
    chart_name, repo, version = chart
    head = [
        f'name       = "{stack}-{chart_name}"',
        f"namespace  = {ns_expr}",
        f'repository = "{repo}"',
        f'chart      = "{chart_name}"' + (f'\nversion    = "{version}"' if pinned else "") + "\n",
    ]
    if mode == "templatefile":
        head.append(
            f'values = [templatefile("${{path.module}}/values.yaml", {{\n'
            f'  host = "{stack}.${{var.lab_domain}}"\n}})]\n'
        )
    elif mode == "yamlencode":
        head.append(f"""values = [yamlencode({{
  replicaCount = {rng.choice((1, 2, 3))}
  resources = {{
    requests = {{
      cpu    = "100m"
      memory = "128Mi"
    }}
  }}
  persistence = {{
    enabled = true
    size    = "{rng.choice((5, 10, 20))}Gi"
  }}
}})]
""")
    sets = [
        blk("set", f'name  = "extra.setting{i}"', f'value = "{rng.choice(("true", "1", "on"))}"')
        for i in range(rng.randint(1, 3))
    ]
    return resource("helm_release", f"{ident(stack)}_{ident(chart_name)}", *head, "\n\n".join(sets))


def provisioners(rng: random.Random, stack: str, ns: str, n: int) -> str:
    res, out = ident(stack), []
    for i in range(n):
        kind = rng.choice(("local", "remote", "data", "timestamp"))
        if kind == "remote":
            connection = blk(
                "connection",
                'type        = "ssh"',
                "host        = var.master_host",
                'user        = "root"',
                'private_key = file("~/.ssh/homelab")',
            )
            copy = blk(
                'provisioner "file"',
                "content     = local.host_config",
                f'destination = "/etc/{stack}/host-{i}.conf"',
            )
            restart = blk(
                'provisioner "remote-exec"',
                f'inline = [\n  "systemctl restart {stack}-agent",\n'
                f'  "until systemctl is-active {stack}-agent; do sleep 5; done",\n]',
            )
            triggers = "triggers = {\n  config_sha = sha256(local.host_config)\n}\n"
            out.append(
                f"# The host side of {stack} has no provider; the config is copied over SSH.\n"
                + resource(
                    "null_resource", f"{res}_host_{i}", triggers, connection + "\n", copy + "\n", restart
                )
            )
        elif kind == "data":
            command = f'command = "kubectl -n {ns} rollout status deploy/{stack} --timeout=300s"'
            triggers = f"triggers_replace = [var.{res}_version]\n"
            out.append(
                resource(
                    "terraform_data", f"{res}_ready_{i}", triggers, blk('provisioner "local-exec"', command)
                )
            )
        elif kind == "timestamp":
            command = (
                f'command = "kubectl label nodes k8s-node{i + 1} '
                f'topology.home.example.net/{stack}=true --overwrite"'
            )
            triggers = "triggers = {\n  always = timestamp()\n}\n"
            out.append(
                resource(
                    "null_resource", f"{res}_labels_{i}", triggers, blk('provisioner "local-exec"', command)
                )
            )
        else:
            loop = (
                f'for u in ${{join(" ", local.{res}_users)}}; do '
                f"kubectl -n {ns} exec deploy/{stack} -- {stack}-cli user add $u; done"
            )
            triggers = f'triggers = {{\n  users = join(",", local.{res}_users)\n}}\n'
            out.append(
                f"# No provider for the {stack} admin API (yet), so it goes through kubectl.\n"
                + resource(
                    "null_resource",
                    f"{res}_bootstrap_{i}",
                    triggers,
                    blk('provisioner "local-exec"', f'command = "{loop}"'),
                )
            )
    return "\n".join(out)


def kyverno_policy(name: str, action: str, pattern: str) -> str:
    return f"""resource "kubernetes_manifest" "policy_{ident(name)}" {{
  manifest = {{
    apiVersion = "kyverno.io/v1"
    kind       = "ClusterPolicy"
    metadata = {{
      name = "{name}"
    }}
    spec = {{
      validationFailureAction = "{action}"
      background              = true
      rules = [{{
        name = "{name}"
        match = {{
          any = [{{ resources = {{ kinds = ["Pod"] }} }}]
        }}
        validate = {{
          message = "{name} is required."
          pattern = {{
            spec = {{
              containers = [{pattern}]
            }}
          }}
        }}
      }}]
    }}
  }}
}}
"""


def manifest_deployment(name: str, ns: str, image: str, probes: bool) -> str:
    probe = '\n            readinessProbe = { httpGet = { path = "/ready", port = 8080 } }' if probes else ""
    return f"""resource "kubernetes_manifest" "{ident(name)}" {{
  manifest = {{
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata = {{
      name      = "{name}"
      namespace = "{ns}"
    }}
    spec = {{
      replicas = 1
      selector = {{ matchLabels = {{ app = "{name}" }} }}
      template = {{
        metadata = {{ labels = {{ app = "{name}" }} }}
        spec = {{
          containers = [{{
            name      = "{name}"
            image     = "{image}"
            resources = {{ requests = {{ cpu = "50m", memory = "64Mi" }} }}{probe}
          }}]
        }}
      }}
    }}
  }}
}}
"""


def route_module(app: str, ns: str, svc_res: str, port: int) -> str:
    return f"""module "{ident(app)}_route" {{
  source = "../../modules/ingress-route"

  name         = "{app}"
  namespace    = {ns}
  host         = "{app}.${{var.lab_domain}}"
  service_name = kubernetes_service_v1.{svc_res}.metadata[0].name
  service_port = {port}
}}
"""


def remote_module(rng: random.Random, stack: str, i: int) -> str:
    git = "git::https://git.example.com/homelab/tf-modules.git//dns-records"
    source = {
        "git-ref": f'source = "{git}?ref=v1.{i}.0"',
        "git-noref": f'source = "{git}"',
        "registry": 'source  = "terraform-aws-modules/s3-bucket/aws"\n  version = "4.2.1"',
        "registry-nover": 'source = "terraform-aws-modules/s3-bucket/aws"',
    }[rng.choice(("git-ref", "git-noref", "registry", "registry-nover"))]
    return (
        f'module "{ident(stack)}_extra_{i}" {{\n  {source}\n\n  zone    = var.lab_domain\n'
        f'  records = ["{stack}", "{stack}-admin"]\n}}\n'
    )


def required_providers(rng: random.Random, helm: bool, null: bool) -> str:
    providers = ['kubernetes = {\n  source  = "hashicorp/kubernetes"\n  version = "~> 2.33"\n}']
    if helm:
        providers.append('helm = {\n  source  = "hashicorp/helm"\n  version = "~> 2.16"\n}')
    if null:
        version = '\n  version = "~> 3.2"' if rng.random() < 0.6 else ""
        providers.append(f'null = {{\n  source = "hashicorp/null"{version}\n}}')
    return blk("terraform", blk("required_providers", *providers)) + "\n"


def variable(name: str, type_: str, default: str, description: str | None = None) -> str:
    desc = f'\ndescription = "{description}"' if description else ""
    return blk(f'variable "{name}"', f"type        = {type_}{desc}\ndefault     = {default}") + "\n"


def variables(stack: str, ns: str, version: str, extra: int) -> str:
    out = [
        variable("namespace", "string", f'"{ns}"', f"Namespace for {stack}."),
        variable(
            f"{ident(stack)}_version",
            "string",
            f'"{version}"',
            f"{stack} release; every component of the stack must match.",
        ),
        variable("lab_domain", "string", '"home.example.net"'),
        variable("master_host", "string", '"10.0.10.10"'),
    ]
    out += [
        variable(
            f"{ident(stack)}_setting_{i}",
            "string",
            f'"{i * 7 % 13}"',
            f"Tuning knob {i} of {stack}; see the upstream docs.",
        )
        for i in range(extra)
    ]
    return "\n".join(out)


def terragrunt(stack: str, ns_override: str | None, deps: list[str]) -> str:
    out = [blk('include "root"', "path = find_in_parent_folders()")]
    if deps:
        out.append(blk("dependencies", "paths = [" + ", ".join(f'"../{d}"' for d in deps) + "]"))
    if ns_override:
        out.append(
            f'# {stack} lives in the "{ns_override}" namespace (the variable default differs).\n'
            + blk("inputs", f'namespace = "{ns_override}"')
        )
    return "\n\n".join(out) + "\n"


ROOT_TERRAGRUNT = """# Root Terragrunt configuration for the generated bench lab.
# Every stack under stacks/ includes this file with find_in_parent_folders().

locals {
  lab_domain  = "home.example.net"
  master_host = "10.0.10.10"
}

remote_state {
  backend = "s3"

  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }

  config = {
    bucket           = "tfstate"
    key              = "homelab/${path_relative_to_include()}/terraform.tfstate"
    region           = "us-east-1"
    endpoint         = "https://minio.home.example.net"
    force_path_style = true
  }
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOF
provider "kubernetes" {
  config_path    = "~/.kube/config"
  config_context = "homelab-admin"
}
EOF
}

inputs = {
  lab_domain  = local.lab_domain
  master_host = local.master_host
}
"""

LOCK_FILE = """# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/kubernetes" {{
  version     = "2.33.0"
  constraints = "~> 2.33"
  hashes = [
    "h1:{h1}",
    "zh:{h2}",
  ]
}}
"""

MODULE_MAIN = """# The {name} module: a Traefik route with the lab wildcard certificate.

terraform {{
  required_providers {{
    kubernetes = {{
      source  = "hashicorp/kubernetes"
      version = ">= 2.20"
    }}
  }}
}}

resource "kubernetes_manifest" "{res}" {{
  manifest = {{
    apiVersion = "traefik.io/v1alpha1"
    kind       = "IngressRoute"
    metadata = {{
      name      = var.name
      namespace = var.namespace
    }}
    spec = {{
      entryPoints = ["websecure"]
      routes = [{{
        kind  = "Rule"
        match = "Host(`${{var.host}}`)"
        services = [{{
          name = var.service_name
          port = var.service_port
        }}]
      }}]
      tls = {{
        secretName = "wildcard-home-example-net"
      }}
    }}
  }}
}}
"""

MODULE_VARIABLES = "\n".join(
    blk(f'variable "{n}"', f"type = {t}") + "\n"
    for n, t in (
        ("name", "string"),
        ("namespace", "string"),
        ("host", "string"),
        ("service_name", "string"),
        ("service_port", "number"),
    )
)

MODULE_OUTPUTS = 'output "name" {\n  value = var.name\n}\n\noutput "host" {\n  value = var.host\n}\n'
