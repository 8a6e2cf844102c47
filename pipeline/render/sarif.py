"""``audit.sarif``: the backlog as SARIF 2.1.0, for code-scanning UIs and CI gates.

One rule per catalog check (a finding no check covers is its own rule, under its backlog id), one
result per affected place. A ``path:line`` ref becomes a physical location relative to ``%SRCROOT%``
(the estate root) so a code-scanning UI can annotate the line; a live object
(``cluster/namespace/kind/name``) has no file and becomes a logical location. Dropped findings are
not results: the challenge proved them wrong. Everything is derived from the report alone (no
filesystem, no clock), so the same report gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from domain.findings import Finding
from domain.report import AuditReport
from pipeline.render.output import Renderer
from pipeline.render.text import concern_label, concern_order
from tools.pathnames import on_disk

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
_CODE_REF = re.compile(r"^(?P<path>[^\s:][^:]*?):(?P<line>[1-9]\d*)$")
_URI_SAFE = "/!$&'()*+,;=:@"  # RFC 3986 path characters besides the unreserved ones

Json = dict[str, Any]


def level(impact: int) -> str:
    """SARIF level from impact: 5-4 error (outage or breach), 3 warning, 1-2 note."""
    if impact >= 4:
        return "error"
    return "warning" if impact == 3 else "note"


def rule_id(finding: Finding) -> str:
    """The rule a finding's results point to: its first check, or the finding itself."""
    return finding.checks[0] if finding.checks else finding.id


def render_sarif(report: AuditReport, baseline_states: dict[str, str] | None = None) -> str:
    """The SARIF log of ``report``; ``baseline_states`` (stable key -> SARIF baselineState) marks each
    result as new, updated or unchanged (``diff``); a report with a baseline marks its own."""
    findings = [f for f in report.findings if f.status != "dropped"]
    rules = _rules(findings)
    index = {r["id"]: i for i, r in enumerate(rules)}
    if baseline_states is None and report.baseline is not None:
        baseline_states = {f.rule: "new" if f.new else "unchanged" for f in findings}
    run: Json = {
        "tool": {
            "driver": {
                "name": "infra-audit",
                "version": report.meta.tool_version,
                "rules": rules,
            }
        },
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: _srcroot(report.meta.estate)},
        "results": [res for f in findings for res in _results(f, index, baseline_states)],
        "properties": {
            "run_id": report.meta.run_id,
            "date": report.meta.date,
            "mode": report.meta.mode,
            "model": report.meta.model,
        },
    }
    log: Json = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _rules(findings: list[Finding]) -> list[Json]:
    """One rule per check id (first finding wins), or per check-less finding; sorted by id."""
    by_id: dict[str, Json] = {}
    for f in findings:
        for rid in f.checks or [f.id]:
            if rid in by_id:
                continue
            by_id[rid] = {
                "id": rid,
                "name": _camel(rid),
                "shortDescription": {"text": f.title},
                "fullDescription": {"text": f.summary},
                "help": {"text": f.recommendation},
                "defaultConfiguration": {"level": level(f.impact)},
                "properties": {
                    "impact": f.impact,
                    "effort": f.effort,
                    "risk": f.risk,
                    "rank_a": f.rank_a,
                    "rank_b": f.rank_b,
                    "concerns": list(f.concerns),
                    "tags": [concern_label(c) for c in f.concerns],
                },
            }
    return [by_id[k] for k in sorted(by_id)]


def _camel(rid: str) -> str:
    """``REL-NO-PROBES`` -> ``RelNoProbes``: SARIF wants a rule name that is an identifier."""
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", rid) if part)


def _results(f: Finding, index: dict[str, int], states: dict[str, str] | None) -> list[Json]:
    rid = rule_id(f)
    base: Json = {
        "ruleId": rid,
        "ruleIndex": index[rid],
        "level": level(f.impact),
        "message": {"text": f"{f.id}: {f.title}"},
    }
    if states is not None and f.rule in states:
        base["baselineState"] = states[f.rule]
    props = {
        "finding": f.id,
        "severity": str(f.severity),
        "status": f.status,
        "rank_a": f.rank_a,
        "rank_b": f.rank_b,
    }
    if not f.refs:  # still a result: a finding with nowhere to point at is not less true
        return [{**base, "partialFingerprints": _fingerprint(rid, f.id), "properties": props}]
    return [
        {
            **base,
            "locations": [_location(ref)],
            "partialFingerprints": _fingerprint(rid, ref),
            "properties": props,
        }
        for ref in f.refs
    ]


def _location(ref: str) -> Json:
    match = _CODE_REF.match(ref)
    if match:
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(match["path"]), "uriBaseId": SRCROOT},
                "region": {"startLine": int(match["line"])},
            }
        }
    name = ref.rstrip("/").rsplit("/", 1)[-1] or ref
    return {"logicalLocations": [{"name": name, "fullyQualifiedName": ref, "kind": "resource"}]}


def _uri(path: str) -> str:
    """A relative URI reference: no leading ``./``; ``%``, spaces, controls and non-ASCII bytes escaped.

    ``path`` is a shown path (``tools.pathnames``); the URI percent-encodes the bytes of the name on
    disk, so a name that is not UTF-8 (shown as ``caf\\xe9``) becomes ``caf%E9``.
    """
    raw = os.fsencode(on_disk(PurePosixPath(path).as_posix().lstrip("/")))
    return quote(raw, safe=_URI_SAFE)


def _fingerprint(rid: str, where: str) -> dict[str, str]:
    """Stable across runs for the same problem at the same place, so UIs can track an alert."""
    return {"infraAudit/v1": hashlib.sha256(f"{rid}\0{where}".encode()).hexdigest()[:32]}


def _srcroot(estate: str) -> Json:
    """The estate root. Only an absolute estate path can be an absolute URI; otherwise the consumer
    (a code-scanning upload run from the repo root) resolves it, as SARIF allows."""
    description = {"text": f"The audited estate: {estate}"}
    if estate.startswith("/"):
        uri = "file://" + quote(os.fsencode(on_disk(PurePosixPath(estate).as_posix())), safe=_URI_SAFE)
        return {"uri": uri if uri.endswith("/") else uri + "/", "description": description}
    return {"description": description}


def _invocation(report: AuditReport) -> Json:
    failed = concern_order(report.meta.concerns_failed)
    invocation: Json = {"executionSuccessful": not failed}
    if failed:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": f"{concern_label(c)} research failed: {err}"}}
            for c, err in failed
        ]
    return invocation


RENDERER = Renderer(name="sarif", filename="audit.sarif", render=lambda out: render_sarif(out.report))
