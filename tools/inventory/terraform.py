"""Terraform and Terragrunt files into inventory records, in two phases.

1. Per file, :func:`parse_file`: a pure function of (estate-relative path, text) returning picklable
   data, so a process pool can run it. A file that does not parse is reported and skipped whole.
2. Per module directory (every ``.tf`` of one directory is one module, with the ``terragrunt.hcl``
   beside it): :class:`Module` resolves ``var.x`` (Terragrunt ``inputs``, then the variable's
   default), ``local.x`` and references to resources of the module, then maps each block to records.
   Resolution never guesses: what it cannot know stays unresolved, with the raw text kept.

Terraform's own blocks (modules, providers, backends, escape hatches) are mapped in
``terraform_blocks``; Kubernetes resources in ``terraform_workloads``.
"""

from __future__ import annotations

import functools
from pathlib import Path, PurePosixPath
from typing import Any, Final

from domain.unread import SkipReason
from tools.inventory.hcl import (
    UNRESOLVED,
    Block,
    Call,
    Comment,
    Evaluator,
    Expr,
    HclError,
    HclFile,
    Literal,
    ObjectExpr,
    Ref,
    Template,
    TupleExpr,
    as_written,
    parse_hcl,
    walk_steps,
)
from tools.inventory.inventory import Records
from tools.inventory.models import (
    Backend,
    CodeRef,
    HelmRelease,
    IgnoreChanges,
    TerraformResource,
    TerraformVariable,
)
from tools.inventory.sources import ParseIssue
from tools.inventory.terraform_blocks import (
    comment_marker,
    escape_hatch,
    generate_block,
    ignore_paths,
    module_record,
    terraform_block,
)
from tools.inventory.terraform_helm import render_inputs
from tools.inventory.terraform_workloads import Site, kubernetes_records, manifest_records
from tools.inventory.terragrunt import Terragrunt, parent_dir
from tools.pathnames import on_disk
from tools.redact import fingerprint
from tools.redact_values import is_secret_variable
from tools.sizes import MIB, format_size

MAX_READ_BYTES: Final = 2 * MIB  # a YAML file a manifest reads with file(...)
MAX_PARSE_BYTES: Final = 5 * MIB  # no hand-written HCL file is this big; generated ones are not worth it
_TOOL_CACHES: Final = frozenset({".terraform", ".terragrunt-cache"})


def parse_terraform(root: Path, paths: list[str]) -> Records:
    """Records of every Terraform (``.tf``) and Terragrunt (``.hcl``) file in ``paths`` (estate-relative)."""
    records = Records()
    by_dir: dict[str, list[HclFile]] = {}
    for rel in sorted(set(paths)):
        loaded = load_file(root, rel)
        if isinstance(loaded, ParseIssue):
            records.issues.append(loaded)
        elif loaded is not None:
            by_dir.setdefault(parent_dir(rel), []).append(loaded)
    hcl_files = {f.path: f for files in by_dir.values() for f in files if f.path.endswith(".hcl")}
    called = _called_dirs(by_dir)
    for directory in sorted(by_dir):
        module = Module(root, directory, by_dir[directory], hcl_files, directory in called)
        module.extract(records)
        module.release()
    return records


def parse_file(path: str, text: str) -> HclFile | HclError:
    """Phase 1 for one file; pure and picklable."""
    return parse_hcl(path, text)


