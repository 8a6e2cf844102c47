# dbaas: the shared databases of the lab.
#   mysql      - standalone, used by forgejo (docs/decisions/0001-mysql-standalone.md)
#   postgresql - one instance shared by paperless, notifier and dashboard-api

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.33"
    }
    null = {
      source  = "hashicorp/null"
      version = "~> 3.2"
    }
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
}

# Only used for the S3 API of the MinIO box that stores offsite dumps.
provider "aws" {
  region                      = "us-east-1"
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true

  endpoints {
    s3 = "https://minio.home.example.net"
  }
}

resource "kubernetes_namespace" "dbaas" {
  metadata {
    name = "dbaas"
  }
}

# Legacy: created before the tier-0 SOPS repo existed. Read by mysql and mysql-backup.
resource "kubernetes_secret_v1" "mysql_root" {
  metadata {
    name      = "mysql-root"
    namespace = kubernetes_namespace.dbaas.metadata[0].name
  }

  data = {
    password = "CANARY-HL-PW-3f9a1c"
  }
}

# MySQL runs standalone with ONE replica on purpose since the migration away from
# InnoDB Cluster on 2026-04-16. HA is deferred; backups are not optional.
# See docs/decisions/0001-mysql-standalone.md.
resource "kubernetes_stateful_set_v1" "mysql" {
  metadata {
    name      = "mysql"
    namespace = kubernetes_namespace.dbaas.metadata[0].name
    labels = {
      app = "mysql"
    }
  }

  spec {
    service_name = "mysql"
    replicas     = 1

    selector {
      match_labels = {
        app = "mysql"
      }
    }

    update_strategy {
      type = "RollingUpdate"
    }

    template {
      metadata {
        labels = {
          app = "mysql"
        }
      }

      spec {
        termination_grace_period_seconds = 60

        container {
          name  = "mysql"
          image = "mysql:8.4.3"

          port {
            name           = "mysql"
            container_port = 3306
          }

          env {
            name = "MYSQL_ROOT_PASSWORD"
            value_from {
              secret_key_ref {
                name = kubernetes_secret_v1.mysql_root.metadata[0].name
                key  = "password"
              }
            }
          }

          resources {
            requests = {
              cpu    = "250m"
              memory = "1Gi"
            }
            limits = {
              memory = "2Gi"
            }
          }

          readiness_probe {
            exec {
              command = ["mysqladmin", "ping", "-h", "127.0.0.1"]
            }
            period_seconds = 10
          }

          liveness_probe {
            exec {
              command = ["mysqladmin", "ping", "-h", "127.0.0.1"]
            }
            initial_delay_seconds = 30
            period_seconds        = 20
          }

          volume_mount {
            name       = "data"
            mount_path = "/var/lib/mysql"
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
    ignore_changes = [spec[0].template[0].spec[0].dns_config]
  }
}

resource "kubernetes_service_v1" "mysql" {
  metadata {
    name      = "mysql"
    namespace = kubernetes_namespace.dbaas.metadata[0].name
  }

  spec {
    cluster_ip = "None"
    selector = {
      app = "mysql"
    }
    port {
      name = "mysql"
      port = 3306
    }
  }
}

resource "kubernetes_stateful_set" "postgresql" {
  metadata {
    name      = "postgresql"
    namespace = kubernetes_namespace.dbaas.metadata[0].name
    labels = {
      app = "postgresql"
    }
  }

  spec {
    service_name = "postgresql"
    replicas     = 1

    selector {
      match_labels = {
        app = "postgresql"
      }
    }

    template {
      metadata {
        labels = {
          app = "postgresql"
        }
      }

      spec {
        init_container {
          name    = "init-chmod"
          image   = "busybox:1.36"
          command = ["sh", "-c", "chown -R 999:999 /var/lib/postgresql/data"]

          resources {
            requests = {
              cpu    = "10m"
              memory = "16Mi"
            }
            limits = {
              memory = "32Mi"
            }
          }

          volume_mount {
            name       = "data"
            mount_path = "/var/lib/postgresql/data"
          }
        }

        container {
          name  = "postgresql"
          image = "postgres:16.4"

          port {
            name           = "postgresql"
            container_port = 5432
          }

          env {
            name  = "PGDATA"
            value = "/var/lib/postgresql/data/pgdata"
          }

          env {
            name = "POSTGRES_PASSWORD"
            value_from {
              secret_key_ref {
                name = "postgresql-superuser"
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

          volume_mount {
            name       = "data"
            mount_path = "/var/lib/postgresql/data"
          }
        }

        # Sidecar: metrics for the kube-prometheus-stack ServiceMonitor.
        container {
          name  = "postgres-exporter"
          image = "quay.io/prometheuscommunity/postgres-exporter:v0.16.0"

          port {
            name           = "metrics"
            container_port = 9187
          }

          env {
            name  = "DATA_SOURCE_URI"
            value = "localhost:5432/postgres?sslmode=disable"
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

          readiness_probe {
            http_get {
              path = "/metrics"
              port = 9187
            }
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
            storage = "30Gi"
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

resource "kubernetes_service_v1" "postgresql" {
  metadata {
    name      = "postgresql"
    namespace = kubernetes_namespace.dbaas.metadata[0].name
  }

  spec {
    selector = {
      app = "postgresql"
    }
    port {
      name = "postgresql"
      port = 5432
    }
  }
}

locals {
  mysql_databases = ["forgejo"]
  pg_databases    = ["paperless", "notifier", "dashboard"]
}

# Databases and users. There is no mysql provider in this repo (yet), so the
# statements go through kubectl exec.
resource "null_resource" "mysql_users" {
  triggers = {
    databases = join(",", local.mysql_databases)
  }

  provisioner "local-exec" {
    command = "for db in ${join(" ", local.mysql_databases)}; do kubectl -n dbaas exec mysql-0 -- sh -c \"mysql -uroot -p\\$MYSQL_ROOT_PASSWORD -e 'CREATE DATABASE IF NOT EXISTS $db'\"; done"
  }

  depends_on = [kubernetes_stateful_set_v1.mysql]
}

resource "kubernetes_job" "dbaas_init" {
  metadata {
    name      = "dbaas-init"
    namespace = kubernetes_namespace.dbaas.metadata[0].name
  }

  spec {
    backoff_limit = 4

    template {
      metadata {}
      spec {
        restart_policy = "Never"

        container {
          name    = "psql"
          image   = "postgres:16.4"
          command = ["sh", "-c", "for db in ${join(" ", local.pg_databases)}; do psql -h postgresql -U postgres -tc \"SELECT 1 FROM pg_database WHERE datname = '$db'\" | grep -q 1 || psql -h postgresql -U postgres -c \"CREATE DATABASE $db\"; done"]

          env {
            name = "PGPASSWORD"
            value_from {
              secret_key_ref {
                name = "postgresql-superuser"
                key  = "password"
              }
            }
          }
        }
      }
    }
  }

  wait_for_completion = true

  timeouts {
    create = "5m"
  }

  depends_on = [kubernetes_stateful_set.postgresql]
}

resource "kubernetes_cron_job_v1" "mysql_backup" {
  metadata {
    name      = "mysql-backup"
    namespace = kubernetes_namespace.dbaas.metadata[0].name
  }

  spec {
    schedule                      = "0 3 * * *"
    concurrency_policy            = "Forbid"
    successful_jobs_history_limit = 1
    failed_jobs_history_limit     = 1

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
              command = ["/bin/sh", "-c", "mysqldump --all-databases --single-transaction -h mysql.dbaas.svc.cluster.local -uroot | gzip > /backups/mysql/mysql-$(date +%F).sql.gz"]

              env {
                name = "MYSQL_PWD"
                value_from {
                  secret_key_ref {
                    name = kubernetes_secret_v1.mysql_root.metadata[0].name
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

# Offsite copy of the dumps (rclone in backup-tools pushes here weekly).
module "backup_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.2.1"

  bucket = "homelab-db-backups"

  versioning = {
    enabled = true
  }
}
