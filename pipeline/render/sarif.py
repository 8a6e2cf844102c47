"""``audit.sarif``: the backlog as SARIF 2.1.0, in the shape GitHub code scanning displays.

* One rule per finding's stable rule (its check, or ``LLM-<PREFIX>-<hash>``), with text from the
  catalog (``sarif_rules.py``): the same run to run.
* One result per affected subject, each with a physical location, and a stable message (the rule's
  short description and the subject; no count, no backlog number):
  - a ``path:line`` ref: that file and line;
  - a missing thing (no dependency bot, no image verification: ref ``-``): the estate's root
    configuration file (``RunMeta.anchor``), line 1, the place a reader starts from;
  - a live object with no code record: no file to point at, so it is left out of the SARIF and
    listed in the run's ``properties.not_in_sarif`` (the first ``LEFT_OUT_SHOWN`` of a finding, the
    rest counted in ``not_in_sarif_more``; audit.md's backlog section lists them all).
* URIs are relative to the git repository's root (``RunMeta.repo_path``: auditing ``./infra`` gives
  ``infra/stacks/main.tf``), under the ``SRCROOT`` base; ``partialFingerprints`` come from the stable
  occurrence key (no line), ``runAutomationDetails.id`` names the estate.
* Dropped findings are not results. Everything is derived from the report alone (no filesystem, no
  clock), so the same report gives the same bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from domain.findings import Finding, Location
from domain.identity import code_file, names_an_object, occurrence_keys
from domain.report import AuditReport
from pipeline.render.output import Renderer
from pipeline.render.sarif_rules import PROJECT_URL, level, rule
from pipeline.render.text import concern_label, concern_order
from tools.json_text import indented
from tools.pathnames import on_disk

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "SRCROOT"
FINGERPRINT = "infraAudit/v2"
LEFT_OUT_SHOWN = 100
"""Subjects of one finding ``properties.not_in_sarif`` lists; the rest are counted."""
_URI_SAFE = "/!$&'()*+,;=:@"  # RFC 3986 path characters besides the unreserved ones

Json = dict[str, Any]
Placed = list[tuple[str, Location, str, int]]

_PLACED: ContextVar[dict[tuple[int, str | None], tuple[Finding, Placed]] | None] = ContextVar(
    "placed", default=None
)


@contextmanager
def placing_once() -> Iterator[None]:
    """Within, each finding's ``placed_locations`` are worked out once for every renderer: audit.md's
    line of what audit.sarif leaves out, and audit.sarif itself (0.2-0.3 s each at 10k pods)."""
    token = _PLACED.set({})
    try:
        yield
    finally:
        _PLACED.reset(token)


def rule_id(finding: Finding) -> str:
    """The rule a finding's results point to: its stable rule (never its backlog number)."""
    return finding.rule


def render_sarif(report: AuditReport, baseline_states: dict[str, str] | None = None) -> str:
    """The SARIF log of ``report``; ``baseline_states`` (stable key -> SARIF baselineState) marks each
    result as new, updated or unchanged (``diff``); a report with a baseline marks its own."""
    findings = [f for f in report.findings if f.status != "dropped"]
    if baseline_states is None and report.baseline is not None:
        baseline_states = {f.rule: "new" if f.new else "unchanged" for f in findings}
    placed = {f.id: placed_locations(f, report.meta.anchor) for f in findings}
    shown = [f for f in findings if placed[f.id]]
    rules = [rule(f) for f in sorted(shown, key=lambda f: f.rule)]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = [
        res for f in shown for res in _results(f, placed[f.id], index, report.meta.repo_path, baseline_states)
    ]
    run: Json = {
        "tool": {
            "driver": {
                "name": "infra-audit",
                "version": report.meta.tool_version,
                "informationUri": PROJECT_URL,
                "rules": rules,
            }
        },
        "automationDetails": {"id": f"infra-audit/{_category(report)}/{report.meta.run_id}"},
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: _srcroot(report)},
        "results": results,
        "properties": {
            "run_id": report.meta.run_id,
            "date": report.meta.date,
            "mode": report.meta.mode,
            "model": report.meta.model,
            **_left_out(not_in_sarif(findings, report.meta.anchor, placed)),
        },
    }
    log: Json = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return indented(log) + "\n"  # orjson, the same text as json.dumps(indent=2): 28 ms against 0.15 s


def placed_locations(f: Finding, anchor: str | None) -> Placed:
    """(occurrence key, location, estate path, line) of each subject SARIF can point at: its code ref;
    for a missing thing the anchor file; a live object only through a code ref of the same subject.

    One pass over the locations, each ref's file read once, and no occurrence key worked out for a
    finding of live objects only: at 10k pods such a finding has thousands of locations, and this ran
    three times per finding per render (docs/performance.md); inside ``placing_once``, once for all
    the renderers."""
    memo = _PLACED.get()
    if memo is None:
        return _placed_locations(f, anchor)
    found = memo.get((id(f), anchor))
    if found is not None and found[0] is f:
        return found[1]
    placed = _placed_locations(f, anchor)
    memo[(id(f), anchor)] = (f, placed)  # the finding kept: its id is not reused while the memo lives
    return placed


