"""The audit as the Markdown templates see it: every sentence fragment decided, nothing laid out.

Why a view between the report and the templates: the decisions (which finding belongs to which
deep dive, which refs are cut, what the appendix shows: ``appendix.py``) are Python that a test
can pin down, while the templates keep only the document's shape and its prose. Table rows are
lists of raw Markdown; the template's table macro escapes them, so escaping happens in one place.
Order is the report's wherever it is semantic (ranking, challenge order) and sorted elsewhere
(usage rows, evidence), so the same report always gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.concerns import CONCERN_CODES, CONCERNS
from domain.findings import Finding
from domain.report import AuditReport
from pipeline.render.appendix import appendix_row, ledger_line
from pipeline.render.ci_view import baseline_line, sarif_line, suppression_rows
from pipeline.render.text import (
    code,
    codes,
    concern_code,
    concern_label,
    concern_order,
    inline,
    num,
    refs_compact,
)
from pipeline.render.unread import groups, lost_lines

WHEN_ORDER = ("Week 1", "Week 2", "Month 2", "Month 3+")
BACKLOG_REFS = 3
DEEP_DIVE_REFS = 15
OFFLINE_STATUS = "offline (deterministic checks, no model)"
MARKERS = {"corrected": " *(corrected)*", "reframed": " *(reframed)*", "dropped": " *(dropped)*"}

Row = list[str]


@dataclass(frozen=True)
class Item:
    """One finding in its concern's deep dive."""

    head: str
    summary: str
    claims: list[str]
    recommendation: str
    refs: str
    source: str


@dataclass(frozen=True)
class DeepDive:
    heading: str
    failed: str | None
    filtered: str | None
    checks: str | None
    items: list[Item]
    also: str | None
    prose: str | None = None
    """The LLM synthesizer's paragraph for this concern, when a model wrote one."""


@dataclass(frozen=True)
class Topology:
    """The cluster's context tables (``domain/topology.py``), as markdown rows."""

    heading: str
    nodes: list[Row]
    pods: str
    apps: list[Row]


def _share(requested: int | None, used: int | None) -> str:
    def one(v: int | None) -> str:
        return "n/a" if v is None else f"{v}%"

    return f"{one(requested)} / {one(used)}"


def _topology(report: AuditReport) -> Topology | None:
    topo = report.topology
    if topo is None:
        return None
    nodes = [
        [
            code(n.name),
            ", ".join(n.roles) or "worker",
            inline(n.kubelet or "?"),
            inline(n.runtime or "?"),
            _share(n.cpu_requested_pct, n.cpu_used_pct),
            _share(n.memory_requested_pct, n.memory_used_pct),
            inline(n.status),
        ]
        for n in topo.nodes
    ]
    apps = [
        [
            inline(a.kind),
            code(f"{a.namespace + '/' if a.namespace else ''}{a.name}"),
            inline(a.sync or "—"),
            inline(a.health or "—"),
        ]
        for a in topo.apps
    ]
    total = sum(topo.pod_phases.values())
    pods = (
        f"{total} pods: " + ", ".join(f"{n} {phase}" for phase, n in topo.pod_phases.items())
        if total
        else "no pods"
    )
    version = f" (API server {inline(topo.server_version)})" if topo.server_version else ""
    return Topology(heading=f"Cluster {code(topo.cluster)}{version}", nodes=nodes, pods=pods, apps=apps)


@dataclass(frozen=True)
class View:
    date: str
    status: str
    scope: str
    run: str
    method: str
    warnings: list[str]
    usage: list[Row]
    context: str | None
    topology: Topology | None
    unread: list[tuple[str, list[str]]]
    """The "Files not read" section: (group heading, entries), the estate's first."""
    corrections: list[Row]
    themes: list[str]
    backlog: list[Row]
    baseline: str | None
    """Against a baseline (--baseline): what is new since it and what was fixed."""
    suppressions: list[Row]
    """Inline suppressions and accepted risks, with their reasons and state."""
    not_in_sarif: str | None
    """The subjects audit.sarif cannot point at, by finding."""
    leaders_a: str
    leaders_b: str
    leaders_both: str
    deep_dives: list[DeepDive]
    dangerous: list[str]
    gaps: list[str]
    framings: list[str]
    next_moves: list[tuple[str, list[str]]]
    appendix: list[Row]
    ledger: list[str]


