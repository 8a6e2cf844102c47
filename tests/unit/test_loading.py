"""Bounded loading of untrusted JSON and YAML: refused at load, typed, never a RecursionError or a hang."""

from __future__ import annotations

import json

import pytest

from tools.inventory import loading
from tools.inventory.loading import MAX_ALIAS_NODES, MAX_DEPTH, LoadError, load_json
from tools.inventory.yaml_lines import YamlParseError, load_documents, load_values

pytestmark = pytest.mark.unit


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    """A JSON (and YAML) list nested ``depth`` levels: the root counts as level 1."""
    return "[" * depth + "]" * depth


# ------------------------------------------------------------------------------------------- JSON


def test_json_1000_levels_deep_is_refused_not_a_recursion_error() -> None:
    text = '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + nested(1000) + "}"
    assert len(text) < 2100
    with pytest.raises(LoadError) as info:
        load_json(text.encode())
    assert (info.value.reason, info.value.line) == ("too_deep", None)


@pytest.mark.parametrize(("depth", "refused"), [(MAX_DEPTH, False), (MAX_DEPTH + 1, True), (900, True)])
def test_json_depth_bound(depth: int, refused: bool) -> None:
    if refused:
        with pytest.raises(LoadError) as info:
            load_json(nested(depth))
        assert info.value.reason == "too_deep"
    else:
        assert json.dumps(load_json(nested(depth))) == nested(depth).replace("][", "], [")


def a_list(*items: str, extra: str = "") -> str:
    """A Kubernetes List of the given item texts (root at level 1, ``items`` at 2, each item at 3)."""
    return '{"apiVersion": "v1", "kind": "List"' + extra + ', "items": [' + ", ".join(items) + "]}"


SHALLOW = '{"kind": "Pod", "metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"containers": [{}]}}'


@pytest.mark.parametrize(
    ("item", "refused"),
    [
        (nested(MAX_DEPTH - 2), False),  # the item's root is level 3
        (nested(MAX_DEPTH - 1), True),
        ('{"n": 123456789012345678901234567890, "x": ' + nested(MAX_DEPTH - 2) + "}", True),  # no orjson
        ('{"s": "\\ud800", "x": ' + nested(MAX_DEPTH - 3) + "}", False),  # a lone surrogate: walked
        ('{"s": "\\ud800", "x": ' + nested(MAX_DEPTH - 2) + "}", True),
        ('{"x": ' + nested(300) + "}", True),  # deeper than orjson writes
        ('{"text": "' + "[{" * MAX_DEPTH + '"}', False),  # brackets in a string are no nesting
    ],
)
def test_a_lists_items_are_held_to_the_depth_bound_from_where_they_sit(item: str, refused: bool) -> None:
    text = a_list(SHALLOW, item, SHALLOW)
    if refused:
        with pytest.raises(LoadError) as info:
            load_json(text)
        assert info.value.reason == "too_deep"
    else:
        assert load_json(text) == json.loads(text)


def test_a_lists_own_fields_are_held_to_the_bound_beside_its_items() -> None:
    with pytest.raises(LoadError):
        load_json(a_list(SHALLOW, extra=', "metadata": ' + nested(MAX_DEPTH)))
    assert load_json(a_list(SHALLOW, extra=', "metadata": ' + nested(MAX_DEPTH - 1)))["kind"] == "List"


