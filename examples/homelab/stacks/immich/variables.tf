variable "namespace" {
  type        = string
  description = "Namespace for Immich."
  default     = "immich"
}

variable "immich_version" {
  type        = string
  description = "Immich release; server and machine-learning must match."
  default     = "v1.119.0"
}

variable "lab_domain" {
  type    = string
  default = "home.example.net"
}
