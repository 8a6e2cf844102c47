"""Print how many plaintext credentials an estate's files hold, never a value: only counts.

A reader's script (the standard library and PyYAML), written apart from infra-audit's detector so
that it can catch the detector's mistakes. It reads every text file under ROOT (hidden ones too; not
``.git``, not the SKIP directories, not what a ``.gitignore`` of the estate ignores, not a binary
file) and, line by line, finds the first of these that holds a credential:

1. a PEM private key header (``-----BEGIN ... PRIVATE KEY-----``) whose body, up to ``-----END``,
   is at least 8 characters and not a placeholder;
2. a password in a URL (``scheme://user:PASSWORD@host``);
3. a bearer token (``Bearer`` and 8+ token characters with a digit, a symbol or mixed case);
4. a token of a known shape (AWS access key ids, GitHub, GitLab, Slack, SendGrid, Stripe, OpenAI,
   Anthropic, npm, PyPI, Twilio, Telegram bot tokens, JWTs...);
5. a connection-string password (``Password=...;``);
6. a literal assignment to a key that ends in password, passwd, passphrase, secret, token, api_key,
   secret_key or secret_access_key
   (``key: value``, ``key = "value"``, ``KEY=value``), not Helm's ``existingSecret`` nor a key that
   names a Secret object (``...Secret: my-secret-name``).

A value is not a credential when it is a reference (``op://``, ``vault:``, ``ref+``, ``${VAR}``,
``$VAR``, ``{{ }}``, ``<name>``, ``var.x``, a function call), a placeholder (``changeme``, ``...``,
``xxx``, ``example``, ``foobar``, ``abc123``, ``your-...``, one repeated character, a bare word such as
``secret`` or ``password``), a type (``string``, ``SecureString``, ``optional(string)``) or SOPS
ciphertext (``ENC[...]``). Never counted: lines of a SOPS metadata block, example files
(``*.example``, ``*.sample``, ``.env.dist``...). Kinds 2, 3, 5 and 6 are not counted in a comment nor,
in a doc (``.md``, ``.rst``, ``.txt``, ``.adoc``), inside a fenced code block or on a line that says
it is an example; a key or a token shape counts anywhere.

A YAML ``Secret`` (``data``/``stringData``, no ``sops:`` block, not an example file, not a SKIP file:
those the audit left out as not deployed) is one place, at its first password-like key's line; its
key lines are not counted again as assignments. Its password-like values (all values when none has a
password-like key), base64-decoded for ``data``, decide: all references or placeholders, not counted.

One credential is one value: two places holding it count once. Printed, by MEASURE: ``count`` the
distinct credentials, ``locations`` the places, ``files`` the files with one, ``secret_manifests``
the Secret manifests counted. Values live in this process's memory only; nothing but the number is
printed, and an error prints its exception type, never a line.

    python3 tools/checks/reproduce_scripts/secret_count.py ROOT MEASURE [SKIP ...]
"""

from __future__ import annotations

import base64
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml
from estate_files import files

