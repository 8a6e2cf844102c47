"""What a committed value is, read in memory: a credential, a reference, a placeholder, a type; where
it sits (a comment, a docs code block, a SOPS metadata block, an example file); and which credential
it is (a keyed hash).

SEC-PLAINTEXT-SECRET finds candidate lines with ``repo_search`` (whose text is *redacted*: a secret is
``<redacted:sha256:xxxxxxxx>``) and then reads the raw line through the estate jail, in memory, to
answer the questions above. A raw value never leaves this module: callers get booleans and an
:class:`Identity`, an HMAC-SHA256 of the value under a key drawn at random for one detection
(``CredentialKey``), which is never stored, shown, logged or put into a location. Two locations
holding the same credential have equal identities within one detection, so the count is the number
of distinct credentials; the key changes on every run, so an identity cannot be compared across runs
or brute-forced from anything the audit writes.
"""

from __future__ import annotations

import hashlib
import hmac
import posixpath
import re
import secrets
from dataclasses import dataclass, field

from tools.redact_values import fingerprint

FP = re.compile(r"<redacted:sha256:([0-9a-f]{8})>")
Identity = bytes

# References to a secret kept elsewhere: a secret manager URI, an interpolation, a template.
_REFERENCE = re.compile(
    r"^(?:op://|vault:|vault://|ref\+|secretref\+|sops://|akv://|azkv://|gcpsm://|awssm://|awsssm://"
    r"|bw://|pass://|keyring:|env:|file:|k8s://|secret://|sm://)"
    r"|\$\{|\$\(|\{\{|\{%|%\{|\(\(|^\$[A-Za-z_]\w*$|^<[^<>]*>$|^%[A-Za-z_]\w*%$",
    re.IGNORECASE,
)
# Placeholders: what a template or a doc writes where a real value goes.
_PLACEHOLDER = re.compile(
    r"change[-_ ]?me|changeit|example|foobar|abc123|placeholder|replace[-_ ]?(?:me|this|with)|redacted"
    r"|x{3,}|\.\.\.|…|\*{3,}|^your[-_ ]?|^<|>$"
    r"|^(?:foo|bar|baz|test|secret|password|passwd|pass|token|value|none|null|sample|demo|todo|fixme|tbd"
    r"|dummy|fake|n/?a)$",
    re.IGNORECASE,
)
# A type, not a value: ``"password": "string"`` in a schema, ``type = SecureString``.
_TYPE = re.compile(
    r"^(?:optional\()?(?:string|str|text|securestring|secure_string|sensitive|bool|boolean|number|int|"
    r"integer|float|any|object|map\(string\)|list\(string\))\)?$",
    re.IGNORECASE,
)
_COMMENT_START = ("#", "//", ";", "--", "/*", "*", "<!--", "rem ", "REM ")
DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc")
_EXAMPLE_PARTS = frozenset({"example", "examples", "sample", "samples", "dist"})


def is_reference(value: str) -> bool:
    """A pointer to a secret kept elsewhere (``op://``, ``vault:``, ``ref+``, ``${VAR}``, ``<name>``)."""
    return _REFERENCE.search(value.strip().strip("\"'")) is not None


def is_placeholder(value: str) -> bool:
    """A stand-in for a real value (``changeme``, ``...``, ``xxx``, ``example``, ``foobar``, ``abc123``),
    one repeated character (``******``, ``000000``), or a type name (``string``)."""
    v = value.strip().strip("\"'")
    return not v or _PLACEHOLDER.search(v) is not None or _TYPE.fullmatch(v) is not None or len(set(v)) == 1


def not_a_credential(value: str) -> bool:
    return is_reference(value) or is_placeholder(value)


def is_example_file(path: str) -> bool:
    """``.env.example``, ``values.sample.yaml``, ``config-example.json``, ``settings.dist``."""
    parts = re.split(r"[._-]", posixpath.basename(path).lower())
    return any(p in _EXAMPLE_PARTS for p in parts)


def is_doc(path: str) -> bool:
    return path.lower().endswith(DOC_SUFFIXES)


def in_comment(line: str, pos: int) -> bool:
    """True when ``pos`` of ``line`` is inside a comment: a comment line, or after an unquoted `` #``."""
    stripped = line.lstrip()
    if stripped.startswith(_COMMENT_START):
        return True
    quote = ""
    for i, c in enumerate(line[:pos]):
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return True
    return False


def fenced_lines(text: str) -> set[int]:
    """1-based numbers of the lines inside fenced code blocks (```` ``` ```` or ``~~~``) of a doc."""
    inside: set[int] = set()
    fence = ""
    for number, line in enumerate(text.splitlines(), start=1):
        mark = line.lstrip()[:3]
        if fence:
            if mark == fence:
                fence = ""
            else:
                inside.add(number)
        elif mark in ("```", "~~~"):
            fence = mark
    return inside


_SOPS_YAML = re.compile(r"^sops:\s*(?:#.*)?$")
_SOPS_JSON = re.compile(r'^\s*"sops"\s*:\s*\{')
_SOPS_ENV = re.compile(r"^sops_\w+=")


def sops_lines(text: str) -> set[int]:
    """1-based numbers of the lines of a SOPS metadata block: YAML's top-level ``sops:`` mapping,
    JSON's ``"sops": {...}``, dotenv's ``sops_*=`` lines, INI's ``[sops]`` section."""
    lines = text.splitlines()
    out: set[int] = set()
    block = ""
    depth = 0
    for number, line in enumerate(lines, start=1):
        if block == "yaml":
            if line.strip() and not line[:1].isspace() and not line.startswith("#"):
                block = ""
            else:
                out.add(number)
                continue
        if block == "json":
            out.add(number)
            depth += line.count("{") - line.count("}")
            if depth <= 0:
                block = ""
            continue
        if block == "ini":
            if line.startswith("["):
                block = ""
            else:
                out.add(number)
                continue
        if _SOPS_YAML.match(line):
            block = "yaml"
            out.add(number)
        elif _SOPS_JSON.match(line):
            depth = line.count("{") - line.count("}")
            block = "json" if depth > 0 else ""
            out.add(number)
        elif line.strip() == "[sops]":
            block = "ini"
            out.add(number)
        elif _SOPS_ENV.match(line):
            out.add(number)
    return out


def redacted_values(raw: str, shown: str) -> list[tuple[int, int, str]] | None:
    """The raw values behind each fingerprint of ``shown`` (the redacted form of ``raw``):
    ``(start, end, value)`` with offsets in ``shown``; None when the two do not line up."""
    parts = FP.split(shown)
    if len(parts) == 1:
        return []
    literals, hashes = parts[0::2], parts[1::2]
    pattern = "(.+?)".join(re.escape(lit) for lit in literals)
    m = re.fullmatch(pattern, raw, re.DOTALL)
    if m is None:
        return None
    values = list(m.groups())
    if any(fingerprint(v)[17:25] != h for v, h in zip(values, hashes, strict=True)):
        return None
    spans = [fp.span() for fp in FP.finditer(shown)]
    return [(s, e, v) for (s, e), v in zip(spans, values, strict=True)]


@dataclass
class CredentialKey:
    """One random HMAC key per detection: identities compare within it and mean nothing outside."""

    key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def identity(self, *values: str) -> Identity:
        joined = "\0".join(values).encode("utf-8", "surrogatepass")
        return hmac.new(self.key, joined, hashlib.sha256).digest()

    def unique(self, ref: str) -> Identity:
        """An identity of its own, for a location whose value could not be read back."""
        return self.identity("\0location", ref)
