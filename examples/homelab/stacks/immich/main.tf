# Immich: photo library. Server + machine-learning + its own Postgres with
# pgvecto-rs (immich-db); nightly pg_dump by immich-db-backup.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
  }
}

resource "kubernetes_namespace_v1" "immich" {
  metadata {
    name = var.namespace
  }
}

resource "kubernetes_persistent_volume_claim_v1" "immich_library" {
  metadata {
    name      = "immich-library"
    namespace = var.namespace
  }

  spec {
    access_modes       = ["ReadWriteOnce"]
    storage_class_name = "proxmox-csi"
    resources {
      requests = {
        storage = "250Gi"
      }
    }
  }

  wait_until_bound = false
}

resource "kubernetes_deployment_v1" "immich_server" {
  metadata {
    name      = "immich-server"
    namespace = var.namespace
    labels = {
      app = "immich-server"
    }
  }

  spec {
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = {
        app = "immich-server"
      }
    }

    template {
      metadata {
        labels = {
          app = "immich-server"
        }
      }

      spec {
        init_container {
          name    = "wait-for-db"
          image   = "busybox:1.36"
          command = ["sh", "-c", "until nc -z immich-db 5432; do echo waiting for immich-db; sleep 2; done"]

          resources {
            requests = {
              cpu    = "10m"
              memory = "16Mi"
            }
            limits = {
              memory = "32Mi"
            }
          }
        }

        container {
          name  = "immich-server"
          image = "ghcr.io/immich-app/immich-server:${var.immich_version}"
          # image = "ghcr.io/immich-app/immich-server:latest"   # before 2024-11 pinning

          port {
            name           = "http"
            container_port = 2283
          }

          env {
            name  = "DB_HOSTNAME"
            value = "immich-db"
          }

          env {
            name = "DB_PASSWORD"
            value_from {
              secret_key_ref {
                name = "immich-db"
                key  = "password"
              }
            }
          }

          resources {
            requests = {
              cpu    = "500m"
              memory = "1Gi"
            }
            limits = {
              memory = "4Gi"
            }
          }

          readiness_probe {
            http_get {
              path = "/api/server/ping"
              port = 2283
            }
            initial_delay_seconds = 10
            period_seconds        = 10
          }

          liveness_probe {
            http_get {
              path = "/api/server/ping"
              port = 2283
            }
            initial_delay_seconds = 30
            period_seconds        = 20
            failure_threshold     = 6
          }

          volume_mount {
            name       = "library"
            mount_path = "/usr/src/app/upload"
          }
        }

        volume {
          name = "library"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.immich_library.metadata[0].name
          }
        }
      }
    }
  }

  lifecycle {
    # KYVERNO_LIFECYCLE_V1
    ignore_changes = [spec[0].template[0].spec[0].dns_config]
  }
}

resource "kubernetes_service_v1" "immich_server" {
  metadata {
    name      = "immich-server"
    namespace = var.namespace
  }

  spec {
    selector = {
      app = "immich-server"
    }
    port {
      name        = "http"
      port        = 2283
      target_port = 2283
    }
  }
}

resource "kubernetes_deployment_v1" "immich_machine_learning" {
  metadata {
    name      = "immich-machine-learning"
    namespace = var.namespace
    labels = {
      app = "immich-machine-learning"
    }
  }

  spec {
    replicas = 1

    strategy {
      type = "RollingUpdate"
    }

    selector {
      match_labels = {
        app = "immich-machine-learning"
      }
    }

    template {
      metadata {
        labels = {
          app = "immich-machine-learning"
        }
      }

      spec {
        container {
          name  = "immich-machine-learning"
          image = "ghcr.io/immich-app/immich-machine-learning:${var.immich_version}"

          port {
            name           = "http"
            container_port = 3003
          }

          resources {
            requests = {
              cpu    = "1"
              memory = "2Gi"
            }
            limits = {
              memory = "6Gi"
            }
          }

          readiness_probe {
            http_get {
              path = "/ping"
              port = 3003
            }
            period_seconds = 10
          }

          volume_mount {
            name       = "model-cache"
            mount_path = "/cache"
          }
        }

        volume {
          name = "model-cache"
          empty_dir {
            size_limit = "10Gi"
          }
        }
      }
    }
  }

  lifecycle {
    # KYVERNO_LIFECYCLE_V1
    ignore_changes = [spec[0].template[0].spec[0].dns_config]
  }
}

