"""Terraform/Terragrunt files to records: every extracted field, exact lines, and what must not appear."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools.inventory.inventory import Records
from tools.inventory.models import PVC, CodeRef, ParseIssue, Resources, SecurityContext, Volume
from tools.inventory.terraform import parse_terraform

pytestmark = pytest.mark.unit


def _write(root: Path, files: dict[str, str | bytes]) -> list[str]:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"))
    return sorted(files)


def _parse(root: Path, files: dict[str, str | bytes]) -> Records:
    return parse_terraform(root, _write(root, files))


def _ref(path: str, line: int, end_line: int | None) -> CodeRef:
    return CodeRef(path=path, line=line, end_line=end_line)


# ------------------------------------------------------------------------- a full Deployment

DEPLOYMENT = """
variable "tag" {
  default = "1.25"
}

locals {
  registry = "ghcr.io/acme"
}

resource "kubernetes_namespace_v1" "apps" {
  metadata {
    name = "apps"
    labels = {
      "pod-security.kubernetes.io/enforce" = "restricted"
    }
  }
}

resource "kubernetes_deployment_v1" "web" {
  metadata {
    name      = "web"
    namespace = kubernetes_namespace_v1.apps.metadata.0.name
    labels = {
      app = "web"
    }
  }

  spec {
    replicas = 3
    selector {
      match_labels = {
        app = "web"
      }
    }
    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "25%"
        max_unavailable = 0
      }
    }
    template {
      metadata {
        labels = { app = "web" }
      }
      spec {
        service_account_name             = "web-sa"
        termination_grace_period_seconds = 45
        host_network                     = true
        security_context {
          run_as_non_root = true
          run_as_user     = 1000
        }
        init_container {
          name  = "migrate"
          image = "${local.registry}/web:${var.tag}"
        }
        container {
          name  = "web"
          image = "${local.registry}/web:${var.tag}"
          port {
            container_port = 8080
          }
          port {
            container_port = 9090
          }
          resources {
            requests = {
              cpu    = "100m"
              memory = "128Mi"
            }
            limits = {
              memory = "256Mi"
            }
          }
          readiness_probe {
            http_get {
              path = "/ready"
              port = 8080
            }
          }
          liveness_probe {
            tcp_socket {
              port = 8080
            }
          }
          startup_probe {
            exec {
              command = ["true"]
            }
          }
          security_context {
            privileged                 = false
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            run_as_user                = "1001"
            capabilities {
              add  = ["NET_BIND_SERVICE"]
              drop = ["ALL"]
            }
          }
          lifecycle {
            pre_stop {
              exec {
                command = ["sleep", "5"]
              }
            }
          }
        }
        container {
          name  = "sidecar"
          image = var.sidecar_image
          resources {
            limits {
              cpu    = 1
              memory = "64Mi"
            }
            requests {
              cpu = "10m"
            }
          }
        }
        volume {
          name = "data"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.data.metadata[0].name
          }
        }
        volume {
          name = "host"
          host_path {
            path = "/var/lib/web"
          }
        }
        volume {
          name = "tmp"
          empty_dir {}
        }
        volume {
          name = "cfg"
          config_map {
            name = "web"
          }
        }
        volume {
          name = "creds"
          secret {
            secret_name = "web"
          }
        }
        volume {
          name = "share"
          nfs {
            server = "10.0.0.1"
            path   = "/export"
          }
        }
        volume {
          name = "proj"
          projected {}
        }
      }
    }
  }
}

