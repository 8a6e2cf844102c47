"""The candidate lines of SEC-PLAINTEXT-SECRET and SEC-DEFAULT-CREDENTIALS, read and classified once.

Each kind is one ``repo_search`` over the estate (ripgrep runs the regex on the raw files; what comes
back is redacted). A hit is then read again in memory through the jail (:mod:`secret_values`), and
kept only when:

* the redactor fingerprinted its value (``password``/``token``/``secret``/``api_key`` assignments,
  quoted or not, URL and connection-string passwords, bearer tokens), or one of detect-secrets' named
  token plugins matches it (``API token``: the redactor's own :func:`tools.redact_tokens.redact_tokens`,
  so the check and the redaction agree), or it opens a PEM private key with a real body;
* the value is not a reference (``op://``, ``vault:``, ``ref+``, ``${VAR}``, ``<name>``), a
  placeholder (``changeme``, ``...``, ``xxx``, ``example``, ``foobar``, ``abc123``), a type name
  (``"password": "string"``) or SOPS ciphertext (``ENC[...]``);
* the line is not in a SOPS metadata block, not in an example file (``*.example``, ``*.sample``,
  ``.env.dist``), and, for the structural kinds (assignments, URL credentials, connection strings,
  bearer tokens), not in a comment and not in a docs code block. A named token shape or a private
  key counts in a comment or a doc too: a token a provider would accept is a leak wherever it sits.

Each kept candidate carries the keyed identity of its value (never the value), and whether it is a
documented default of a chart (a known default admin password in Helm values): those are
SEC-DEFAULT-CREDENTIALS, not plaintext secrets.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from domain.errors import SandboxViolation
from tools.checks.detections.repo_evidence import Hit, Search, search, snapshot_dirs
from tools.checks.detections.secret_values import (
    CredentialKey,
    Identity,
    fenced_lines,
    in_comment,
    is_doc,
    is_example_file,
    not_a_credential,
    redacted_values,
    sops_lines,
)
from tools.checks.spec import CheckContext
from tools.redact import redact_text
from tools.redact_tokens import redact_tokens

AGENT = "security"
_Q = "\"'"
_FP = r"<redacted:sha256:[0-9a-f]{8}>"
_KEY = r"(?:password|passwd|passphrase|secret|token|api[_-]?key|secret[_-](?:access[_-])?key)"
"""A key that ends in a secret word: ``db_password``, ``RESTIC_PASSPHRASE``, ``AWS_SECRET_ACCESS_KEY``,
``secret_key`` (the last two are no ``secret`` followed by ``:`` or ``=``); not camelCase ``secretKey``:
an ExternalSecret's ``secretKey: db-password`` names a key of the Secret it makes."""
PEM_PATTERN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
URL_PATTERN = rf"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@{_Q}<>$]+:[^\s/@{_Q}<>$]+@[^\s/@{_Q}<>]+"
BEARER_PATTERN = r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*"
TOKEN_PATTERN = (
    r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}|\bgh[pousr]_[A-Za-z0-9]{30,}|\bglpat-[\w-]{20}|xox[abposr]-"
    r"|hooks\.slack\.com/|\bSG\.[\w-]{20,}\.|[rs]k_live_|\bsk-(?:ant|proj|svcacct|admin)-|\beyJ[\w-]{10,}\."
    r"|\bnpm_[A-Za-z0-9]{36}|_authToken=|\bpypi-|AccountKey=|\bsq0csp-|\b(?:AC|SK)[0-9a-f]{32}\b|T3BlbkFJ"
    r"|\b[0-9]{8,10}:[\w-]{35}\b"
)
"""Cheap gates for detect-secrets' named token plugins; the plugins themselves decide (on the raw line)."""
CONN_PATTERN = r"(?i)\b(?:password|pwd)\s*=\s*[^;\s'\"$<{][^;'\"]*;"
ASSIGN_PATTERN = (
    rf"(?i){_KEY}[{_Q}]?\s*[:=]\s*(?:[{_Q}][^\s{_Q}$<{{][^{_Q}]*[{_Q}]|[^\s{_Q}$<{{#|>&\[(][^\s#]*)"
)
_VISIBLE: dict[str, re.Pattern[str]] = {
    "URL credential": re.compile(rf"://[^\s/@]*:{_FP}@"),
    "bearer token": re.compile(rf"(?i)\bbearer\s+{_FP}"),
    "connection string": re.compile(rf"(?i)\b(?:password|pwd)\s*=\s*{_FP}"),
    "password assignment": re.compile(
        rf"(?i){_KEY}[{_Q}]?\s*[:=]\s*(?:[{_Q}]{_FP}[{_Q}]|{_FP}(?![^\s,;}}\]]))"
    ),  # a whole value: not a fingerprint glued to an interpolation ("<fp>${var.x}")
}
KINDS: tuple[tuple[str, str], ...] = (
    ("private key", PEM_PATTERN),
    ("URL credential", URL_PATTERN),
    ("bearer token", BEARER_PATTERN),
    ("API token", TOKEN_PATTERN),
    ("connection string", CONN_PATTERN),
    ("password assignment", ASSIGN_PATTERN),
)
STRUCTURAL = frozenset({"URL credential", "bearer token", "connection string", "password assignment"})

