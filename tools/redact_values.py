"""The value-level rules of the redactor: which keys hold secrets, which values are not secrets, fingerprints.

Every pass of :mod:`tools.redact` and :mod:`tools.redact_kube` asks the same questions of one value
(is this key secret-looking, is this value a reference or already a fingerprint, where does it end on
its line) and rewrites text the same way (sorted spans, line count kept). Those answers live here, in
one module both depend on, so the passes can sit in separate modules without importing each other.
``fingerprint`` and ``LAST_APPLIED`` are re-exported from ``tools.redact``.
"""

from __future__ import annotations

import functools
import hashlib
import re

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

_ALREADY = re.compile(r"(?:\s|\\n|<redacted(?::sha256:[0-9a-f]{8})?>)*")
# A key is secret when it *ends* with one of these words (``db_password``, ``clientSecret``), so
# ``secretName``, ``password_file`` and ``token_ttl`` are not.
_KEY_SUFFIXES = (
    "password",
    "passwd",
    "passphrase",
    "secret",
    "secretkey",
    "secretid",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "keydata",
    "credential",
    "credentials",
    "pwd",
)  # keydata: kubeconfig
# A Terraform variable is secret on a wider reading: ``storage_account_key``, ``ssh_key``, ``encryption_key``
# hold keys; ``public_key``, ``key_name`` and ``kms_key_id`` do not end in "key" or are public.
_PUBLIC_KEYS = (
    "publickey",
    "pubkey",
    "sshpublickey",
    "keyname",
    "keyid",
    "keyalias",
    "partitionkey",
    "sortkey",
    "hashkey",
    "rangekey",
)
_EMPTYISH = frozenset({"", "null", "~", "none", "nil", "true", "false", "yes", "no", "[]", "{}"})
# A type, not a value: ``password: string`` in a schema or an HCL ``object({ password = string })``.
_TYPE_WORDS = frozenset({"string", "number", "bool", "boolean", "integer", "int", "any", "sensitive"})
INTERPOLATION = re.compile(r"\$\{|\{\{|%\{|\(\(|^\$\(?[A-Za-z_][\w.:-]*\)?$|^<[^<>\s]+>$")
_BLOCK_START = re.compile(r"(?:!\S*\s+)?[|>][-+0-9]*|<<-?\s*[\"']?\w+[\"']?")  # see redact._redact_blocks
_HCL_REF = re.compile(  # a reference or a function call: var.x, file(...), get_env(...)
    r"(?:var|local|data|module|each|count|self|path|terraform|dependency|include)\.\S*|[A-Za-z_][\w.]*\(.*"
)
_K8S_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)+")  # hyphenated words: an object name
_RESOURCE_REF = re.compile(r"[a-z][a-z0-9_]*\.[a-z0-9_-]+\.[\w.\[\]\"'*-]+")  # random_password.db.result


Span = tuple[int, int, str]  # (start, end, replacement) in one text

# Tool output shows file lines behind a prefix: " 12: " (repo_read), "path:12:" and "path-12-"
# (repo_search), with "--" and "[...]" lines between. The structural passes read such text with the
# prefixes blanked (same offsets), so a second pass over a tool's redacted output reads what the first
# pass read in the file, and changes nothing.
_PREFIX = r"(?:[ \t]*\d+: |\S+?(?P<sep>[:-])\d+(?P=sep)|--$|\[[^\n]*\]$)"
LINE_PREFIX = re.compile(_PREFIX, re.M)
_UNPREFIXED_LINE = re.compile(r"^(?!" + _PREFIX + r"|$)", re.M)


def unprefixed(text: str) -> tuple[str, bool]:
    """(the text with every line's prefix blanked, True) if every line has one; else (text, False)."""
    if _UNPREFIXED_LINE.search(text) is not None:
        return text, False
    return LINE_PREFIX.sub(lambda m: " " * len(m[0]), text), True


def splice(text: str, spans: list[Span]) -> str:
    """Apply sorted replacements; a span overlapping the previous one is dropped."""
    out, pos = [], 0
    for start, end, new in spans:
        if start >= pos:
            out += [text[pos:start], new]
            pos = end
    return "".join(out) + text[pos:] if out else text