resource "kubernetes_persistent_volume_claim_v1" "data" {
  metadata {
    name      = "web-data"
    namespace = "apps"
  }
  spec {
    access_modes       = ["ReadWriteOnce"]
    storage_class_name = "local-path"
    resources {
      requests = {
        storage = "5Gi"
      }
    }
  }
}
"""


def test_deployment_every_field(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"apps/main.tf": DEPLOYMENT})
    assert records.issues == []
    [w] = records.workloads
    assert (w.kind, w.name, w.namespace, w.name_expr) == ("Deployment", "web", "apps", '"web"')
    assert w.namespace_expr == "kubernetes_namespace_v1.apps.metadata.0.name"
    assert (w.origin, w.resource_type) == ("terraform", "kubernetes_deployment_v1")
    assert w.address == "kubernetes_deployment_v1.web"
    assert w.source == _ref("apps/main.tf", 18, 164)
    assert (w.replicas, w.replicas_expr) == (3, None)
    assert (w.strategy, w.max_surge, w.max_unavailable) == ("RollingUpdate", "25%", "0")
    assert (w.termination_grace_period, w.schedule, w.suspend) == (45, None, None)
    assert (w.host_network, w.host_pid, w.host_ipc) == (True, False, False)
    assert w.pod_security == SecurityContext(
        run_as_non_root=True, run_as_user=1000, lines={"run_as_non_root": 50, "run_as_user": 51}
    )
    assert w.service_account == "web-sa"
    assert w.labels == {"app": "web"} and w.selector == {"app": "web"}
    assert w.volume_claim_templates == []

    assert [(c.name, c.init) for c in w.containers] == [("web", False), ("sidecar", False), ("migrate", True)]
    web, sidecar, migrate = w.containers
    assert web.image == "${local.registry}/web:${var.tag}"
    assert web.image_resolved == "ghcr.io/acme/web:1.25"
    assert (web.image_line, web.source) == (59, _ref("apps/main.tf", 57, 108))
    assert web.probes == ["readiness", "liveness", "startup"]
    assert web.resources == Resources(cpu_request="100m", memory_request="128Mi", memory_limit="256Mi")
    assert web.security == SecurityContext(
        privileged=False,
        allow_privilege_escalation=False,
        run_as_user=1001,
        read_only_root_filesystem=True,
        capabilities_add=["NET_BIND_SERVICE"],
        capabilities_drop=["ALL"],
        lines={"privileged": 92, "allow_privilege_escalation": 93, "run_as_user": 95, "capabilities_add": 97},
    )
    assert (web.pre_stop, web.ports) == (True, [8080, 9090])

    assert (sidecar.image, sidecar.image_resolved, sidecar.image_line) == ("var.sidecar_image", None, 111)
    assert sidecar.resources == Resources(cpu_request="10m", cpu_limit="1", memory_limit="64Mi")
    assert (sidecar.probes, sidecar.pre_stop, sidecar.ports) == ([], False, [])
    assert sidecar.security == SecurityContext()

    assert (migrate.image_resolved, migrate.image_line) == ("ghcr.io/acme/web:1.25", 55)
    assert migrate.source == _ref("apps/main.tf", 53, 56)
    assert migrate.probes == [] and migrate.resources == Resources()

    assert w.volumes == [
        Volume(name="data", type="pvc", claim_name="web-data"),
        Volume(name="host", type="host_path", host_path="/var/lib/web"),
        Volume(name="tmp", type="empty_dir"),
        Volume(name="cfg", type="config_map"),
        Volume(name="creds", type="secret"),
        Volume(name="share", type="nfs"),
        Volume(name="proj", type="other"),
    ]
    assert records.pvcs == [
        PVC(
            name="web-data",
            namespace="apps",
            access_modes=["ReadWriteOnce"],
            storage="5Gi",
            storage_class="local-path",
            origin="terraform",
            source=_ref("apps/main.tf", 166, 180),
        )
    ]
    [ns] = records.namespaces
    assert (ns.name, ns.name_expr, ns.pod_security) == ("apps", '"apps"', {"enforce": "restricted"})
    assert ns.source == _ref("apps/main.tf", 9, 16)
    assert [(r.type, r.name, r.source.line) for r in records.resources] == [
        ("kubernetes_namespace_v1", "apps", 9),
        ("kubernetes_deployment_v1", "web", 18),
        ("kubernetes_persistent_volume_claim_v1", "data", 166),
    ]
    assert [(v.name, v.default, v.source.line) for v in records.variables] == [("tag", "1.25", 1)]


# ---------------------------------------------------------------------- every workload type

POD_PATHS = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "job_template", "spec", "template", "spec"),
    "Pod": ("spec",),
}


def _workload_hcl(rtype: str, path: tuple[str, ...]) -> str:
    lines = [f'resource "{rtype}" "w" {{', "  metadata {", '    name = "w"', "  }"]
    for depth, block in enumerate(path, start=1):
        lines.append("  " * depth + block + " {")
    inner = "  " * (len(path) + 1)
    for block, name, image in (("container", "main", "busybox:1.36"), ("init_container", "init", "alpine:3")):
        lines += [f"{inner}{block} {{", f'{inner}  name  = "{name}"', f'{inner}  image = "{image}"']
        lines.append(f"{inner}}}")
    for depth in range(len(path), 0, -1):
        lines.append("  " * depth + "}")
    lines.append("}")
    return "# every workload type\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("rtype", "kind"),
    [
        ("kubernetes_deployment", "Deployment"),
        ("kubernetes_deployment_v1", "Deployment"),
        ("kubernetes_stateful_set", "StatefulSet"),
        ("kubernetes_stateful_set_v1", "StatefulSet"),
        ("kubernetes_daemonset", "DaemonSet"),
        ("kubernetes_daemon_set_v1", "DaemonSet"),
        ("kubernetes_job", "Job"),
        ("kubernetes_job_v1", "Job"),
        ("kubernetes_cron_job", "CronJob"),
        ("kubernetes_cron_job_v1", "CronJob"),
        ("kubernetes_pod", "Pod"),
        ("kubernetes_pod_v1", "Pod"),
    ],
)
def test_every_workload_type_finds_its_pod_spec(tmp_path: Path, rtype: str, kind: str) -> None:
    text = _workload_hcl(rtype, POD_PATHS[kind])
    lines = text.splitlines()
    records = _parse(tmp_path, {"main.tf": text})
    [w] = records.workloads
    assert (w.kind, w.name, w.namespace) == (kind, "w", "default")
    assert (w.resource_type, w.address) == (rtype, f"{rtype}.w")
    assert w.source == _ref("main.tf", 2, len(lines))
    at = lines.index("  " * (len(POD_PATHS[kind]) + 1) + "container {") + 1
    assert [(c.name, c.init, c.image, c.source, c.image_line) for c in w.containers] == [
        ("main", False, "busybox:1.36", _ref("main.tf", at, at + 3), at + 2),
        ("init", True, "alpine:3", _ref("main.tf", at + 4, at + 7), at + 6),
    ]


WORKLOADS = """
resource "kubernetes_stateful_set_v1" "db" {
  metadata {
    name      = "db"
    namespace = "data"
  }
  spec {
    replicas     = var.replicas
    service_name = "db"
    update_strategy {
      type = "OnDelete"
    }
    template {
      spec {
        host_pid = true
        host_ipc = true
        container {
          name  = "pg"
          image = "postgres:16.4"
        }
      }
    }
    volume_claim_template {
      metadata {
        name = "pgdata"
      }
      spec {
        access_modes = ["ReadWriteOnce"]
        resources {
          requests = {
            storage = "10Gi"
          }
        }
      }
    }
  }
}

