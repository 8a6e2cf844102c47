"""Terraform's own blocks to records: module calls, ``terraform {}``, escape hatches, ``ignore_changes``.

Separate from :mod:`tools.inventory.terraform`, which reads the files and resolves references per
module directory: the functions here only map one block, read through the evaluator of its
:class:`~tools.inventory.terraform_workloads.Site`. Covered: ``module`` blocks (and a Terragrunt
``terraform { source }``), ``required_providers`` and backends, ``null_resource``/``terraform_data``
provisioners and triggers, the paths and marker comment of ``lifecycle.ignore_changes``, and the HCL
that Terragrunt ``generate`` blocks write.
"""

from __future__ import annotations

import re
from typing import Final
from typing import Literal as TypingLiteral

from tools.inventory.hcl import (
    UNRESOLVED,
    Block,
    Comment,
    Evaluator,
    Expr,
    HclError,
    Literal,
    ObjectExpr,
    Ref,
    Template,
    TupleExpr,
    calls_function,
    parse_hcl,
)
from tools.inventory.inventory import Records
from tools.inventory.models import (
    Backend,
    CodeRef,
    EscapeHatch,
    ProviderRequirement,
    Provisioner,
    TerraformModule,
)
from tools.inventory.terraform_workloads import Site

_MARKER = re.compile(r"^(?:#|//|/\*)\s*([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")
_REGISTRY = re.compile(r"^(?:[\w.-]+/)?[\w-]+/[\w-]+/[\w-]+$")
ProvisionerType = TypingLiteral["local-exec", "remote-exec", "file"]
ModuleKind = TypingLiteral["local", "git", "registry", "other"]
_PROVISIONERS: Final[dict[str, ProvisionerType]] = {
    "local-exec": "local-exec",
    "remote-exec": "remote-exec",
    "file": "file",
}


def ignore_paths(expr: Expr) -> list[str]:
    """Paths as written; ``all`` (or the legacy ``"all"``) is ``["all"]``."""
    if (isinstance(expr, Ref) and expr.raw == "all") or (isinstance(expr, Literal) and expr.value == "all"):
        return ["all"]
    items = expr.items if isinstance(expr, TupleExpr) else (expr,)
    return [i.value if isinstance(i, Literal) and isinstance(i.value, str) else i.raw for i in items]


def comment_marker(comments: tuple[Comment, ...], line: int, end_line: int) -> str | None:
    """An upper-case marker comment at the end of (or inside) the lines, or in the comments just above."""
    by_end = {c.end_line: c for c in comments if c.own_line}
    above: list[Comment] = []
    cursor = line - 1
    while cursor in by_end:
        above.append(by_end[cursor])
        cursor = by_end[cursor].line - 1
    near = [c for c in comments if line <= c.line <= end_line and not c.own_line] + above
    for comment in near:
        found = _MARKER.match(comment.text)
        if found is not None:
            return found.group(1)
    return None


def escape_hatch(site: Site, block: Block, address: str) -> EscapeHatch:
    ev = site.ev
    rtype = block.labels[0]
    resource_host = (block.block("connection") or Block("", (), {}, (), 0, 0)).attr("host")
    provisioners: list[Provisioner] = []
    for p in block.blocks_of("provisioner"):
        ptype = _PROVISIONERS.get(p.labels[0]) if p.labels else None
        if ptype is None:
            continue
        connection = p.block("connection")
        host = connection.attr("host") if connection is not None else resource_host
        host = None if ptype == "local-exec" else host  # local-exec runs where terraform runs
        provisioners.append(Provisioner(type=ptype, connection_host=ev.text(host), line=p.line))
    triggers_expr = block.attr("triggers" if rtype == "null_resource" else "triggers_replace")
    triggers: dict[str, str] = {}
    if isinstance(triggers_expr, ObjectExpr):
        triggers = {k: v.raw for k, v in triggers_expr.items}
    elif triggers_expr is not None:
        triggers = {"*": triggers_expr.raw}
    stamped = (
        [triggers_expr] if triggers_expr is not None and calls_function(triggers_expr, "timestamp") else []
    )
    if stamped and isinstance(triggers_expr, ObjectExpr):
        stamped = [v for _, v in triggers_expr.items if calls_function(v, "timestamp")] or stamped
    return EscapeHatch(
        resource_type="null_resource" if rtype == "null_resource" else "terraform_data",
        address=address,
        provisioners=provisioners,
        triggers=triggers,
        timestamp_trigger=bool(stamped),
        timestamp_line=stamped[0].line if stamped else None,
        source=site.ref(block),
    )


def module_record(site: Site, name: str, block: Block, out: Records) -> None:
    source_expr = block.attr("source")
    url = site.ev.text(source_expr)
    if url is None:
        return
    ref = None
    kind: ModuleKind = "other"
    version = site.ev.text(block.attr("version"))
    if url.startswith(("./", "../")):
        kind = "local"
    elif url.startswith(("git::", "git@", "github.com/", "bitbucket.org/")):
        kind = "git"
        found = re.search(r"[?&]ref=([^&]+)", url)
        ref = found.group(1) if found else None
    elif url.startswith("tfr://") or _REGISTRY.match(url.split("?")[0]):
        kind = "registry"
        found = re.search(r"[?&]version=([^&]+)", url)
        version = version or (found.group(1) if found else None)
    out.modules.append(
        TerraformModule(
            name=name,
            source_url=url,
            ref=ref,
            version=version,
            kind=kind,
            source=site.ref(block),
            source_line=source_expr.line if source_expr is not None else None,
        )
    )


def terraform_block(site: Site, block: Block, terragrunt: bool, out: Records) -> None:
    if terragrunt and block.attr("source") is not None:
        module_record(site, "terragrunt", block, out)
    for req in block.blocks_of("required_providers"):
        for name, attr in req.attrs.items():
            expr = attr.value
            ref = CodeRef(path=site.path, line=attr.line, end_line=attr.end_line)
            if isinstance(expr, ObjectExpr):
                fields = dict(expr.items)
                source, constraint = site.ev.text(fields.get("source")), site.ev.text(fields.get("version"))
            else:
                source, constraint = None, site.ev.text(expr)
            out.providers.append(
                ProviderRequirement(name=name, provider_source=source, constraint=constraint, source=ref)
            )
    for backend in block.blocks_of("backend") + block.blocks_of("cloud"):  # HCP Terraform's cloud {} is one
        kind = backend.labels[0] if backend.labels else "cloud" if backend.type == "cloud" else None
        if kind is not None:
            out.backends.append(Backend(type=kind, defined_in="terraform", source=site.ref(backend)))


def generate_block(path: str, block: Block, out: Records) -> None:
    """Terragrunt ``generate`` blocks: parse the generated HCL for providers and backends."""
    contents = block.attr("contents")
    if not isinstance(contents, Template) or not contents.heredoc or contents.directives:
        return
    text = "".join(p if isinstance(p, str) else "${" + p.raw + "}" for p in contents.parts)
    parsed = parse_hcl(path, text, line_offset=contents.body_line - 1)
    if isinstance(parsed, HclError):
        return
    site = Site(path, Evaluator(lambda _ref: UNRESOLVED), lambda _expr: None)
    for inner in parsed.body.blocks_of("terraform"):
        before = len(out.backends)
        terraform_block(site, inner, False, out)
        for backend in out.backends[before:]:
            backend.defined_in = "terragrunt"
