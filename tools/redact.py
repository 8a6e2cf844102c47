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
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

import yaml

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_ALREADY = re.compile(r"(?:\s|\\n|<redacted(?::sha256:[0-9a-f]{8})?>)*")
# A key is secret when it *ends* with one of these words (``db_password``, ``clientSecret``), so
# ``secretName``, ``password_file`` and ``token_ttl`` are not.
_WORDS = (
    r"(?:pass(?:word|wd|phrase)|secret(?:[_-]?(?:key|id))?|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|key[_-]?data|credentials?)"
)
_KEY_SUFFIXES = ("password", "passwd", "passphrase", "secret", "secretkey", "secretid", "token", "apikey",
                 "accesskey", "privatekey", "keydata", "credential", "credentials")  # keydata: kubeconfig
_KEY_HINTS = ("pass", "secret", "token", "key", "credential")
_BLOCK_HINTS = (*_KEY_HINTS, "last-applied")
_EMPTYISH = frozenset({"", "null", "~", "none", "nil", "true", "false", "yes", "no", "[]", "{}"})
_INTERPOLATION = re.compile(r"\$\{|\{\{|%\{|\(\(|^\$\(?[A-Za-z_][\w.:-]*\)?$|^<[^<>\s]+>$")
_BLOCK_START = re.compile(r"(?:!\S*\s+)?[|>][-+0-9]*|<<-?\s*[\"']?\w+[\"']?")  # see _redact_blocks
_HCL_REF = re.compile(  # a reference or a function call: var.x, file(...), get_env(...)
    r"(?:var|local|data|module|each|count|self|path|terraform|dependency|include)\.\S*|[A-Za-z_][\w.]*\(.*")
_K8S_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)+")  # hyphenated words: an object name
_RESOURCE_REF = re.compile(r"[a-z][a-z0-9_]*\.[a-z0-9_-]+\.[\w.\[\]\"'*-]+")  # random_password.db.result


Span = tuple[int, int, str]  # (start, end, replacement) in one text


def _splice(text: str, spans: list[Span]) -> str:
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


def _already(value: str) -> bool:
    return _ALREADY.fullmatch(value) is not None


def _is_secret_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm.endswith(_KEY_SUFFIXES) and not norm.startswith("existing")  # Helm's existingSecret: a name


def _names_a_secret(key: object, value: str) -> bool:
    """``backupTargetCredentialSecret: longhorn-backup-credentials`` names a Secret object; it is not one."""
    norm = re.sub(r"[^a-z0-9]", "", str(key).lower())
    named = _K8S_NAME.fullmatch(value.strip()) is not None
    return named and norm.endswith("secret") and not norm.endswith("clientsecret")


def _keep(inner: str, *, quoted: bool, hcl: bool) -> bool:
    """True when a value under a secret-looking key is not itself a secret (a reference, empty...)."""
    value = inner.strip()
    if value.lower() in _EMPTYISH or _already(value) or _INTERPOLATION.search(value):
        return True
    if _BLOCK_START.fullmatch(value):
        return True  # the lines below were handled by _redact_blocks
    if quoted:
        return False
    if value[:1] in ("{", "["):
        return True  # a nested mapping or list (``"secret": {"secretName": ...}``), not a scalar
    return _HCL_REF.fullmatch(value) is not None or (hcl and _RESOURCE_REF.fullmatch(value) is not None)


_DQ = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_SQ = re.compile(r"'((?:[^'\n]|'')*)'")
_BARE_COLON = re.compile(r"(.*?)([ \t]+#.*|[ \t]*,[ \t]*(?:[\"'{\[].*)?|[ \t]*[}\]][\s,}\]]*|[ \t]*)")
_BARE_EQ = re.compile(r"[^\s;&'\"]*")