# Documented default passwords of popular charts (Grafana's "admin" and kube-prometheus-stack's
# "prom-operator", MinIO's "minioadmin"/"minio123", RabbitMQ's "guest", Harbor's "Harbor12345",
# Nexus's "admin123"...) and the generic ones charts ship.
CHART_DEFAULTS = frozenset(
    {
        *("admin", "prom-operator", "minioadmin", "minio123", "guest", "harbor12345", "admin123"),
        *("changeme", "change-me", "changeit", "password", "postgres", "root", "secret", "supersecret"),
        *("keycloak", "bitnami", "default"),
    }
)
DOC_EXAMPLE = re.compile(r"(?i)example|changeme|change-me|<password>|\bxxx")
"""A docs line that says it is an example (or its value is a stand-in) is one."""
_VALUES_FILE = re.compile(r"(?:^|[._-])values(?:[._-][\w.-]*)?\.ya?ml$")
_HELM_CONTEXT = re.compile(r"^kind:\s*HelmRelease\b|\bhelm_release\b|^\s*helm:\s*$", re.M)


@dataclass(frozen=True)
class Candidate:
    """One line holding one credential: its kind, where, which credential (keyed), whether a default."""

    kind: str
    hit: Hit
    identity: Identity = field(repr=False)
    default: bool = False


@dataclass
class Scan:
    candidates: list[Candidate]
    evidence: list[str]
    searches: list[Search]
    snapshots: list[str]
    key: CredentialKey
    files: Files


class Files:
    """Raw and redacted lines of the files with hits, read once, in memory only."""

    def __init__(self, ctx: CheckContext) -> None:
        self._ctx = ctx
        self._raw: dict[str, list[str] | None] = {}
        self._shown: dict[str, list[str]] = {}
        self._sops: dict[str, set[int]] = {}
        self._fenced: dict[str, set[int]] = {}

    def raw(self, path: str) -> list[str] | None:
        if path not in self._raw:
            try:
                text = self._ctx.toolbox.jail.read_text(path)
            except (SandboxViolation, OSError):
                text = None
            self._raw[path] = None if text is None else text.split("\n")
        return self._raw[path]

    def line(self, path: str, number: int) -> str | None:
        lines = self.raw(path)
        return lines[number - 1].rstrip("\r") if lines and 0 < number <= len(lines) else None

    def shown(self, path: str, number: int) -> str | None:
        if path not in self._shown:
            lines = self.raw(path)
            self._shown[path] = redact_text("\n".join(lines)).split("\n") if lines else []
        lines = self._shown[path]
        return lines[number - 1].rstrip("\r") if 0 < number <= len(lines) else None

    def in_sops_block(self, path: str, number: int) -> bool:
        if path not in self._sops:
            self._sops[path] = sops_lines("\n".join(self.raw(path) or []))
        return number in self._sops[path]

    def in_code_block(self, path: str, number: int) -> bool:
        if not is_doc(path):
            return False
        if path not in self._fenced:
            self._fenced[path] = fenced_lines("\n".join(self.raw(path) or []))
        return number in self._fenced[path]

    def helm_values(self, path: str) -> bool:
        """A Helm values file, or a file that hands values to a chart (HelmRelease, helm_release)."""
        if _VALUES_FILE.search(posixpath.basename(path).lower()):
            return True
        return _HELM_CONTEXT.search("\n".join(self.raw(path) or [])) is not None