DOCS = (".md", ".markdown", ".rst", ".txt", ".adoc")
EXAMPLE_WORDS = {"example", "examples", "sample", "samples", "dist"}
PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@\"'<>$]*:([^\s/@\"'<>$]+)@[^\s/@\"'<>]+")
BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*)")
SHAPES = re.compile(
    r"\b((?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{20,}|glpat-[\w-]{20}"
    r"|xox[abposr]-[A-Za-z0-9-]{10,}|SG\.[\w-]{20,}\.[\w-]{20,}|[rs]k_live_[0-9A-Za-z]{16,}"
    r"|sk-(?:ant|proj|svcacct|admin)-[\w-]{20,}|eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]*|npm_[A-Za-z0-9]{36}"
    r"|pypi-[\w-]{50,}|(?:AC|SK)[0-9a-f]{32}|[0-9]{8,10}:[\w-]{35})\b"
)
CONN = re.compile(r"(?i)\b(?:password|pwd)\s*=\s*([^;\s'\"$<{][^;'\"]*);")
ASSIGN = re.compile(
    r"([\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|secret[_-](?:access[_-])?key))"
    r"([\"']?)(\s*(?:=>|:=|[:=]))[ \t]*(.*)",
    re.IGNORECASE,
)
REFERENCE = re.compile(
    r"^(?:op|vault|ref\+\w+|secretref\+\w+|sops|akv|azkv|gcpsm|awssm|awsssm|bw|pass|k8s|secret|sm)://"
    r"|^(?:vault|keyring|env|file|ref\+\w*):|\$\{|\$\(|\{\{|\{%|%\{|\(\(|^\$\w+$|^<[^<>]*>$|^%\w+%$"
    r"|^(?:var|local|data|module|each|self)\.\w|^[A-Za-z_][\w.]*\(",
    re.IGNORECASE,
)
PLACEHOLDER = re.compile(
    r"change[-_ ]?me|changeit|example|foobar|abc123|placeholder|replace[-_ ]?(?:me|this|with)|redacted"
    r"|x{3,}|\.\.\.|…|\*{3,}|^your[-_ ]?|^<|>$"
    r"|^(?:foo|bar|baz|test|secret|password|passwd|pass|token|value|none|null|sample|demo|todo|fixme|tbd"
    r"|dummy|fake|n/?a|true|false|yes|no|~)$",
    re.IGNORECASE,
)
TYPE = re.compile(
    r"^(?:optional\()?(?:string|str|text|securestring|secure_string|sensitive|bool|boolean|number|int"
    r"|integer|float|any|object|map\(string\)|list\(string\))\)?$",
    re.IGNORECASE,
)
DOC_EXAMPLE = re.compile(r"(?i)example|changeme|change-me|<password>|\bxxx")
OBJECT_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)+")
PASSWORD_LIKE = ("password", "passwd", "passphrase", "secret", "token", "apikey", "key", "credentials")


def not_a_credential(value: str) -> bool:
    v = value.strip().strip("\"'").strip()
    return (
        not v
        or len(set(v)) == 1
        or REFERENCE.search(v) is not None
        or PLACEHOLDER.search(v) is not None
        or TYPE.match(v) is not None
        or v.startswith("ENC[")
    )


def in_comment(line: str, pos: int) -> bool:
    """Whether ``pos`` is in a comment: a comment line, or after an unquoted `` #``."""
    if line.lstrip().startswith(("#", "//", ";", "--", "/*", "*", "<!--", "rem ", "REM ")):
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


def assigned(line: str) -> list[str]:
    """The literal values assigned to password-like keys on a line."""
    out = []
    for m in ASSIGN.finditer(line):
        key, quote, sep, rest = m.group(1), m.group(2), m.group(3), m.group(4)
        norm = re.sub(r"[^a-z0-9]", "", key.lower())
        if norm.startswith("existing") or (quote and line[: m.start(1)][-1:] != quote):
            continue
        before = line[: m.start(1) - len(quote)].rstrip()
        if "=" not in sep and not quote and before and before[-1] not in "{[,-#/*;":
            continue  # "Set the password: ask Bob" is prose
        if rest and rest[0] in "\"'":
            end = rest.find(rest[0], 1)
            value, quoted = rest[1 : end if end > 0 else len(rest)], True
            if not value or value[0] in " \t$<{":
                continue
        elif "=" in sep:
            value, quoted = re.match(r"[^\s;&'\"]*", rest).group(0), False  # type: ignore[union-attr]
        else:
            value, quoted = re.split(r"\s+#|,|[}\]]", rest, maxsplit=1)[0].rstrip(), False
        if not value or (not quoted and value[0] in "$<{#|>&[(*!"):
            continue
        if norm.endswith("secret") and not norm.endswith("clientsecret") and OBJECT_NAME.fullmatch(value):
            continue  # backupTargetCredentialSecret: longhorn-credentials names a Secret object
        if in_comment(line, m.start(4)):
            continue
        out.append(value)
    return out


