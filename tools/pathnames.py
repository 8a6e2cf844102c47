"""File names as text: every name that comes off the disk is shown as valid UTF-8, and goes back exactly.

A POSIX file name is bytes. Python hands a name that is not UTF-8 over as a ``str`` with lone
surrogates (``surrogateescape``: byte 0xFF becomes U+DCFF), and such a string cannot be encoded as
UTF-8: hashed into an evidence id, written to ``audit.json``, printed, or sent to a model, it raises.
Control characters (a newline, an escape sequence) are valid UTF-8 but break ``path:line`` refs,
Markdown tables and terminals. So a name is turned into its *shown* form once, where it comes off
the disk (the estate walk, ``repo_list``, ripgrep's output, the snapshot reader), and everything
above the filesystem (records, evidence, reports, prompts) only ever holds shown forms.

The shown form is the name, with each byte that is not UTF-8 written as ``\\xNN``, each control
character, line separator and bidirectional override written as the ``\\xNN`` of its UTF-8 bytes
(a terminal must not act on them, a ``path:line`` must stay one line), and a backslash written as
``\\\\``. That makes it reversible: :func:`on_disk` turns a shown
form back into the exact name the OS takes, which is what the jail and the parsers call before they
open anything. A ``\\`` followed by anything else is kept as written, so a path typed by hand with a
single backslash still works.
"""

from __future__ import annotations

import os
import re
import shlex

_UNSAFE = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udcff"
_NEEDS_ESCAPE = re.compile(f"[\\\\{_UNSAFE}]")
_CONTROL = re.compile(f"[{_UNSAFE}]")
_ESCAPED = re.compile(r"\\(\\|x[0-9a-fA-F]{2})")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, as surrogateescape carries it
        return f"\\x{code - 0xDC00:02x}"
    return "".join(f"\\x{byte:02x}" for byte in char.encode("utf-8"))


def shown(name: str | bytes | os.PathLike[str]) -> str:
    """The shown form of a file name or path as the OS gave it (``str`` with surrogates, or bytes)."""
    text = os.fsdecode(name)
    return _NEEDS_ESCAPE.sub(_escape, text) if _NEEDS_ESCAPE.search(text) else text


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code == "\\":
        return "\\"
    byte = int(code[1:], 16)
    return chr(0xDC00 + byte) if byte >= 0x80 else chr(byte)


def on_disk(text: str) -> str:
    """The name the OS takes for a shown form (a ``str`` that ``os`` functions encode back to the bytes)."""
    return _ESCAPED.sub(_unescape, text) if "\\" in text else text


def printable(text: str) -> str:
    """Text of unknown origin (a path a caller typed) made safe to print: control characters and
    undecodable bytes escaped, everything else (a backslash included) as written."""
    return _CONTROL.sub(_escape, text)


def shell_quote(shown_path: str) -> str:
    """A shell word for a shown path that names the same file when pasted into bash or zsh.

    A path with an escape becomes an ANSI-C quoted word (``$'caf\\xe9'``), which the shell turns back
    into the original bytes; any other path is quoted as ``shlex.quote`` does.
    """
    if "\\" not in shown_path:
        return shlex.quote(shown_path)
    return "$'" + shown_path.replace("'", "\\'") + "'"


def glob_literal(shown_path: str) -> str:
    """A gitignore-style glob (ripgrep's ``--glob``) that matches exactly this path, as the OS names it."""
    return re.sub(r"([\\*?\[\]{}!])", r"\\\1", on_disk(shown_path))


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escape_surrogate(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


def encodable(text: str) -> str:
    """``text`` with any lone surrogate escaped, so that it encodes as UTF-8 (newlines and the rest kept).

    The last guard, for text assembled from a name that did not go through :func:`shown`.
    """
    return _SURROGATE.sub(_escape_surrogate, text) if _SURROGATE.search(text) else text
