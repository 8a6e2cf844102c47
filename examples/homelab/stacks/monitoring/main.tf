# monitoring: kube-prometheus-stack (rules in values.yaml), promtail for logs,
# uptime-kuma for the external status page.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.16"
    }
  }
}

variable "lab_domain" {
  type    = string
  default = "home.example.net"
}

resource "kubernetes_namespace_v1" "monitoring" {
  metadata {
    name = "monitoring"
  }
}

resource "helm_release" "kube_prometheus_stack" {
  name       = "kube-prometheus-stack"
  namespace  = kubernetes_namespace_v1.monitoring.metadata[0].name
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "kube-prometheus-stack"
  version    = "65.1.1"

  values = [templatefile("${path.module}/values.yaml", {
    grafana_host = "grafana.${var.lab_domain}"
  })]

  set {
    name  = "grafana.persistence.enabled"
    value = "false"
  }
}

resource "kubernetes_daemonset" "promtail" {
  metadata {
    name      = "promtail"
    namespace = "monitoring"
    labels = {
      app = "promtail"
    }
  }

  spec {
    selector {
      match_labels = {
        app = "promtail"
      }
    }

    template {
      metadata {
        labels = {
          app = "promtail"
        }
      }

      spec {
        container {
          name  = "promtail"
          image = "grafana/promtail:3.2.1"
          args  = ["-config.file=/etc/promtail/promtail.yaml"]

          security_context {
            run_as_user = 0
          }

          resources {
            requests = {
              cpu    = "50m"
              memory = "64Mi"
            }
            limits = {
              memory = "256Mi"
            }
          }

          readiness_probe {
            http_get {
              path = "/ready"
              port = 3101
            }
          }

          volume_mount {
            name       = "varlog"
            mount_path = "/var/log"
            read_only  = true
          }
        }

        volume {
          name = "varlog"
          host_path {
            path = "/var/log"
          }
        }
      }
    }
  }
}

resource "kubernetes_persistent_volume_claim_v1" "uptime_kuma_data" {
  metadata {
    name      = "uptime-kuma-data"
    namespace = "monitoring"
  }

  spec {
    access_modes       = ["ReadWriteOnce"]
    storage_class_name = "proxmox-csi"
    resources {
      requests = {
        storage = "2Gi"
      }
    }
  }

  wait_until_bound = false
}

resource "kubernetes_deployment" "uptime_kuma" {
  metadata {
    name      = "uptime-kuma"
    namespace = "monitoring"
    labels = {
      app = "uptime-kuma"
    }
  }

  spec {
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = {
        app = "uptime-kuma"
      }
    }

    template {
      metadata {
        labels = {
          app = "uptime-kuma"
        }
      }

      spec {
        container {
          name  = "uptime-kuma"
          image = "louislam/uptime-kuma:1.23.15"

          port {
            name           = "http"
            container_port = 3001
          }

          volume_mount {
            name       = "data"
            mount_path = "/app/data"
          }
        }

        volume {
          name = "data"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.uptime_kuma_data.metadata[0].name
          }
        }
      }
    }
  }
}

module "grafana_dashboards" {
  source = "git::https://git.example.com/homelab/tf-modules.git//grafana-dashboards"

  namespace = kubernetes_namespace_v1.monitoring.metadata[0].name
  folder    = "Homelab"
}
