# Forgejo: the lab's git forge (also the Argo CD source for gitops/apps).
# Database: mysql in dbaas.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
  }
}

resource "kubernetes_namespace_v1" "forgejo" {
  metadata {
    name = var.namespace
  }
}

resource "kubernetes_persistent_volume_claim_v1" "forgejo_data" {
  metadata {
    name      = "forgejo-data"
    namespace = var.namespace
  }

  spec {
    access_modes       = ["ReadWriteOnce"]
    storage_class_name = "proxmox-csi"
    resources {
      requests = {
        storage = "100Gi"
      }
    }
  }

  wait_until_bound = false
}

resource "kubernetes_deployment_v1" "forgejo" {
  metadata {
    name      = "forgejo"
    namespace = var.namespace
    labels = {
      app = "forgejo"
    }
  }

  spec {
    replicas = 1

    strategy {
      type = "Recreate"
    }

    selector {
      match_labels = {
        app = "forgejo"
      }
    }

    template {
      metadata {
        labels = {
          app = "forgejo"
        }
      }

      spec {
        # Give running git pushes and the SSH server time to finish.
        termination_grace_period_seconds = 60

        init_container {
          name    = "init-config"
          image   = var.forgejo_image
          command = ["environment-to-ini", "--config", "/data/gitea/conf/app.ini"]

          env {
            name  = "FORGEJO__database__DB_TYPE"
            value = "mysql"
          }

          env {
            name  = "FORGEJO__database__HOST"
            value = "mysql.dbaas.svc.cluster.local:3306"
          }

          resources {
            requests = {
              cpu    = "10m"
              memory = "32Mi"
            }
            limits = {
              memory = "64Mi"
            }
          }

          volume_mount {
            name       = "data"
            mount_path = "/data"
          }
        }

        container {
          name  = "forgejo"
          image = var.forgejo_image

          port {
            name           = "http"
            container_port = 3000
          }

          port {
            name           = "ssh"
            container_port = 2222
          }

          resources {
            requests = {
              cpu    = "200m"
              memory = "512Mi"
            }
            limits = {
              memory = "1Gi"
            }
          }

          liveness_probe {
            http_get {
              path = "/api/healthz"
              port = 3000
            }
            initial_delay_seconds = 60
            period_seconds        = 30
          }

          volume_mount {
            name       = "data"
            mount_path = "/data"
          }
        }

        volume {
          name = "data"
          persistent_volume_claim {
            claim_name = kubernetes_persistent_volume_claim_v1.forgejo_data.metadata[0].name
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
