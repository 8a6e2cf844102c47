# Root Terragrunt configuration for the home-lab.
# Every stack under stacks/ includes this file with find_in_parent_folders().

locals {
  lab_domain  = "home.example.net"
  master_host = "10.0.10.10"
}

remote_state {
  backend = "s3"

  generate = {
    path      = "backend.tf"
    if_exists = "overwrite_terragrunt"
  }

  config = {
    bucket                      = "tfstate"
    key                         = "homelab/${path_relative_to_include()}/terraform.tfstate"
    region                      = "us-east-1"
    endpoint                    = "https://minio.home.example.net"
    force_path_style            = true
    skip_credentials_validation = true
    skip_region_validation      = true
    skip_metadata_api_check     = true
  }
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOF
provider "kubernetes" {
  config_path    = "~/.kube/config"
  config_context = "homelab-admin"
}

provider "helm" {
  kubernetes {
    config_path    = "~/.kube/config"
    config_context = "homelab-admin"
  }
}
EOF
}

inputs = {
  lab_domain  = local.lab_domain
  master_host = local.master_host
}