resource "kubernetes_cron_job_v1" "backup" {
  metadata {
    name      = "backup"
    namespace = "data"
  }
  spec {
    schedule = "0 3 * * *"
    suspend  = true
    job_template {
      metadata {}
      spec {
        template {
          metadata {}
          spec {
            container {
              name  = "backup"
              image = "restic/restic:0.17.3"
            }
          }
        }
      }
    }
  }
}

resource "kubernetes_daemonset" "agent" {
  metadata {
    name = "agent"
  }
  spec {
    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_unavailable = "1"
      }
    }
    template {
      spec {
        container {
          name  = "agent"
          image = "grafana/promtail:3.2.1"
        }
      }
    }
  }
}
"""


def test_statefulset_cronjob_and_daemonset_specifics(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"data/main.tf": WORKLOADS})
    sts, cron, ds = records.workloads
    assert (sts.kind, sts.replicas, sts.replicas_expr) == ("StatefulSet", None, "var.replicas")
    assert sts.strategy == "OnDelete"
    assert (sts.host_pid, sts.host_ipc, sts.host_network) == (True, True, False)
    assert sts.volume_claim_templates == [
        PVC(
            name="pgdata",
            namespace="data",
            access_modes=["ReadWriteOnce"],
            storage="10Gi",
            origin="terraform",
            source=_ref("data/main.tf", 22, 34),
        )
    ]
    assert records.pvcs == []  # claim templates belong to their StatefulSet
    assert (cron.kind, cron.schedule, cron.suspend, cron.replicas, cron.strategy) == (
        "CronJob",
        "0 3 * * *",
        True,
        None,
        None,
    )
    assert [(c.name, c.image, c.image_line) for c in cron.containers] == [
        ("backup", "restic/restic:0.17.3", 54)
    ]
    assert (ds.kind, ds.namespace, ds.strategy, ds.max_unavailable, ds.max_surge) == (
        "DaemonSet",
        "default",
        "RollingUpdate",
        "1",
        None,
    )


# --------------------------------------------------------------------------- resolution


def test_terragrunt_inputs_include_locals_and_defaults(tmp_path: Path) -> None:
    records = _parse(
        tmp_path,
        {
            "terragrunt.hcl": """
                locals {
                  domain = "example.net"
                }
                inputs = {
                  domain    = local.domain
                  image_tag = "2.0"
                }
            """,
            "live/app/terragrunt.hcl": """
                include "root" {
                  path = find_in_parent_folders()
                }
                inputs = {
                  namespace = "prod"
                  image_tag = "3.0"
                  replicas  = dependency.db.outputs.replicas
                }
            """,
            "live/app/variables.tf": """
                variable "namespace" {
                  default = "dev"
                }
                variable "image_tag" {
                  default = "1.0"
                }
                variable "replicas" {
                  default = 1
                }
                variable "domain" {}
                variable "suffix" {
                  default = "x"
                }
            """,
            "live/app/main.tf": """
                locals {
                  name = "web-${var.suffix}"
                }
                resource "kubernetes_deployment" "web" {
                  metadata {
                    name      = "${local.name}.${var.domain}"
                    namespace = var.namespace
                  }
                  spec {
                    replicas = var.replicas
                    template {
                      spec {
                        container {
                          name  = "web"
                          image = "nginx:${var.image_tag}"
                        }
                        container {
                          name  = "side"
                          image = "side:${var.nope}"
                        }
                      }
                    }
                  }
                }
            """,
        },
    )
    [w] = records.workloads
    assert (w.name, w.name_expr) == ("web-x.example.net", '"${local.name}.${var.domain}"')
    assert (w.namespace, w.namespace_expr) == ("prod", "var.namespace")
    # an input that cannot be evaluated hides the default: never guess the default
    assert (w.replicas, w.replicas_expr) == (None, "var.replicas")
    assert [(c.image, c.image_resolved) for c in w.containers] == [
        ("nginx:${var.image_tag}", "nginx:3.0"),
        ("side:${var.nope}", None),
    ]


def test_namespace_references_and_unresolvable_names(tmp_path: Path) -> None:
    records = _parse(
        tmp_path,
        {
            "main.tf": """
                resource "kubernetes_namespace" "ns" {
                  metadata {
                    name = "media"
                  }
                }
                resource "kubernetes_job" "a" {
                  metadata {
                    name      = "a"
                    namespace = kubernetes_namespace.ns.metadata[0].name
                  }
                  spec {
                    template {
                      spec {}
                    }
                  }
                }
                resource "kubernetes_job_v1" "b" {
                  metadata {
                    name      = data.external.x.result.name
                    namespace = kubernetes_namespace.ns.id
                  }
                  spec {}
                }
            """
        },
    )
    a, b = records.workloads
    assert (a.name, a.namespace) == ("a", "media")
    assert a.namespace_expr == "kubernetes_namespace.ns.metadata[0].name"
    assert (b.name, b.name_expr) == (None, "data.external.x.result.name")
    assert (b.namespace, b.namespace_expr) == (None, "kubernetes_namespace.ns.id")
    assert b.containers == []


# ----------------------------------------------------------------------- kubernetes_manifest

MANIFESTS = """
variable "ns" {
  default = "prod"
}

