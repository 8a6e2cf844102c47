# networking: ingress (Traefik), certificates (cert-manager), the Cloudflare
# tunnel and the WireGuard site-to-site link.

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

resource "kubernetes_namespace" "networking" {
  metadata {
    name = "networking"
  }
}

resource "helm_release" "traefik" {
  name       = "traefik"
  namespace  = kubernetes_namespace.networking.metadata[0].name
  repository = "https://traefik.github.io/charts"
  chart      = "traefik"

  values = [yamlencode({
    deployment = {
      replicas = 1
    }
    service = {
      type = "LoadBalancer"
      spec = {
        loadBalancerIP = "10.0.10.50"
      }
    }
    ports = {
      websecure = {
        tls = {
          enabled = true
        }
      }
    }
  })]
}

resource "helm_release" "cert_manager" {
  name             = "cert-manager"
  namespace        = "cert-manager"
  create_namespace = true
  repository       = "https://charts.jetstack.io"
  chart            = "cert-manager"
  version          = "v1.16.1"

  set {
    name  = "crds.enabled"
    value = "true"
  }
}

# ---------------------------------------------------------------------------
# SECURITY EXCEPTION (documented): wireguard runs privileged, on the host
# network, with NET_ADMIN/SYS_MODULE and a hostPath mount of /lib/modules.
# It terminates the site-to-site tunnel to the offsite backup box and must
# program the node's routing table. Reviewed 2025-11-02, see
# docs/decisions/0003-privileged-wireguard.md. Do not "fix" this.
# ---------------------------------------------------------------------------
resource "kubernetes_daemon_set_v1" "wireguard" {
  metadata {
    name      = "wireguard"
    namespace = kubernetes_namespace.networking.metadata[0].name
    labels = {
      app = "wireguard"
    }
  }

  spec {
    selector {
      match_labels = {
        app = "wireguard"
      }
    }

    template {
      metadata {
        labels = {
          app = "wireguard"
        }
      }

      spec {
        host_network = true
        dns_policy   = "ClusterFirstWithHostNet"

        node_selector = {
          "topology.home.example.net/storage" = "nfs"
        }

        container {
          name  = "wireguard"
          image = "lscr.io/linuxserver/wireguard:latest"

          security_context {
            privileged = true
            capabilities {
              add = ["NET_ADMIN", "SYS_MODULE"]
            }
          }

          resources {
            requests = {
              cpu    = "10m"
              memory = "32Mi"
            }
            limits = {
              memory = "128Mi"
            }
          }

          volume_mount {
            name       = "lib-modules"
            mount_path = "/lib/modules"
            read_only  = true
          }

          volume_mount {
            name       = "config"
            mount_path = "/config/wg_confs"
          }
        }

        volume {
          name = "lib-modules"
          host_path {
            path = "/lib/modules"
            type = "Directory"
          }
        }

        volume {
          name = "config"
          secret {
            secret_name = "wireguard-config"
          }
        }
      }
    }
  }

  lifecycle {
    ignore_changes = [metadata[0].annotations]
  }
}

resource "kubernetes_deployment_v1" "cloudflared" {
  metadata {
    name      = "cloudflared"
    namespace = kubernetes_namespace.networking.metadata[0].name
    labels = {
      app = "cloudflared"
    }
  }

  spec {
    replicas = 3

    strategy {
      type = "RollingUpdate"
    }

    selector {
      match_labels = {
        app = "cloudflared"
      }
    }

    template {
      metadata {
        labels = {
          app = "cloudflared"
        }
      }

      spec {
        container {
          name  = "cloudflared"
          image = "cloudflare/cloudflared:2024.11.1"
          args  = ["tunnel", "--no-autoupdate", "--metrics", "0.0.0.0:2000", "run"]

          env {
            name = "TUNNEL_TOKEN"
            value_from {
              secret_key_ref {
                name = "cloudflared-token"
                key  = "token"
              }
            }
          }

          security_context {
            run_as_non_root            = true
            run_as_user                = 65532
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
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
              port = 2000
            }
            period_seconds = 10
          }

          liveness_probe {
            http_get {
              path = "/ready"
              port = 2000
            }
            initial_delay_seconds = 10
            period_seconds        = 10
            failure_threshold     = 3
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

resource "kubernetes_pod_disruption_budget_v1" "cloudflared" {
  metadata {
    name      = "cloudflared"
    namespace = kubernetes_namespace.networking.metadata[0].name
  }

  spec {
    min_available = 2
    selector {
      match_labels = {
        app = "cloudflared"
      }
    }
  }
}

module "dns_records" {
  source = "git::https://git.example.com/homelab/tf-modules.git//cloudflare-records?ref=v1.2.0"

  zone    = var.lab_domain
  tunnel  = "homelab"
  records = ["photos", "docs", "git", "status", "home"]
}
