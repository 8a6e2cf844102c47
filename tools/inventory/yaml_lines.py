"""Load YAML documents together with the line of every key, for ``file:line`` evidence.

PyYAML's loaders throw marks away once values are built, and a second pass to find lines would read
each file twice. So the libyaml C parser composes the node tree once (marks included), plain Python
values are built here from that tree, and each document keeps a ``line_of`` function that walks the
same tree lazily: lines are only computed for the few paths a record needs (an image, a version).

Values follow the YAML 1.1 rules of PyYAML's safe loader (what ``kubectl`` and Flux see, too), with
two deliberate differences: timestamps and binary stay the text as written (Kubernetes treats them
as strings), and unknown tags (``!Ref``, ``!vault``) load as their plain value instead of failing.
Aliases share one Python object (never deep-copied), so building costs nothing; but every walker of
the value expands them, so a file whose aliases expand past the bound, or refer to themselves, is
refused here, and so is a document nested too deep (``loading``: the bounds and why). The same
loader reads the estate's YAML and a snapshot's YAML dumps (``load_values``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tools.inventory.loading import MAX_ALIAS_NODES, MAX_DEPTH, LoadError, too_deep_error

_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SAFE = yaml.constructor.SafeConstructor()
_IMPLICIT = _BASE_LOADER.yaml_implicit_resolvers

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Loader(_BASE_LOADER):  # type: ignore[valid-type,misc]
    """The safe loader with a leaner tag resolver, which runs once per scalar: compose is ~20% faster.

    Same result as PyYAML's resolver for the safe loader (which has no path or wildcard resolvers).
    """

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in _IMPLICIT.get(value[:1], ()):
                    if regexp.match(value):
                        return str(tag)
            return _STR
        return _SEQ if kind is SequenceNode else _MAP

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None


LineOf = Callable[[tuple[str | int, ...]], int | None]
"""Line (1-based) of a nested mapping key or sequence item, e.g. ``("spec", "containers", 0, "image")``."""


class YamlParseError(LoadError):
    """A YAML text that is not loaded. ``line`` is 1-based, or None when libyaml gave no mark."""


class YamlDocument(NamedTuple):
    """One non-empty mapping document: its values, the line of its first key, and a key-line lookup."""

    data: dict[Any, Any]
    line: int
    line_of: LineOf


def load_documents(text: str | bytes) -> list[YamlDocument]:
    """Every mapping document of a (multi-document) YAML text, in order.

    Empty and null documents are skipped, and so are documents whose root is a list or a scalar
    (no Kubernetes object, values file or CI file has one). Raises ``YamlParseError`` when the text
    is not loaded (``reason``: syntax, encoding, too_deep, alias_bomb): the whole file is then
    reported, because documents after a syntax error cannot be trusted.
    """
    return [
        YamlDocument(data, (root.value[0][0] if root.value else root).start_mark.line + 1, _line_finder(root))
        for root, data in _load(text)
        if isinstance(root, MappingNode)
    ]


def load_values(text: str | bytes) -> list[Any]:
    """The value of every non-null document of a YAML text, any root (a snapshot dump); bounded the same."""
    return [data for _, data in _load(text) if data is not None]


def load_values_with_lines(text: str | bytes) -> list[tuple[Any, LineOf]]:
    """``load_values`` with each document's key-line lookup, any root (a JSON 6902 patch is a list:
    ``line_of((0, "value"))`` is the line of its first operation's ``value:``)."""
    return [(data, _line_finder(root)) for root, data in _load(text) if data is not None]


def _load(text: str | bytes) -> list[tuple[Node, Any]]:
    """(root node, value) of every document; raises ``YamlParseError``."""
    out: list[tuple[Node, Any]] = []
    budget = _Budget()
    try:
        for root in yaml.compose_all(text, Loader=_Loader):
            builder = _Builder()
            data = builder.build(root)
            if builder.aliased:
                budget.check(root)
            out.append((root, data))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = ": ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        line = mark.line + 1 if mark else None
        if "maximum nesting depth" in message:  # libyaml's own bound (1,000 levels) came first
            raise YamlParseError(too_deep_error().message, line, "too_deep") from exc
        raise YamlParseError(message, line) from exc
    except yaml.reader.ReaderError as exc:  # bad encoding or a control character: no mark, an offset
        prefix = text[: exc.position]
        line = (prefix.count(b"\n") if isinstance(prefix, bytes) else prefix.count("\n")) + 1
        raise YamlParseError(f"unacceptable character ({exc.reason})", line, "encoding") from exc
    except yaml.YAMLError as exc:
        raise YamlParseError(str(exc), None) from exc
    except RecursionError as exc:
        raise YamlParseError(too_deep_error().message, None, "too_deep") from exc
    except YamlParseError:
        raise
    except ValueError as exc:  # a value that does not fit its type; the library's words may quote it
        raise YamlParseError("a value that does not fit its type", None) from exc
    return out