def fingerprint(value: str) -> str:
    """Stable stand-in for a secret: ``<redacted:sha256:`` + first 8 hex of sha256(value) + ``>``."""
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"<redacted:sha256:{digest[:8]}>"


def already_redacted(value: str) -> bool:
    return _ALREADY.fullmatch(value) is not None


@functools.lru_cache(maxsize=1 << 14)  # keys repeat (path, ref, subject...) across every walk of data
def is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm.endswith(_KEY_SUFFIXES) and not norm.startswith("existing")  # Helm's existingSecret: a name


def is_secret_variable(name: object) -> bool:
    """A Terraform variable whose name says password/secret/token/key: its default is a secret."""
    if not isinstance(name, str):
        return False
    norm = re.sub(r"[^a-z0-9]", "", name.lower())
    return is_secret_key(name) or (norm.endswith("key") and not norm.endswith(_PUBLIC_KEYS))


def names_a_secret(key: object, value: str) -> bool:
    """``backupTargetCredentialSecret: longhorn-backup-credentials`` names a Secret object; it is not one."""
    norm = re.sub(r"[^a-z0-9]", "", str(key).lower())
    named = _K8S_NAME.fullmatch(value.strip()) is not None
    return named and norm.endswith("secret") and not norm.endswith("clientsecret")


def keep_value(inner: str, *, quoted: bool, hcl: bool) -> bool:
    """True when a value under a secret-looking key is not itself a secret (a reference, empty...)."""
    value = inner.strip()
    if (
        value.lower() in _EMPTYISH
        or value in _TYPE_WORDS
        or already_redacted(value)
        or INTERPOLATION.search(value)
    ):
        return True
    if _BLOCK_START.fullmatch(value):
        return True  # the lines below were handled by redact._redact_blocks
    if quoted:
        return False
    if value[:1] in ("{", "["):
        return True  # a nested mapping or list (``"secret": {"secretName": ...}``), not a scalar
    return _HCL_REF.fullmatch(value) is not None or (hcl and _RESOURCE_REF.fullmatch(value) is not None)


_DQ = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_SQ = re.compile(r"'((?:[^'\n]|'')*)'")
_BARE_COLON = re.compile(r"(.*?)([ \t]+#.*|[ \t]*,[ \t]*(?:[\"'{\[].*)?|[ \t]*[}\]][\s,}\]]*|[ \t]*)")
_BARE_EQ = re.compile(r"[^\s;&'\"]*")


def split_value(rest: str, colon: bool) -> tuple[str, str, str]:
    """Split what follows ``key:``/``key =`` on one line into (open quote, value, close quote)."""
    if rest[:1] in ("'", '"'):
        m = (_DQ if rest[0] == '"' else _SQ).match(rest)
        return (rest[0], m.group(1), rest[0]) if m else (rest[0], rest[1:], "")  # unterminated: to EOL
    m = _BARE_COLON.fullmatch(rest) if colon else _BARE_EQ.match(rest)
    assert m is not None  # both patterns match the empty string
    return "", m.group(1) if colon else m.group(0), ""


def secret_value(key: str, sep: str, rest: str, prefix: str) -> tuple[str, int]:
    """Replacement for the value that starts ``rest`` (after a secret key), and its length in ``rest``."""
    colon = "=" not in sep
    opened, inner, closed = split_value(rest, colon)
    size = len(opened) + len(inner) + len(closed)
    # 'Set the password: ask Bob' is prose; '- password: x', '# token: x', '{a: 1, token: x}' are not.
    last = prefix.rstrip()[-1:]
    prose = colon and not key.startswith(("'", '"')) and last != "" and last not in "{[,-#/*;"
    if prose or keep_value(inner, quoted=bool(opened), hcl=not colon) or names_a_secret(key, inner):
        return rest[:size], size
    return f"{opened}{fingerprint(inner)}{closed}", size


def indented_end(text: str, pos: int, col: int) -> int:
    """End of the lines from ``pos`` that are blank or indented deeper than ``col``."""
    while pos < len(text):
        nl = text.find("\n", pos)
        line = text[pos : len(text) if nl < 0 else nl].rstrip("\r")
        if line.strip() and len(line) - len(line.lstrip(" \t")) <= col:
            break
        pos = len(text) if nl < 0 else nl + 1
    return pos
