"""Terraform state for the redactor: the attributes Terraform itself marks sensitive, and the ones it should.

A ``*.tfstate`` file holds every attribute of every resource in clear: the ``result`` of a
``random_password``, a ``tls_private_key``'s PEM, a ``kubernetes_secret``'s ``data``. Their keys say
nothing (``result``), so the state's own structure decides. The JSON is tokenized with exact spans (no
recursion, any depth) and these leaves are fingerprinted, every scalar below them included:

* the paths each instance lists in ``sensitive_attributes`` (both the list-of-paths and the flat
  list-of-steps forms);
* by resource type: ``random_password`` ``result``/``bcrypt_hash``, ``random_string`` ``result``,
  ``random_bytes``, ``tls_private_key`` private forms, ``kubernetes_secret(_v1)`` ``data``/
  ``string_data``/``binary_data`` (state v4, and the flat ``primary.attributes`` of state v3);
* the ``value`` of an output with ``"sensitive": true``;
* the value under any secret-looking key (``password``, ``client_secret``...), nested ones too.

A state that does not tokenize (truncated, hand-edited) falls back to fingerprinting those keys' string
values line by line, so a broken file fails closed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tools.redact_values import Span, already_redacted, fingerprint, is_secret_key, splice, unprefixed

STATE_GATE = re.compile(r"\"terraform_version\"[ \t\r\n]*:")
_TOKEN = re.compile(
    r"[ \t\r\n]*(?:(?P<s>\"(?:[^\"\\\n]|\\.)*\")|(?P<p>[{}\[\]:,])|(?P<lit>-?\d[\d.eE+-]*|true|false|null))"
)
_BY_TYPE: dict[str, frozenset[str]] = {
    "random_password": frozenset({"result", "bcrypt_hash"}),
    "random_string": frozenset({"result"}),
    "random_bytes": frozenset({"base64", "hex"}),
    "tls_private_key": frozenset({"private_key_pem", "private_key_openssh", "private_key_pem_pkcs8"}),
    "kubernetes_secret": frozenset({"data", "string_data", "binary_data"}),
    "kubernetes_secret_v1": frozenset({"data", "string_data", "binary_data"}),
}
_FALLBACK_KEYS = sorted({k for keys in _BY_TYPE.values() for k in keys} - {"data"})
_STRING = r"\"(?:[^\"\\\n]|\\.)*\""
_FALLBACK = re.compile(
    r"\"(?:" + "|".join(_FALLBACK_KEYS) + r")\"[ \t]*:[ \t]*(?P<v>" + _STRING + ")"
    r"|\"value\"[ \t]*:[ \t]*(?P<w>" + _STRING + r")(?=[^{}]*?\"sensitive\"\s*:\s*true)"  # a sensitive output
)

Leaf = tuple[int, int]  # span of a string, number or literal in the text


class _Node:
    """An object (``keys`` in order, ``values``), an array (``values``) or a leaf (``leaf``)."""

    __slots__ = ("keys", "leaf", "values")

    def __init__(self, leaf: Leaf | None = None, is_object: bool = False) -> None:
        self.leaf = leaf
        self.keys: list[str] | None = [] if is_object else None
        self.values: list[_Node] = []

    def get(self, key: str) -> _Node | None:
        if self.keys is None:
            return None
        return next((v for k, v in zip(self.keys, self.values, strict=True) if k == key), None)


def _parse(text: str) -> _Node | None:
    """The JSON's tree with leaf spans; None if the text is not one well-formed JSON value."""
    stack: list[tuple[_Node, list[str | None]]] = []  # open containers, and an object's pending key
    root: _Node | None = None
    pos = 0
    while (m := _TOKEN.match(text, pos)) is not None:
        pos = m.end()
        punct = m["p"]
        if punct in (":", ","):
            continue
        if punct in ("}", "]"):
            if not stack:
                return None
            done = stack.pop()[0]
            root = done if not stack else root
            continue
        if punct:
            node = _Node(is_object=punct == "{")
        else:
            node = _Node(leaf=(m.start("s") if m["s"] else m.start("lit"), pos))
        if stack:
            parent, key = stack[-1]
            if parent.keys is not None:
                if key[0] is None:
                    if not m["s"]:
                        return None
                    try:
                        key[0] = json.loads(m["s"])
                    except ValueError:
                        return None
                    continue
                parent.keys.append(key[0])
                key[0] = None
            parent.values.append(node)
        elif root is not None:
            return None
        if punct:
            stack.append((node, [None]))
        elif not stack:
            root = node
    return root if not stack and not text[pos:].strip() else None