def _placed_locations(f: Finding, anchor: str | None) -> Placed:
    places = f.places
    files = [code_file(loc.ref) for loc in places]
    if all(file is None for file in files) and (
        anchor is None or all(loc.ref not in ("", "-") for loc in places)
    ):
        return []  # live objects only (the cluster's pods...): nothing to place, no keys to work out
    keys = occurrence_keys(f.rule, places)
    coded = {loc.subject for loc, file in zip(places, files, strict=True) if file}
    out: list[tuple[str, Location, str, int]] = []
    seen: set[str] = set()
    for key, loc, file in zip(keys, places, files, strict=True):
        if file is not None:
            where = (file, int(loc.ref.rsplit(":", 1)[1]))
        elif loc.ref in ("", "-") and anchor is not None:
            where = (anchor, 1)
        else:
            continue  # a live object: its code record, if any, is another location of the same subject
        if key in seen or (file is None and loc.subject in coded and names_an_object(loc.subject)):
            continue
        seen.add(key)
        out.append((key, loc, *where))
    return out


def not_in_sarif(
    findings: list[Finding],
    anchor: str | None,
    placed: dict[str, list[tuple[str, Location, str, int]]] | None = None,
) -> dict[str, list[str]]:
    """Backlog id -> the subjects left out of the SARIF (live objects with no code record);
    ``placed``: each finding's ``placed_locations``, when the caller has them already."""
    out: dict[str, list[str]] = {}
    for f in findings:
        where = placed[f.id] if placed is not None else placed_locations(f, anchor)
        shown = {loc.subject for _, loc, _, _ in where}
        left = sorted({loc.subject for loc in f.places if loc.subject not in shown})
        if left:
            out[f.id] = left
    return out


def _left_out(left: dict[str, list[str]]) -> Json:
    """``not_in_sarif``: the first ``LEFT_OUT_SHOWN`` subjects of each finding, and, for a finding that
    has more, how many more (``not_in_sarif_more``): the list grew with the cluster (1.8 of the 2.6
    MB of SARIF at 10k pods). audit.json and audit.md list them all."""
    out: Json = {"not_in_sarif": {k: v[:LEFT_OUT_SHOWN] for k, v in left.items()}}
    more = {k: len(v) - LEFT_OUT_SHOWN for k, v in left.items() if len(v) > LEFT_OUT_SHOWN}
    if more:
        out["not_in_sarif_more"] = more
    return out


def _results(
    f: Finding,
    placed: list[tuple[str, Location, str, int]],
    index: dict[str, int],
    repo_path: str | None,
    states: dict[str, str] | None,
) -> list[Json]:
    short = rule(f)["shortDescription"]["text"]
    out = []
    for key, loc, path, line in placed:
        result: Json = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": level(f.impact),
            "message": {"text": f"{loc.subject}: {short}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(path, repo_path), "uriBaseId": SRCROOT},
                        "region": {"startLine": line},
                    }
                }
            ],
            "partialFingerprints": {FINGERPRINT: hashlib.sha256(key.encode()).hexdigest()[:32]},
            "properties": {
                "finding": f.id,
                "severity": str(f.severity),
                "status": f.status,
                "subject": loc.subject,
                "rank_a": f.rank_a,
                "rank_b": f.rank_b,
            },
        }
        if loc.ref in ("", "-"):
            result["properties"]["missing"] = True  # nothing to point at: the estate's root config
        if f.new is not None:
            result["properties"]["new"] = key in f.new_occurrences or (f.new and not f.new_occurrences)
        if states is not None and f.rule in states:
            result["baselineState"] = states[f.rule]
        out.append(result)
    return out


def _uri(path: str, repo_path: str | None) -> str:
    """A relative URI reference from the git root: no leading ``./``; ``%``, spaces, controls and
    non-ASCII bytes escaped.

    ``path`` is a shown path (``tools.pathnames``); the URI percent-encodes the bytes of the name on
    disk, so a name that is not UTF-8 (shown as ``caf\\xe9``) becomes ``caf%E9``.
    """
    full = PurePosixPath(repo_path or ".", PurePosixPath(path).as_posix().lstrip("/"))
    raw = os.fsencode(on_disk(full.as_posix().removeprefix("./")))
    return quote(raw, safe=_URI_SAFE)


def _category(report: AuditReport) -> str:
    """The analysis category code scanning keeps apart: the estate's path in its repository."""
    return (report.meta.repo_path or "estate").strip("/") or "estate"


def _srcroot(report: AuditReport) -> Json:
    """The git root (or the estate when it is in none). Only an absolute path can be an absolute URI;
    otherwise the consumer (a code-scanning upload run from the repo root) resolves it."""
    estate = report.meta.estate
    description = {"text": f"The root of the repository of the audited estate: {estate}"}
    if estate.startswith("/"):
        root = PurePosixPath(estate)
        depth = len(PurePosixPath(report.meta.repo_path).parts) if report.meta.repo_path else 0
        for _ in range(depth):
            root = root.parent
        uri = "file://" + quote(os.fsencode(on_disk(root.as_posix())), safe=_URI_SAFE)
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