def build_view(report: AuditReport) -> View:
    meta = report.meta
    findings = [f for f in report.findings if f.status != "dropped"]
    evidence = {ev.id: ev for ev in report.evidence}
    raw_total = sum(len(r.findings) for r in report.concerns.values())
    ran = [c for c in CONCERNS if c in report.concerns or c in meta.concerns_failed]
    return View(
        date=meta.date,
        status=OFFLINE_STATUS if meta.mode == "offline" else f"LLM: {meta.model or 'unknown model'}",
        scope=_scope(report),
        run=f"{code(meta.run_id)} · infra-audit {meta.tool_version}",
        method=(
            f"{len(ran)} research concerns ({', '.join(concern_label(c) for c in ran)})"
            f" → {raw_total} raw findings → 2 challengers (numbers, intent)"
            f" → {len(findings)} findings in the backlog"
        ),
        warnings=[
            f"{concern_label(c)} research failed ({inline(err)}); its findings are missing from this audit."
            for c, err in concern_order(meta.concerns_failed)
        ]
        + _lost(report),
        usage=_usage(report),
        context=", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in sorted(report.inventory.items())) or None,
        topology=_topology(report),
        unread=_unread(report),
        corrections=[
            [_stated(c.finding, c.stated), c.actual, f"**{c.action}** — {c.challenger} challenger"]
            for c in report.corrections
        ],
        themes=[_theme(t.title, t.summary, t.concerns, t.findings, findings) for t in report.themes],
        backlog=[_backlog_row(f) for f in findings],
        baseline=baseline_line(report, findings),
        suppressions=suppression_rows(report),
        not_in_sarif=sarif_line(report, findings),
        leaders_a=", ".join(report.leaders_a),
        leaders_b=", ".join(report.leaders_b),
        leaders_both=_titled(report.leaders_both, findings),
        deep_dives=_deep_dives(report, findings),
        dangerous=[f"**{f.id} — {inline(f.title)}**. {inline(f.dangerous)}" for f in findings if f.dangerous],
        gaps=[inline(g) for g in report.gaps],
        framings=[inline(f) for f in report.framings],
        next_moves=[
            (when, [f"{m.finding}: {inline(m.text)}" for m in report.next_moves if m.when == when])
            for when in WHEN_ORDER
            if any(m.when == when for m in report.next_moves)
        ],
        appendix=[appendix_row(f, c, evidence) for f in findings for c in f.claims if c.value is not None],
        ledger=[ledger_line(ev) for ev in sorted(report.evidence, key=lambda e: e.id)],
    )


# ------------------------------------------------------------------------------- header


def _scope(report: AuditReport) -> str:
    meta = report.meta
    parts = [inline(meta.scope), f"estate {code(meta.estate)}"]
    if meta.cluster_name and meta.cluster and meta.cluster_name != meta.cluster:
        parts.append(f"cluster {code(meta.cluster_name)} (from {code(meta.cluster)})")
    elif meta.cluster_name or meta.cluster:
        parts.append(f"cluster {code(meta.cluster_name or meta.cluster or '')}")
    else:
        parts.append("code only, no cluster")
    return " · ".join(parts)


def _lost(report: AuditReport) -> list[str]:
    lines = lost_lines(report.unread.resources)
    if not lines:
        return []
    return [
        "The cluster was read incompletely, these resource types were not read: "
        + "; ".join(inline(line) for line in lines)
        + ". The checks that read them say so in the gaps (unknown), or count a lower bound."
    ]


