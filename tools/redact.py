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
* **Idempotent.** Fingerprints are never fingerprinted again, so a tool, the ledger and the report
  can each redact without changing what the previous one produced; the structural passes read a
  tool's line-prefixed output (`` 12: ``, ``path:12:``) as the file it shows.
* **Context first.** ``kind: Secret`` documents and ``last-applied-configuration`` annotations are
  found by composing the YAML/JSON (exact spans, any quoting, items of a ``List``), with an
  indentation scan for documents that do not parse (Helm templates); Terraform blocks, attributes and
  heredocs by a tolerant HCL scanner; Terraform state by its own structure. Callers showing slices of
  a file must redact the whole file and slice after: a lone line has lost the context that makes it
  secret.
* **Shapes, then keys.** Known token shapes (detect-secrets' named-token plugins and a few more) are
  found under any key; long hex/base64 blobs only when assigned to a key that names no digest.
* **Fast.** Compiled regexes that start on a literal where they can; each pass is skipped unless a
  cheap substring test says it could match.

Not covered: secrets with neither a telling key, block or header nor a known shape (a bare random
string, a blob in prose), plain multi-line YAML scalars under a secret key, passwords that look like
references (``$abc``, ``a.b.c`` in HCL), and binary encodings.

The value-level rules (secret keys, values that are kept, fingerprints) are in ``redact_values``; the
passes are ``redact_kube`` (Secret and last-applied documents), ``redact_hcl`` (Terraform contexts),
``redact_state`` (Terraform state) and ``redact_tokens`` (token shapes and blobs).
"""

from __future__ import annotations

import copy
import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from tools.redact_hcl import hcl_gate, redact_hcl
from tools.redact_kube import KUBE_GATE, redact_kube
from tools.redact_rules import BLOCK_HINTS, KEY_HINTS, RULES, UNKEYED_RULES, redact_assignments
from tools.redact_state import STATE_GATE, redact_state
from tools.redact_tokens import any_of, redact_tokens
from tools.redact_values import (
    LAST_APPLIED,
    Span,
    already_redacted,
    fingerprint,
    indented_end,
    is_secret_key,
    keep_value,
    names_a_secret,
    splice,
)

__all__ = ["LAST_APPLIED", "fingerprint", "redact_object", "redact_text"]

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


_SHORT = 256  # a string this short is redacted once per process: data repeats (paths, names, kinds)


class _Memo:
    """Redacted long texts by content (a file is redacted again for every search that hits it), least
    recently used first out, bounded by the characters held. Redaction is a pure function of the text."""

    def __init__(self, budget: int) -> None:
        self.budget, self.used = budget, 0
        self.items: OrderedDict[str, str] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, text: str) -> str:
        with self.lock:
            found = self.items.get(text)
            if found is not None:
                self.items.move_to_end(text)
                return found
        result = _redact(text)
        size = len(text) + len(result)
        with self.lock:
            if text not in self.items and size <= self.budget:
                self.items[text] = result
                self.used += size
                while self.used > self.budget:
                    old, old_result = self.items.popitem(last=False)
                    self.used -= len(old) + len(old_result)
        return result


_redact_long = _Memo(budget=8_000_000)


def redact_text(text: str) -> str:
    """Redact secrets in free text (any file format), keeping keys, layout and line numbers."""
    if not text:
        return text
    return _redact_short(text) if len(text) <= _SHORT else _redact_long(text)


@functools.lru_cache(maxsize=1 << 15)
def _redact_short(text: str) -> str:
    return _redact(text)


def _needles(rules: list[tuple[tuple[str, ...], Any, Any]]) -> re.Pattern[str]:
    """A search for any needle of ``rules``: none in the text, and no rule applies."""
    return any_of([n for needles, _, _ in rules for n in needles])


_KEYED_NEEDLES = _needles(RULES)
_UNKEYED_NEEDLES = _needles(UNKEYED_RULES)


def _redact(text: str) -> str:
    lower = text.lower()
    if "private key" in lower:
        text = _redact_pem(text)
    # Every structural pass, key rule and blob needs a separator: a path or a name has none.
    keyed = ":" in text or "=" in text
    if keyed and ("secret" in lower or "last-applied" in lower) and KUBE_GATE.search(text):
        text = redact_kube(text)
    if keyed and "terraform_version" in text and STATE_GATE.search(text):
        text = redact_state(text)
    if keyed and hcl_gate(lower):
        text = redact_hcl(text)
    if keyed and ("|" in text or ">" in text or "<<" in text) and any(w in lower for w in BLOCK_HINTS):
        text = _redact_blocks(text)
    if (_KEYED_NEEDLES if keyed else _UNKEYED_NEEDLES).search(lower):  # one search before each rule's own
        for needles, regex, repl in RULES if keyed else UNKEYED_RULES:
            if any(n in lower for n in needles):
                text = regex.sub(repl, text)
    text = redact_tokens(text, blobs=keyed)
    if keyed and any(w in lower for w in KEY_HINTS):
        text = redact_assignments(text)
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
            elif type(value) is str:  # the common case, without a call (detections, listings: many)
                out[key] = redact_text(value)
            else:
                out[key] = redact_object(value)
        return out
    if isinstance(obj, list):
        return [redact_text(v) if type(v) is str else redact_object(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(redact_object(v) for v in obj)
    return obj if obj is None or isinstance(obj, bool | int | float) else copy.deepcopy(obj)
