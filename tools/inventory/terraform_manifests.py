"""Whole Kubernetes objects in Terraform (``kubernetes_manifest``, ``kubectl_manifest``) to records.

Separate from :mod:`tools.inventory.terraform_workloads`, which maps the typed ``kubernetes_*``
resources block by block: here the resource holds a whole Kubernetes object (an HCL object literal, or
YAML/JSON decoded from a heredoc or a file), which goes through the same mapper as YAML manifests and
live objects. ``manifest_records`` is re-exported from ``terraform_workloads``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tools.inventory.hcl import Block, Call, Expr, Literal, ObjectExpr, Template, TupleExpr
from tools.inventory.inventory import Records

if TYPE_CHECKING:  # only for annotations: terraform_workloads imports this module to re-export it
    from tools.inventory.terraform_workloads import Site


def manifest_records(site: Site, block: Block, out: Records) -> str | None:
    """``kubernetes_manifest`` (``manifest``) and ``kubectl_manifest`` (``yaml_body``): map the object.

    The object is an HCL object literal, or ``yamldecode``/``jsondecode`` of a heredoc or of a
    ``file(...)`` next to the module. Returns the object's kind, for the ``TerraformResource`` record.
    """
    from tools.inventory.k8s_objects import records_from_object  # lazily: the mapper imports a lot

    expr = block.attr("manifest") if block.labels[0] == "kubernetes_manifest" else block.attr("yaml_body")
    found = _manifest_object(site, expr, decoder=block.labels[0] != "kubernetes_manifest")
    if found is None:
        return None
    obj, line_of = found
    mapped = records_from_object(obj, site.ref(block), "terraform", line_of)
    for w in mapped.workloads:
        w.resource_type, w.address = block.labels[0], ".".join(block.labels)
    out.extend(mapped)
    kind = obj.get("kind")
    return kind if isinstance(kind, str) else None


LineOf = Callable[[tuple[str | int, ...]], int | None]
Found = tuple[dict[str, Any], LineOf | None]


def _manifest_object(site: Site, expr: Expr | None, decoder: bool) -> Found | None:
    """The object and a key-line lookup; lines of a heredoc are shifted to this file's lines."""
    from tools.inventory.yaml_lines import YamlParseError, load_documents

    if isinstance(expr, ObjectExpr):
        return site.ev.data(expr), _object_lines(expr)
    if isinstance(expr, Call) and expr.name in ("yamldecode", "jsondecode") and len(expr.args) == 1:
        expr = expr.args[0]
    elif not decoder:
        return None
    offset = 0
    if isinstance(expr, Call) and expr.name == "file" and expr.args:
        found = site.read_file(expr.args[0])
        if found is None:
            return None
        text: str | None = found[1]
        offset = -1  # lines of another file cannot point into this one
    else:
        text = site.ev.string(expr) if isinstance(expr, (Template, Literal)) else None
        if isinstance(expr, (Template, Literal)):
            offset = (expr.body_line if isinstance(expr, Template) and expr.heredoc else expr.line) - 1
    if text is None:
        return None
    try:
        docs = load_documents(text)  # JSON is YAML
    except YamlParseError:
        return None
    if not docs:
        return None
    doc = docs[0]
    if offset < 0:
        return doc.data, None

    def shifted(path: tuple[str | int, ...]) -> int | None:
        line = doc.line_of(path)
        return None if line is None else line + offset

    return doc.data, shifted


def _object_lines(top: ObjectExpr) -> LineOf:
    """Line of a nested key of an HCL object literal, for the mapper's ``line_of``."""

    def line_of(path: tuple[str | int, ...]) -> int | None:
        node: Expr = top
        for part in path:
            if isinstance(node, ObjectExpr) and isinstance(part, str):
                found = [v for k, v in node.items if k == part]
                if not found:
                    return None
                node = found[-1]
            elif isinstance(node, TupleExpr) and isinstance(part, int) and 0 <= part < len(node.items):
                node = node.items[part]
            else:
                return None
        return node.line

    return line_of
