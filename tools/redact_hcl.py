"""Terraform context for the redactor: values that are secret because of the block or attribute around them.

A line ``default = "s3cret"`` says nothing; inside ``variable "db_password" { ... }`` it is a password.
This pass reads HCL structure (blocks, labels, attributes, object items, heredocs, interpolations) and
fingerprints the literals of:

* ``data``, ``string_data`` and ``binary_data`` of ``kubernetes_secret`` / ``kubernetes_secret_v1``,
  and ``data``/``stringData`` of any HCL object with ``kind = "Secret"`` (``kubernetes_manifest``);
* ``default`` of a ``variable`` whose name says password/secret/token/key (``is_secret_variable``)
  or that is ``sensitive = true``, and ``value`` of a ``sensitive = true`` output;
* ``value`` of ``set_sensitive`` blocks and of any block or object whose ``name`` is secret-looking
  (``env { name = "DB_PASSWORD" value = ... }``, ``set { name = "auth.password" ... }``);
* any attribute or object item with a secret-looking key, whatever its shape: a map, a list, a
  heredoc, a function call (``password = base64encode("...")``).

Only literals go: strings (each literal part around ``${...}``, which stays visible), heredoc bodies,
numbers. Keys, references (``var.x``, ``random_password.db.result``), index keys (``x.data["pw"]``) and
paths given to ``file()``-like functions stay. Line numbers never move.

It is a tolerant scanner, not a validating parser: it runs on files that do not parse and on HCL
inside Markdown; a quoted string ends at its line, an unclosed comment is no comment. It runs only
when the cheap ``hcl_gate`` says a context above could be present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tools.redact_hcl_lexer import Tok, close, expr_end, split, tokens, unescape
from tools.redact_values import (
    LINE_PREFIX,
    Span,
    already_redacted,
    fingerprint,
    is_secret_key,
    is_secret_variable,
    keep_value,
    names_a_secret,
    splice,
    unprefixed,
)

_GATE_LITERALS = ("kubernetes_secret", "sensitive", '"secret"')
_GATE_VARIABLE = re.compile(
    r"variable[ \t]+\"[^\"\n]*(?:pass(?:word|wd|phrase)?|secret|token|key|credentials?|pwd)\""
)
_GATE_STRUCTURED = re.compile(r"=[ \t]*(?:[{\[]|<<|[a-z_][\w.]*\()")  # a map, list, heredoc or call
_GATE_KEY = re.compile(
    r"(?:pass(?:word|wd|phrase)|secret|token|api_?key|access_?key|private_?key|credentials?|pwd)"
)


def hcl_gate(lower: str) -> bool:
    """Whether a context of this pass could be in the text (given lower-cased): literals first, then
    a secret variable's name, then a secret key before a structured value, each cheaper than the next."""
    if any(n in lower for n in _GATE_LITERALS) or ("variable" in lower and _GATE_VARIABLE.search(lower)):
        return True
    for m in _GATE_STRUCTURED.finditer(lower):
        key_end = m.start()
        while key_end > 0 and lower[key_end - 1] in " \t\"'":
            key_end -= 1
        if _GATE_KEY.search(lower, max(0, key_end - 20), key_end):
            return True
    return False


_SECRET_DATA = frozenset({"data", "string_data", "binary_data", "stringData", "binaryData"})
_SECRET_RESOURCES = frozenset({"kubernetes_secret", "kubernetes_secret_v1"})
_PATH_FUNCS = frozenset(  # a literal given to these is a path, not a value
    {"file", "filebase64", "fileexists", "fileset", "templatefile", "pathexpand", "abspath", "dirname"}
    | {"basename", "filemd5", "filesha1", "filesha256", "filesha512", "filebase64sha256", "filebase64sha512"}
)


@dataclass
class _Block:
    type: str
    labels: list[str]
    attrs: list[tuple[str, int, int]] = field(default_factory=list)  # name, first token, end (exclusive)