resource "kubernetes_stateful_set_v1" "immich_db" {
  metadata {
    name      = "immich-db"
    namespace = var.namespace
    labels = {
      app = "immich-db"
    }
  }

  spec {
    service_name = "immich-db"
    replicas     = 1

    selector {
      match_labels = {
        app = "immich-db"
      }
    }

    template {
      metadata {
        labels = {
          app = "immich-db"
        }
      }

      spec {
        container {
          name  = "immich-db"
          image = "docker.io/tensorchord/pgvecto-rs:pg14-v0.2.0"

          port {
            name           = "postgresql"
            container_port = 5432
          }

          env {
            name = "POSTGRES_PASSWORD"
            value_from {
              secret_key_ref {
                name = "immich-db"
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
              memory = "2Gi"
            }
          }

          readiness_probe {
            exec {
              command = ["pg_isready", "-U", "postgres"]
            }
            period_seconds = 10
          }

          liveness_probe {
            exec {
              command = ["pg_isready", "-U", "postgres"]
            }
            initial_delay_seconds = 30
            period_seconds        = 30
          }

          volume_mount {
            name       = "data"
            mount_path = "/var/lib/postgresql/data"
          }
        }
      }
    }

    volume_claim_template {
      metadata {
        name = "data"
      }
      spec {
        access_modes       = ["ReadWriteOnce"]
        storage_class_name = "proxmox-csi"
        resources {
          requests = {
            storage = "20Gi"
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

resource "kubernetes_service_v1" "immich_db" {
  metadata {
    name      = "immich-db"
    namespace = var.namespace
  }

  spec {
    cluster_ip = "None"
    selector = {
      app = "immich-db"
    }
    port {
      name = "postgresql"
      port = 5432
    }
  }
}

resource "kubernetes_cron_job_v1" "immich_db_backup" {
  metadata {
    name      = "immich-db-backup"
    namespace = var.namespace
  }

  spec {
    schedule                      = "30 2 * * *"
    concurrency_policy            = "Forbid"
    successful_jobs_history_limit = 1
    failed_jobs_history_limit     = 3

    job_template {
      metadata {}
      spec {
        backoff_limit = 2

        template {
          metadata {}
          spec {
            restart_policy = "OnFailure"

            container {
              name    = "backup"
              image   = "registry.home.example.net/homelab/backup-tools:1.4.0"
              command = ["/bin/sh", "-c", "pg_dump -h immich-db -U postgres -Fc immich > /backups/immich/immich-$(date +%F).dump"]

              env {
                name = "PGPASSWORD"
                value_from {
                  secret_key_ref {
                    name = "immich-db"
                    key  = "password"
                  }
                }
              }

              resources {
                requests = {
                  cpu    = "50m"
                  memory = "128Mi"
                }
                limits = {
                  memory = "512Mi"
                }
              }

              volume_mount {
                name       = "backups"
                mount_path = "/backups"
              }
            }

            volume {
              name = "backups"
              nfs {
                server = "10.0.10.2"
                path   = "/srv/nfs/backups"
              }
            }
          }
        }
      }
    }
  }

  lifecycle {
    # KYVERNO_LIFECYCLE_V1
    ignore_changes = [spec[0].job_template[0].spec[0].template[0].spec[0].dns_config]
  }
}

module "immich_route" {
  source = "../../modules/ingress-route"

  name         = "immich"
  namespace    = var.namespace
  host         = "photos.${var.lab_domain}"
  service_name = kubernetes_service_v1.immich_server.metadata[0].name
  service_port = 2283
}

# Photoprism was replaced by Immich in 2024-06. Kept for reference until the
# old originals folder is deleted from the NAS.
# resource "kubernetes_deployment" "photoprism" {
#   metadata {
#     name      = "photoprism"
#     namespace = "immich"
#   }
#   spec {
#     replicas = 1
#     template {
#       spec {
#         container {
#           name  = "photoprism"
#           image = "photoprism/photoprism:latest"
#         }
#       }
#     }
#   }
# }