def _unread(report: AuditReport) -> list[tuple[str, list[str]]]:
    where = {
        "estate": "Estate",
        "cluster": f"Cluster ({code(report.meta.cluster or report.meta.cluster_name or 'cluster')})",
    }
    out = []
    for g in groups(report.unread):
        entries = [f"{code(at)}: {inline(what)}" for at, what in g.entries]
        if g.more:
            entries.append(f"… and {g.more} more (all of them are in `audit.json`, under `unread`).")
        out.append((f"{where[g.side]}: {g.label}", entries))
    return out


def _usage(report: AuditReport) -> list[Row]:
    rows = sorted(report.meta.usage, key=lambda u: u.agent)
    if not rows:
        return []

    def line(name: str, i: int, o: int, cr: int, cw: int, cost: float | None, calls: int) -> Row:
        shown = "unknown price" if cost is None else f"${cost:.4f}"
        return [name, f"{i:,}", f"{o:,}", f"{cr:,}", f"{cw:,}", shown, str(calls)]

    out = [
        line(
            u.agent,
            u.input_tokens,
            u.output_tokens,
            u.cache_read_tokens,
            u.cache_write_tokens,
            u.cost_usd,
            u.tool_calls,
        )
        for u in rows
    ]
    total = line(
        "**Total**",
        sum(u.input_tokens for u in rows),
        sum(u.output_tokens for u in rows),
        sum(u.cache_read_tokens for u in rows),
        sum(u.cache_write_tokens for u in rows),
        None if any(u.cost_usd is None for u in rows) else sum(u.cost_usd or 0.0 for u in rows),
        sum(u.tool_calls for u in rows),
    )
    return [*out, [f"**{c}**" if i else c for i, c in enumerate(total)]]


# ------------------------------------------------------------------- corrections, themes


def _stated(finding: str, stated: str) -> str:
    """``R1#3: title``; tolerant of a correction whose ``finding`` already carries the title."""
    if inline(stated) in finding:
        return finding
    return f"{finding}: {stated}"


def _theme(title: str, summary: str, concerns: Sequence[str], ids: list[str], findings: list[Finding]) -> str:
    titles = {f.id: f.title for f in findings}
    listed = ", ".join(f"{i} ({inline(titles[i])})" if i in titles else i for i in ids)
    hits = codes(concerns, sep=" + ")
    return f"**{inline(title)}** — {inline(summary)} Findings: {listed}. *Hits {hits}.*"


def _titled(ids: list[str], findings: list[Finding]) -> str:
    titles = {f.id: f.title for f in findings}
    return ", ".join(f"{i} ({inline(titles[i])})" if i in titles else i for i in ids)


# ------------------------------------------------------------------------------ backlog


def _marker(finding: Finding) -> str:
    return MARKERS.get(finding.status, "")


def _backlog_row(f: Finding) -> Row:
    def heavy(v: int) -> str:
        return f"**{v}**" if v >= 4 else str(v)

    return [
        f.id + (" **new**" if f.new else ""),
        inline(f.title) + _marker(f),
        codes(f.concerns),
        str(f.severity),
        str(f.impact),
        heavy(f.effort),
        heavy(f.risk),
        f"**{f.rank_a}**",
        f"**{f.rank_b}**",
        refs_compact(f.refs, BACKLOG_REFS),
    ]


# --------------------------------------------------------------------------- deep dives


def _raw_concerns(report: AuditReport) -> dict[str, str]:
    """Research id -> concern, from the raw results; the id's ``R1#`` prefix when it is not there."""
    out = {raw.id: str(raw.concern) for r in report.concerns.values() for raw in r.findings}
    by_code = {v: k for k, v in CONCERN_CODES.items()}
    for c in report.corrections:
        rid = c.finding.split(":", 1)[0].strip()
        out.setdefault(rid, by_code.get(rid.split("#", 1)[0], ""))
    return out