resource "kubernetes_manifest" "api" {
  manifest = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata = {
      name      = "api"
      namespace = var.ns
    }
    spec = {
      replicas = 2
      template = {
        spec = {
          containers = [
            {
              name  = "api"
              image = "nginx:${var.tag}"
            },
          ]
        }
      }
    }
  }
}

resource "kubernetes_manifest" "policy" {
  manifest = yamldecode(<<-EOT
    apiVersion: kyverno.io/v1
    kind: ClusterPolicy
    metadata:
      name: require-limits
    spec:
      validationFailureAction: Enforce
      rules: []
  EOT
  )
}

resource "kubernetes_manifest" "opaque" {
  manifest = var.object
}
"""


def test_kubernetes_manifest_goes_through_the_shared_mapper(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"m/main.tf": MANIFESTS})
    assert [(r.type, r.name, r.manifest_kind, r.source.line) for r in records.resources] == [
        ("kubernetes_manifest", "api", "Deployment", 5),
        ("kubernetes_manifest", "policy", "ClusterPolicy", 29),
        ("kubernetes_manifest", "opaque", None, 42),
    ]
    [w] = records.workloads
    assert (w.kind, w.name, w.namespace, w.replicas) == ("Deployment", "api", "prod", 2)
    assert w.origin == "terraform"
    assert (w.resource_type, w.address) == ("kubernetes_manifest", "kubernetes_manifest.api")
    assert w.source == _ref("m/main.tf", 5, 27)
    [c] = w.containers
    assert (c.name, c.image, c.image_line) == ("api", "nginx:${var.tag}", 20)
    assert c.source == _ref("m/main.tf", 18, None)
    [policy] = records.policies
    assert (policy.engine, policy.kind, policy.name) == ("kyverno", "ClusterPolicy", "require-limits")
    assert policy.mode == "Enforce"
    assert policy.source == _ref("m/main.tf", 29, 40)


def test_yamldecode_of_a_sibling_file_and_kubectl_manifest(tmp_path: Path) -> None:
    records = _parse(
        tmp_path,
        {
            "k/main.tf": """
                resource "kubernetes_manifest" "ns" {
                  manifest = yamldecode(file("${path.module}/ns.yaml"))
                }
                resource "kubectl_manifest" "np" {
                  yaml_body = <<-YAML
                    apiVersion: networking.k8s.io/v1
                    kind: NetworkPolicy
                    metadata:
                      name: deny-all
                      namespace: media
                  YAML
                }
            """,
            "k/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n",
        },
    )
    assert [(r.type, r.manifest_kind) for r in records.resources] == [
        ("kubernetes_manifest", "Namespace"),
        ("kubectl_manifest", "NetworkPolicy"),
    ]
    assert [(n.name, n.source) for n in records.namespaces] == [("media", _ref("k/main.tf", 1, 3))]
    assert [(p.name, p.namespace) for p in records.network_policies] == [("deny-all", "media")]


# ---------------------------------------------------------------------------- helm_release

HELM = """
resource "helm_release" "prom" {
  name       = "kps"
  namespace  = "monitoring"
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "kube-prometheus-stack"
  version    = "65.1.1"
  values = [
    file("values/base.yaml"),
    templatefile("${path.module}/values.yaml", { host = "x" }),
    yamlencode({ a = 1 }),
  ]
  set {
    name  = "grafana.enabled"
    value = "true"
  }
  set_sensitive {
    name  = "adminPassword"
    value = var.password
  }
}

