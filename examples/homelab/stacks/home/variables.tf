variable "image_tag" {
  type        = string
  description = "Tag of the dashboard-api image built by Woodpecker."
  default     = "latest"
}

variable "lab_domain" {
  type    = string
  default = "home.example.net"
}
