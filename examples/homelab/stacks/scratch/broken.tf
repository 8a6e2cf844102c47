# Scratch space for trying things out. Not applied by CI.
# WIP: second replica of the notifier for load tests (unfinished).

resource "kubernetes_deployment_v1" "notifier_loadtest" {
  metadata {
    name      = "notifier-loadtest"
    namespace = "home"
  }

  spec {
    replicas = 4

    template {
      metadata {
        labels = {
          app = "notifier-loadtest"
        }
      }

      spec {
        container {
          name  = "notifier"
          image = "ghcr.io/acme/notifier:0.9.0"
        }
      }
    }
  }