resource "helm_release" "unpinned" {
  name             = "traefik"
  repository       = "https://traefik.github.io/charts"
  chart            = "traefik"
  create_namespace = true
}
"""


def test_helm_release_with_and_without_version(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"stacks/mon/main.tf": HELM})
    prom, unpinned = records.helm_releases
    assert prom.model_dump() == {
        "defined_by": "terraform",
        "name": "kps",
        "namespace": "monitoring",
        "chart": "kube-prometheus-stack",
        "version": "65.1.1",
        "version_line": 6,
        "chart_ref": None,
        "repository": "https://prometheus-community.github.io/helm-charts",
        "values_files": ["stacks/mon/values/base.yaml", "stacks/mon/values.yaml"],
        "set_keys": ["grafana.enabled", "adminPassword"],
        "create_namespace": False,
        "source": {"kind": "code", "path": "stacks/mon/main.tf", "line": 1, "end_line": 20},
    }
    assert (unpinned.name, unpinned.namespace, unpinned.version, unpinned.version_line) == (
        "traefik",
        "default",
        None,
        None,
    )
    assert unpinned.values_files == [] and unpinned.set_keys == [] and unpinned.create_namespace is True
    assert "var.password" not in repr(records)


# --------------------------------------------------------------------------- escape hatches

ESCAPES = """
variable "host" {
  default = "10.0.0.5"
}

resource "null_resource" "all" {
  triggers = {
    always = timestamp()
    sha    = sha256(file("x.sh"))
  }
  connection {
    host = var.host
  }
  provisioner "file" {
    source      = "x.sh"
    destination = "/tmp/x.sh"
  }
  provisioner "remote-exec" {
    connection {
      host = "10.0.0.9"
    }
    inline = ["sh /tmp/x.sh"]
  }
  provisioner "local-exec" {
    command = "echo done"
  }
}

resource "terraform_data" "td" {
  triggers_replace = [var.release]
  provisioner "local-exec" {
    command = "make"
  }
}

resource "terraform_data" "obj" {
  triggers_replace = {
    when = "${timestamp()}"
  }
}

resource "null_resource" "plain" {}
"""


def test_null_resource_and_terraform_data(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"ops/main.tf": ESCAPES})
    dumped = [h.model_dump() for h in records.escape_hatches]
    assert dumped == [
        {
            "resource_type": "null_resource",
            "address": "null_resource.all",
            "provisioners": [
                {"type": "file", "connection_host": "10.0.0.5", "line": 13},
                {"type": "remote-exec", "connection_host": "10.0.0.9", "line": 17},
                {"type": "local-exec", "connection_host": None, "line": 23},
            ],
            "triggers": {"always": "timestamp()", "sha": 'sha256(file("x.sh"))'},
            "timestamp_trigger": True,
            "timestamp_line": 7,
            "source": {"kind": "code", "path": "ops/main.tf", "line": 5, "end_line": 26},
        },
        {
            "resource_type": "terraform_data",
            "address": "terraform_data.td",
            "provisioners": [{"type": "local-exec", "connection_host": None, "line": 30}],
            "triggers": {"*": "[var.release]"},
            "timestamp_trigger": False,
            "timestamp_line": None,
            "source": {"kind": "code", "path": "ops/main.tf", "line": 28, "end_line": 33},
        },
        {
            "resource_type": "terraform_data",
            "address": "terraform_data.obj",
            "provisioners": [],
            "triggers": {"when": '"${timestamp()}"'},
            "timestamp_trigger": True,
            "timestamp_line": 37,
            "source": {"kind": "code", "path": "ops/main.tf", "line": 35, "end_line": 39},
        },
        {
            "resource_type": "null_resource",
            "address": "null_resource.plain",
            "provisioners": [],
            "triggers": {},
            "timestamp_trigger": False,
            "timestamp_line": None,
            "source": {"kind": "code", "path": "ops/main.tf", "line": 41, "end_line": 41},
        },
    ]


# ---------------------------------------------------------------------------- ignore_changes

IGNORES = """
resource "kubernetes_deployment" "a" {
  lifecycle {
    # Kyverno mutates dns_config
    # KYVERNO_LIFECYCLE_V1
    ignore_changes = [spec[0].template[0].spec[0].dns_config]
  }
}

