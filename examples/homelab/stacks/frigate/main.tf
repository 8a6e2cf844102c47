# Frigate NVR. Recordings go to the NAS (frigate-media, NFS).

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
  }
}

resource "kubernetes_namespace_v1" "frigate" {
  metadata {
    name = "frigate"
  }
}

resource "kubernetes_persistent_volume_claim_v1" "frigate_media" {
  metadata {
    name      = "frigate-media"
    namespace = kubernetes_namespace_v1.frigate.metadata[0].name
  }

  spec {
    access_modes       = ["ReadWriteMany"]
    storage_class_name = "nfs-client"
    resources {
      requests = {
        storage = "500Gi"
      }
    }
  }

  wait_until_bound = false
}

resource "kubernetes_deployment_v1" "frigate" {
  metadata {
    name      = "frigate"
    namespace = kubernetes_namespace_v1.frigate.metadata[0].name
    labels = {
      app = "frigate"
    }
  }

  spec {
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = {
        app = "frigate"
      }
    }

    template {
      metadata {
        labels = {
          app = "frigate"
        }
      }

      spec {
        container {
          name  = "frigate"
          image = "ghcr.io/blakeblackshear/frigate:0.14.1"

          port {
            name           = "http"
            container_port = 5000
          }

          port {
            name           = "rtsp"
            container_port = 8554
          }

          # CPU request only, no CPU limit: cluster-wide policy, see
          # docs/decisions/0002-no-cpu-limits.md (CFS throttling of the detector).
          resources {
            requests = {
              cpu    = "1500m"
              memory = "2Gi"
            }
            limits = {
              memory = "4Gi"
            }
          }

          liveness_probe {
            http_get {
              path = "/api/version"
              port = 5000
            }
            initial_delay_seconds = 60
            period_seconds        = 30
          }

          volume_mount {
            name       = "media"
            mount_path = "/media/frigate"
          }

          volume_mount {
            name       = "shm"
            mount_path = "/dev/shm"
          }
        }

        volume {
          name = "media"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.frigate_media.metadata[0].name
          }
        }

        volume {
          name = "shm"
          empty_dir {
            medium     = "Memory"
            size_limit = "1Gi"
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
