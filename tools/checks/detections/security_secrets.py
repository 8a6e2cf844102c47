"""SEC-PLAINTEXT-SECRET: plaintext secrets committed to the repository. Values are never shown.

Counting rule: one location per secret, from two sources.

1. Four ``repo_search`` calls over the whole estate (the regex runs on the raw files; only path,
   line and the *redacted* line come back):

   - ``private key``: a PEM ``-----BEGIN ... PRIVATE KEY-----`` header.
   - ``URL credential``: ``scheme://user:password@host`` whose password is a literal.
   - ``bearer token``: ``Bearer <token>`` with a credential-shaped token.
   - ``password assignment``: a key ending in password, passwd, secret, token or api_key/apikey
     (``client_secret``, ``DB_PASSWORD``...) followed by ``=`` or ``:`` and a quoted literal.

   What is a literal: the regex already refuses values starting with ``$`` (``${var}``), ``{``
   (``{{ .Values.x }}``), ``<`` (``<password>`` placeholders and the tool's own ``<redacted>``
   markers) and empty values; unquoted references (``var.x``, ``data.x``, ``local.x``) never match
   because a quoted value is required. For URL credentials, bearer tokens and assignments the hit
   only counts when the redactor fingerprinted the value in the returned line: the redactor is the
   one place that decides "this is a secret literal" (it leaves references, interpolations,
   ``existing*`` secret-name keys and booleans visible), so the check and the redaction agree.
   Excluded: lines holding a SOPS ``ENC[...]`` value (one more search), lines of docs (``*.md``,
   ``*.rst``, ``*.txt``, ``*.adoc``) that are clearly examples (``example``, ``changeme``,
   ``<password>``, ``xxx``; one search per doc with hits), and cluster snapshot directories. A line
   with several kinds counts once, as the first kind in the order above.

2. Secret manifests in YAML (``SecretManifest`` records from manifests) with keys that are not
   SOPS-encrypted: one location each, ref = the line of its first secret-looking key (else its
   first key, else the document), subject ``Secret/namespace/name``. Assignment hits on those key
   lines are not counted twice. Terraform ``kubernetes_secret`` resources are covered by source 1,
   since their values may be references.
"""

from __future__ import annotations

import posixpath
import re

from domain.findings import Location
from tools.checks.detections.repo_evidence import Hit, in_dirs, problems, search, snapshot_dirs
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import CodeRef, SecretManifest

AGENT = "security"
_Q = "\"'"
_FP = r"<redacted:sha256:[0-9a-f]{8}>"
PEM_PATTERN = r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
URL_PATTERN = rf"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@{_Q}<>$]+:[^\s/@{_Q}<>$]+@[^\s/@{_Q}<>]+"
BEARER_PATTERN = r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{8,}=*"
ASSIGN_PATTERN = (
    rf"(?i)(?:password|passwd|secret|token|api[_-]?key)[{_Q}]?\s*[:=]\s*[{_Q}][^\s{_Q}$<{{][^{_Q}]*[{_Q}]"
)
ENC_PATTERN = r"ENC\[[A-Z0-9_]+,data:"
EXAMPLE_PATTERN = r"(?i)example|changeme|change-me|<password>|\bxxx"
DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc")

_VISIBLE: dict[str, re.Pattern[str]] = {
    "URL credential": re.compile(rf"://[^\s/@]*:{_FP}@"),
    "bearer token": re.compile(rf"(?i)\bbearer\s+{_FP}"),
    "password assignment": re.compile(
        rf"(?i)(?:password|passwd|secret|token|api[_-]?key)[{_Q}]?\s*[:=]\s*[{_Q}]{_FP}[{_Q}]"
    ),
}
KINDS: tuple[tuple[str, str], ...] = (
    ("private key", PEM_PATTERN),
    ("URL credential", URL_PATTERN),
    ("bearer token", BEARER_PATTERN),
    ("password assignment", ASSIGN_PATTERN),
)
_SECRET_KEY_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "key", "credentials")


