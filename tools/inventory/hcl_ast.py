"""The typed AST of an HCL file: frozen dataclasses with exact lines, and nothing that acts on them.

Separate from :mod:`tools.inventory.hcl` (the tree-sitter parser that builds these) and from
:mod:`tools.inventory.hcl_eval` (static evaluation over them), so both can depend on the types without
depending on each other. Every class is a plain frozen dataclass, picklable, so files can be parsed in
a process pool. Import them from ``tools.inventory.hcl``, which re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Scalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Literal:
    value: Scalar
    raw: str
    line: int


@dataclass(frozen=True, slots=True)
class Template:
    """A quoted string with interpolations, or a heredoc: text parts and interpolated expressions."""

    parts: tuple[str | Expr, ...]
    raw: str
    line: int
    heredoc: bool = False
    directives: bool = False  # %{ if } / %{ for }: never evaluated
    body_line: int = 0  # heredocs: line of the first content line


@dataclass(frozen=True, slots=True)
class Ref:
    """``var.x``, ``kubernetes_namespace.ns.metadata[0].name``: names, literal indexes, None for a splat."""

    root: str
    steps: tuple[str | int | None, ...]
    raw: str
    line: int


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    items: tuple[tuple[str, Expr], ...]
    raw: str
    line: int


@dataclass(frozen=True, slots=True)
class TupleExpr:
    items: tuple[Expr, ...]
    raw: str
    line: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    raw: str
    line: int


@dataclass(frozen=True, slots=True)
class Other:
    """Conditionals, operators, for-expressions, splats of calls: kept as raw text only."""

    raw: str
    line: int


Expr = Literal | Template | Ref | ObjectExpr | TupleExpr | Call | Other


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    value: Expr
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    attrs: dict[str, Attribute]
    blocks: tuple[Block, ...]
    line: int
    end_line: int

    def attr(self, name: str) -> Expr | None:
        found = self.attrs.get(name)
        return found.value if found is not None else None

    def block(self, type_: str) -> Block | None:
        """The first nested block of that type (``dynamic`` blocks included, see :meth:`blocks_of`)."""
        return next(iter(self.blocks_of(type_)), None)

    def blocks_of(self, type_: str) -> list[Block]:
        """Nested blocks of that type; a ``dynamic "type" { content {...} }`` counts once, as written."""
        found: list[Block] = []
        for child in self.blocks:
            if child.type == type_:
                found.append(child)
            elif child.type == "dynamic" and child.labels == (type_,):
                content = child.block("content")
                if content is not None:
                    found.append(Block(type_, (), content.attrs, content.blocks, child.line, child.end_line))
        return found

    def path(self, *types: str) -> Block | None:
        """Follow first nested blocks: ``b.path("spec", "template", "spec")``."""
        current: Block | None = self
        for type_ in types:
            current = current.block(type_) if current is not None else None
        return current


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    end_line: int
    text: str
    own_line: bool  # nothing but whitespace before it on its line


@dataclass(frozen=True, slots=True)
class HclFile:
    path: str
    body: Block  # the file itself, as a block of type "" holding top-level attributes and blocks
    comments: tuple[Comment, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class HclError:
    path: str
    line: int
    message: str
    too_deep: bool = False