class _Scan:
    """One text: its tokens, its blocks, and the spans to fingerprint."""

    def __init__(self, text: str) -> None:
        self.original = text
        self.text, self.prefixed = unprefixed(text)
        self.toks = tokens(self.text)
        self.spans: list[Span] = []

    def literal(self, a: int, b: int) -> str | None:
        """The text of a single string without interpolations, or of a single identifier; else None."""
        if b - a != 1:
            return None
        t = self.toks[a]
        if t.kind == "ident":
            return t.value
        if t.kind == "str" and len(t.parts) == 1:
            return self.text[t.parts[0][1] : t.parts[0][2]]
        return None

    def blocks(self) -> list[_Block]:
        """Every block with its attributes (the file itself first), unclosed ones included."""
        toks = self.toks
        stack = [_Block("", [])]
        done: list[_Block] = []
        i, n = 0, len(toks)
        while i < n:
            t = toks[i]
            if t.kind == "op" and t.value == "}" and len(stack) > 1:
                done.append(stack.pop())
            elif t.kind == "ident":
                nxt = toks[i + 1] if i + 1 < n else None
                if nxt is not None and nxt.kind == "op" and nxt.value in ("=", ":"):
                    end = expr_end(toks, i + 2)
                    if nxt.value == "=":
                        stack[-1].attrs.append((t.value, i + 2, end))
                    i = max(end, i + 2)
                    continue
                j = i + 1
                while j < n and toks[j].kind in ("str", "ident"):
                    j += 1
                if j < n and toks[j].kind == "op" and toks[j].value == "{":
                    stack.append(_Block(t.value, [self.literal(k, k + 1) or "" for k in range(i + 1, j)]))
                    i = j + 1
                    continue
            i += 1
        return stack[:1] + done + stack[1:]

    # ---------------------------------------------------------------------------- what is secret

    def block(self, block: _Block) -> None:
        attrs = {name: (a, b) for name, a, b in block.attrs}
        sensitive = "sensitive" in attrs and self.literal(*attrs["sensitive"]) == "true"
        named = self.literal(*attrs["name"]) if "name" in attrs else None
        secret: set[str] = set()
        if block.type == "resource" and block.labels[:1] and block.labels[0] in _SECRET_RESOURCES:
            secret |= _SECRET_DATA
        if block.type == "variable" and (
            sensitive or is_secret_variable(block.labels[0] if block.labels else "")
        ):
            secret.add("default")
        if (block.type == "output" and sensitive) or block.type == "set_sensitive" or is_secret_key(named):
            secret.add("value")
        for name, a, b in block.attrs:
            self.value(name, a, b, name in secret or is_secret_key(name))

    def value(self, key: str, a: int, b: int, secret: bool) -> None:
        """An attribute's or object item's value: every literal if secret, else look inside."""
        toks = self.toks
        while a < b and toks[a].kind == "nl":
            a += 1
        if a >= b:
            return
        if secret:
            single = self.literal(a, b)
            if single is None or not names_a_secret(key, single):
                self.literals(a, b)
            return
        first = toks[a]
        if first.kind == "op" and first.value == "{":
            self.object(a + 1, close(toks, a, b))
        elif first.kind == "op" and first.value == "[":
            for x, y in split(toks, a + 1, close(toks, a, b)):
                self.value("", x, y, False)
        elif first.kind == "ident" and a + 1 < b and toks[a + 1].kind == "op" and toks[a + 1].value == "(":
            for x, y in split(toks, a + 2, close(toks, a + 1, b)):
                self.value("", x, y, False)

    def object(self, start: int, stop: int) -> None:
        items: list[tuple[str, int, int]] = []
        for x, y in split(self.toks, start, stop):
            sep = next(
                (k for k in range(x, y) if self.toks[k].kind == "op" and self.toks[k].value in ("=", ":")),
                None,
            )
            if sep is not None:
                items.append((self.literal(x, sep) or "", sep + 1, y))
        values = {key: (a, b) for key, a, b in items}
        kind_secret = "kind" in values and self.literal(*values["kind"]) == "Secret"
        named = self.literal(*values["name"]) if "name" in values else None
        for key, a, b in items:
            secret = is_secret_key(key) or (kind_secret and key in _SECRET_DATA)
            self.value(key, a, b, secret or (key == "value" and is_secret_key(named)))

    # ---------------------------------------------------------------------------- fingerprints

    def literals(self, a: int, b: int) -> None:
        """Fingerprint every literal in tokens [a, b) but object keys, index keys and file paths."""
        toks = self.toks
        stack: list[list[object]] = []  # ["{", expecting a key] / ["[", is an index] / ["(", function]
        for k in range(a, b):
            t = toks[k]
            top = stack[-1] if stack else None
            if t.kind == "op":
                prev = toks[k - 1] if k > a else None
                if t.value == "{":
                    stack.append(["{", True])
                elif t.value == "[":
                    index = prev is not None and (prev.kind == "ident" or prev.value in ("]", ")"))
                    stack.append(["[", index])
                elif t.value == "(":
                    stack.append(["(", prev.value if prev is not None and prev.kind == "ident" else ""])
                elif t.value in ")]}" and stack:
                    stack.pop()
                elif top is not None and top[0] == "{" and t.value in ("=", ":"):
                    top[1] = False
                elif top is not None and top[0] == "{" and t.value == ",":
                    top[1] = True
            elif t.kind == "nl" and top is not None and top[0] == "{":
                top[1] = True
            elif t.kind in ("str", "heredoc", "num"):
                kept = top is not None and (
                    (top[0] in ("{", "[") and top[1] is True) or (top[0] == "(" and top[1] in _PATH_FUNCS)
                )
                if not kept:
                    self.fingerprint(t)

    def fingerprint(self, t: Tok) -> None:
        text = self.text
        if t.kind == "num":
            self.spans.append((t.start, t.end, fingerprint(text[t.start : t.end])))
            return
        literal = [(s, e) for is_lit, s, e in t.parts if is_lit]
        whole = len(t.parts) == 1
        for s, e in literal:
            chunk = text[s:e]
            if t.kind == "heredoc":
                chunk = chunk.rstrip("\n") if whole else chunk
                e = s + len(chunk)
            value = chunk.strip() if t.kind == "heredoc" or not whole else unescape(chunk)
            if not value or already_redacted(value) or keep_value(value, quoted=True, hcl=True):
                continue
            indent = ""
            if t.kind == "heredoc" and whole:  # as redact._redact_blocks writes it: the key's indent + 2
                line = text[text.rfind("\n", 0, t.start) + 1 : t.start]
                indent = " " * (len(line) - len(line.lstrip(" \t")) + 2)
            new = indent + fingerprint(value) + "\n" * chunk.count("\n")
            self.spans.append((s, e, self.keep_prefixes(s, e, new) if self.prefixed else new))

    def keep_prefixes(self, s: int, e: int, new: str) -> str:
        """``new`` for the span [s, e) of prefixed output, each line keeping its prefix."""
        lines = self.original[s:e].split("\n")
        first = new.split("\n")[0]
        if (s == 0 or self.original[s - 1] == "\n") and (head := LINE_PREFIX.match(lines[0])):
            first = head[0] + first.lstrip()
        return "\n".join([first] + [m[0] if (m := LINE_PREFIX.match(line)) else "" for line in lines[1:]])


def redact_hcl(text: str) -> str:
    """Fingerprint the literals of secret HCL contexts (see the module docstring); keys and refs stay."""
    scan = _Scan(text)
    for block in scan.blocks():
        scan.block(block)
    spans = sorted(set(scan.spans))
    return splice(text, spans)
