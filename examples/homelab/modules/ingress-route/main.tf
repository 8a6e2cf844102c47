# A Traefik IngressRoute with the lab wildcard certificate.

terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = ">= 2.20"
    }
  }
}

variable "name" {
  type = string
}

variable "namespace" {
  type = string
}

variable "host" {
  type = string
}

variable "service_name" {
  type = string
}

variable "service_port" {
  type = number
}

resource "kubernetes_manifest" "route" {
  manifest = {
    apiVersion = "traefik.io/v1alpha1"
    kind       = "IngressRoute"
    metadata = {
      name      = var.name
      namespace = var.namespace
    }
    spec = {
      entryPoints = ["websecure"]
      routes = [{
        kind  = "Rule"
        match = "Host(`${var.host}`)"
        services = [{
          name = var.service_name
          port = var.service_port
        }]
      }]
      tls = {
        secretName = "wildcard-home-example-net"
      }
    }
  }
}
