"""Kubernetes context for the redactor: ``kind: Secret`` documents and ``last-applied-configuration``.

A value is only recognisably secret here through its document: every value under ``data`` or
``stringData`` of a Secret, and the whole last-applied annotation (a copy of the applied object).
The documents are composed with PyYAML for exact spans (any quoting, items of a ``List``), with an
indentation scan for documents that do not parse (Helm templates). Separate from :mod:`tools.redact`
because it is the one pass that parses YAML; ``redact_text`` calls it behind the cheap ``KUBE_GATE`` test.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tools.redact_values import (
    INTERPOLATION,
    LAST_APPLIED,
    Span,
    already_redacted,
    fingerprint,
    indented_end,
    keep_value,
    splice,
    split_value,
)

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KUBE_GATE = re.compile(r"kind[\"']?[ \t]*:[ \t]*[\"']?Secret\b|last-applied-configuration")
_DOC_START = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
_SECRET_KIND_LINE = re.compile(r"^[ \t]*(?:-[ \t]+)?[\"']?kind[\"']?[ \t]*:[ \t]*[\"']?Secret\b", re.M)
_DATA_HEAD = re.compile(
    r"^(?P<ind>[ \t]*(?:-[ \t]+)*)[\"']?(?:data|stringData)[\"']?[ \t]*:[ \t]*\{?[ \t]*\r?$", re.M
)
_CHILD = re.compile(r"[ \t]*[\"']?[^\s\"':#][^\"':]*[\"']?[ \t]*:[ \t]*")


def _node_span(node: Any, offset: int, text: str) -> Span | None:
    value = str(node.value)
    start, end = offset + node.start_mark.index, offset + node.end_mark.index
    if already_redacted(value) or value.strip() in ("", "null", "~") or INTERPOLATION.search(value):
        return None
    quote = node.style if node.style in ("'", '"') else ""
    return start, end, f"{quote}{fingerprint(value)}{quote}" + "\n" * text.count("\n", start, end)


def _compose_spans(root: Any, offset: int, text: str) -> list[Span]:
    spans: list[Span | None] = []
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:  # aliases can make the node graph cyclic
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            pairs = [(k.value if isinstance(k, yaml.ScalarNode) else None, v) for k, v in node.value]
            is_secret = any(k == "kind" and getattr(v, "value", None) == "Secret" for k, v in pairs)
            for name, value in pairs:
                if is_secret and name in ("data", "stringData") and isinstance(value, yaml.MappingNode):
                    scalars = [v for _, v in value.value if isinstance(v, yaml.ScalarNode)]
                    spans += [_node_span(v, offset, text) for v in scalars]
                elif name == LAST_APPLIED and isinstance(value, yaml.ScalarNode):
                    spans.append(_node_span(value, offset, text))
                else:
                    stack.append(value)
    return [s for s in spans if s is not None]


def _fallback_spans(chunk: str, offset: int) -> list[Span]:
    """Indentation scan of a Secret document that does not parse (a Helm template, say)."""
    if not _SECRET_KIND_LINE.search(chunk):
        return []
    spans: list[Span] = []
    for m in _DATA_HEAD.finditer(chunk):
        pos, child_col = m.end() + 1, -1
        for line in chunk[pos : indented_end(chunk, pos, len(m["ind"]))].split("\n"):
            ind = len(line) - len(line.lstrip(" \t"))
            if line.strip() and not line.lstrip().startswith("#"):
                child_col = ind if child_col < 0 else child_col
                head = _CHILD.match(line) if ind == child_col else None
                start = head.end() if head else ind
                opened, inner, _ = split_value(line[start:].rstrip("\r"), colon=True)
                if not keep_value(inner, quoted=True, hcl=False):
                    begin = offset + pos + start + len(opened)
                    spans.append((begin, begin + len(inner), fingerprint(inner)))
            pos += len(line) + 1
    return spans


def redact_kube(text: str) -> str:
    starts = [0] + [m.start() for m in _DOC_START.finditer(text) if m.start() > 0]
    spans: list[Span] = []
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[begin:end]
        if not KUBE_GATE.search(chunk):
            continue
        try:
            node = yaml.compose(chunk, Loader=_LOADER)
        except (yaml.YAMLError, RecursionError):
            spans += _fallback_spans(chunk, begin)
            continue
        if node is not None:
            spans += _compose_spans(node, begin, text)
    return splice(text, sorted(spans))