def sops_lines(lines: list[str]) -> set[int]:
    out: set[int] = set()
    block, depth = "", 0
    for n, line in enumerate(lines, 1):
        if block == "yaml":
            if line.strip() and not line[:1].isspace() and not line.startswith("#"):
                block = ""
            else:
                out.add(n)
                continue
        if block == "json":
            out.add(n)
            depth += line.count("{") - line.count("}")
            block = "json" if depth > 0 else ""
            continue
        if block == "ini":
            if line.startswith("["):
                block = ""
            else:
                out.add(n)
                continue
        if re.match(r"^sops:\s*(#.*)?$", line):
            block = "yaml"
            out.add(n)
        elif re.match(r'^\s*"sops"\s*:\s*\{', line):
            depth = line.count("{") - line.count("}")
            block = "json" if depth > 0 else ""
            out.add(n)
        elif line.strip() == "[sops]":
            block = "ini"
            out.add(n)
        elif re.match(r"^sops_\w+=", line):
            out.add(n)
    return out


def fenced(lines: list[str]) -> set[int]:
    out, fence = set(), ""
    for n, line in enumerate(lines, 1):
        mark = line.lstrip()[:3]
        if fence:
            fence = "" if mark == fence else fence
            if fence:
                out.add(n)
        elif mark in ("```", "~~~"):
            fence = mark
    return out


def private_key(lines: list[str], n: int) -> str | None:
    body = []
    for line in lines[n:]:
        if "-----END" in line:
            break
        body.append(line.strip().strip("\"',\\n"))
    text = "".join(body)
    return None if len(text) < 8 or not_a_credential(text) else text


def line_credential(lines: list[str], n: int, doc: bool, in_block: bool) -> list[str] | None:
    """The credential values of line ``n`` (1-based) by the first kind that holds one, or None."""
    line = lines[n - 1]
    if "ENC[" in line and ",data:" in line:
        return None
    if PEM.search(line):
        key = private_key(lines, n)
        if key is not None:
            return [key]
    prose_off = doc and (in_block or DOC_EXAMPLE.search(line))
    structural: list[tuple[re.Pattern[str], bool]] = [
        (URL, True),
        (BEARER, True),
        (SHAPES, False),
        (CONN, True),
    ]
    for pattern, is_structural in structural:
        if is_structural and prose_off:
            continue
        values = [
            m.group(1)
            for m in pattern.finditer(line)
            if not (is_structural and in_comment(line, m.start(1)))
            and not (pattern is BEARER and not tokenish(m.group(1)))
        ]
        real = [v for v in values if not not_a_credential(v)]
        if real:
            return real
    if prose_off:
        return None
    real = [v for v in assigned(line) if not not_a_credential(v)]
    return real or None


def tokenish(word: str) -> bool:
    word = word.rstrip(".,")
    mixed = word != word.lower() and word != word.upper() and not word.istitle()
    return len(word) >= 8 and (any(c.isdigit() or c in "-_~+/=." for c in word) or mixed)


def is_example(path: str) -> bool:
    return bool(EXAMPLE_WORDS & set(re.split(r"[._-]", os.path.basename(path).lower())))


