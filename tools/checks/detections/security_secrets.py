"""SEC-PLAINTEXT-SECRET: plaintext credentials committed to the repository. Values are never shown,
stored or logged.

What counts (the candidates and their classification are in ``secret_scan.py``): private keys, URL
and connection-string passwords, bearer tokens, detect-secrets' named token shapes, literal
``password``/``secret``/``token``/``api_key`` assignments (quoted or not), and Secret manifests in YAML
(``SecretManifest`` records) whose keys are not SOPS-encrypted (one location each, at its first
secret-looking key line; subject ``Secret/namespace/name``; assignment hits on those key lines are
not counted twice; a manifest whose password-like values are all references or placeholders, or
in an example file, is not counted). Not counted: references, placeholders, types, SOPS
ciphertext and metadata, example files, comments and docs code blocks (structural kinds), cluster
snapshot directories.

One credential is one finding's unit: ``count`` is the number of distinct credentials (by a keyed
hash of the value, computed in memory for this detection only), and every place that holds it is a
location; ``measures`` give ``locations`` and ``files``. A line with several kinds counts once, as the
first kind in ``secret_scan.KINDS``.

A documented chart default (``adminPassword: prom-operator`` in Helm values) is SEC-DEFAULT-CREDENTIALS
(``security_defaults.py``: "default credentials in use"), not a plaintext secret.
"""

from __future__ import annotations

import base64
import posixpath
import re

from domain.findings import Location
from tools.checks.detections.repo_evidence import in_dirs, problems
from tools.checks.detections.secret_scan import AGENT, Candidate, Scan, line_values, scan
from tools.checks.detections.secret_values import Identity, is_example_file, not_a_credential
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import CodeRef, SecretManifest

_Q = "\"'"
_SECRET_KEY_SUFFIXES = ("password", "passwd", "passphrase", "secret", "token", "apikey", "key", "credentials")


def _secret_looking(key: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", key.lower()).endswith(_SECRET_KEY_SUFFIXES)


def _credential(value: str) -> bool:
    """Not a reference or a placeholder, as written or base64-decoded (a Secret's ``data``)."""
    if not_a_credential(value):
        return False
    try:
        decoded = base64.b64decode(value.strip("\"'"), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return True
    return not (decoded.isprintable() and not_a_credential(decoded))


def _manifest_locations(
    ctx: CheckContext, found: Scan, manifests: list[SecretManifest]
) -> tuple[list[tuple[Location, Identity]], set[tuple[str, int]]]:
    """One location per unencrypted Secret manifest, at its first secret-looking key line, and the
    identity of its secret-looking values (else all of them): two copies of one Secret are one
    credential. A manifest whose judged values are all references or placeholders (as written or
    base64-decoded) is not counted."""
    out: list[tuple[Location, Identity]] = []
    key_lines: set[tuple[str, int]] = set()
    for secret in manifests:
        assert isinstance(secret.source, CodeRef)
        path, start = secret.source.path, secret.source.line
        keys = "|".join(re.escape(k) for k in secret.keys)
        ev = ctx.toolbox.call(
            "repo_search", {"pattern": rf"^\s+[{_Q}]?(?:{keys})[{_Q}]?\s*:", "path": path}, agent=AGENT
        )
        found.evidence.append(ev.id)
        data = ctx.toolbox.ledger.data(ev.id)
        hits = [
            (int(h["line"]), str(h.get("text", "")))
            for h in (data if isinstance(data, list) else [])
            if isinstance(h, dict) and isinstance(h.get("line"), int) and h["line"] > start
        ]
        key_lines |= {(path, line) for line, _ in hits}
        chosen = next((line for line, text in hits if _secret_looking(text.split(":", 1)[0])), None)
        line = chosen or (hits[0][0] if hits else start)
        telling = [(n, t) for n, t in hits if _secret_looking(t.split(":", 1)[0])]
        values: list[str] | None = []
        for number, _ in telling or hits:  # the password, not the user name beside it
            read = line_values(found.files, path, number)
            if read is None or values is None:
                values = None
                break
            values += read
        ref = f"{path}:{line}"
        real = [v for v in values or [] if _credential(v)]
        if hits and values is not None and not real:
            continue  # every (secret-looking) value is a reference (${DB_PASSWORD}) or a placeholder
        identity = found.key.identity(*sorted(real)) if real else found.key.unique(ref)
        location = Location(
            ref=ref,
            subject=f"Secret/{secret.namespace or '-'}/{secret.name or '?'}",
            detail=f"Secret manifest, not SOPS-encrypted; keys {', '.join(secret.keys)}",
        )
        out.append((location, identity))
    return out, key_lines


def _grouped(placed: list[tuple[Location, Identity]]) -> Detection:
    """``count`` = distinct credentials; every location kept, each saying how many places share it."""
    order: dict[Identity, int] = {}
    places: dict[Identity, list[str]] = {}
    for location, identity in placed:
        order.setdefault(identity, len(order) + 1)
        places.setdefault(identity, []).append(location.ref.rsplit(":", 1)[0])
    locations = []
    for location, identity in placed:
        files = places[identity]
        shared = (
            f"; credential {order[identity]} of {len(order)}, at {len(files)} places in "
            f"{len(set(files))} {'file' if len(set(files)) == 1 else 'files'}"
            if len(files) > 1
            else ""
        )
        locations.append(location.model_copy(update={"detail": f"{location.detail}{shared}"}))
    return Detection(
        count=len(order),
        locations=locations,
        measures={
            "locations": float(len(placed)),
            "files": float(len({loc.ref.rsplit(":", 1)[0] for loc, _ in placed})),
        },
    )


def _location(candidate: Candidate) -> Location:
    hit = candidate.hit
    return Location(
        ref=hit.ref, subject=candidate.kind, detail=f"{candidate.kind} in {posixpath.basename(hit.path)}"
    )


@detector("SEC-PLAINTEXT-SECRET")
def plaintext_secret(ctx: CheckContext) -> Detection:
    """Distinct plaintext credentials (private keys, URL/connection-string passwords, bearer and named
    API tokens, literal secret assignments, unencrypted Secret manifests); every place each sits."""
    found = scan(ctx)
    manifests = [
        s
        for s in ctx.inventory.code.secrets
        if s.origin == "manifest"
        and s.keys
        and not s.sops_encrypted
        and isinstance(s.source, CodeRef)
        and not in_dirs(s.source.path, found.snapshots)
        and not is_example_file(s.source.path)
    ]
    manifest_placed, key_lines = _manifest_locations(ctx, found, manifests)
    placed = [
        (_location(c), c.identity)
        for c in sorted(found.candidates, key=lambda c: (c.hit.path, c.hit.line))
        if not c.default and (c.hit.path, c.hit.line) not in key_lines
    ]
    detection = _grouped(placed + manifest_placed)
    detection.measures["secret_manifests"] = float(len(manifest_placed))
    detection.evidence = found.evidence
    detection.note = problems(*found.searches)
    return detection
