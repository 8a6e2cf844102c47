"""Static evaluation of HCL expressions: :class:`Evaluator` and the small functions around it.

Separate from the parser in :mod:`tools.inventory.hcl` because evaluation needs a caller-supplied
reference lookup (a module's variables, locals and resources) while parsing is a pure function of one
file. It never guesses: anything it cannot know is :data:`UNRESOLVED`. Import these names from
``tools.inventory.hcl``, which re-exports them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Any, Final

from tools.inventory.hcl_ast import Call, Expr, Literal, ObjectExpr, Other, Ref, Scalar, Template, TupleExpr


class Unresolved(enum.Enum):
    """The value of an expression that cannot be known statically (an enum: a picklable singleton)."""

    UNRESOLVED = "UNRESOLVED"


UNRESOLVED: Final = Unresolved.UNRESOLVED
Lookup = Callable[[Ref], Any]
"""Resolves a traversal to plain data (str, int, float, bool, None, list, dict) or UNRESOLVED."""


def walk_steps(value: Any, steps: tuple[str | int | None, ...]) -> Any:
    """Index plain data by traversal steps; a missing key or a splat is UNRESOLVED."""
    for step in steps:
        if isinstance(value, dict) and isinstance(step, str) and step in value:
            value = value[step]
        elif isinstance(value, list) and isinstance(step, int) and not isinstance(step, bool):
            if not 0 <= step < len(value):
                return UNRESOLVED
            value = value[step]
        else:
            return UNRESOLVED
    return value


def format_scalar(value: Scalar) -> str:
    """A scalar as Terraform interpolates it: true/false, 2 for 2.0."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_written(expr: Expr) -> str:
    """The expression as a reader sees it: a string's value, a quoted template without its quotes."""
    if isinstance(expr, Literal):
        return expr.raw if expr.value is None or not isinstance(expr.value, str) else expr.value
    if isinstance(expr, Template) and not expr.heredoc:
        return expr.raw[1:-1]
    return expr.raw


class Evaluator:
    """Static evaluation of expressions; references go through ``lookup``. No function is evaluated."""

    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup

    def value(self, expr: Expr) -> Any:
        """Plain data, or UNRESOLVED if any part is unknown."""
        if isinstance(expr, Literal):
            return expr.value
        if isinstance(expr, Ref):
            return self.lookup(expr)
        if isinstance(expr, Template):
            return self.template(expr)
        if isinstance(expr, TupleExpr):
            items = [self.value(i) for i in expr.items]
            return UNRESOLVED if any(i is UNRESOLVED for i in items) else items
        if isinstance(expr, ObjectExpr):
            obj = {k: self.value(v) for k, v in expr.items}
            return UNRESOLVED if any(v is UNRESOLVED for v in obj.values()) else obj
        return UNRESOLVED

    def template(self, expr: Template) -> str | Unresolved:
        if expr.directives:
            return UNRESOLVED
        out: list[str] = []
        for part in expr.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = self.value(part)
            if value is UNRESOLVED or value is None or isinstance(value, (list, dict)):
                return UNRESOLVED
            out.append(format_scalar(value))
        return "".join(out)

    def string(self, expr: Expr | None) -> str | None:
        """The resolved value as a string; None when absent, null or unresolved."""
        if expr is None:
            return None
        value = self.value(expr)
        if value is UNRESOLVED or value is None or isinstance(value, (list, dict)):
            return None
        return format_scalar(value)

    def text(self, expr: Expr | None) -> str | None:
        """The resolved string, else the expression as written; None only when absent or null."""
        if expr is None:
            return None
        resolved = self.string(expr)
        if resolved is not None:
            return resolved
        return None if isinstance(expr, Literal) and expr.value is None else as_written(expr)

    def integer(self, expr: Expr | None) -> int | None:
        value = self.string(expr)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    def boolean(self, expr: Expr | None) -> bool | None:
        value = self.string(expr)
        return {"true": True, "false": False}.get(value) if value is not None else None

    def strings(self, expr: Expr | None) -> list[str]:
        """A list of strings: each item resolved, else as written."""
        if isinstance(expr, TupleExpr):
            return [t for t in (self.text(i) for i in expr.items) if t is not None]
        value = self.value(expr) if expr is not None else None
        if not isinstance(value, list):
            return []
        return [format_scalar(v) for v in value if not isinstance(v, (list, dict))]

    def data(self, expr: Expr) -> Any:
        """Best-effort plain data: unknown leaves become their text as written (for manifests)."""
        if isinstance(expr, ObjectExpr):
            return {k: self.data(v) for k, v in expr.items}
        if isinstance(expr, TupleExpr):
            return [self.data(i) for i in expr.items]
        value = self.value(expr)
        return as_written(expr) if value is UNRESOLVED else value

    def mapping(self, expr: Expr | None) -> dict[str, str]:
        """A string map (labels, selectors): values resolved, else as written."""
        if not isinstance(expr, ObjectExpr):
            value = self.value(expr) if expr is not None else None
            if isinstance(value, dict):
                return {k: format_scalar(v) for k, v in value.items() if not isinstance(v, (list, dict))}
            return {}
        return {k: t for k, v in expr.items if (t := self.text(v)) is not None}


def calls_function(expr: Expr, name: str) -> bool:
    """Whether the expression calls ``name(...)`` anywhere (e.g. ``timestamp()`` in a trigger)."""
    if isinstance(expr, Call):
        return expr.name == name or any(calls_function(a, name) for a in expr.args)
    if isinstance(expr, Template):
        return any(not isinstance(p, str) and calls_function(p, name) for p in expr.parts)
    if isinstance(expr, TupleExpr):
        return any(calls_function(i, name) for i in expr.items)
    if isinstance(expr, ObjectExpr):
        return any(calls_function(v, name) for _, v in expr.items)
    if isinstance(expr, Other):  # conditionals and operators are kept as text: look for the call there
        return re.search(rf"(?<![\w.\"]){re.escape(name)}\s*\(", expr.raw) is not None
    return False