def _split_value(rest: str, colon: bool) -> tuple[str, str, str]:
    """Split what follows ``key:``/``key =`` on one line into (open quote, value, close quote)."""
    if rest[:1] in ("'", '"'):
        m = (_DQ if rest[0] == '"' else _SQ).match(rest)
        return (rest[0], m.group(1), rest[0]) if m else (rest[0], rest[1:], "")  # unterminated: to EOL
    m = _BARE_COLON.fullmatch(rest) if colon else _BARE_EQ.match(rest)
    assert m is not None  # both patterns match the empty string
    return "", m.group(1) if colon else m.group(0), ""


def _secret_value(key: str, sep: str, rest: str, prefix: str) -> tuple[str, int]:
    """Replacement for the value that starts ``rest`` (after a secret key), and its length in ``rest``."""
    colon = "=" not in sep
    opened, inner, closed = _split_value(rest, colon)
    size = len(opened) + len(inner) + len(closed)
    # 'Set the password: ask Bob' is prose; '- password: x', '# token: x', '{a: 1, token: x}' are not.
    last = prefix.rstrip()[-1:]
    prose = colon and not key.startswith(("'", '"')) and last != "" and last not in "{[,-#/*;"
    if prose or _keep(inner, quoted=bool(opened), hcl=not colon) or _names_a_secret(key, inner):
        return rest[:size], size
    return f"{opened}{fingerprint(inner)}{closed}", size


_ASSIGN_TAIL = r"(?P<q>[\"']?)(?P<sep>[ \t]*(?:=>|:=|[:=])[ \t]*)"
_ASSIGN = re.compile(_WORDS + _ASSIGN_TAIL)  # run on lower-cased text: 7x faster than re.I here
_ASSIGN_I = re.compile(_WORDS + _ASSIGN_TAIL, re.I)


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
        if not _is_secret_key(key.strip("'\"")):
            continue
        line_end = text.find("\n", m.end())
        rest = text[m.end() : len(text) if line_end < 0 else line_end]
        new, size = _secret_value(key, m["sep"], rest, text[text.rfind("\n", 0, start) + 1 : start])
        spans.append((m.end(), m.end() + size, new))
    return _splice(text, spans)


def _value_repl(m: re.Match[str]) -> str:
    """The value after ``head`` (an env entry's ``value:``, a last-applied annotation key)."""
    new, size = _secret_value("", m["head"], m["rest"], "")
    return f"{m['head']}{new}{m['rest'][size:]}"


def _group_repl(test: Callable[[str], bool] = lambda v: True) -> Callable[[re.Match[str]], str]:
    """Fingerprint the group named ``v`` (the whole match when there is none) when ``test`` says so."""

    def repl(m: re.Match[str]) -> str:
        group = "v" if "v" in m.re.groupindex else 0
        value = m[group]
        if _keep(value, quoted=True, hcl=False) or not test(value):
            return m[0]
        start, end = m.start(group) - m.start(), m.end(group) - m.start()
        return m[0][:start] + fingerprint(value) + m[0][end:]

    return repl


def _tokenish(value: str) -> bool:
    """A credential after 'Bearer'/'Basic', not a word ('Bearer tokens.', 'Basic Authentication')."""
    word = value.rstrip(".,")
    mixed = word != word.lower() and word != word.upper() and not word.istitle()
    return len(word) >= 8 and (any(c.isdigit() or c in "-_~+/=." for c in word) or mixed)


_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "akia", "asia", "xox", "eyj",
                   "glpat-", "aiza", "_live_", "npm_")
