# Paperless-ngx: document archive. Database on the shared postgresql in dbaas,
# Redis broker as a sidecar, documents on paperless-data.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
  }
}

variable "lab_domain" {
  type    = string
  default = "home.example.net"
}

resource "kubernetes_namespace" "paperless" {
  metadata {
    name = "paperless"
  }
}

resource "kubernetes_persistent_volume_claim" "paperless_data" {
  metadata {
    name      = "paperless-data"
    namespace = "paperless"
  }

  spec {
    access_modes       = ["ReadWriteOnce"]
    storage_class_name = "proxmox-csi"
    resources {
      requests = {
        storage = "50Gi"
      }
    }
  }

  wait_until_bound = false
}

resource "kubernetes_deployment" "paperless" {
  metadata {
    name      = "paperless"
    namespace = "paperless"
    labels = {
      app = "paperless"
    }
  }

  spec {
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = {
        app = "paperless"
      }
    }

    template {
      metadata {
        labels = {
          app = "paperless"
        }
      }

      spec {
        container {
          name  = "paperless"
          image = "ghcr.io/paperless-ngx/paperless-ngx:latest"

          port {
            name           = "http"
            container_port = 8000
          }

          env {
            name  = "PAPERLESS_REDIS"
            value = "redis://localhost:6379"
          }

          env {
            name  = "PAPERLESS_DBHOST"
            value = "postgresql.dbaas.svc.cluster.local"
          }

          env {
            name = "PAPERLESS_DBPASS"
            value_from {
              secret_key_ref {
                name = "paperless-db"
                key  = "password"
              }
            }
          }

          resources {
            requests = {
              cpu    = "250m"
              memory = "512Mi"
            }
            limits = {
              memory = "1Gi"
            }
          }

          volume_mount {
            name       = "data"
            mount_path = "/usr/src/paperless/data"
            sub_path   = "data"
          }

          volume_mount {
            name       = "data"
            mount_path = "/usr/src/paperless/media"
            sub_path   = "media"
          }
        }

        container {
          name  = "redis"
          image = "docker.io/library/redis:7.4.1-alpine"

          resources {
            requests = {
              cpu    = "10m"
              memory = "32Mi"
            }
            limits = {
              memory = "128Mi"
            }
          }
        }

        volume {
          name = "data"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim.paperless_data.metadata[0].name
          }
        }
      }
    }
  }

  lifecycle {
    # KYVERNO_LIFECYCLE_V1
    ignore_changes = [
      spec[0].template[0].spec[0].dns_config,
      metadata[0].annotations,
    ]
  }
}

resource "kubernetes_service_v1" "paperless" {
  metadata {
    name      = "paperless"
    namespace = "paperless"
  }

  spec {
    selector = {
      app = "paperless"
    }
    port {
      name = "http"
      port = 8000
    }
  }
}

# Runs the Django migrations after an image bump; re-created by hand with
# `terragrunt apply -replace=kubernetes_job_v1.paperless_migrate`.
resource "kubernetes_job_v1" "paperless_migrate" {
  metadata {
    name      = "paperless-migrate"
    namespace = "paperless"
  }

  spec {
    backoff_limit = 2

    template {
      metadata {}
      spec {
        restart_policy = "Never"

        container {
          name    = "migrate"
          image   = "ghcr.io/paperless-ngx/paperless-ngx:latest"
          command = ["python3", "manage.py", "migrate", "--no-input"]

          env {
            name  = "PAPERLESS_DBHOST"
            value = "postgresql.dbaas.svc.cluster.local"
          }

          resources {
            requests = {
              cpu    = "100m"
              memory = "256Mi"
            }
            limits = {
              memory = "1Gi"
            }
          }
        }
      }
    }
  }

  wait_for_completion = false
}

module "paperless_route" {
  source = "../../modules/ingress-route"

  name         = "paperless"
  namespace    = "paperless"
  host         = "docs.${var.lab_domain}"
  service_name = "paperless"
  service_port = 8000
}

/*
  Tika + Gotenberg for Office documents. Disabled 2024-09: too much memory for
  what we scan. Re-enable together with PAPERLESS_TIKA_ENABLED.

resource "kubernetes_deployment" "gotenberg" {
  metadata {
    name      = "gotenberg"
    namespace = "paperless"
  }
  spec {
    replicas = 1
    template {
      spec {
        container {
          name  = "gotenberg"
          image = "gotenberg/gotenberg:latest"
        }
      }
    }
  }
}
*/