resource "kubernetes_deployment" "b" {
  lifecycle {
    ignore_changes = all # MANUAL_OVERRIDE
  }
}

resource "aws_instance" "c" {
  lifecycle {
    # just a note
    ignore_changes = [
      tags,
      "ami",
    ]
  }
}

resource "aws_instance" "d" {
  # KYVERNO_LIFECYCLE_V1

  lifecycle {
    ignore_changes = [tags]
  }
}

resource "aws_instance" "e" {
  lifecycle {
    create_before_destroy = true
  }
}
"""


def test_ignore_changes_paths_and_markers(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"main.tf": IGNORES})
    assert [(i.address, i.paths, i.marker, i.source) for i in records.ignore_changes] == [
        (
            "kubernetes_deployment.a",
            ["spec[0].template[0].spec[0].dns_config"],
            "KYVERNO_LIFECYCLE_V1",
            _ref("main.tf", 5, 5),
        ),
        ("kubernetes_deployment.b", ["all"], "MANUAL_OVERRIDE", _ref("main.tf", 11, 11)),
        ("aws_instance.c", ["tags", "ami"], None, _ref("main.tf", 18, 21)),
        ("aws_instance.d", ["tags"], None, _ref("main.tf", 29, 29)),
    ]
    # a lifecycle block in a container is a pre_stop hook, not a meta-argument
    assert [w.name for w in records.workloads] == [None, None]


# ------------------------------------------------------------ modules, providers, backends

MODULES = """
module "git_ref" {
  source = "git::https://github.com/acme/mods.git//vpc?ref=v1.2.0"
}
module "git_noref" {
  source = "git@github.com:acme/mods.git"
}
module "gh" {
  source = "github.com/acme/terraform-mod"
}
module "registry" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.1.0"
}
module "local" {
  source = "../modules/x"
}
module "http" {
  source = "https://example.com/mod.zip"
}

terraform {
  required_version = ">= 1.6"
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
    null = {
      source = "hashicorp/null"
    }
    helm = "~> 2.0"
  }
  backend "s3" {
    bucket = "tfstate"
  }
}
"""


def test_modules_providers_and_backend(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"env/main.tf": MODULES})
    assert [(m.name, m.kind, m.ref, m.version, m.source.line) for m in records.modules] == [
        ("git_ref", "git", "v1.2.0", None, 1),
        ("git_noref", "git", None, None, 4),
        ("gh", "git", None, None, 7),
        ("registry", "registry", None, "5.1.0", 10),
        ("local", "local", None, None, 14),
        ("http", "other", None, None, 17),
    ]
    assert records.modules[0].source_url == "git::https://github.com/acme/mods.git//vpc?ref=v1.2.0"
    assert [(p.name, p.provider_source, p.constraint, p.source) for p in records.providers] == [
        ("kubernetes", "hashicorp/kubernetes", "~> 2.33", _ref("env/main.tf", 24, 27)),
        ("null", "hashicorp/null", None, _ref("env/main.tf", 28, 30)),
        ("helm", None, "~> 2.0", _ref("env/main.tf", 31, 31)),
    ]
    assert [(b.type, b.defined_in, b.source) for b in records.backends] == [
        ("s3", "terraform", _ref("env/main.tf", 33, 35))
    ]


def test_terragrunt_source_remote_state_and_generate(tmp_path: Path) -> None:
    records = _parse(
        tmp_path,
        {
            "terragrunt.hcl": """
                remote_state {
                  backend = "s3"
                  config = {
                    bucket = "tfstate"
                  }
                }

                generate "provider" {
                  path     = "provider.tf"
                  contents = <<EOF
                terraform {
                  required_providers {
                    kubernetes = {
                      source  = "hashicorp/kubernetes"
                      version = "2.33.0"
                    }
                  }
                }
                provider "kubernetes" {}
                EOF
                }
            """,
            "vpc/terragrunt.hcl": """
                terraform {
                  source = "tfr:///terraform-aws-modules/vpc/aws?version=5.0.0"
                }
                generate "backend" {
                  path     = "backend.tf"
                  contents = <<-EOF
                    terraform {
                      backend "gcs" {}
                    }
                  EOF
                }
            """,
            "app/terragrunt.hcl": """
                locals {
                  version = "v2"
                }
                terraform {
                  source = "git::git@github.com:acme/mods.git//app?ref=${local.version}"
                }
            """,
        },
    )
    assert [(b.type, b.defined_in, b.source) for b in records.backends] == [
        ("s3", "terragrunt", _ref("terragrunt.hcl", 1, 6)),
        ("gcs", "terragrunt", _ref("vpc/terragrunt.hcl", 8, 8)),
    ]
    assert [(p.name, p.provider_source, p.constraint, p.source) for p in records.providers] == [
        ("kubernetes", "hashicorp/kubernetes", "2.33.0", _ref("terragrunt.hcl", 13, 16))
    ]
    assert [(m.name, m.kind, m.ref, m.version, m.source.path, m.source.line) for m in records.modules] == [
        ("terragrunt", "git", "v2", None, "app/terragrunt.hcl", 4),
        ("terragrunt", "registry", None, "5.0.0", "vpc/terragrunt.hcl", 1),
    ]
    assert records.resources == [] and records.variables == []


# ------------------------------------------------------------------ other Kubernetes objects

OBJECTS = """
resource "kubernetes_pod_disruption_budget_v1" "pdb" {
  metadata {
    name      = "web"
    namespace = "apps"
  }
  spec {
    min_available = 1
    selector {
      match_labels = { app = "web" }
    }
  }
}

