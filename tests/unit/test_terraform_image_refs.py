"""An image whose tag a variable gives cites where that variable's value is written (its Terragrunt
input, else its default), the line to change for MNT-IMAGE-LATEST; an image whose tag is written in
place, or a variable nothing decides, keeps citing the image line."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tools.checks.detections.common import image_location
from tools.inventory.terraform import parse_terraform

DEPLOYMENT = """
resource "kubernetes_deployment_v1" "web" {{
  metadata {{
    name = "web"
  }}
  spec {{
    template {{
      spec {{
{containers}
      }}
    }}
  }}
}}
"""


def _container(name: str, image: str) -> str:
    return f'        container {{\n          name  = "{name}"\n          image = {image}\n        }}'


def _images(root: Path, files: dict[str, str], **containers: str) -> dict[str, tuple[str | None, str]]:
    """Each container's resolved image and the ref an image finding on it cites."""
    body = "\n".join(_container(name, image) for name, image in containers.items())
    files = {**files, "app/main.tf": DEPLOYMENT.format(containers=body)}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    [workload] = parse_terraform(root, sorted(files)).workloads
    return {c.name: (c.image_resolved, image_location(workload, c).ref) for c in workload.containers}


VARIABLES = """
variable "tag" {
  default = "latest"
}
variable "image" {
  type    = string
  default = "ghcr.io/acme/api"
}
variable "pinned" {}
"""


def test_a_tag_from_a_variable_cites_its_default(tmp_path: Path) -> None:
    got = _images(
        tmp_path,
        {"app/variables.tf": VARIABLES},
        web='"ghcr.io/acme/web:${var.tag}"',  # the tag is the variable's: its default line
        api="var.image",  # the whole image: its default line (no tag there either)
        side='"ghcr.io/acme/side:${var.tag}-alpine"',  # the tag ends in the image's own text
        fixed='"ghcr.io/acme/fixed:1.2.3"',
        unset='"ghcr.io/acme/unset:${var.pinned}"',  # no default, no input: nothing resolves it
    )
    assert got == {
        "web": ("ghcr.io/acme/web:latest", "app/variables.tf:2"),
        "api": ("ghcr.io/acme/api", "app/variables.tf:6"),
        "side": ("ghcr.io/acme/side:latest-alpine", "app/main.tf:18"),
        "fixed": ("ghcr.io/acme/fixed:1.2.3", "app/main.tf:22"),
        "unset": (None, "app/main.tf:26"),
    }


def test_a_terragrunt_input_is_where_the_tag_is_written(tmp_path: Path) -> None:
    """The input wins over the default, in the file that writes it (a parent the module includes)."""
    files = {
        "terragrunt.hcl": """
            inputs = {
              tag = "latest"
            }
        """,
        "app/terragrunt.hcl": """
            include "root" {
              path = find_in_parent_folders()
            }
        """,
        "app/variables.tf": VARIABLES,
    }
    got = _images(tmp_path, files, web='"ghcr.io/acme/web:${var.tag}"')
    assert got == {"web": ("ghcr.io/acme/web:latest", "terragrunt.hcl:2")}


def test_inputs_a_merge_may_set_decide_nothing(tmp_path: Path) -> None:
    """``inputs = merge(...)`` may set any variable: the default is not trusted, the tag not resolved."""
    files = {
        "app/terragrunt.hcl": """
            inputs = merge(local.common, { other = 1 })
        """,
        "app/variables.tf": VARIABLES,
    }
    got = _images(tmp_path, files, web='"ghcr.io/acme/web:${var.tag}"')
    assert got == {"web": (None, "app/main.tf:10")}


def test_a_variable_a_caller_or_a_tfvars_file_may_set_keeps_the_image_line(tmp_path: Path) -> None:
    """Called as a module (or with a ``.tfvars`` file beside it), the default may not be what runs: the
    finding cites the image. A variable that holds the image's name is not its tag's either."""
    caller = 'module "app" {\n  source = "../app"\n  tag    = "1.4.2"\n}\n'
    called = _images(
        tmp_path / "called",
        {"app/variables.tf": VARIABLES, "live/main.tf": caller},
        web='"acme/web:${var.tag}"',
    )
    assert called == {"web": ("acme/web:latest", "app/main.tf:10")}
    tfvars = {"app/variables.tf": VARIABLES, "app/prod.tfvars": 'tag = "1.4.2"\n'}
    assert _images(tmp_path / "tfvars", tfvars, web='"acme/web:${var.tag}"') == {
        "web": ("acme/web:latest", "app/main.tf:10")
    }
    named = {"app/variables.tf": 'variable "name" {\n  default = "web"\n}\n'}
    assert _images(tmp_path / "named", named, web='"ghcr.io/acme/${var.name}"') == {
        "web": ("ghcr.io/acme/web", "app/main.tf:10")
    }


def test_an_example_tfvars_file_sets_nothing(tmp_path: Path) -> None:
    """``terraform.tfvars.example`` is a template for a reader, not values Terraform loads: the default
    still decides the tag, and the finding cites it."""
    files = {"app/variables.tf": VARIABLES, "app/terraform.tfvars.example": 'tag = "1.4.2"\n'}
    assert _images(tmp_path, files, web='"acme/web:${var.tag}"') == {
        "web": ("acme/web:latest", "app/variables.tf:2")
    }
