"""The tree-sitter HCL wrapper: exact lines, values, comments, heredocs, errors, static evaluation."""

from __future__ import annotations

import pickle
import textwrap
from typing import Any

import pytest

from tools.inventory.hcl import (
    UNRESOLVED,
    Block,
    Call,
    Evaluator,
    HclError,
    HclFile,
    Literal,
    ObjectExpr,
    Other,
    Ref,
    Template,
    TupleExpr,
    as_written,
    calls_function,
    parse_hcl,
    walk_steps,
)

pytestmark = pytest.mark.unit


def _parse(text: str) -> HclFile:
    parsed = parse_hcl("main.tf", textwrap.dedent(text).lstrip("\n"))
    assert isinstance(parsed, HclFile), parsed
    return parsed


def _attr(block: Block, name: str) -> Any:
    found = block.attr(name)
    assert found is not None, name
    return found


def test_blocks_attributes_and_lines() -> None:
    f = _parse(
        """
        # leading comment
        resource "kubernetes_deployment" "web" {
          metadata {
            name = "web"
          }

          count = 2
        }
        locals { a = 1 }
        """
    )
    resource, local = f.body.blocks
    assert (resource.type, resource.labels, resource.line, resource.end_line) == (
        "resource",
        ("kubernetes_deployment", "web"),
        2,
        8,
    )
    meta = resource.block("metadata")
    assert meta is not None and (meta.line, meta.end_line) == (3, 5)
    assert meta.attrs["name"].line == 4
    assert _attr(meta, "name") == Literal("web", '"web"', 4)
    assert resource.attrs["count"].value == Literal(2, "2", 7)
    assert (local.type, local.line, local.end_line) == ("locals", 9, 9)
    assert resource.block("spec") is None


def test_literals_and_escapes() -> None:
    f = _parse(
        r"""
        a = "x\"y\n\u00e9 $${z} %%{w}"
        b = 1.5
        c = true
        d = null
        e = -3
        f = ""
        g = "a#b // c /* d */"
        """
    )
    values: dict[str, Any] = {k: a.value for k, a in f.body.attrs.items()}
    assert values["a"] == Literal('x"y\né ${z} %{w}', r'"x\"y\n\u00e9 $${z} %%{w}"', 1)
    assert values["b"].value == 1.5
    assert values["c"].value is True
    assert values["d"].value is None
    assert values["e"] == Literal(-3, "-3", 5)
    assert values["f"].value == ""
    assert values["g"].value == "a#b // c /* d */"
    assert f.comments == ()


def test_templates_keep_whitespace_around_interpolations() -> None:
    f = _parse(
        """
        name = "app ${var.env} - ${local.x}!"
        """
    )
    tpl = _attr(f.body, "name")
    assert isinstance(tpl, Template)
    assert tpl.parts == (
        "app ",
        Ref("var", ("env",), "var.env", 1),
        " - ",
        Ref("local", ("x",), "local.x", 1),
        "!",
    )
    assert as_written(tpl) == "app ${var.env} - ${local.x}!"


def test_heredocs_are_text_never_blocks() -> None:
    f = _parse(
        """
        plain = <<EOT
        resource "kubernetes_deployment" "fake" {
          image = "${var.image} here"
        }
        EOT
        indented = <<-EOT
            kind: Deployment
              spec: {}
            EOT
        """
    )
    assert f.body.blocks == ()
    plain = _attr(f.body, "plain")
    assert isinstance(plain, Template) and plain.heredoc and plain.body_line == 2
    assert plain.parts[0] == 'resource "kubernetes_deployment" "fake" {\n  image = "'
    assert plain.parts[1] == Ref("var", ("image",), "var.image", 3)
    assert plain.parts[2] == ' here"\n}\n'
    indented = _attr(f.body, "indented")
    assert indented.parts == ("kind: Deployment\n  spec: {}\n",)
    assert Evaluator(lambda r: UNRESOLVED).value(indented) == "kind: Deployment\n  spec: {}\n"


def test_comments_of_every_style_are_dropped_and_collected() -> None:
    f = _parse(
        """
        # resource "a" "hash" {}
        // resource "a" "slashes" {}
        /*
        resource "a" "block" {}
        */
        resource "a" "real" {
          x = 1 # KYVERNO_LIFECYCLE_V1
        }
        """
    )
    assert [b.labels for b in f.body.blocks] == [("a", "real")]
    assert [(c.line, c.end_line, c.own_line) for c in f.comments] == [
        (1, 1, True),
        (2, 2, True),
        (3, 5, True),
        (7, 7, False),
    ]
    assert f.comments[3].text == "# KYVERNO_LIFECYCLE_V1"


def test_traversals_collections_and_calls() -> None:
    f = _parse(
        """
        a = kubernetes_namespace.ns.metadata[0].name
        b = kubernetes_namespace_v1.ns.metadata.0.name
        c = var.list[*].id
        d = { app = "x", "app.kubernetes.io/name" = "y", (var.k) = 3 }
        e = [file("a.yaml"), 2]
        f = var.a ? "x" : "y"
        g = (var.p)
        """
    )
    body = f.body
    assert _attr(body, "a") == Ref(
        "kubernetes_namespace", ("ns", "metadata", 0, "name"), "kubernetes_namespace.ns.metadata[0].name", 1
    )
    assert _attr(body, "b").steps == ("ns", "metadata", 0, "name")
    assert _attr(body, "c").steps == ("list", None)
    obj = _attr(body, "d")
    assert isinstance(obj, ObjectExpr)
    assert [k for k, _ in obj.items] == ["app", "app.kubernetes.io/name", "var.k"]
    tup = _attr(body, "e")
    assert isinstance(tup, TupleExpr) and isinstance(tup.items[0], Call)
    assert tup.items[0].name == "file" and tup.items[0].args == (Literal("a.yaml", '"a.yaml"', 5),)
    assert _attr(body, "f") == Other('var.a ? "x" : "y"', 6)
    assert _attr(body, "g") == Ref("var", ("p",), "var.p", 7)


