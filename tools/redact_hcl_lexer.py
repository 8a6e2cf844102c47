"""The tokens of HCL for the redactor's Terraform pass (``tools.redact_hcl``), and walks over them.

A tolerant lexer, not a validating parser: a quoted string ends at its line, an unclosed block comment
is no comment, a heredoc without its terminator runs to the end of the text (so a broken file fails
closed). Strings and heredocs come with their parts: literal text and ``${...}``/``%{...}``
interpolations (``$${`` is literal), so the caller can fingerprint the literals and keep the
references visible. Positions are offsets in the text, so spans can be spliced back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(  # blanks and comments, then one token
    r"(?:[ \t\r]+|#[^\n]*|//[^\n]*|/\*.*?\*/)*"
    r"(?:(?P<nl>\n)"
    r"|(?P<heredoc><<-?[ \t]*(?P<hid>[A-Za-z_][\w-]*)[ \t]*\r?(?=\n))"
    r"|(?P<str>\")"
    r"|(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<ident>[A-Za-z_][\w-]*)"
    r"|(?P<op>==|!=|<=|>=|=>|&&|\|\||\.\.\.|[{}\[\]()=:,?!<>+\-*/%.])"
    r"|(?P<other>.))",
    re.S,
)
_STR_RUN = re.compile(r"[^\"\\\n$%]+")
_INTERP_RUN = re.compile(r"[^{}\"\n]+")
_INTERP_START = re.compile(r"[$%]\{")
_MAX_NESTING = 32  # strings inside interpolations inside strings...: deeper is not read, and not redacted


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # nl, heredoc, str, num, ident, op, other
    start: int
    end: int
    value: str = ""  # ident/op text
    parts: tuple[tuple[bool, int, int], ...] = ()  # str/heredoc: (is_literal, start, end)


def _skip_interp(text: str, i: int, stop: int, one_line: bool, depth: int) -> int:
    """End (after the ``}``) of an interpolation whose body starts at ``i``; -1 if it does not close."""
    level = 1
    while i < stop:
        run = _INTERP_RUN.match(text, i, stop)
        i = run.end() if run else i
        if i >= stop:
            break
        c = text[i]
        if c == "{":
            level += 1
        elif c == "}":
            level -= 1
            if level == 0:
                return i + 1
        elif c == '"':
            if depth >= _MAX_NESTING:
                return -1
            i, _, closed = _scan_string(text, i + 1, depth + 1)
            if not closed:
                return -1
            continue
        elif one_line:
            return -1
        i += 1
    return -1


def _scan_string(text: str, i: int, depth: int = 0) -> tuple[int, tuple[tuple[bool, int, int], ...], bool]:
    """A quoted template from just after its ``"``: (end, parts, closed). It never passes a newline."""
    parts: list[tuple[bool, int, int]] = []
    lit, n = i, len(text)
    while i < n:
        run = _STR_RUN.match(text, i)
        i = run.end() if run else i
        if i >= n or text[i] == "\n":
            break
        c = text[i]
        if c == '"':
            parts.append((True, lit, i))
            return i + 1, tuple(parts), True
        if c == "\\":
            i += 1 if text.startswith("\n", i + 1) else 2
        elif text.startswith(c + c + "{", i):  # $${ and %%{ are literal
            i += 3
        elif text.startswith("{", i + 1):
            line_end = text.find("\n", i)
            end = _skip_interp(text, i + 2, n if line_end < 0 else line_end, True, depth)
            if end < 0:
                break
            parts += [(True, lit, i), (False, i, end)]
            lit = i = end
        else:
            i += 1
    parts.append((True, lit, i))
    return i, tuple(parts), False


def _heredoc_parts(text: str, start: int, stop: int) -> tuple[tuple[bool, int, int], ...]:
    parts: list[tuple[bool, int, int]] = []
    lit = pos = start
    while (m := _INTERP_START.search(text, pos, stop)) is not None:
        if m.start() > start and text[m.start() - 1] == text[m.start()]:  # $${ is literal
            pos = m.end()
            continue
        end = _skip_interp(text, m.end(), stop, False, 0)
        if end < 0:
            break
        parts += [(True, lit, m.start()), (False, m.start(), end)]
        lit = pos = end
    parts.append((True, lit, stop))
    return tuple(parts)


def tokens(text: str) -> list[Tok]:
    out: list[Tok] = []
    i, n = 0, len(text)
    while i < n:
        m = _TOKEN.match(text, i)
        if m is None:  # only blanks and comments were left
            break
        kind = "heredoc" if m.group("heredoc") is not None else m.lastgroup
        assert kind is not None
        start = m.start(kind)
        if kind == "heredoc":
            body = m.end() + 1
            term = re.compile(r"^[ \t]*" + re.escape(m["hid"]) + r"[ \t]*\r?$", re.M).search(text, body)
            stop = term.start() if term else n
            out.append(
                Tok("heredoc", start, term.end() if term else n, parts=_heredoc_parts(text, body, stop))
            )
            i = term.end() if term else n
        elif kind == "str":
            end, parts, _ = _scan_string(text, m.end())
            out.append(Tok("str", start, end, parts=parts))
            i = end
        else:
            out.append(Tok(kind, start, m.end(), m.group(kind) if kind in ("ident", "op") else ""))
            i = m.end()
    return out


# ------------------------------------------------------------------------------- walking the tokens


def expr_end(toks: list[Tok], i: int) -> int:
    """End (exclusive) of the expression starting at ``i``: a newline or closing bracket at depth 0."""
    depth = 0
    for k in range(i, len(toks)):
        t = toks[k]
        if t.kind == "op" and t.value in "([{":
            depth += 1
        elif t.kind == "op" and t.value in ")]}":
            if depth == 0:
                return k
            depth -= 1
        elif t.kind == "nl" and depth == 0:
            return k
    return len(toks)


def close(toks: list[Tok], i: int, stop: int) -> int:
    """Index of the bracket closing the one at ``i`` (``stop`` if it is not closed before)."""
    depth = 0
    for k in range(i, stop):
        t = toks[k]
        if t.kind == "op" and t.value in "([{":
            depth += 1
        elif t.kind == "op" and t.value in ")]}":
            depth -= 1
            if depth == 0:
                return k
    return stop


def split(toks: list[Tok], start: int, stop: int) -> list[tuple[int, int]]:
    """Items between brackets: separated by ``,`` or a newline at depth 0, empty ones dropped."""
    items, depth, first = [], 0, start
    for k in range(start, stop):
        t = toks[k]
        if t.kind == "op" and t.value in "([{":
            depth += 1
        elif t.kind == "op" and t.value in ")]}":
            depth -= 1
        elif depth == 0 and (t.kind == "nl" or (t.kind == "op" and t.value == ",")):
            if k > first:
                items.append((first, k))
            first = k + 1
    if stop > first:
        items.append((first, stop))
    return items


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


def unescape(value: str) -> str:
    """HCL's quoted-string escapes, so a fingerprint matches the value the inventory holds."""
    if "\\" not in value:
        return value

    def one(m: re.Match[str]) -> str:
        code = m[1]
        return chr(int(code[1:], 16)) if len(code) == 5 else _ESCAPES.get(code, m[0])

    return _ESCAPE.sub(one, value)
