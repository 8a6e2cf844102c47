# registry: the lab's single container registry. k3s on every node mirrors
# docker.io through it (registries.yaml) and Woodpecker pushes the homelab/*
# images here, so an outage blocks pod starts cluster-wide.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
  }
}

resource "kubernetes_namespace_v1" "registry" {
  metadata {
    name = "registry"
  }
}

resource "kubernetes_persistent_volume_claim_v1" "registry_data" {
  metadata {
    name      = "registry-data"
    namespace = "registry"
  }

  spec {
    access_modes       = ["ReadWriteOnce"]
    storage_class_name = "proxmox-csi"
    resources {
      requests = {
        storage = "200Gi"
      }
    }
  }

  wait_until_bound = false
}

resource "kubernetes_deployment" "registry" {
  metadata {
    name      = "registry"
    namespace = "registry"
    labels = {
      app = "registry"
    }
  }

  spec {
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = {
        app = "registry"
      }
    }

    template {
      metadata {
        labels = {
          app = "registry"
        }
      }

      spec {
        container {
          name  = "registry"
          image = "registry:2"

          port {
            name           = "http"
            container_port = 5000
          }

          env {
            name  = "REGISTRY_STORAGE_DELETE_ENABLED"
            value = "true"
          }

          resources {
            requests = {
              cpu    = "50m"
              memory = "128Mi"
            }
          }

          readiness_probe {
            http_get {
              path = "/v2/"
              port = 5000
            }
            period_seconds = 10
          }

          lifecycle {
            pre_stop {
              exec {
                command = ["sh", "-c", "sleep 5"]
              }
            }
          }

          volume_mount {
            name       = "data"
            mount_path = "/var/lib/registry"
          }
        }

        volume {
          name = "data"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.registry_data.metadata[0].name
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

resource "kubernetes_service_v1" "registry" {
  metadata {
    name      = "registry"
    namespace = "registry"
  }

  spec {
    selector = {
      app = "registry"
    }
    port {
      name = "http"
      port = 5000
    }
  }
}

# Weekly blob garbage collection.
resource "kubernetes_cron_job" "registry_gc" {
  metadata {
    name      = "registry-gc"
    namespace = "registry"
  }

  spec {
    schedule           = "0 4 * * 0"
    concurrency_policy = "Forbid"

    job_template {
      metadata {}
      spec {
        template {
          metadata {}
          spec {
            restart_policy = "OnFailure"

            container {
              name    = "gc"
              image   = "registry:2"
              command = ["registry", "garbage-collect", "--delete-untagged", "/etc/docker/registry/config.yml"]

              volume_mount {
                name       = "data"
                mount_path = "/var/lib/registry"
              }
            }

            volume {
              name = "data"
              persistent_volume_claim {
                claim_name = kubernetes_persistent_volume_claim_v1.registry_data.metadata[0].name
              }
            }
          }
        }
      }
    }
  }
}
