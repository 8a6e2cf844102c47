# Cluster RBAC. OIDC groups come from Authentik with the "oidc:" prefix
# (see local.oidc_config in main.tf).

# Used by the Woodpecker "apply" pipeline and by terraform_data provisioners.
resource "kubernetes_service_account_v1" "terraform_runner" {
  metadata {
    name      = "terraform-runner"
    namespace = "kube-system"
  }
}

resource "kubernetes_cluster_role_v1" "automation_admin" {
  metadata {
    name = "automation-admin"
  }

  rule {
    api_groups = ["*"]
    resources  = ["*"]
    verbs      = ["*"]
  }
}

resource "kubernetes_cluster_role_binding_v1" "automation_admin" {
  metadata {
    name = "automation-admin"
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.automation_admin.metadata[0].name
  }

  subject {
    kind      = "ServiceAccount"
    name      = kubernetes_service_account_v1.terraform_runner.metadata[0].name
    namespace = "kube-system"
  }
}

resource "kubernetes_cluster_role" "oidc_power_user" {
  metadata {
    name = "oidc-power-user"
  }

  rule {
    api_groups = ["", "apps", "batch"]
    resources  = ["pods", "pods/log", "services", "configmaps", "deployments", "statefulsets", "daemonsets", "jobs", "cronjobs"]
    verbs      = ["get", "list", "watch", "create", "update", "patch", "delete"]
  }

  rule {
    api_groups = [""]
    resources  = ["secrets"]
    verbs      = ["get", "list", "watch"]
  }
}

resource "kubernetes_cluster_role_binding" "oidc_power_user" {
  metadata {
    name = "oidc-power-user"
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role.oidc_power_user.metadata[0].name
  }

  subject {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Group"
    name      = "oidc:homelab-power-users"
  }
}
