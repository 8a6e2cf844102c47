"""Print one check's number over an estate's Terraform and Terragrunt blocks (not Kubernetes objects).

A reader's script (the standard library only, with ``k8s_objects.py``'s small HCL reader):

* MNT-HELM-UNPINNED: ``resource "helm_release"`` blocks with no ``version``, a *latest* one or a range
  (``*``, ``<``, ``>``, ``~``, ``^``, ``||``, `` - ``, an ``x`` part); the YAML releases are the
  catalog's other command.
* MNT-PROVIDER-UNCONSTRAINED: ``required_providers`` entries of ``terraform {}`` blocks (in ``*.tf``,
  and in the HCL a Terragrunt ``generate`` block writes) with no ``version``; an entry written as a
  bare string is its version constraint.

    python3 tools/checks/reproduce_scripts/terraform_count.py ROOT CHECK [SKIP_DIR ...]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from k8s_objects import Expr, parse, read_hcl, variables, walk

Item = tuple[str, list[str], Any]


def blocks(items: list[Item], name: str) -> list[list[Item]]:
    return [body for n, _labels, body in items if n == name and isinstance(body, list)]


def generated(items: list[Item]) -> list[Item]:
    """The HCL that Terragrunt ``generate`` blocks write (a heredoc without template directives)."""
    out: list[Item] = []
    for body in blocks(items, "generate"):
        contents = next((v for k, _, v in body if k == "contents"), None)
        if isinstance(contents, str) and "%{" not in contents:
            try:
                out += parse(contents)
            except Exception:  # generated HCL this reader cannot read adds no provider
                continue
    return out


def providers(root: Path, skip: tuple[str, ...]) -> list[Any]:
    """Every required_providers entry's value, in path order."""
    found: list[Any] = []
    for path in walk(root, skip):
        if path.suffix not in (".tf", ".hcl") or path.name == ".terraform.lock.hcl":
            continue
        items = read_hcl(path, {})
        for terraform in blocks(items + generated(items), "terraform"):
            for required in blocks(terraform, "required_providers"):
                found += [value for _name, _labels, value in required]
    return found


def unconstrained(root: Path, skip: tuple[str, ...]) -> int:
    def constrained(value: Any) -> bool:
        if isinstance(value, dict):
            return isinstance(value.get("version"), str) and not isinstance(value.get("version"), Expr)
        return isinstance(value, str) and not isinstance(value, Expr)

    return sum(not constrained(v) for v in providers(root, skip))


RANGE = re.compile(r"[*<>~^]|\|\||\s-\s|(?:^|\.)[xX](?:\.|$)")


def helm_unpinned(root: Path, skip: tuple[str, ...]) -> int:
    def unpinned(body: list[Item]) -> bool:
        version = next((v for k, _, v in body if k == "version"), None)
        if (
            not isinstance(version, (str, int, float))
            or isinstance(version, Expr)
            or not str(version).strip()
        ):
            return True
        return "latest" in str(version).lower() or bool(RANGE.search(str(version)))

    releases = [
        body
        for path in walk(root, skip)
        if path.suffix == ".tf"
        for name, labels, body in read_hcl(path, variables(path.parent))
        if name == "resource" and labels[:1] == ["helm_release"] and isinstance(body, list)
    ]
    return sum(unpinned(r) for r in releases)


CHECKS: dict[str, Callable[[Path, tuple[str, ...]], int]] = {
    "MNT-HELM-UNPINNED": helm_unpinned,
    "MNT-PROVIDER-UNCONSTRAINED": unconstrained,
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in CHECKS:
        print(
            f"usage: terraform_count.py ROOT CHECK [SKIP_DIR ...]; CHECK one of {sorted(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    print(CHECKS[argv[1]](Path(argv[0]), tuple(argv[2:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