def _private_key(files: Files, hit: Hit, key: CredentialKey) -> Identity | None:
    """The identity of the key body under a PEM header; None for a placeholder body (``...``)."""
    lines = files.raw(hit.path)
    if lines is None:
        return key.unique(hit.ref)
    body: list[str] = []
    for line in lines[hit.line :]:
        if "-----END" in line:
            break
        body.append(line.strip().strip("\"',\\n"))
    text = "".join(body)
    if len(text) < 8 or not_a_credential(text):
        return None
    return key.identity(text)


def _values(files: Files, kind: str, hit: Hit) -> list[str] | None:
    """The raw values of the line's credential (what the redactor fingerprinted inside the kind's
    match); [] when the redactor kept the value; None when the line cannot be read back."""
    raw, shown = files.line(hit.path, hit.line), files.shown(hit.path, hit.line)
    if raw is None or shown is None:
        return None
    if kind == "API token":
        shown = redact_tokens(raw, blobs=False)
        found = redacted_values(raw, shown)
        return None if found is None else [v for _, _, v in found]
    match = _VISIBLE[kind].search(shown)
    if match is None:
        return []
    found = redacted_values(raw, shown)
    if found is None:
        return None
    inside = [v for start, end, v in found if match.start() <= start and end <= match.end()]
    if inside and in_comment(raw, raw.find(inside[0])):
        return []
    return inside


def scan(ctx: CheckContext) -> Scan:
    """Every candidate line of the estate, classified (see the module docstring)."""
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    key = CredentialKey()
    files = Files(ctx)
    result = Scan(
        candidates=[], evidence=[listing_ev], searches=[], snapshots=snapshots, key=key, files=files
    )
    seen: set[tuple[str, int]] = set()
    for kind, pattern in KINDS:
        found = search(ctx, AGENT, pattern, exclude_dirs=snapshots)
        result.searches.append(found)
        result.evidence.append(found.evidence)
        for hit in found.hits:
            where = (hit.path, hit.line)
            if where in seen or is_example_file(hit.path) or files.in_sops_block(*where):
                continue
            if (
                kind in STRUCTURAL
                and is_doc(hit.path)
                and (files.in_code_block(*where) or DOC_EXAMPLE.search(files.line(*where) or ""))
            ):
                continue
            raw = files.line(*where) or ""
            if "ENC[" in raw and ",data:" in raw:
                continue  # SOPS ciphertext
            if kind == "private key":
                identity = _private_key(files, hit, key)
                if identity is not None:
                    seen.add(where)
                    result.candidates.append(Candidate(kind, hit, identity))
                continue
            values = _values(files, kind, hit)
            if values is None:
                seen.add(where)
                result.candidates.append(Candidate(kind, hit, key.unique(hit.ref)))
                continue
            default = (
                kind == "password assignment"
                and bool(values)
                and all(v.strip("\"'").lower() in CHART_DEFAULTS for v in values)
                and files.helm_values(hit.path)
            )
            real = values if default else [v for v in values if not not_a_credential(v)]
            if not real:
                continue
            seen.add(where)
            result.candidates.append(Candidate(kind, hit, key.identity(*sorted(real)), default))
    return result


def line_values(files: Files, path: str, number: int) -> list[str] | None:
    """The raw values the redactor fingerprinted on one line (a Secret's key line); None if unreadable."""
    raw, shown = files.line(path, number), files.shown(path, number)
    if raw is None or shown is None:
        return None
    found = redacted_values(raw, shown)
    return None if found is None else [v for _, _, v in found]