def test_dynamic_blocks_count_once_as_their_content() -> None:
    f = _parse(
        """
        spec {
          container { name = "a" }
          dynamic "container" {
            for_each = var.sidecars
            content {
              name = container.value.name
            }
          }
        }
        """
    )
    spec = f.body.blocks[0]
    containers = spec.blocks_of("container")
    assert [(c.type, c.line, c.end_line) for c in containers] == [("container", 2, 2), ("container", 3, 8)]
    assert containers[1].attr("name") == Ref("container", ("value", "name"), "container.value.name", 6)


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ('a = 1\nresource "x" "y" {\n  b = \n}\n', 3, "syntax error"),
        ('resource "x" "y" {\n  b = 1\n', 1, "unclosed block opened on line 1 (missing '}')"),
        ('a = "unterminated\nb = 2\n', 1, "unclosed string lit"),
    ],
)
def test_syntax_errors_give_the_first_error_line(text: str, line: int, fragment: str) -> None:
    parsed = parse_hcl("bad.tf", text)
    assert isinstance(parsed, HclError)
    assert parsed.path == "bad.tf"
    assert parsed.line == line
    assert fragment in parsed.message


def test_line_offset_for_embedded_hcl() -> None:
    parsed = parse_hcl("terragrunt.hcl", 'terraform {\n  backend "s3" {}\n}\n', line_offset=10)
    assert isinstance(parsed, HclFile)
    terraform = parsed.body.blocks[0]
    assert (terraform.line, terraform.end_line) == (11, 13)
    assert terraform.blocks[0].line == 12


def test_parsed_files_are_picklable() -> None:
    f = _parse(
        """
        resource "a" "b" {
          x = "${var.y}-z"
          l = [1, { k = local.v }]
        }
        # note
        """
    )
    assert pickle.loads(pickle.dumps(f)) == f
    assert pickle.loads(pickle.dumps(UNRESOLVED)) is UNRESOLVED


def test_non_ascii_text_keeps_exact_slices() -> None:
    f = _parse(
        """
        # çà
        a = "é${var.b}ü"
        b = "ok"
        """
    )
    assert _attr(f.body, "a").parts == ("é", Ref("var", ("b",), "var.b", 2), "ü")
    assert _attr(f.body, "b").value == "ok"


def test_evaluator_resolves_only_what_it_knows() -> None:
    known = {("var", "tag"): "1.2", ("var", "n"): 3, ("local", "obj"): {"a": [10, 20]}}

    def lookup(ref: Ref) -> Any:
        key = (ref.root, ref.steps[0]) if ref.steps else (ref.root, "")
        if key not in known:
            return UNRESOLVED
        return walk_steps(known[key], ref.steps[1:])

    ev = Evaluator(lookup)
    f = _parse(
        """
        a = "img:${var.tag}"
        b = "img:${var.unknown}"
        c = local.obj.a[1]
        d = var.n
        e = { x = var.tag, y = var.unknown }
        f = "%{ if true }x%{ endif }"
        g = upper("x")
        h = ["a", var.tag, var.unknown]
        """
    )
    body = f.body
    assert ev.string(_attr(body, "a")) == "img:1.2"
    assert ev.string(_attr(body, "b")) is None
    assert ev.text(_attr(body, "b")) == "img:${var.unknown}"
    assert ev.value(_attr(body, "c")) == 20
    assert ev.integer(_attr(body, "d")) == 3
    assert ev.value(_attr(body, "e")) is UNRESOLVED
    assert ev.data(_attr(body, "e")) == {"x": "1.2", "y": "var.unknown"}
    assert ev.mapping(_attr(body, "e")) == {"x": "1.2", "y": "var.unknown"}
    assert ev.string(_attr(body, "f")) is None
    assert ev.string(_attr(body, "g")) is None
    assert ev.strings(_attr(body, "h")) == ["a", "1.2", "var.unknown"]
    assert ev.string(None) is None and ev.text(None) is None


def test_calls_function_finds_nested_and_conditional_calls() -> None:
    f = _parse(
        """
        a = timestamp()
        b = { t = "${timestamp()}" }
        c = var.x ? timestamp() : "never"
        d = "timestamp()"
        e = sha256(local.x)
        """
    )
    body = f.body
    assert [calls_function(_attr(body, k), "timestamp") for k in "abcde"] == [True, True, True, False, False]


def test_pathological_input_is_an_error_not_a_crash() -> None:
    assert parse_hcl("deep.tf", "a = " + "[" * 3000 + "]" * 3000 + "\n") == HclError(
        "deep.tf", 1, "nesting too deep to read", too_deep=True
    )
    parsed = parse_hcl("esc.tf", 'a = "\\UFFFFFFFF"\n')
    assert isinstance(parsed, HclFile)
    assert _attr(parsed.body, "a").value == "\\UFFFFFFFF"
