"""What the Helm engine needs of a Terraform ``helm_release``: its values in order, and its ``set`` values.

Kept beside the ``HelmRelease`` record as a private attribute (``render_inputs``): never serialized, so it
reaches no report, checkpoint or prompt; only the render phase reads it, and what it renders goes through
the one object mapper (which keeps no env or Secret value). ``set_sensitive`` values are never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tools.inventory.hcl import UNRESOLVED, Block, Call, Evaluator, Expr, ObjectExpr, Template, TupleExpr


@dataclass
class HelmValuesInput:
    kind: str
    """``file`` (a values file of the estate), ``template`` (templatefile: path + vars), ``inline``."""
    path: str | None = None
    data: Any = None
    template_vars: dict[str, Any] = field(default_factory=dict)


@dataclass
class HelmRenderInputs:
    values: list[HelmValuesInput] = field(default_factory=list)
    sets: list[tuple[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def render_inputs(ev: Evaluator, block: Block, file_path: Callable[[Expr], str | None]) -> HelmRenderInputs:
    out = HelmRenderInputs()
    values = block.attr("values")
    if values is not None and not isinstance(values, TupleExpr):
        out.notes.append("values is not a list written in the block: not read")
    for item in values.items if isinstance(values, TupleExpr) else ():
        if isinstance(item, Call) and item.name in ("file", "templatefile") and item.args:
            path = file_path(item.args[0])
            if path is None:
                out.notes.append(f"values {item.raw[:80]} not resolved")
            elif item.name == "file":
                out.values.append(HelmValuesInput("file", path))
            else:
                variables = ev.value(item.args[1]) if len(item.args) > 1 else {}
                if not isinstance(variables, dict):
                    out.notes.append(f"templatefile {path}: variables not resolved")
                    continue
                out.values.append(HelmValuesInput("template", path, template_vars=variables))
        elif isinstance(item, Call) and item.name in ("yamlencode", "jsonencode") and item.args:
            data = ev.value(item.args[0])
            if isinstance(data, dict):
                out.values.append(HelmValuesInput("inline", data=data))
            else:
                out.notes.append(f"{item.name}(...) at line {item.line} not resolved")
        elif isinstance(item, Template):
            text = ev.string(item)
            if text is None:
                out.notes.append("an inline values string was not resolved")
            else:
                out.values.append(HelmValuesInput("inline", data=text))
    for kind in ("set", "set_list", "set_sensitive"):
        pairs: list[tuple[Expr | None, Expr | None]] = [
            (b.attr("name"), b.attr("value")) for b in block.blocks_of(kind)
        ]
        listed = block.attr(kind)  # helm provider 3.x: set = [{ name = ..., value = ... }]
        for entry in listed.items if isinstance(listed, TupleExpr) else ():
            if isinstance(entry, ObjectExpr):
                items = dict(entry.items)
                pairs.append((items.get("name"), items.get("value")))
        for name_expr, value_expr in pairs:
            name = ev.string(name_expr)
            if name is None:
                continue
            if kind == "set_sensitive":
                out.notes.append(f"set_sensitive {name} not applied (sensitive values are never read)")
                continue
            value = ev.value(value_expr) if value_expr is not None else UNRESOLVED
            if value is UNRESOLVED:
                out.notes.append(f"set {name} not applied (value not resolved)")
            else:
                out.sets.append((name, value))
    return out
