include "root" {
  path = find_in_parent_folders()
}

dependencies {
  paths = ["../dbaas"]
}

# Forgejo lives in the "git" namespace (the variable default is "forgejo").
inputs = {
  namespace = "git"
}