def secret_manifest(path: str, text: str, lines: list[str]) -> list[tuple[int, list[str], set[int]]]:
    """Each unencrypted Secret of a YAML file: (its line, its judged values, its key lines)."""
    out = []
    try:
        docs = list(yaml.compose_all(text))
    except (yaml.YAMLError, RecursionError, ValueError):
        return []  # broken or hostile YAML: the audit reports and skips it; its lines are still read
    for doc in docs:
        if not isinstance(doc, yaml.MappingNode):
            continue
        top = {k.value: v for k, v in doc.value if isinstance(k, yaml.ScalarNode)}
        kind, api = top.get("kind"), top.get("apiVersion")
        if not (isinstance(kind, yaml.ScalarNode) and kind.value == "Secret") or "sops" in top:
            continue
        if isinstance(api, yaml.ScalarNode) and api.value not in ("v1",):
            continue
        entries = []  # (key, value, line, decode)
        for field in ("data", "stringData"):
            node = top.get(field)
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    value = v.value if isinstance(v, yaml.ScalarNode) else ""
                    entries.append((str(k.value), str(value), k.start_mark.line + 1, field == "data"))
        if not entries or any(str(v).startswith("ENC[") for _, v, _, _ in entries):
            continue
        key_lines = {line for _, _, line, _ in entries}
        telling = [e for e in entries if re.sub(r"[^a-z0-9]", "", e[0].lower()).endswith(PASSWORD_LIKE)]
        judged = telling or entries
        values = []
        for _, value, _, decode in judged:
            plain = value
            if decode:
                try:
                    plain = base64.b64decode(value.strip(), validate=True).decode("utf-8")
                except ValueError:
                    plain = value
            if not not_a_credential(value) and not not_a_credential(plain):
                values.append(value)
        where = min(line for _, _, line, _ in judged)
        out.append((where, sorted(values), key_lines))
    return out


Place = tuple[str, tuple[str, ...]]
"""A place holding credentials: its file, and its values (held in memory only)."""


def scanned(rel: str, data: bytes, skipped: bool) -> tuple[list[Place], int]:
    """The places of a file (``rel``, its bytes ``data``; ``skipped``: a SKIP file) and the Secret
    manifests counted among them. Scanned once per path, content and interpreter: ``batch.py`` runs
    the four measures' commands in one, where this module stays imported (see ``__main__`` below)."""
    key = (rel, data, skipped)
    if key not in _SCANNED:
        _SCANNED[key] = _scan(rel, data, skipped)
    places, manifests = _SCANNED[key]
    return list(places), manifests


_SCANNED: dict[tuple[str, bytes, bool], tuple[list[Place], int]] = {}


def _scan(rel: str, data: bytes, skipped: bool) -> tuple[list[Place], int]:
    places: list[Place] = []
    manifests = 0
    if b"\0" in data[:8192]:
        return places, manifests
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if is_example(rel):
        return places, manifests
    key_lines: set[int] = set()
    if rel.endswith((".yaml", ".yml")) and "Secret" in text and not skipped:
        for _, values, keys in secret_manifest(rel, text, lines):
            key_lines |= keys
            if values:
                places.append((rel, tuple(values)))
                manifests += 1
    sops = sops_lines(lines)
    doc = rel.lower().endswith(DOCS)
    block = fenced(lines) if doc else set()
    for n in range(1, len(lines) + 1):
        if n in sops or n in key_lines:
            continue
        found = line_credential(lines, n, doc, n in block)
        if found:
            places.append((rel, tuple(sorted(found))))
    return places, manifests


def main(root: Path, measure: str, skip: list[str]) -> int:
    skip_dirs = {s.strip("/") for s in skip if (root / s).is_dir()}
    skip_files = {s for s in skip if (root / s).is_file()}
    places: list[Place] = []
    manifests = 0
    for rel in files(root, skip_dirs):
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        found, counted = scanned(rel, data, rel in skip_files)
        places += found
        manifests += counted
    numbers: dict[str, Any] = {
        "count": len({values for _, values in places}),
        "locations": len(places),
        "files": len({path for path, _ in places}),
        "secret_manifests": manifests,
    }
    print(numbers[measure])
    return 0


if __name__ == "__main__":
    # this file's module imported, and its ``main`` run: where the script runs again in the same
    # interpreter (``batch.py``: one command per measure), the module is imported already, and what
    # ``scanned`` read stays read
    import secret_count

    try:
        sys.exit(secret_count.main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:]))
    except Exception as exc:  # a line of the estate may be in the message: the type only
        sys.exit(f"secret_count.py: {type(exc).__name__}")