resource "kubernetes_horizontal_pod_autoscaler_v2" "hpa" {
  metadata {
    name      = "web"
    namespace = "apps"
  }
  spec {
    min_replicas = 2
    max_replicas = 5
    scale_target_ref {
      kind = "Deployment"
      name = "web"
    }
  }
}

resource "kubernetes_network_policy" "np" {
  metadata {
    name      = "deny"
    namespace = "apps"
  }
  spec {
    pod_selector {}
    policy_types = ["Ingress"]
  }
}

resource "kubernetes_resource_quota_v1" "q" {
  metadata {
    name      = "q"
    namespace = "apps"
  }
}

resource "kubernetes_limit_range" "lr" {
  metadata {
    name      = "lr"
    namespace = "apps"
  }
}

resource "kubernetes_cluster_role_v1" "reader" {
  metadata {
    name = "reader"
  }
  rule {
    api_groups = [""]
    resources  = ["pods", "secrets"]
    verbs      = ["get", "list"]
  }
}

resource "kubernetes_role" "r" {
  metadata {
    name      = "r"
    namespace = "apps"
  }
  rule {
    api_groups = ["apps"]
    resources  = ["deployments"]
    verbs      = ["*"]
  }
}

resource "kubernetes_cluster_role_binding_v1" "crb" {
  metadata {
    name = "reader"
  }
  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.reader.metadata[0].name
  }
  subject {
    kind      = "ServiceAccount"
    name      = "ci"
    namespace = "ci"
  }
}

resource "kubernetes_role_binding" "rb" {
  metadata {
    name      = "rb"
    namespace = "apps"
  }
  role_ref {
    kind = "Role"
    name = "r"
  }
  subject {
    kind = "User"
    name = "alice"
  }
}

