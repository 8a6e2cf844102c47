# Platform: admission control (Kyverno), Argo CD, API-server OIDC on the
# k3s master, node labels and cluster RBAC (rbac.tf).

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
    null = {
      source = "hashicorp/null"
    }
  }
}

locals {
  oidc_config = yamlencode({
    "kube-apiserver-arg" = [
      "oidc-issuer-url=https://auth.${var.lab_domain}/application/o/kubernetes/",
      "oidc-client-id=kubernetes",
      "oidc-username-claim=email",
      "oidc-groups-claim=groups",
      "oidc-groups-prefix=oidc:",
    ]
  })

  # TODO(2025-03): move this key to the tier-0 SOPS repo and read it with sops_file.
  master_deploy_key = <<-EOT
    -----BEGIN OPENSSH PRIVATE KEY-----
    b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
    CANARY-HL-SSHKEY-5d0e2b
    FAKEKEYMATERIALFORTESTSONLYFAKEKEYMATERIALFORTESTSONLYFAKEKEYMATERIAL
    -----END OPENSSH PRIVATE KEY-----
  EOT
}

resource "helm_release" "kyverno" {
  name             = "kyverno"
  namespace        = "kyverno"
  create_namespace = true
  repository       = "https://kyverno.github.io/kyverno/"
  chart            = "kyverno"
  version          = "3.3.3"

  set {
    name  = "admissionController.replicas"
    value = "1"
  }
}

# Policies in kyverno.tf need the admission controller to be up before they apply.
resource "terraform_data" "kyverno_ready" {
  triggers_replace = [helm_release.kyverno.version]

  provisioner "local-exec" {
    command = "kubectl -n kyverno rollout status deploy/kyverno-admission-controller --timeout=300s"
  }
}

resource "helm_release" "argo_cd" {
  name             = "argo-cd"
  namespace        = "argocd"
  create_namespace = true
  repository       = "https://argoproj.github.io/argo-helm"
  chart            = "argo-cd"
  version          = "7.7.5"
}

# The k3s API server reads extra flags from config.yaml.d on the master. There is
# no Terraform resource for a file on a host, so it is copied over SSH.
resource "null_resource" "apiserver_oidc" {
  triggers = {
    config_sha = sha256(local.oidc_config)
  }

  connection {
    type        = "ssh"
    host        = var.master_host
    user        = "root"
    private_key = local.master_deploy_key
  }

  provisioner "file" {
    content     = local.oidc_config
    destination = "/etc/rancher/k3s/config.yaml.d/50-oidc.yaml"
  }

  provisioner "remote-exec" {
    inline = [
      "systemctl restart k3s",
      "until k3s kubectl get --raw=/readyz >/dev/null 2>&1; do sleep 5; done",
    ]
  }
}

# Storage topology labels used by the NFS and Proxmox CSI node selectors.
resource "null_resource" "node_labels" {
  triggers = {
    always = timestamp()
  }

  provisioner "local-exec" {
    command = "kubectl label nodes k8s-node1 k8s-node2 k8s-node3 topology.home.example.net/storage=nfs --overwrite"
  }
}

# TODO(hardening): the k3s server has no secrets-encryption and no audit-policy-file yet; see the backlog.