def _secret_looking(key: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", key.lower()).endswith(_SECRET_KEY_SUFFIXES)


def _manifest_locations(
    ctx: CheckContext, manifests: list[SecretManifest], evidence: list[str]
) -> tuple[list[Location], set[tuple[str, int]]]:
    """One location per unencrypted Secret manifest, at its first secret-looking key line."""
    locations: list[Location] = []
    key_lines: set[tuple[str, int]] = set()
    for secret in manifests:
        assert isinstance(secret.source, CodeRef)
        path, start = secret.source.path, secret.source.line
        keys = "|".join(re.escape(k) for k in secret.keys)
        ev = ctx.toolbox.call(
            "repo_search", {"pattern": rf"^\s+[{_Q}]?(?:{keys})[{_Q}]?\s*:", "path": path}, agent=AGENT
        )
        evidence.append(ev.id)
        data = ctx.toolbox.ledger.data(ev.id)
        hits = [
            (int(h["line"]), str(h.get("text", "")))
            for h in (data if isinstance(data, list) else [])
            if isinstance(h, dict) and isinstance(h.get("line"), int) and h["line"] > start
        ]
        key_lines |= {(path, line) for line, _ in hits}
        chosen = next((line for line, text in hits if _secret_looking(text.split(":", 1)[0])), None)
        line = chosen or (hits[0][0] if hits else start)
        locations.append(
            Location(
                ref=f"{path}:{line}",
                subject=f"Secret/{secret.namespace or '-'}/{secret.name or '?'}",
                detail=f"Secret manifest, not SOPS-encrypted; keys {', '.join(secret.keys)}",
            )
        )
    return locations, key_lines


def _examples(ctx: CheckContext, docs: set[str], evidence: list[str]) -> set[tuple[str, int]]:
    """(path, line) of example lines in the docs that have hits."""
    lines: set[tuple[str, int]] = set()
    for doc in sorted(docs):
        ev = ctx.toolbox.call("repo_search", {"pattern": EXAMPLE_PATTERN, "path": doc}, agent=AGENT)
        evidence.append(ev.id)
        data = ctx.toolbox.ledger.data(ev.id)
        lines |= {
            (doc, int(h["line"]))
            for h in (data if isinstance(data, list) else [])
            if isinstance(h, dict) and isinstance(h.get("line"), int)
        }
    return lines


@detector("SEC-PLAINTEXT-SECRET")
def plaintext_secret(ctx: CheckContext) -> Detection:
    """Private keys, URL credentials, bearer tokens, literal secret assignments, unencrypted Secret
    manifests; one location each, never the value."""
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    evidence = [listing_ev]
    searches = []
    candidates: dict[tuple[str, int], tuple[str, Hit]] = {}
    for kind, pattern in KINDS:
        found = search(ctx, AGENT, pattern, exclude_dirs=snapshots)
        searches.append(found)
        evidence.append(found.evidence)
        visible = _VISIBLE.get(kind)
        for hit in found.hits:
            if visible is not None and not visible.search(hit.text):
                continue  # the redactor kept the value: a reference, interpolation or placeholder
            candidates.setdefault((hit.path, hit.line), (kind, hit))
    encrypted = search(ctx, AGENT, ENC_PATTERN, exclude_dirs=snapshots)
    searches.append(encrypted)
    evidence.append(encrypted.evidence)
    sops_lines = {(h.path, h.line) for h in encrypted.hits}
    docs = {path for path, _ in candidates if path.lower().endswith(DOC_SUFFIXES)}
    examples = _examples(ctx, docs, evidence)
    manifests = [
        s
        for s in ctx.inventory.code.secrets
        if s.origin == "manifest"
        and s.keys
        and not s.sops_encrypted
        and isinstance(s.source, CodeRef)
        and not in_dirs(s.source.path, snapshots)
    ]
    manifest_locations, key_lines = _manifest_locations(ctx, manifests, evidence)
    locations = [
        Location(ref=hit.ref, subject=kind, detail=f"{kind} in {posixpath.basename(hit.path)}")
        for (path, line), (kind, hit) in sorted(candidates.items())
        if (path, line) not in sops_lines and (path, line) not in examples and (path, line) not in key_lines
    ]
    locations += manifest_locations
    return Detection(
        count=len(locations),
        locations=locations,
        measures={"secret_manifests": len(manifest_locations)},
        evidence=evidence,
        note=problems(*searches),
    )