def _seq(raw_id: str) -> tuple[str, int, str]:
    code_, _, n = raw_id.partition("#")
    return (code_, int(n) if n.isdigit() else 0, raw_id)


def _deep_dives(report: AuditReport, findings: list[Finding]) -> list[DeepDive]:
    summaries = {s.concern: s for s in report.summaries}
    owner = _raw_concerns(report)
    actions: dict[str, dict[str, set[str]]] = {}
    for c in report.corrections:
        rid = c.finding.split(":", 1)[0].strip()
        actions.setdefault(owner.get(rid, ""), {}).setdefault(c.action.lower(), set()).add(rid)
    dives = []
    for concern in CONCERNS:
        result = report.concerns.get(concern)
        summary = summaries.get(concern)
        error = report.meta.concerns_failed.get(concern)
        if result is None and summary is None and error is None:
            continue
        failed = (
            error is not None
            or (result is not None and result.status == "failed")
            or (summary is not None and summary.status == "failed")
        )
        label = f"{concern_code(concern)} — {concern.capitalize()}"
        if failed:
            why = inline(error or (result.error if result and result.error else "no error recorded"))
            dives.append(
                DeepDive(
                    heading=f"{label} (failed)", failed=why, filtered=None, checks=None, items=[], also=None
                )
            )
            continue
        raw = summary.raw if summary else len(result.findings) if result else 0
        real = summary.real if summary else raw
        by_action = actions.get(concern, {})
        if summary:
            by_action.setdefault("dropped", set()).update(summary.dropped)
        owned = [f for f in findings if f.concerns and f.concerns[0] == concern]
        also = [f for f in findings if concern in f.concerns[1:]]
        dives.append(
            DeepDive(
                heading=f"{label} ({raw} raw → {real} real after challenge)",
                failed=None,
                filtered=_filtered(by_action),
                checks=_checks(result.checks_run, len(result.skipped)) if result else None,
                items=[_item(f) for f in owned],
                also=_also(concern, also),
                prose=" ".join(report.narratives[concern].split())
                if report.narratives.get(concern)
                else None,
            )
        )
    return dives


def _also(concern: str, also: list[Finding]) -> str | None:
    """Findings merged under another concern that hit this one too: named, so nothing seems missing."""
    if not also:
        return None
    listed = _titled([f.id for f in also], also)
    return f"Also hits {concern_code(concern)}, owned by another concern: {listed}."


def _filtered(by_action: dict[str, set[str]]) -> str:
    parts = [
        f"{verb} {', '.join(sorted(by_action[verb], key=_seq))}"
        for verb in ("dropped", "corrected", "reframed")
        if by_action.get(verb)
    ]
    if not parts:
        return "Filtered: nothing; every research finding of this concern survived the challenge."
    return "Filtered: " + "; ".join(parts) + " (see the corrections up front)."


def _checks(run: int, skipped: int) -> str | None:
    if not run and not skipped:
        return None
    text = f"{run} check{'s' if run != 1 else ''} run"
    return text + (f", {skipped} skipped for lack of input (see the gaps)." if skipped else ".")


def _item(f: Finding) -> Item:
    claims = []
    for c in f.claims:
        value = f" — **{num(c.value)}**" if c.value is not None else ""
        cited = ", ".join(code(e) for e in c.evidence)
        claims.append(f"Claim: {inline(c.text)}{value} (evidence {cited})")
    source = " + ".join(f.raw_ids)
    if len(f.raw_ids) > 1:
        source += " (merged: one problem, several research findings)"
    source += (" · check " + ", ".join(code(c) for c in f.checks)) if f.checks else " · no catalog check"
    return Item(
        head=f"**{f.id} — {inline(f.title)}**{_marker(f)}",
        summary=inline(f.summary),
        claims=claims,
        recommendation=inline(f.recommendation),
        refs=f"Refs ({len(f.refs)}): {refs_compact(f.refs, DEEP_DIVE_REFS)}",
        source=f"Source: {source}.",
    )