def test_a_lists_items_are_walked_only_when_their_text_could_nest_too_deep(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A snapshot dump is a List of thousands of objects: each is bounded by its text's brackets
    (written in C) and walked only when those could nest past the bound (issue 13: walking every
    dump was 0.6 s of a 10k-pod load)."""
    walked: list[object] = []
    walk = loading._walk_deeper_than

    def counted(value: object, limit: int) -> bool:
        walked.append(value)
        return walk(value, limit)

    monkeypatch.setattr(loading, "_walk_deeper_than", counted)
    many_brackets = '{"text": "' + "[" * MAX_DEPTH + '"}'
    value = load_json(a_list(*[SHALLOW] * 500, many_brackets, SHALLOW))
    assert walked == [{"apiVersion": "v1", "kind": "List"}, {"text": "[" * MAX_DEPTH}]
    assert len(value["items"]) == 502


@pytest.mark.parametrize(
    ("text", "line", "truncated"),
    [
        ('{"items": [\n  {"a": 1},\n  {"b": "cut he', 3, True),
        ('{"items": [\n  {"a": 1},\n', 2, True),
        ('{"items": [\n  {"a": 1}},\n]}', 2, False),
    ],
)
def test_broken_json_is_a_syntax_error_with_its_line_and_truncation_said(
    text: str, line: int, truncated: bool
) -> None:
    with pytest.raises(LoadError) as info:
        load_json(text.encode())
    assert (info.value.reason, info.value.line) == ("syntax", line)
    assert info.value.message.startswith("truncated JSON") is truncated


def test_json_that_is_not_utf8_is_an_encoding_error() -> None:
    with pytest.raises(LoadError) as info:
        load_json(b'{\n"name": "caf\xe9"}')
    assert (info.value.reason, info.value.line) == ("encoding", 2)


# ------------------------------------------------------------------------------------------- YAML


def test_a_billion_laughs_is_refused_at_load_as_an_alias_bomb() -> None:
    with pytest.raises(YamlParseError) as info:
        load_documents(billion_laughs())
    assert (info.value.reason, info.value.line) == ("alias_bomb", 1)
    with pytest.raises(YamlParseError):
        load_values(billion_laughs())  # the snapshot loader is the same loader


def test_a_bomb_spread_over_documents_is_counted_per_file() -> None:
    # each document adds 5 * 11,110 values: under the bound alone, over it together
    doc = (
        "a: &a ["
        + ", ".join(["x"] * 10)
        + "]\n"
        + "".join(
            f"b{i}: &b{i} [{', '.join([f'*{prev}'] * 10)}]\n" for i, prev in enumerate(["a", "b0", "b1"])
        )
    )
    doc += "c: [" + ", ".join(["*b2"] * 5) + "]\n"
    single = load_documents(doc)
    assert len(single) == 1
    per_doc = 5 * 11_110
    copies = MAX_ALIAS_NODES // per_doc + 1
    with pytest.raises(YamlParseError) as info:
        load_documents("---\n".join([doc] * copies))
    assert info.value.reason == "alias_bomb"


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: {c: *a}}\n"])
def test_an_alias_that_contains_itself_is_refused(text: str) -> None:
    with pytest.raises(YamlParseError) as info:
        load_documents(text)
    assert info.value.reason == "alias_bomb"


def test_a_chain_of_aliases_deeper_than_the_bound_is_refused_though_each_is_shallow() -> None:
    chain = "x0: &x0 [1]\n" + "".join(f"x{i}: &x{i} [*x{i - 1}]\n" for i in range(1, MAX_DEPTH + 1))
    with pytest.raises(YamlParseError) as info:
        load_documents(chain)
    assert info.value.reason == "too_deep"


@pytest.mark.parametrize("depth", [MAX_DEPTH, 150, 999, 5000])
def test_yaml_nesting_past_the_bound_is_refused(depth: int) -> None:
    """The document root is level 1, so ``a: [..]`` of depth ``d`` is ``d + 1`` levels."""
    with pytest.raises(YamlParseError) as info:
        load_documents("a: " + nested(depth) + "\n")
    assert info.value.reason == "too_deep"
    assert load_documents("a: " + nested(MAX_DEPTH - 1) + "\n")[0].line == 1


def test_ordinary_anchors_and_merge_keys_still_load() -> None:
    [doc] = load_documents(
        "base: &b {cpu: 1, tags: [a, b]}\nweb:\n  <<: *b\n  cpu: 2\nworker: *b\nlist: [*b, *b]\n"
    )
    assert doc.data["web"] == {"cpu": 2, "tags": ["a", "b"]}
    assert doc.data["worker"] is doc.data["base"]  # shared, never copied
    assert doc.line_of(("web", "cpu")) == 4


def test_yaml_that_is_not_utf8_is_an_encoding_error() -> None:
    with pytest.raises(YamlParseError) as info:
        load_documents(b"a: 1\nb: caf\xe9\n")
    assert (info.value.reason, info.value.line) == ("encoding", 2)


def test_load_values_keeps_every_root_and_drops_nulls() -> None:
    assert load_values("- 1\n---\nnull\n---\nkind: Pod\nwhen: 2024-01-01\n") == [
        [1],
        {"kind": "Pod", "when": "2024-01-01"},  # a timestamp stays the text as written
    ]


@pytest.mark.parametrize("tag", ["int", "float"])
def test_a_value_that_does_not_fit_its_tag_is_named_by_tag_and_line_not_quoted(tag: str) -> None:
    """The YAML library's message quotes the value (a secret, maybe, with no key beside it): ours does not."""
    with pytest.raises(YamlParseError) as caught:
        load_documents(f"kind: ConfigMap\ndata:\n  db_password: !!{tag} s3cr3t-value\n")
    assert (caught.value.message, caught.value.line, caught.value.reason) == (
        f"a value that is not a valid !!{tag}",
        3,
        "syntax",
    )
    assert "s3cr3t" not in str(caught.value)


def test_load_json_finite_tells_a_nan_or_an_overflowing_number() -> None:
    from tools.inventory.loading import load_json_finite

    assert load_json_finite(b'{"a": 1, "b": 2.5, "c": null, "d": "NaN 1e400"}') == (
        {"a": 1, "b": 2.5, "c": None, "d": "NaN 1e400"},
        True,
    )
    for text in (b'{"a": NaN}', b"[-Infinity]", b'{"x": 1e400}', b"[1.5, Infinity]"):
        assert load_json_finite(text)[1] is False
    (nan,), _ = load_json_finite(b"[NaN]")
    assert nan != nan  # still the NaN json.loads makes
    assert load_json_finite(b"[-Infinity, 1e400]")[0] == [float("-inf"), float("inf")]
