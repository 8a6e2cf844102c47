# Vault (single node, raft storage). Auto-unseal reads vault-unseal-key.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
  }
}

resource "kubernetes_namespace_v1" "vault" {
  metadata {
    name = "vault"
  }
}

# The key is written by the unseal bootstrap, never by Terraform.
resource "kubernetes_secret_v1" "vault_unseal_key" {
  metadata {
    name      = "vault-unseal-key"
    namespace = "vault"
  }

  data = {
    "unseal-key" = "set-out-of-band"
  }

  lifecycle {
    ignore_changes = all
  }
}

# OnDelete: a new vault pod comes up sealed, so pods are rolled by hand
# (docs/runbooks/vault-unseal.md).
resource "kubernetes_stateful_set_v1" "vault" {
  metadata {
    name      = "vault"
    namespace = "vault"
    labels = {
      app = "vault"
    }
  }

  spec {
    service_name = "vault"
    replicas     = 1

    selector {
      match_labels = {
        app = "vault"
      }
    }

    update_strategy {
      type = "OnDelete"
    }

    template {
      metadata {
        labels = {
          app = "vault"
        }
      }

      spec {
        termination_grace_period_seconds = 30

        container {
          name  = "vault"
          image = "hashicorp/vault:1.18.1"
          args  = ["server", "-config=/vault/config/vault.hcl"]

          port {
            name           = "api"
            container_port = 8200
          }

          security_context {
            capabilities {
              add = ["IPC_LOCK"]
            }
          }

          resources {
            requests = {
              cpu    = "100m"
              memory = "256Mi"
            }
            limits = {
              memory = "512Mi"
            }
          }

          readiness_probe {
            http_get {
              path = "/v1/sys/health?standbyok=true"
              port = 8200
            }
            period_seconds = 10
          }

          volume_mount {
            name       = "data"
            mount_path = "/vault/data"
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
            storage = "10Gi"
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