def load_file(root: Path, rel: str) -> HclFile | ParseIssue | None:
    """Read, decode and parse one file; a file that cannot be used is a ParseIssue, never an exception."""
    if rel.endswith(".tf.json"):
        return ParseIssue(
            path=rel, message="skipped: Terraform JSON syntax (.tf.json) is not parsed", reason="unsupported"
        )
    if not rel.endswith((".tf", ".hcl")) or not _TOOL_CACHES.isdisjoint(PurePosixPath(rel).parts[:-1]):
        return None  # copies of modules that terraform init / terragrunt downloaded: not this estate's code
    try:
        with open(root / on_disk(rel), "rb") as handle:
            data = handle.read(MAX_PARSE_BYTES + 1)
    except OSError as exc:
        return ParseIssue(path=rel, message=f"cannot read: {exc.strerror or exc}", reason="unreadable")
    if len(data) > MAX_PARSE_BYTES:
        return ParseIssue(
            path=rel, message=f"skipped: larger than {format_size(MAX_PARSE_BYTES)}", reason="too_large"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return ParseIssue(path=rel, line=line, message="not valid UTF-8", reason="encoding")
    parsed = parse_file(rel, text)
    if isinstance(parsed, HclError):
        reason: SkipReason = "too_deep" if parsed.too_deep else "syntax"
        return ParseIssue(path=rel, line=parsed.line, message=parsed.message, reason=reason)
    return parsed


def _called_dirs(by_dir: dict[str, list[HclFile]]) -> set[str]:
    """Directories of the estate that a ``module`` block's or a Terragrunt ``terraform`` block's local
    ``source`` (``./``, ``../``) calls: their variables may be set by the caller."""
    called = set()
    for directory, files in by_dir.items():
        for f in files:
            kind = "module" if f.path.endswith(".tf") else "terraform"
            for block in f.body.blocks_of(kind):
                source = block.attr("source")
                written = source.value if isinstance(source, Literal) else None
                if isinstance(written, str) and written.startswith(("./", "../")):
                    called.add(join_path(directory, written.split("//")[0]))
    return called


def join_path(base: str, written: str) -> str:
    """An estate-relative path from a directory and a relative path, with ``.`` and ``..`` folded."""
    parts: list[str] = [] if base in ("", ".") else base.split("/")
    for piece in written.split("/"):
        if piece == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append("..")
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts) or "."


# ------------------------------------------------------------------------------- resolution


def _nowhere(_name: str) -> None:
    """A Terragrunt file has no variables of its own: nothing it reads is a module variable."""
    return None


