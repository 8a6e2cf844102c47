"""A Terragrunt file's ``locals`` and ``inputs`` as a module of the estate sees them (``terraform.py``):
merged shallowly over the parent it ``include``s, each input with the file that writes it."""

from __future__ import annotations

from typing import Any

from tools.inventory.hcl import (
    UNRESOLVED,
    Call,
    Evaluator,
    Expr,
    HclFile,
    Literal,
    ObjectExpr,
    Ref,
    walk_steps,
)


class Terragrunt:
    """A Terragrunt file's ``locals`` and ``inputs``, merged shallowly over an ``include``d parent.

    ``opaque`` is set when ``inputs`` is not an object literal (``merge(...)``): any variable may then
    be set by it, so no variable default can be trusted.
    """

    def __init__(self, file: HclFile, hcl_files: dict[str, HclFile], depth: int = 0) -> None:
        self.locals = {n: a.value for b in file.body.blocks_of("locals") for n, a in b.attrs.items()}
        self.ev = Evaluator(self.lookup)
        self.inputs: dict[str, tuple[Expr, Evaluator]] = {}
        self.input_paths: dict[str, str] = {}  # the file each input is written in (this one or a parent)
        self.opaque = False
        for include in file.body.blocks_of("include"):
            parent = included(file.path, include.attr("path"), hcl_files)
            strategy = include.attr("merge_strategy")
            no_merge = isinstance(strategy, Literal) and strategy.value == "no_merge"
            if parent is not None and depth < 5 and not no_merge:
                inherited = Terragrunt(parent, hcl_files, depth + 1)
                self.inputs.update(inherited.inputs)
                self.input_paths.update(inherited.input_paths)
                self.opaque = inherited.opaque
        inputs = file.body.attr("inputs")
        if isinstance(inputs, ObjectExpr):
            self.inputs.update({k: (v, self.ev) for k, v in inputs.items})
            self.input_paths.update({k: file.path for k, _ in inputs.items})
        elif inputs is not None:
            self.opaque = True
        self._active: set[str] = set()

    def lookup(self, ref: Ref) -> Any:
        name = ref.steps[0] if ref.steps else None
        if ref.root != "local" or not isinstance(name, str) or name in self._active:
            return UNRESOLVED
        if name not in self.locals:
            return UNRESOLVED
        self._active.add(name)
        try:
            return walk_steps(self.ev.value(self.locals[name]), ref.steps[1:])
        finally:
            self._active.discard(name)


def included(path: str, expr: Expr | None, hcl_files: dict[str, HclFile]) -> HclFile | None:
    """``find_in_parent_folders()`` (or with a file name): the nearest such file above this one."""
    if not isinstance(expr, Call) or expr.name != "find_in_parent_folders":
        return None
    name = "terragrunt.hcl"
    if expr.args:
        first = expr.args[0]
        if not isinstance(first, Literal) or not isinstance(first.value, str):
            return None
        name = first.value
    directory = parent_dir(path)
    while directory != ".":
        directory = parent_dir(directory)
        found = hcl_files.get(name if directory == "." else f"{directory}/{name}")
        if found is not None:
            return found
    return None


def parent_dir(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else "."
