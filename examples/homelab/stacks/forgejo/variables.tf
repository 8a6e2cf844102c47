variable "namespace" {
  type        = string
  description = "Namespace for Forgejo. Set to \"git\" in terragrunt.hcl."
  default     = "forgejo"
}

variable "forgejo_image" {
  type    = string
  default = "codeberg.org/forgejo/forgejo:9.0.2"
}
