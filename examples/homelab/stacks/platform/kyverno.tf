# Kyverno ClusterPolicies. All of them run in Audit: we look at the PolicyReports
# weekly and have not switched any policy to Enforce yet.

resource "kubernetes_manifest" "policy_disallow_privileged" {
  manifest = {
    apiVersion = "kyverno.io/v1"
    kind       = "ClusterPolicy"
    metadata = {
      name = "disallow-privileged-containers"
      annotations = {
        "policies.kyverno.io/category" = "Pod Security Standards (Baseline)"
      }
    }
    spec = {
      validationFailureAction = "Audit"
      background              = true
      rules = [{
        name = "privileged-containers"
        match = {
          any = [{ resources = { kinds = ["Pod"] } }]
        }
        validate = {
          message = "Privileged mode is disallowed."
          pattern = {
            spec = {
              "=(initContainers)" = [{ "=(securityContext)" = { "=(privileged)" = "false" } }]
              containers          = [{ "=(securityContext)" = { "=(privileged)" = "false" } }]
            }
          }
        }
      }]
    }
  }

  depends_on = [terraform_data.kyverno_ready]
}

resource "kubernetes_manifest" "policy_disallow_latest_tag" {
  manifest = {
    apiVersion = "kyverno.io/v1"
    kind       = "ClusterPolicy"
    metadata = {
      name = "disallow-latest-tag"
    }
    spec = {
      validationFailureAction = "Audit"
      background              = true
      rules = [{
        name = "require-image-tag"
        match = {
          any = [{ resources = { kinds = ["Pod"] } }]
        }
        validate = {
          message = "An image tag is required and must not be 'latest'."
          pattern = {
            spec = {
              containers = [{ image = "*:* & !*:latest" }]
            }
          }
        }
      }]
    }
  }

  depends_on = [terraform_data.kyverno_ready]
}

resource "kubernetes_manifest" "policy_require_requests" {
  manifest = {
    apiVersion = "kyverno.io/v1"
    kind       = "ClusterPolicy"
    metadata = {
      name = "require-requests"
    }
    spec = {
      validationFailureAction = "Audit"
      background              = true
      rules = [{
        name = "require-memory-request"
        match = {
          any = [{ resources = { kinds = ["Pod"] } }]
        }
        validate = {
          message = "Containers must set a memory request."
          pattern = {
            spec = {
              containers = [{ resources = { requests = { memory = "?*" } } }]
            }
          }
        }
      }]
    }
  }

  depends_on = [terraform_data.kyverno_ready]
}

# Mutating: adds ndots=2 to every pod template. Kyverno rewrites the templates of
# Deployments/StatefulSets/CronJobs, which is why workloads carry the
# KYVERNO_LIFECYCLE_V1 ignore_changes marker on dns_config.
resource "kubernetes_manifest" "policy_inject_ndots" {
  manifest = {
    apiVersion = "kyverno.io/v1"
    kind       = "ClusterPolicy"
    metadata = {
      name = "inject-ndots"
    }
    spec = {
      validationFailureAction = "Audit"
      background              = false
      rules = [{
        name = "add-ndots"
        match = {
          any = [{ resources = { kinds = ["Pod"] } }]
        }
        mutate = {
          patchStrategicMerge = {
            spec = {
              dnsConfig = {
                options = [{ name = "ndots", value = "2" }]
              }
            }
          }
        }
      }]
    }
  }

  depends_on = [terraform_data.kyverno_ready]
}

# TODO: add a verifyImages rule (cosign, keyless) once our images are signed.
