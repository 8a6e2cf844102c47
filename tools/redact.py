"""The one central redactor: every tool output passes through here before a model, a cassette or a
report sees it. Why it works the way it does:

* **Keys stay, values become fingerprints.** "This .tf file holds a literal password" is evidence an
  auditor needs; the password is not. ``<redacted:sha256:1a2b3c4d>`` (8 hex of its sha256) still
  lets two files holding the same secret be matched.
* **Line numbers never move.** A multi-line value (PEM body, block scalar, heredoc) becomes one
  fingerprint line and as many empty lines as it had, so ``file:line`` and ``sed -n`` stay true.
* **References are not secrets.** ``var.x``, ``data.vault_generic_secret.x.data["pw"]``, ``${...}``,
  ``{{ ... }}``, ``$VAR``, empty values and ``valueFrom``/``secretKeyRef`` stay: an audit must be able
  to say "this password comes from Vault".
* **Idempotent.** Fingerprints are never fingerprinted again, so a tool, the registry and the report
  can each redact without changing what the previous one produced.
* **Context first.** ``kind: Secret`` documents and ``last-applied-configuration`` annotations are
  found by composing the YAML/JSON (exact spans, any quoting, items of a ``List``), with an
  indentation scan for documents that do not parse (Helm templates). Callers showing slices of a
  file must redact the whole file and slice after: a lone line has lost the context that makes it
  secret.
* **Fast.** Compiled regexes that start on a literal where they can; each pass is skipped unless a
  cheap substring test says it could match.

Not covered: secrets with neither a telling key nor a known shape (a bare random string), plain
multi-line YAML scalars under a secret key, passwords that look like references (``$abc``,
``a.b.c`` in HCL), and binary encodings.

The value-level rules (secret keys, values that are kept, fingerprints) are in ``redact_values``; the
``kind: Secret`` and last-applied documents are found in ``redact_kube``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

from tools.redact_hcl import HCL_GATE, redact_hcl
from tools.redact_kube import KUBE_GATE, redact_kube
from tools.redact_state import STATE_GATE, redact_state
from tools.redact_tokens import redact_tokens
from tools.redact_values import (
    LAST_APPLIED,
    Span,
    already_redacted,
    fingerprint,
    indented_end,
    is_secret_key,
    keep_value,
    names_a_secret,
    secret_value,
    splice,
)

__all__ = ["LAST_APPLIED", "fingerprint", "redact_object", "redact_text"]

# A key is secret when it *ends* with one of these words (``db_password``, ``clientSecret``), so
# ``secretName``, ``password_file`` and ``token_ttl`` are not.
_WORDS = (
    r"(?:pass(?:word|wd|phrase)|secret(?:[_-]?(?:key|id))?|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|key[_-]?data|credentials?|pwd)"
)
_KEY_HINTS = ("pass", "secret", "token", "key", "credential", "pwd")
_BLOCK_HINTS = (*_KEY_HINTS, "last-applied")


_ASSIGN_TAIL = r"(?P<q>[\"']?)(?P<sep>[ \t]*(?:=>|:=|[:=])[ \t]*)"
_ASSIGN = re.compile(_WORDS + _ASSIGN_TAIL)  # run on lower-cased text: 7x faster than re.I here
_ASSIGN_I = re.compile(_WORDS + _ASSIGN_TAIL, re.I)
_CHECK_HEADER = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+")
_CHECK_COUNT = re.compile(r"\d+(?: of \d+)?$|not applicable \(")


def _redact_assignments(text: str) -> str:
    """``key: value``, ``key = "value"``, ``"key": "value"``, ``KEY=value``: the key stays.

    The regex finds the secret word and separator; the key's start is found by walking back, which a
    regex could only do with a slow lazy prefix.
    """
    spans: list[Span] = []
    lower = text.lower()
    matches = _ASSIGN.finditer(lower) if len(lower) == len(text) else _ASSIGN_I.finditer(text)
    for m in matches:
        start = m.start()
        if spans and start < spans[-1][1]:
            continue
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.-"):
            start -= 1
        if m["q"] and (start == 0 or text[start - 1] != m["q"]):
            continue  # a closing quote without an opening one: not a key
        start -= len(m["q"])
        key = text[start : m.start("sep")]
        if not is_secret_key(key.strip("'\"")):
            continue
        line_end = text.find("\n", m.end())
        rest = text[m.end() : len(text) if line_end < 0 else line_end]
        if _CHECK_HEADER.fullmatch(key) and _CHECK_COUNT.match(rest):
            continue  # "SEC-PLAINTEXT-SECRET: 5": a check's result line (an id and a count), not a secret
        new, size = secret_value(key, m["sep"], rest, text[text.rfind("\n", 0, start) + 1 : start])
        spans.append((m.end(), m.end() + size, new))
    return splice(text, spans)


def _value_repl(m: re.Match[str]) -> str:
    """The value after ``head`` (an env entry's ``value:``, a last-applied annotation key)."""
    new, size = secret_value("", m["head"], m["rest"], "")
    return f"{m['head']}{new}{m['rest'][size:]}"


def _group_repl(test: Callable[[str], bool] = lambda v: True) -> Callable[[re.Match[str]], str]:
    """Fingerprint the group named ``v`` (the whole match when there is none) when ``test`` says so.

    Quotes around the value (``-p'pw'``) stay outside the fingerprint. With a group named ``name``,
    ``test`` is asked about the name (a header) instead of the value.
    """

    def repl(m: re.Match[str]) -> str:
        group = "v" if "v" in m.re.groupindex else 0
        value = m[group]
        quoted = len(value) > 1 and value[0] in "'\"" and value[-1] == value[0]
        inner = value[1:-1] if quoted else value
        if keep_value(inner, quoted=True, hcl=False) or not test(
            m["name"] if "name" in m.re.groupindex else inner
        ):
            return m[0]
        start, end = m.start(group) - m.start() + quoted, m.end(group) - m.start() - quoted
        return m[0][:start] + fingerprint(inner) + m[0][end:]

    return repl


def _secret_header(name: str) -> bool:
    """``X-Vault-Token``, ``X-Api-Key``, ``X-Auth``, ``Private-Token``; not ``X-Request-Id``."""
    return is_secret_key(name) or name.lower().replace("-", "").endswith("auth")


def _tokenish(value: str) -> bool:
    """A credential after 'Bearer'/'Basic', not a word ('Bearer tokens.', 'Basic Authentication')."""
    word = value.rstrip(".,")
    mixed = word != word.lower() and word != word.upper() and not word.istitle()
    return len(word) >= 8 and (any(c.isdigit() or c in "-_~+/=." for c in word) or mixed)


_TOKEN_PREFIXES = (
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "akia",
    "asia",
    "xox",
    "eyj",
    "glpat-",
    "aiza",
    "_live_",
    "npm_",
)
_RULES: list[tuple[tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (("enc[",), re.compile(r"ENC\[[A-Z0-9_]+,data:(?!\.\.\.\])[^\]\n]*\]"), _group_repl()),
    (
        ("last-applied",),
        re.compile(r"(?P<head>" + re.escape(LAST_APPLIED) + r"[\"']?[ \t]*:[ \t]*)(?P<rest>[^\n]*)"),
        _value_repl,
    ),
    (("://",), re.compile(r"://[^\s:/@\"'<>]*:(?P<v>[^\s/\"'<>]+)(?=@[^\s/@\"'<>]+)"), _group_repl()),
    (
        ("authorization",),
        re.compile(
            r"[Aa](?i:uthorization)[\"']?[ \t]*[:=][ \t]*[\"']?"  # a literal first char: 4x faster than (?i)
            r"(?>(?i:(?:bearer|basic|token|digest|negotiate)[ \t]+)?)(?P<v>[^\s\"',;<]+)"
        ),
        _group_repl(lambda v: not (v.isalpha() and v.islower())),
    ),  # 'Authorization: Bearer token' (prose)
    (
        ("bearer", "basic"),
        re.compile(r"[Bb](?<![\w][Bb])(?i:earer|asic)[ \t]+(?P<v>[A-Za-z0-9\-._~+/]+=*)"),
        _group_repl(_tokenish),
    ),
    # secret headers outside an ``Authorization`` line: curl -H "X-Vault-Token: ...", YAML header maps
    (
        ("x-", "private-token", "api-key", "apikey"),
        re.compile(
            r"(?<![\w-])(?P<name>[Xx]-[\w-]+|(?i:private-token|api-?key))[\"']?[ \t]*:[ \t]*[\"']?"
            r"(?>(?i:(?:bearer|basic|token)[ \t]+)?)(?P<v>[^\s\"',;<>]+)"
        ),
        _group_repl(_secret_header),
    ),
    # passwords on command lines: mysql -ppw, sshpass -p pw, redis-cli -a pw, --password pw, curl -u u:pw
    (
        ("-p", "-a", "--", "-u"),
        re.compile(
            r"(?<![\w-])(?:"
            r"(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mariadb(?:-dump|-admin)?)\b"
            r"[^\n|;&]*?[ \t]-p|sshpass\b[^\n|;&]*?[ \t]-p[ \t]*|redis-cli\b[^\n|;&]*?[ \t]-a[ \t]+"
            r"|--(?:[\w-]*-)?(?:password|passwd|pass|token|secret|api-key|apikey)[ \t]+"
            r"|curl\b[^\n|;&]*?[ \t](?:-u|--user)[ \t]+[\"']?[^\s:\"'@/]+:"
            r")(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"';&|]+)"
        ),
        _group_repl(),
    ),
    (("jdbc:oracle",), re.compile(r"[Jj](?i:dbc:oracle:thin:)[^/\s@:]+/(?P<v>[^@\s<]+)@"), _group_repl()),
    (("pwd",), re.compile(r"[Pp](?<![\w.-][Pp])(?i:wd)[ \t]*=[ \t]*(?P<v>[^;\s'\"&<]+)"), _group_repl()),
    (
        _TOKEN_PREFIXES,
        re.compile(
            r"\b(?:gh[pousr]_[A-Za-z0-9_-]{12,}|github_pat_[A-Za-z0-9_]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
            r"|xox[abposr]-[A-Za-z0-9-]{8,}|eyJ[A-Za-z0-9_-]{3,}\.eyJ[A-Za-z0-9_-]{3,}\.[A-Za-z0-9_-]*"
            r"|glpat-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{35}|[rs]k_live_[0-9A-Za-z]{16,}|npm_[A-Za-z0-9]{36})"
        ),
        _group_repl(),
    ),
    # env entries: ``- name: DB_PASSWORD`` then ``value: ...`` (YAML, HCL, JSON; same or next line)
    (
        ("name",),
        re.compile(
            r"(?P<head>name(?<![\w.-]name)[\"']?[ \t]*[:=][ \t]*[\"']?[\w.-]*?(?i:"
            + _WORDS
            + r")[\"']?[ \t]*,?"
            r"[ \t]*(?:\r?\n[ \t]*(?:-[ \t]+)?)?[\"']?value[\"']?[ \t]*[:=][ \t]*)(?P<rest>[^\n]*)"
        ),
        _value_repl,
    ),
]

_PEM_BEGIN = re.compile(r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----")
_INLINE_KEY = re.compile(r"[ \t]*[A-Za-z0-9+/=]{20}")  # key material on the BEGIN line (flattened)
_KEY_LINE = re.compile(
    r"[ \t]*(?:[A-Za-z0-9+/=_.-]+|(?:Proc-Type|DEK-Info|Comment|Version):[^\n]*|<redacted[^>]*>)?[ \t]*\r?"
)
_BLOCK_TAIL = re.compile(
    r"(?::[ \t]*(?:!\S*[ \t]+)?[|>][-+0-9]*|=[ \t]*<<-?[ \t]*[\"']?(?P<doc>\w+)[\"']?)[ \t]*(?:#[^\n]*)?\r?$",
    re.M,
)
_BLOCK_KEY = re.compile(r"(?P<ind>[ \t]*(?:-[ \t]+)*)([\"']?)(?P<key>[\w./-]+)\2[ \t]*")


def _redact_pem(text: str) -> str:
    """Key material after ``-----BEGIN ... PRIVATE KEY-----``, whether an END follows or not.

    The body is the run of lines that can be key material (base64, PEM headers, blank), or the rest
    of the BEGIN line for a one-line key (``\\n``-escaped, flattened). Stopping at the first line that
    cannot be key material keeps this idempotent on tool output: in a search listing or a numbered
    read (``12: <redacted...>``) the lines after a BEGIN carry a prefix and are never a key body.
    """
    spans: list[Span] = []
    for m in _PEM_BEGIN.finditer(text):
        if spans and m.start() < spans[-1][1]:
            continue
        nl = text.find("\n", m.end())
        line_end = len(text) if nl < 0 else nl
        rest = text[m.end() : line_end]
        marker = rest.find(f"-----END {m['label']}-----")
        if marker >= 0 or rest.startswith("\\n") or _INLINE_KEY.match(rest):
            body = rest[:marker] if marker >= 0 else rest.rstrip(" \t\r\"',;")
            start, new = m.end(), fingerprint(body)
        else:
            start = run = min(line_end + 1, len(text))
            while run < len(text):
                nl = text.find("\n", run)
                if not _KEY_LINE.fullmatch(text, run, len(text) if nl < 0 else nl):
                    break
                run = len(text) if nl < 0 else nl + 1
            body = text[start:run].rstrip("\r\n")
            indent = body[: len(body) - len(body.lstrip(" \t\r\n"))].split("\n")[-1]
            new = indent + fingerprint(body.strip()) + "\n" * body.count("\n")
        if body.strip() and not already_redacted(body):
            spans.append((start, start + len(body), new))
    return splice(text, spans)


def _redact_blocks(text: str) -> str:
    """YAML block scalars and HCL heredocs under a secret key: the key stays, the lines go."""
    spans: list[Span] = []
    for m in _BLOCK_TAIL.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        head = _BLOCK_KEY.fullmatch(text, line_start, m.start())
        body_start = m.end() + 1
        if head is None or (spans and line_start < spans[-1][1]) or body_start > len(text):
            continue
        if not (is_secret_key(head["key"]) or head["key"] == LAST_APPLIED):
            continue
        if m["doc"]:
            term = re.compile(r"^[ \t]*" + re.escape(m["doc"]) + r"[ \t]*\r?$", re.M).search(text, body_start)
            end = term.start() if term else len(text)
        else:
            end = indented_end(text, body_start, len(head["ind"]))
        block = text[body_start:end].rstrip("\n")
        if already_redacted(block):
            continue
        new = " " * (len(head["ind"]) + 2) + fingerprint(block.strip()) + "\n" * block.count("\n")
        spans.append((body_start, body_start + len(block), new))
    return splice(text, spans)


def redact_text(text: str) -> str:
    """Redact secrets in free text (any file format), keeping keys, layout and line numbers."""
    if not text:
        return text
    lower = text.lower()
    if "private key" in lower:
        text = _redact_pem(text)
    if ("secret" in lower or "last-applied" in lower) and KUBE_GATE.search(text):
        text = redact_kube(text)
    if "terraform_version" in text and STATE_GATE.search(text):
        text = redact_state(text)
    if HCL_GATE.search(text):
        text = redact_hcl(text)
    if ("|" in text or ">" in text or "<<" in text) and any(w in lower for w in _BLOCK_HINTS):
        text = _redact_blocks(text)
    for needles, regex, repl in _RULES:
        if any(n in lower for n in needles):
            text = regex.sub(repl, text)
    text = redact_tokens(text)
    if any(w in lower for w in _KEY_HINTS):
        text = _redact_assignments(text)
    return text


def _fp_any(value: Any) -> Any:
    if value is None or (isinstance(value, str) and already_redacted(value)):
        return value
    if isinstance(value, bytes):
        return fingerprint(value.decode("utf-8", "replace"))
    return fingerprint(value if isinstance(value, str) else str(value))


def _secret_scalar(key: Any, value: Any) -> bool:
    if isinstance(value, str):
        return not (keep_value(value, quoted=False, hcl=True) or names_a_secret(key, value))
    return isinstance(value, int | float) and not isinstance(value, bool)


def redact_object(obj: Any) -> Any:
    """A redacted deep copy of JSON-like data (dicts, lists, scalars); the input is never mutated.

    Kubernetes-aware: every value under ``data``/``stringData`` of a ``kind: Secret`` object and every
    ``last-applied-configuration`` annotation is fingerprinted; so is a scalar under a secret-looking
    key and the ``value`` of an env entry whose ``name`` looks secret. Every other string goes
    through ``redact_text``.
    """
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, Mapping):
        is_secret = obj.get("kind") == "Secret"
        env_secret = is_secret_key(obj.get("name")) and "value" in obj
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            if is_secret and key in ("data", "stringData") and isinstance(value, Mapping):
                out[key] = {k: _fp_any(v) for k, v in value.items()}
            elif key == LAST_APPLIED or (
                (is_secret_key(key) or (env_secret and key == "value")) and _secret_scalar(key, value)
            ):
                out[key] = _fp_any(value)
            else:
                out[key] = redact_object(value)
        return out
    if isinstance(obj, list):
        return [redact_object(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(redact_object(v) for v in obj)
    return obj if obj is None or isinstance(obj, bool | int | float) else copy.deepcopy(obj)