class Module:
    """One module directory: its symbols, an evaluator over them, and the mapping of its blocks."""

    def __init__(
        self,
        root: Path,
        directory: str,
        files: list[HclFile],
        hcl_files: dict[str, HclFile],
        called: bool = False,
    ):
        self.root, self.dir, self.files, self.hcl_files = root, directory, files, hcl_files
        self.called = called  # a module block or a Terragrunt source of the estate calls this directory
        self.variables: dict[str, Expr | None] = {}
        self.variable_paths: dict[str, str] = {}
        self.locals: dict[str, Expr] = {}
        self.resources: dict[tuple[str, str], Block] = {}
        for f in files:
            for b in f.body.blocks if f.path.endswith(".tf") else ():
                if b.type == "variable" and b.labels:
                    self.variables[b.labels[0]] = b.attr("default")
                    self.variable_paths[b.labels[0]] = f.path
                elif b.type == "locals":
                    self.locals.update({n: a.value for n, a in b.attrs.items()})
                elif b.type == "resource" and len(b.labels) == 2:
                    self.resources[(b.labels[0], b.labels[1])] = b
        self.tg_file = next((f for f in files if f.path.rsplit("/", 1)[-1] == "terragrunt.hcl"), None)
        self.terragrunt = Terragrunt(self.tg_file, hcl_files) if self.tg_file is not None else None
        self.ev = Evaluator(self.lookup)
        self._active: set[tuple[str, str]] = set()
        self._cache: dict[tuple[str, str], Any] = {}

    def release(self) -> None:
        """Break the evaluator's reference cycle (it holds ``self.lookup``) so the module's syntax trees
        are freed now rather than by a later full collection: about 20 MiB on a 340-file estate."""
        self.ev = None  # type: ignore[assignment]
        if self.terragrunt is not None:
            self.terragrunt.ev = None  # type: ignore[assignment]
        self._cache.clear()

    def lookup(self, ref: Ref) -> Any:
        """``var.x``, ``local.x`` (memoised) and configured attributes of this module's resources."""
        name = ref.steps[0] if ref.steps else None
        key = (ref.root, name) if isinstance(name, str) else None
        if key is None or key in self._active:
            return UNRESOLVED  # a computed name, or a cycle
        if key in self._cache:
            return walk_steps(self._cache[key], ref.steps[1:])
        self._active.add(key)
        try:
            if key in self.resources:
                return self._resource_attr(self.resources[key], ref.steps[1:])
            if ref.root == "var":
                value = self._variable(key[1])
            elif ref.root == "local" and key[1] in self.locals:
                value = self.ev.value(self.locals[key[1]])
            else:
                return UNRESOLVED
            self._cache[key] = value
            return walk_steps(value, ref.steps[1:])
        finally:
            self._active.discard(key)

    def _variable(self, name: str) -> Any:
        found = self._variable_source(name)
        if found is None:
            return UNRESOLVED
        expr, ev, _ = found
        return ev.value(expr)

    def _variable_source(self, name: str) -> tuple[Expr, Evaluator, str] | None:
        """Where ``var.<name>`` takes its value in this parse: its Terragrunt input (one that does not
        resolve hides the default), else its default; None where neither decides it (no default,
        inputs a ``merge(...)`` may set). With the file that holds it."""
        tg = self.terragrunt
        if tg is not None and name in tg.inputs:
            expr, ev = tg.inputs[name]
            return expr, ev, tg.input_paths[name]
        default = self.variables.get(name)
        if default is None or (tg is not None and tg.opaque):
            return None
        return default, self.ev, self.variable_paths[name]

    def written_at(self, name: str) -> CodeRef | None:
        """The line that sets ``var.<name>``'s value, as ``_variable`` takes it; None where it may be
        set where this parse does not look: by a module block or a Terragrunt ``source`` that calls
        this directory, or a ``.tfvars`` file beside it (then the default is not what is deployed)."""
        found = self._variable_source(name)
        if found is None or self.called or self._tfvars_beside:
            return None
        expr, _, path = found
        return CodeRef(path=path, line=expr.line)

    @functools.cached_property
    def _tfvars_beside(self) -> bool:
        """Whether a ``.tfvars`` (or ``.tfvars.json``) file sits in this directory: read once per module,
        not per image (an example such as ``terraform.tfvars.example`` sets nothing)."""
        try:
            return any(p.name.endswith((".tfvars", ".tfvars.json")) for p in (self.root / self.dir).iterdir())
        except OSError:
            return False

    def _resource_attr(self, block: Block, steps: tuple[str | int | None, ...]) -> Any:
        """Configured attributes only (``metadata[0].name``); computed ones (``id``) are unknown."""
        first = steps[0] if steps else None
        counted = "count" in block.attrs or "for_each" in block.attrs
        if counted and first is not None and first not in block.attrs and not block.blocks_of(str(first)):
            steps = steps[1:]  # an instance key: every instance has the same configuration
        current, i = block, 0
        while i < len(steps):
            step = steps[i]
            if not isinstance(step, str):
                return UNRESOLVED
            if step in current.attrs:
                return walk_steps(self.ev.value(current.attrs[step].value), steps[i + 1 :])
            nested = current.blocks_of(step)
            index = steps[i + 1] if i + 1 < len(steps) else None
            if not isinstance(index, int) or not 0 <= index < len(nested):
                return UNRESOLVED
            current, i = nested[index], i + 2
        return UNRESOLVED

    def read_file(self, expr: Expr) -> tuple[str, str] | None:
        """A ``file(...)`` argument (``${path.module}`` allowed) read from this module, inside the estate."""
        rel = self.file_path(expr)
        if rel is None or rel.startswith(".."):
            return None
        try:
            real = (self.root / on_disk(rel)).resolve()
            if not real.is_relative_to(self.root.resolve()):  # a symlink leaving the estate
                return None
            with open(real, "rb") as handle:
                data = handle.read(MAX_READ_BYTES + 1)
            return (rel, data.decode("utf-8")) if len(data) <= MAX_READ_BYTES else None
        except (OSError, UnicodeDecodeError):
            return None

    def file_path(self, expr: Expr) -> str | None:
        """The estate-relative path a path expression names, when it resolves."""
        value = Evaluator(self._path_lookup).string(expr)
        if value is None or value.startswith("/"):
            return None
        return join_path(self.dir, value)

    def _path_lookup(self, ref: Ref) -> Any:
        if ref.root == "path" and ref.steps in (("module",), ("root",)):
            return "."
        return self.lookup(ref)

    # ----------------------------------------------------------------------------- mapping

    def extract(self, out: Records) -> None:
        for f in self.files:
            terragrunt = f.path.endswith(".hcl")  # Terragrunt files see their own locals, not the module's
            tg = None
            if terragrunt:
                tg = self.terragrunt if f is self.tg_file else Terragrunt(f, self.hcl_files)
            ev = tg.ev if tg is not None else self.ev
            site = Site(f.path, ev, self.read_file, self.written_at if tg is None else _nowhere)
            for block in f.body.blocks:
                kind = block.type
                if kind == "resource" and len(block.labels) == 2:
                    self._resource(site, f.comments, block, out)
                elif kind == "module" and block.labels:
                    module_record(site, block.labels[0], block, out)
                elif kind == "terraform":
                    terraform_block(site, block, terragrunt, out)
                elif kind == "variable" and block.labels and not terragrunt:
                    default = ev.string(block.attr("default")) if _literal(block.attr("default")) else None
                    sensitive = block.attr("sensitive")  # or a name saying password/secret/token/key
                    if default and (
                        is_secret_variable(block.labels[0]) or getattr(sensitive, "value", 0) is True
                    ):
                        default = fingerprint(default)
                    out.variables.append(
                        TerraformVariable(name=block.labels[0], default=default, source=site.ref(block))
                    )
                elif kind == "remote_state" and terragrunt:
                    backend = ev.string(block.attr("backend"))
                    if backend is not None:
                        out.backends.append(
                            Backend(type=backend, defined_in="terragrunt", source=site.ref(block))
                        )
                elif kind == "generate" and terragrunt:
                    generate_block(f.path, block, out)

    def _resource(self, site: Site, comments: tuple[Comment, ...], block: Block, out: Records) -> None:
        rtype, name = block.labels
        address = f"{rtype}.{name}"
        manifest_kind = None
        if rtype in ("kubernetes_manifest", "kubectl_manifest"):
            manifest_kind = manifest_records(site, block, out)
        elif rtype.startswith("kubernetes_"):
            kubernetes_records(site, block, out)
        elif rtype == "helm_release":
            out.helm_releases.append(self._helm(site, block))
        elif rtype in ("null_resource", "terraform_data"):
            out.escape_hatches.append(escape_hatch(site, block, address))
        out.resources.append(
            TerraformResource(type=rtype, name=name, manifest_kind=manifest_kind, source=site.ref(block))
        )
        lifecycle = block.block("lifecycle")
        ignore = lifecycle.attrs.get("ignore_changes") if lifecycle is not None else None
        if ignore is not None:
            out.ignore_changes.append(
                IgnoreChanges(
                    address=address,
                    paths=ignore_paths(ignore.value),
                    marker=comment_marker(comments, ignore.line, ignore.end_line),
                    source=CodeRef(path=site.path, line=ignore.line, end_line=ignore.end_line),
                )
            )

    def _helm(self, site: Site, block: Block) -> HelmRelease:
        ev = site.ev
        version = block.attrs.get("version")
        namespace = block.attr("namespace")
        values = block.attr("values")
        files = [
            self.file_path(item.args[0]) or as_written(item.args[0])
            for item in (values.items if isinstance(values, TupleExpr) else ())
            if isinstance(item, Call) and item.name in ("file", "templatefile") and item.args
        ]
        set_keys: list[str] = []
        for kind in ("set", "set_sensitive", "set_list"):
            set_keys += [t for b in block.blocks_of(kind) if (t := ev.text(b.attr("name"))) is not None]
            listed = block.attr(kind)  # helm provider 3.x: set = [{ name = ..., value = ... }]
            for item in listed.items if isinstance(listed, TupleExpr) else ():
                key = dict(item.items).get("name") if isinstance(item, ObjectExpr) else None
                if key is not None and (t := ev.text(key)) is not None:
                    set_keys.append(t)
        release = HelmRelease(
            defined_by="terraform",
            name=ev.string(block.attr("name")),
            namespace=ev.string(namespace) if namespace is not None else "default",
            chart=ev.text(block.attr("chart")),
            version=ev.text(version.value) if version is not None else None,
            version_line=version.line if version is not None else None,
            repository=ev.text(block.attr("repository")),
            values_files=files,
            set_keys=set_keys,
            create_namespace=ev.boolean(block.attr("create_namespace")) or False,
            source=site.ref(block),
        )
        release.render_inputs = render_inputs(ev, block, self.file_path)
        return release


def _literal(expr: Expr | None) -> bool:
    """A literal value, or a heredoc without interpolation: what a variable default may be recorded as."""
    plain = isinstance(expr, Template) and not expr.directives and all(isinstance(p, str) for p in expr.parts)
    return isinstance(expr, Literal) or plain
