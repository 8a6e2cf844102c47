"""Line rules of the redactor: values after a secret-looking key, and values of a known place on a line.

* ``redact_assignments``: ``key: value``, ``key = "value"``, ``"key": "value"``, ``KEY=value`` where the key
  ends in a secret word (``db_password``, ``clientSecret``, ``PGPASSWORD``); the key stays, prose
  (``Set the password: ask Bob``), references and a check's own ``ID: count`` line stay.
* ``RULES``: SOPS values, last-applied annotations, passwords in URLs, ``Authorization`` and other
  secret headers (``X-Vault-Token``, ``X-Api-Key``, ``PRIVATE-TOKEN``), bearer/basic credentials,
  passwords on command lines (``mysql -p...``, ``--password ...``, ``sshpass -p``, ``redis-cli -a``,
  ``curl -u``), connection strings, well-known token prefixes, and env entries whose name is secret.
  Each rule runs only when one of its lower-case needles is in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tools.redact_values import (
    LAST_APPLIED,
    Span,
    fingerprint,
    is_secret_key,
    keep_value,
    secret_value,
    splice,
)

# A key is secret when it *ends* with one of these words (``db_password``, ``clientSecret``), so
# ``secretName``, ``password_file`` and ``token_ttl`` are not.
_WORDS = (
    r"(?:pass(?:word|wd|phrase)|secret(?:[_-]?(?:key|id))?|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|key[_-]?data|credentials?|pwd)"
)
KEY_HINTS = ("pass", "secret", "token", "key", "credential", "pwd")
BLOCK_HINTS = (*KEY_HINTS, "last-applied")


_ASSIGN_TAIL = r"(?P<q>[\"']?)(?P<sep>[ \t]*(?:=>|:=|[:=])[ \t]*)"
_ASSIGN = re.compile(_WORDS + _ASSIGN_TAIL)  # run on lower-cased text: 7x faster than re.I here
_ASSIGN_I = re.compile(_WORDS + _ASSIGN_TAIL, re.I)
_CHECK_HEADER = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+")
_CHECK_COUNT = re.compile(r"\d+(?: of \d+)?$|not applicable \(")


def redact_assignments(text: str) -> str:
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


_CLI_VALUE = r"(?P<v>\"[^\"\n]*\"|'[^'\n]*'|[^\s\"';&|]+)"
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
RULES: list[tuple[tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], str]]] = [
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
        re.compile(  # a literal first character, then the look-behind: 10x faster than the other way
            r"(?P<name>[XxPpAa](?<![\w-][XxPpAa])(?:-[\w-]+|(?i:rivate-token|pi-?key)))[\"']?[ \t]*:[ \t]*"
            r"[\"']?(?>(?i:(?:bearer|basic|token)[ \t]+)?)(?P<v>[^\s\"',;<>]+)"
        ),
        _group_repl(_secret_header),
    ),
    # passwords on command lines: mysql -ppw, sshpass -p pw, redis-cli -a pw, --password pw, curl -u u:pw
    # (one rule each, so that each starts on a literal the regex engine scans for fast)
    *(
        ((needle,), re.compile(head + _CLI_VALUE), _group_repl())
        for needle, head in (
            ("mysql", r"mysql(?:dump|admin|import|check|show)?\b[^\n|;&]*?[ \t]-p"),
            ("mariadb", r"mariadb(?:-dump|-admin)?\b[^\n|;&]*?[ \t]-p"),
            ("sshpass", r"sshpass\b[^\n|;&]*?[ \t]-p[ \t]*"),
            ("redis-cli", r"redis-cli\b[^\n|;&]*?[ \t]-a[ \t]+"),
            ("--", r"--(?<![\w-]--)(?:[\w-]*-)?(?:password|passwd|pass|token|secret|api-key|apikey)[ \t]+"),
            ("curl", r"curl\b[^\n|;&]*?[ \t](?:-u|--user)[ \t]+[\"']?[^\s:\"'@/]+:"),
        )
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
# The rules that can match a text with no ":" and no "=": bearer/basic credentials, passwords on command
# lines but curl's user:password, and token prefixes. Every other rule matches a separator.
_UNKEYED = {"bearer", "mysql", "mariadb", "sshpass", "redis-cli", "--", *_TOKEN_PREFIXES}
UNKEYED_RULES = [rule for rule in RULES if _UNKEYED.intersection(rule[0])]