_RULES: list[tuple[tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (("enc[",), re.compile(r"ENC\[[A-Z0-9_]+,data:(?!\.\.\.\])[^\]\n]*\]"), _group_repl()),
    (("last-applied",),
     re.compile(r"(?P<head>" + re.escape(LAST_APPLIED) + r"[\"']?[ \t]*:[ \t]*)(?P<rest>[^\n]*)"),
     _value_repl),
    (("://",), re.compile(r"://[^\s:/@\"'<>]*:(?P<v>[^\s/\"'<>]+)(?=@[^\s/@\"'<>]+)"), _group_repl()),
    (("authorization",), re.compile(
        r"[Aa](?i:uthorization)[\"']?[ \t]*[:=][ \t]*[\"']?"  # a literal first char: 4x faster than (?i)
        r"(?>(?i:(?:bearer|basic|token|digest|negotiate)[ \t]+)?)(?P<v>[^\s\"',;<]+)"
    ), _group_repl(lambda v: not (v.isalpha() and v.islower()))),  # 'Authorization: Bearer token' (prose)
    (("bearer", "basic"), re.compile(r"[Bb](?<![\w][Bb])(?i:earer|asic)[ \t]+(?P<v>[A-Za-z0-9\-._~+/]+=*)"),
     _group_repl(_tokenish)),
    (("jdbc:oracle",), re.compile(r"[Jj](?i:dbc:oracle:thin:)[^/\s@:]+/(?P<v>[^@\s<]+)@"), _group_repl()),
    (("pwd",), re.compile(r"[Pp](?<![\w.-][Pp])(?i:wd)[ \t]*=[ \t]*(?P<v>[^;\s'\"&<]+)"), _group_repl()),
    (_TOKEN_PREFIXES, re.compile(
        r"\b(?:gh[pousr]_[A-Za-z0-9_-]{12,}|github_pat_[A-Za-z0-9_]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}"
        r"|xox[abposr]-[A-Za-z0-9-]{8,}|eyJ[A-Za-z0-9_-]{3,}\.eyJ[A-Za-z0-9_-]{3,}\.[A-Za-z0-9_-]*"
        r"|glpat-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{35}|[rs]k_live_[0-9A-Za-z]{16,}|npm_[A-Za-z0-9]{36})"
    ), _group_repl()),
    # env entries: ``- name: DB_PASSWORD`` then ``value: ...`` (YAML, HCL, JSON; same or next line)
    (("name",), re.compile(
        r"(?P<head>name(?<![\w.-]name)[\"']?[ \t]*[:=][ \t]*[\"']?[\w.-]*?(?i:" + _WORDS + r")[\"']?[ \t]*,?"
        r"[ \t]*(?:\r?\n[ \t]*(?:-[ \t]+)?)?[\"']?value[\"']?[ \t]*[:=][ \t]*)(?P<rest>[^\n]*)"
    ), _value_repl),
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
        if body.strip() and not _already(body):
            spans.append((start, start + len(body), new))
    return _splice(text, spans)


def _indented_end(text: str, pos: int, col: int) -> int:
    """End of the lines from ``pos`` that are blank or indented deeper than ``col``."""
    while pos < len(text):
        nl = text.find("\n", pos)
        line = text[pos : len(text) if nl < 0 else nl].rstrip("\r")
        if line.strip() and len(line) - len(line.lstrip(" \t")) <= col:
            break
        pos = len(text) if nl < 0 else nl + 1
    return pos


def _redact_blocks(text: str) -> str:
    """YAML block scalars and HCL heredocs under a secret key: the key stays, the lines go."""
    spans: list[Span] = []
    for m in _BLOCK_TAIL.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        head = _BLOCK_KEY.fullmatch(text, line_start, m.start())
        body_start = m.end() + 1
        if head is None or (spans and line_start < spans[-1][1]) or body_start > len(text):
            continue
        if not (_is_secret_key(head["key"]) or head["key"] == LAST_APPLIED):
            continue
        if m["doc"]:
            term = re.compile(r"^[ \t]*" + re.escape(m["doc"]) + r"[ \t]*\r?$", re.M).search(text, body_start)
            end = term.start() if term else len(text)
        else:
            end = _indented_end(text, body_start, len(head["ind"]))
        block = text[body_start:end].rstrip("\n")
        if _already(block):
            continue
        new = " " * (len(head["ind"]) + 2) + fingerprint(block.strip()) + "\n" * block.count("\n")
        spans.append((body_start, body_start + len(block), new))
    return _splice(text, spans)


_KUBE_GATE = re.compile(r"kind[\"']?[ \t]*:[ \t]*[\"']?Secret\b|last-applied-configuration")
_DOC_START = re.compile(r"^(?:---|\.\.\.)(?=[ \t\r\n]|$)", re.M)
_SECRET_KIND_LINE = re.compile(r"^[ \t]*(?:-[ \t]+)?[\"']?kind[\"']?[ \t]*:[ \t]*[\"']?Secret\b", re.M)
_DATA_HEAD = re.compile(
    r"^(?P<ind>[ \t]*(?:-[ \t]+)*)[\"']?(?:data|stringData)[\"']?[ \t]*:[ \t]*\{?[ \t]*\r?$", re.M
)
_CHILD = re.compile(r"[ \t]*[\"']?[^\s\"':#][^\"':]*[\"']?[ \t]*:[ \t]*")


def _node_span(node: Any, offset: int, text: str) -> Span | None:
    value = str(node.value)
    start, end = offset + node.start_mark.index, offset + node.end_mark.index
    if _already(value) or value.strip() in ("", "null", "~") or _INTERPOLATION.search(value):
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
        for line in chunk[pos : _indented_end(chunk, pos, len(m["ind"]))].split("\n"):
            ind = len(line) - len(line.lstrip(" \t"))
            if line.strip() and not line.lstrip().startswith("#"):
                child_col = ind if child_col < 0 else child_col
                head = _CHILD.match(line) if ind == child_col else None
                start = head.end() if head else ind
                opened, inner, _ = _split_value(line[start:].rstrip("\r"), colon=True)
                if not _keep(inner, quoted=True, hcl=False):
                    begin = offset + pos + start + len(opened)
                    spans.append((begin, begin + len(inner), fingerprint(inner)))
            pos += len(line) + 1
    return spans


def _redact_kube(text: str) -> str:
    starts = [0] + [m.start() for m in _DOC_START.finditer(text) if m.start() > 0]
    spans: list[Span] = []
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[begin:end]
        if not _KUBE_GATE.search(chunk):
            continue
        try:
            node = yaml.compose(chunk, Loader=_LOADER)
        except (yaml.YAMLError, RecursionError):
            spans += _fallback_spans(chunk, begin)
            continue
        if node is not None:
            spans += _compose_spans(node, begin, text)
    return _splice(text, sorted(spans))


def redact_text(text: str) -> str:
    """Redact secrets in free text (any file format), keeping keys, layout and line numbers."""
    if not text:
        return text
    lower = text.lower()
    if "private key" in lower:
        text = _redact_pem(text)
    if ("secret" in lower or "last-applied" in lower) and _KUBE_GATE.search(text):
        text = _redact_kube(text)
    if ("|" in text or ">" in text or "<<" in text) and any(w in lower for w in _BLOCK_HINTS):
        text = _redact_blocks(text)
    for needles, regex, repl in _RULES:
        if any(n in lower for n in needles):
            text = regex.sub(repl, text)
    if any(w in lower for w in _KEY_HINTS):
        text = _redact_assignments(text)
    return text


def _fp_any(value: Any) -> Any:
    if value is None or (isinstance(value, str) and _already(value)):
        return value
    if isinstance(value, bytes):
        return fingerprint(value.decode("utf-8", "replace"))
    return fingerprint(value if isinstance(value, str) else str(value))


def _secret_scalar(key: Any, value: Any) -> bool:
    if isinstance(value, str):
        return not (_keep(value, quoted=False, hcl=True) or _names_a_secret(key, value))
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
        env_secret = _is_secret_key(obj.get("name")) and "value" in obj
        out: dict[Any, Any] = {}
        for key, value in obj.items():
            if is_secret and key in ("data", "stringData") and isinstance(value, Mapping):
                out[key] = {k: _fp_any(v) for k, v in value.items()}
            elif key == LAST_APPLIED or (
                (_is_secret_key(key) or (env_secret and key == "value")) and _secret_scalar(key, value)
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