class _Budget:
    """The alias bound of one file: the values its aliases add once expanded (over the values written),
    summed over its documents, and each document's depth once expanded. Only documents that use an
    alias are measured, each node once (expanded size and height are memoized per node)."""

    def __init__(self) -> None:
        self.added = 0

    def check(self, root: Node) -> None:
        known: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        inside: set[int] = set()  # the nodes on the current path: meeting one again is a cycle
        written = 0

        def measure(node: Node, depth: int) -> tuple[int, int]:
            nonlocal written
            key = id(node)
            if key in inside:
                raise YamlParseError(
                    "an alias refers to a value that contains it (a cycle); not read",
                    _line(node),
                    "alias_bomb",
                )
            if key in known:
                size, height = known[key]
            elif isinstance(node, MappingNode | SequenceNode):
                inside.add(key)
                children = (
                    [c for pair in node.value for c in pair] if isinstance(node, MappingNode) else node.value
                )
                size, height = 1, 1
                for child in children:
                    child_size, child_height = measure(child, depth + 1)
                    size, height = size + child_size, max(height, child_height + 1)
                inside.discard(key)
                known[key] = (size, height)
                written += 1
            else:
                size, height = 1, 0
                known[key] = (size, height)
                written += 1
            if depth - 1 + height > MAX_DEPTH:
                raise YamlParseError(too_deep_error().message, _line(node), "too_deep")
            return size, height

        expanded, _ = measure(root, 1)
        self.added += expanded - written
        if self.added > MAX_ALIAS_NODES:
            raise YamlParseError(
                f"YAML aliases expand this file by more than {MAX_ALIAS_NODES:,} values (an alias bomb); "
                "not read",
                _line(root),
                "alias_bomb",
            )


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _line_finder(root: Node) -> LineOf:
    def line_of(path: tuple[str | int, ...]) -> int | None:
        node: Node = root
        line: int | None = root.start_mark.line + 1
        for part in path:
            if isinstance(node, MappingNode):
                found = _find_key(node, part)
                if found is None:
                    return None
                key, node = found
                line = key.start_mark.line + 1
            elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return None
        return line

    return line_of


def _find_key(node: MappingNode, part: str | int) -> tuple[Node, Node] | None:
    """The (key, value) nodes of ``part``; the last duplicate wins, as in the built dict."""
    wanted = str(part)
    merges: list[Node] = []
    for key, value in reversed(node.value):
        if key.tag == _MERGE:
            merges.append(value)
        elif isinstance(key, ScalarNode) and key.value == wanted:
            return key, value
    for merged in reversed(merges):
        sources = merged.value if isinstance(merged, SequenceNode) else [merged]
        for source in sources:
            if isinstance(source, MappingNode) and (found := _find_key(source, part)) is not None:
                return found
    return None


class _Builder:
    """Builds plain values from one document's node tree; shared (aliased) nodes are built once."""

    def __init__(self) -> None:
        self._built: dict[int, Any] = {}
        self._depth = 0
        self.aliased = False
        """Whether a node was met twice (an alias): then the document's expanded size is measured."""

    def build(self, node: Node) -> Any:
        # The common cases (string scalars, string keys) are inlined: this loop runs once per node.
        if isinstance(node, ScalarNode):
            return node.value if node.tag == _STR else _scalar(node)
        done = self._built.get(id(node))
        if done is not None:
            self.aliased = True
            return done
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlParseError(too_deep_error().message, _line(node), "too_deep")
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            self._built[id(node)] = items
            for item in node.value:
                items.append(
                    item.value if item.tag == _STR and item.__class__ is ScalarNode else self.build(item)
                )
            self._depth -= 1
            return items
        mapping: dict[Any, Any] = {}
        self._built[id(node)] = mapping
        merges: list[Node] = []
        for key_node, value_node in node.value:
            tag = key_node.tag
            if tag == _STR and key_node.__class__ is ScalarNode:
                key = key_node.value
            elif tag == _MERGE:
                merges.append(value_node)
                continue
            else:
                key = self.build(key_node)
                if isinstance(key, list | dict):
                    raise YamlParseError("a mapping key must be a scalar", key_node.start_mark.line + 1)
            if value_node.tag == _STR and value_node.__class__ is ScalarNode:
                mapping[key] = value_node.value
            else:
                mapping[key] = self.build(value_node)
        for merged in merges:
            self._merge(mapping, merged)
        self._depth -= 1
        return mapping

    def _merge(self, mapping: dict[Any, Any], merged: Node) -> None:
        """``<<: *base`` or ``<<: [*a, *b]``: explicit keys win, then earlier merged mappings."""
        sources = merged.value if isinstance(merged, SequenceNode) else [merged]
        for source in sources:
            value = self.build(source)
            if not isinstance(value, dict):
                raise YamlParseError("a merge key needs a mapping", source.start_mark.line + 1)
            for key, item in value.items():
                mapping.setdefault(key, item)


def _scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _SAFE.bool_values.get(node.value.lower(), node.value)
    try:
        if tag == _INT:
            return _SAFE.construct_yaml_int(node)
        if tag == _FLOAT:
            return _SAFE.construct_yaml_float(node)
    except ValueError:  # ``!!int abc``: the library's message quotes the value, which may be a secret
        raise YamlParseError(f"a value that is not a valid !!{tag.rsplit(':', 1)[-1]}", _line(node)) from None
    return node.value  # str, timestamp, binary and unknown tags: the text as written