def _leaves(node: _Node | None, out: list[Leaf]) -> None:
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if current.leaf is not None:
            out.append(current.leaf)
        stack.extend(current.values)


def _follow(node: _Node, path: Any) -> _Node | None:
    """A ``sensitive_attributes`` path: a list of steps, or (newer states) one step."""
    steps = path if isinstance(path, list) else [path]
    current: _Node | None = node
    for step in steps:
        if current is None or not isinstance(step, dict):
            return None
        value = step.get("value")
        key = value.get("value") if isinstance(value, dict) else value
        if current.keys is not None:
            current = current.get(str(key))
        elif isinstance(key, int) and 0 <= key < len(current.values):
            current = current.values[key]
        else:
            return None
    return current


def _json(text: str, node: _Node | None) -> Any:
    if node is None:
        return None
    if node.leaf is not None:
        try:
            return json.loads(text[node.leaf[0] : node.leaf[1]])
        except ValueError:
            return text[node.leaf[0] : node.leaf[1]]
    if node.keys is not None:
        return {k: _json(text, v) for k, v in zip(node.keys, node.values, strict=True)}
    return [_json(text, v) for v in node.values]


def _secret_nodes(text: str, root: _Node) -> list[_Node]:
    found: list[_Node] = []
    stack = [root]
    while stack:  # any secret-looking key, anywhere
        node = stack.pop()
        if node.keys is not None:
            found += [v for k, v in zip(node.keys, node.values, strict=True) if is_secret_key(k)]
        stack.extend(node.values)
    for module in [root, *(root.get("modules") or _Node()).values]:
        outputs = module.get("outputs")
        for output in outputs.values if outputs is not None else []:
            if _json(text, output.get("sensitive")) is True:
                found.append(output.get("value") or _Node())
    for resource in (root.get("resources") or _Node()).values:
        kind = _json(text, resource.get("type"))
        for instance in (resource.get("instances") or _Node()).values:
            attributes = instance.get("attributes")
            if attributes is None:
                continue
            found += [n for key in _BY_TYPE.get(str(kind), ()) if (n := attributes.get(key)) is not None]
            paths = _json(text, instance.get("sensitive_attributes"))
            for path in paths if isinstance(paths, list) else []:
                found.append(_follow(attributes, path) or _Node())
    for module in (root.get("modules") or _Node()).values:  # state v3: flat "primary.attributes"
        for resource in (module.get("resources") or _Node()).values:
            keys = _BY_TYPE.get(str(_json(text, resource.get("type"))), frozenset())
            flat = (resource.get("primary") or _Node()).get("attributes") or _Node()
            for key, value in zip(flat.keys or [], flat.values, strict=True):
                if key.split(".", 1)[0] in keys and not key.endswith((".%", ".#")):
                    found.append(value)
    return found


def _fallback(text: str, view: str) -> str:
    spans = [
        (m.start(g), m.end(g), _fp_leaf(m[g])) for m in _FALLBACK.finditer(view) for g in ("v", "w") if m[g]
    ]
    return splice(text, [s for s in spans if s[2] != text[s[0] : s[1]]])


def _fp_leaf(raw: str) -> str:
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    if value is None or isinstance(value, bool) or (isinstance(value, str) and already_redacted(value)):
        return raw
    return '"' + fingerprint(str(value)) + '"'


def redact_state(text: str) -> str:
    """Fingerprint the sensitive values of a Terraform state (see the module docstring)."""
    view, _ = unprefixed(text)
    root = _parse(view)
    if root is None or root.keys is None:
        return _fallback(text, view)
    leaves: list[Leaf] = []
    for node in _secret_nodes(view, root):
        _leaves(node, leaves)
    spans: list[Span] = []
    for start, end in sorted(set(leaves)):
        raw = text[start:end]
        new = _fp_leaf(raw)
        if new != raw:
            spans.append((start, end, new))
    return splice(text, spans)