resource "kubernetes_secret_v1" "s" {
  metadata {
    name      = "db"
    namespace = "apps"
  }
  data = {
    username = "admin"
    password = "hunter2-super-secret"
  }
}
"""


def test_other_kubernetes_objects_and_secret_keys_only(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"main.tf": OBJECTS})
    [pdb] = records.pdbs
    assert (pdb.name, pdb.namespace, pdb.min_available, pdb.max_unavailable, pdb.selector) == (
        "web",
        "apps",
        "1",
        None,
        {"app": "web"},
    )
    [hpa] = records.hpas
    assert (hpa.target_kind, hpa.target_name) == ("Deployment", "web")
    assert (hpa.min_replicas, hpa.max_replicas) == (2, 5)
    assert hpa.source == _ref("main.tf", 14, 27)
    assert [(n.name, n.namespace) for n in records.network_policies] == [("deny", "apps")]
    assert [(q.kind, q.name) for q in records.quotas] == [("ResourceQuota", "q"), ("LimitRange", "lr")]
    reader, role = records.roles
    assert (reader.kind, reader.name, reader.namespace) == ("ClusterRole", "reader", None)
    assert [r.model_dump() for r in reader.rules] == [
        {"api_groups": [""], "resources": ["pods", "secrets"], "verbs": ["get", "list"], "line": 58}
    ]
    assert (role.kind, role.namespace, role.rules[0].verbs) == ("Role", "apps", ["*"])
    crb, rb = records.bindings
    assert (crb.kind, crb.name, crb.namespace, crb.role_kind, crb.role_name) == (
        "ClusterRoleBinding",
        "reader",
        None,
        "ClusterRole",
        "reader",
    )
    assert [s.model_dump() for s in crb.subjects] == [
        {"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}
    ]
    assert (rb.kind, rb.namespace, rb.role_name, rb.subjects[0].name) == ("RoleBinding", "apps", "r", "alice")
    [secret] = records.secrets
    assert (secret.name, secret.namespace, secret.keys) == ("db", "apps", ["username", "password"])
    assert secret.source == _ref("main.tf", 108, 117)
    assert "hunter2" not in records.model_dump_json()
    assert records.workloads == []


# -------------------------------------------------------------- comments, heredocs, bad files

NOT_CODE = """
# resource "kubernetes_deployment" "hash" {
#   metadata { name = "x" }
# }
// resource "kubernetes_deployment" "slash" {}
/*
resource "kubernetes_deployment" "block" {
  metadata { name = "y" }
}
module "commented" { source = "./nope" }
*/
resource "null_resource" "doc" {
  triggers = {
    doc = <<-EOT
      resource "kubernetes_deployment" "in_heredoc" {}
      module "nope" { source = "./x" }
    EOT
  }
}
locals {
  note = "resource # not a comment"
}
"""


def test_comments_and_heredocs_produce_nothing(tmp_path: Path) -> None:
    records = _parse(tmp_path, {"main.tf": NOT_CODE})
    assert [(r.type, r.name, r.source.line) for r in records.resources] == [("null_resource", "doc", 11)]
    assert records.workloads == [] and records.modules == [] and records.issues == []
    [hatch] = records.escape_hatches
    assert list(hatch.triggers) == ["doc"]


def test_broken_files_are_reported_and_skipped(tmp_path: Path) -> None:
    records = _parse(
        tmp_path,
        {
            "a/broken.tf": 'resource "kubernetes_job" "x" {\n  metadata {\n    name = "x"\n  }\n',
            "a/garbled.tf": 'variable "x" {}\n\nresource "null_resource" "y" {\n  triggers = { a = }\n}\n',
            "a/good.tf": 'resource "null_resource" "ok" {}\n',
            "a/latin1.tf": b'# caf\xe9\nresource "null_resource" "z" {}\n',
            "a/main.tf.json": '{"resource": {}}',
            "a/.terraform/modules/m/main.tf": 'resource "null_resource" "cached" {}\n',
            "a/.terragrunt-cache/x/main.tf": 'resource "null_resource" "cached" {}\n',
        },
    )
    assert records.issues == [
        ParseIssue(
            path="a/broken.tf", line=1, message="syntax error: unclosed block opened on line 1 (missing '}')"
        ),
        ParseIssue(path="a/garbled.tf", line=4, message="syntax error: unexpected 'a ='"),
        ParseIssue(path="a/latin1.tf", line=1, message="not valid UTF-8", reason="encoding"),
        ParseIssue(
            path="a/main.tf.json",
            message="skipped: Terraform JSON syntax (.tf.json) is not parsed",
            reason="unsupported",
        ),
    ]
    assert [(r.type, r.name) for r in records.resources] == [("null_resource", "ok")]
    assert records.variables == [] and records.workloads == []


def test_opaque_terragrunt_inputs_and_counted_resources(tmp_path: Path) -> None:
    records = _parse(
        tmp_path,
        {
            "tg/terragrunt.hcl": """
                inputs = merge(local.common, { extra = 1 })
            """,
            "tg/main.tf": """
                variable "ns" {
                  default = "dev"
                }
                resource "kubernetes_namespace" "ns" {
                  count = 1
                  metadata {
                    name = "media"
                  }
                }
                resource "kubernetes_pod" "a" {
                  metadata {
                    name      = "a"
                    namespace = var.ns
                  }
                  spec {}
                }
                resource "kubernetes_pod" "b" {
                  metadata {
                    name      = "b"
                    namespace = kubernetes_namespace.ns[0].metadata[0].name
                  }
                  spec {}
                }
            """,
        },
    )
    a, b = records.workloads
    # inputs = merge(...) may set any variable: the default "dev" cannot be trusted
    assert (a.namespace, a.namespace_expr) == (None, "var.ns")
    assert b.namespace == "media"
