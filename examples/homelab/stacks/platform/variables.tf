variable "lab_domain" {
  type        = string
  description = "Base DNS domain of the lab."
}

variable "master_host" {
  type        = string
  description = "Address of the k3s control-plane node (k8s-master)."
}
