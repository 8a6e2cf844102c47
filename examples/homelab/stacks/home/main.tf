# home: the small self-written apps and the start page.
#   homepage      - start page (gethomepage.dev)
#   notifier      - pushes ntfy messages from the event bus (own image)
#   dashboard-api - backend of the wall tablet dashboard (own image)

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
  }
}

resource "kubernetes_namespace_v1" "home" {
  metadata {
    name = "home"
  }
}

# Snippet rendered into the homepage "Add a service" widget so that new stacks
# follow the house template. It is documentation, not infrastructure.
locals {
  new_service_snippet = <<-EOT
    resource "kubernetes_deployment" "fake" {
      metadata {
        name      = "example"
        namespace = "home"
      }
      spec {
        replicas = 1
        template {
          spec {
            container {
              name  = "example"
              image = "x:latest"
            }
          }
        }
      }
    }
  EOT
}

resource "kubernetes_config_map_v1" "homepage_config" {
  metadata {
    name      = "homepage-config"
    namespace = "home"
  }

  data = {
    "settings.yaml" = yamlencode({
      title = "Home Lab"
      theme = "dark"
    })
    "new-service.tf.txt" = local.new_service_snippet
  }
}

resource "kubernetes_deployment_v1" "homepage" {
  metadata {
    name      = "homepage"
    namespace = "home"
    labels = {
      app = "homepage"
    }
  }

  spec {
    replicas = 2

    selector {
      match_labels = {
        app = "homepage"
      }
    }

    template {
      metadata {
        labels = {
          app = "homepage"
        }
      }

      spec {
        container {
          name  = "homepage"
          image = "ghcr.io/gethomepage/homepage:latest"

          port {
            name           = "http"
            container_port = 3000
          }

          resources {
            requests = {
              cpu    = "50m"
              memory = "128Mi"
            }
            limits = {
              memory = "256Mi"
            }
          }

          volume_mount {
            name       = "config"
            mount_path = "/app/config"
          }
        }

        volume {
          name = "config"
          config_map {
            name = kubernetes_config_map_v1.homepage_config.metadata[0].name
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

resource "kubernetes_deployment_v1" "notifier" {
  metadata {
    name      = "notifier"
    namespace = "home"
    labels = {
      app = "notifier"
    }
  }

  spec {
    replicas = 2

    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "1"
        max_unavailable = "0"
      }
    }

    selector {
      match_labels = {
        app = "notifier"
      }
    }

    template {
      metadata {
        labels = {
          app = "notifier"
        }
      }

      spec {
        container {
          name  = "notifier"
          image = "ghcr.io/acme/notifier"
          args  = ["--banner", "# not a comment", "--listen=:8080"]

          port {
            name           = "http"
            container_port = 8080
          }

          env {
            name  = "DATABASE_URL"
            value = "postgres://notifier:CANARY-HL-DSN-7c21e4@postgresql.dbaas.svc.cluster.local:5432/notifier"
          }

          env {
            name  = "NTFY_URL"
            value = "https://ntfy.home.example.net"
          }

          security_context {
            run_as_non_root            = true
            run_as_user                = 10001
            allow_privilege_escalation = false
          }

          resources {
            requests = {
              cpu    = "20m"
              memory = "64Mi"
            }
          }

          readiness_probe {
            http_get {
              path = "/healthz"
              port = 8080
            }
            period_seconds = 10
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

resource "kubernetes_deployment_v1" "dashboard_api" {
  metadata {
    name      = "dashboard-api"
    namespace = "home"
    labels = {
      app = "dashboard-api"
    }
  }

  spec {
    replicas = 2

    strategy {
      type = "RollingUpdate"
      rolling_update {
        max_surge       = "25%"
        max_unavailable = "0"
      }
    }

    selector {
      match_labels = {
        app = "dashboard-api"
      }
    }

    template {
      metadata {
        labels = {
          app = "dashboard-api"
        }
      }

      spec {
        termination_grace_period_seconds = 20

        container {
          name  = "dashboard-api"
          image = "ghcr.io/acme/dashboard-api:${var.image_tag}"

          port {
            name           = "http"
            container_port = 8080
          }

          env {
            name  = "DB_HOST"
            value = "postgresql.dbaas.svc.cluster.local"
          }

          env {
            name = "DB_PASSWORD"
            value_from {
              secret_key_ref {
                name = "dashboard-db"
                key  = "password"
              }
            }
          }

          security_context {
            run_as_non_root            = true
            run_as_user                = 10001
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
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
              path = "/readyz"
              port = 8080
            }
            period_seconds = 5
          }

          liveness_probe {
            http_get {
              path = "/healthz"
              port = 8080
            }
            initial_delay_seconds = 15
            period_seconds        = 20
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

resource "kubernetes_pod_disruption_budget_v1" "dashboard_api" {
  metadata {
    name      = "dashboard-api"
    namespace = "home"
  }

  spec {
    min_available = 1
    selector {
      match_labels = {
        app = "dashboard-api"
      }
    }
  }
}

// Heimdall was the start page before homepage (2023). Remove once the
// bookmarks are migrated.
// resource "kubernetes_deployment" "heimdall" {
//   metadata {
//     name      = "heimdall"
//     namespace = "home"
//   }
//   spec {
//     replicas = 1
//     template {
//       spec {
//         container {
//           name  = "heimdall"
//           image = "lscr.io/linuxserver/heimdall:latest"
//         }
//       }
//     }
//   }
// }
