"""Offline synthesis: apply the verdicts, merge duplicates, score, group themes, plan next moves.

Scores come from ``domain.ranking`` (plain Python); the order of the backlog is Rank A, then
Rank B, then the check id, so the same inputs always give the same document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from agents.context import AgentContext, ResearchRecord
from agents.offline.research import format_title
from agents.stances import verdict_order
from domain.concerns import CONCERN_CODES, CONCERNS, Concern
from domain.evidence import Evidence
from domain.findings import Claim, Finding, Location, NextMove, RawFinding, Status, Theme, Verdict, When
from domain.ranking import leaders, rank_a, rank_b
from domain.report import AuditReport, ConcernSummary, Correction, RunMeta, Unread
from domain.unread import ParseIssue
from tools.checks.spec import load_themes, spec_by_id
from tools.helm.summary import gap_lines
from tools.inventory.inventory import Inventory
from tools.inventory.scope import not_deployed, path_is_deployed

PRECEDENCE: dict[str, int] = {"DROPPED": 3, "CORRECTED": 2, "REFRAMED": 1, "CONFIRMED": 0}


def tool_version() -> str:
    try:
        return version("infra-audit")
    except PackageNotFoundError:
        return "0+unknown"


def synthesize(state: ResearchRecord, ctx: AgentContext) -> AuditReport:
    raw = [f for c in CONCERNS if (r := state.results.get(c)) and r.status == "ok" for f in r.findings]
    evidence = all_evidence(state)
    verdicts, unbacked = backed(state.verdicts, {e.id: e for e in evidence})
    by_finding: dict[str, list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        by_finding[verdict.finding].append(verdict)
    surviving = [s for f in raw if (s := apply_verdicts(f, by_finding.get(f.id, []))) is not None]
    findings = number(merge(surviving))
    leaders_a = leaders(findings, "a")
    leaders_b = leaders(findings, "b")
    inventory = ctx.inventory()
    meta = RunMeta(
        run_id=state.run_id,
        date=state.date,
        estate=ctx.display_estate,
        cluster=ctx.display_cluster,
        cluster_name=inventory.live.cluster.name if inventory.live else None,
        scope=_scope(state),
        mode=state.mode,
        tool_version=tool_version(),
        concerns_failed={c: r.error or "failed" for c, r in state.results.items() if r.status == "failed"},
    )
    return AuditReport(
        meta=meta,
        inventory=dict(sorted(state.inventory_counts.items())),
        unread=unread(inventory),
        concerns={c: state.results[c] for c in CONCERNS if c in state.results},
        verdicts=sorted(state.verdicts, key=lambda v: (_seq(v.finding), v.challenger)),
        corrections=corrections(raw, by_finding),
        findings=findings,
        themes=themes(findings),
        summaries=summaries(state, by_finding),
        leaders_a=leaders_a,
        leaders_b=leaders_b,
        leaders_both=[f for f in leaders_a if f in leaders_b],
        gaps=[*gaps(state), *gap_lines(inventory.code.helm_renders), *unbacked, *scope_gaps(inventory)],
        framings=[*state.framings, *framings(raw, state.verdicts, findings, leaders_a, leaders_b)],
        next_moves=next_moves(findings, leaders_a, leaders_b),
        evidence=evidence,
    )


def backed(verdicts: Sequence[Verdict], evidence: dict[str, Evidence]) -> tuple[list[Verdict], list[str]]:
    """A CORRECTED that changes a number stands only if evidence it cites measures that number.

    The recount always cites its own re-run; a correction that removes subjects (deliberate, accepted,
    solved elsewhere) changes the count by what it removes. What this stops is a model asserting a
    number that no tool call produced.
    """
    kept: list[Verdict] = []
    notes: list[str] = []
    for v in verdicts:
        measured = any(
            (ev := evidence.get(e)) is not None and ev.value == v.measured_value for e in v.evidence
        )
        if (
            v.action == "CORRECTED"
            and not v.removed_subjects
            and v.measured_value is not None
            and not measured
        ):
            notes.append(
                f"{v.finding}: the {v.challenger} challenger's correction to {v.measured_value:g} is not "
                "measured "
                "by the evidence it cites; not applied."
            )
            continue
        kept.append(v)
    return kept, notes


def _seq(raw_id: str) -> tuple[str, int]:
    code, _, n = raw_id.partition("#")
    return (code, int(n) if n.isdigit() else 0)


def _scope(state: ResearchRecord) -> str:
    counts = state.inventory_counts
    parts = [f"{counts.get('files_scanned', 0)} files", f"{counts.get('workloads', 0)} workloads in code"]
    if "live_nodes" in counts:
        parts.append(f"a cluster of {counts['live_nodes']} nodes and {counts.get('live_pods', 0)} pods")
    return ", ".join(parts)


# ----------------------------------------------------------------------------- verdicts


def apply_verdicts(finding: RawFinding, verdicts: list[Verdict]) -> tuple[RawFinding, Status] | None:
    """The finding as the challenge left it, with its status; None when it was dropped.

    The recount goes first (it fixes the number), then the intent challenger takes out the subjects
    that are deliberate, then a reframing rewrites the summary.
    """
    if any(v.action == "DROPPED" for v in verdicts):
        return None
    result = finding
    order = verdict_order()
    recounted = any(v.challenger == "recount" and v.action == "CORRECTED" for v in verdicts)
    for verdict in sorted(verdicts, key=lambda v: order.get(v.challenger, len(order))):
        if verdict.challenger == "numbers" and recounted and not verdict.removed_subjects:
            continue  # the mechanical recount measured the number; a model's different figure does not win
        if verdict.action == "CORRECTED":
            result = _corrected(result, verdict)
        elif verdict.action == "REFRAMED" and verdict.framing:
            result = result.model_copy(update={"summary": f"{verdict.framing} {result.summary}"})
    return result, _status(verdicts)


def _corrected(finding: RawFinding, verdict: Verdict) -> RawFinding:
    main = finding.claims[0]
    gone = set(verdict.removed_subjects)  # subjects, or the ref of one place (an inline suppression)
    locations = [loc for loc in finding.locations if loc.subject not in gone and loc.ref not in gone]
    if verdict.removed_subjects:
        removed = len(finding.locations) - len(locations)
        value = None if main.value is None else main.value - removed
    else:
        value = verdict.measured_value
    title = finding.title
    if finding.check and value is not None:
        title = format_title(spec_by_id(finding.check), int(value), finding.total, {})
    elif value is not None:
        title = f"{finding.title} (corrected: {value:g})"
    # The first evidence is the one that measures the claim; the verdict's evidence follows it.
    evidence = list(dict.fromkeys([*main.evidence, *verdict.evidence]))
    new_main = Claim(text=title, value=value, evidence=evidence, measure=main.measure)
    removed = len(finding.locations) - len(locations)
    # a measure was counted over every subject, and which ones it counted is the check's: it stays,
    # saying so (gitops-base's SEC-NO-PSS was "6", "missing: 6", "privileged: 1" once velero went)
    note = f" (counted before {removed} {'subject was' if removed == 1 else 'subjects were'} set aside)"
    measures = [
        c.model_copy(update={"text": c.text + note}) if removed and c.measure is not None else c
        for c in finding.claims[1:]
    ]
    return finding.model_copy(
        update={"claims": [new_main, *measures], "locations": locations, "title": title}
    )


def _status(verdicts: list[Verdict]) -> Status:
    actions = {v.action for v in verdicts}
    if "CORRECTED" in actions:
        return "corrected"
    if "REFRAMED" in actions:
        return "reframed"
    return "confirmed"


# -------------------------------------------------------------------------- merge and rank


def merge(findings: list[tuple[RawFinding, Status]]) -> list[list[tuple[RawFinding, Status]]]:
    """Group findings that are one problem: same check, or checks sharing a merge key."""
    groups: dict[str, list[tuple[RawFinding, Status]]] = defaultdict(list)
    for f, status in findings:
        key = f.check or f.id
        if f.check:
            spec = spec_by_id(f.check)
            key = spec.merge_key or spec.id
        groups[key].append((f, status))
    return list(groups.values())


def number(groups: list[list[tuple[RawFinding, Status]]]) -> list[Finding]:
    drafts = [_combine(members) for members in groups]
    drafts.sort(key=lambda f: (-f.rank_a, -f.rank_b, f.checks[0] if f.checks else f.raw_ids[0]))
    return [f.model_copy(update={"id": f"F{i:02d}"}) for i, f in enumerate(drafts, start=1)]


def _combine(group: list[tuple[RawFinding, Status]]) -> Finding:
    members = [f for f, _ in group]
    statuses = {s for _, s in group}
    status: Status = (
        "corrected" if "corrected" in statuses else "reframed" if "reframed" in statuses else "confirmed"
    )
    lead = max(members, key=lambda f: (f.claims[0].value or 0, -len(f.id)))
    concerns: list[Concern] = []
    for f in members:
        for c in [f.concern, *f.extra_concerns]:
            if c not in concerns:
                concerns.append(c)
    checks = [f.check for f in members if f.check]
    spec = spec_by_id(checks[0]) if checks else None
    refs = sorted({loc.ref for f in members for loc in f.locations if loc.ref not in ("", "-")}, key=_ref_key)
    title = lead.title
    others = [f for f in members if f is not lead]
    if others:
        title += "; " + "; ".join(o.claims[0].text for o in others)
    impact, effort, risk = lead.impact, lead.effort, lead.risk
    return Finding(
        id="F00",
        raw_ids=[f.id for f in members],
        checks=checks,
        title=title,
        summary=lead.summary,
        recommendation=lead.recommendation,
        concerns=concerns,
        status=status,
        impact=impact,
        effort=effort,
        risk=risk,
        fatigue=lead.fatigue,
        rank_a=rank_a(impact, effort, risk),
        rank_b=rank_b(impact, effort, lead.fatigue),
        refs=refs,
        locations=_locations(members),
        claims=[c for f in members for c in f.claims],
        theme=spec.theme if spec else None,
        dangerous=spec.dangerous if spec else None,
    )


def _locations(members: list[RawFinding]) -> list[Location]:
    """Every affected place with its subject, once, in ref order (the stable identity reads them)."""
    unique = {(loc.ref, loc.subject): loc for f in members for loc in f.locations}
    return sorted(unique.values(), key=lambda loc: (*_ref_key(loc.ref), loc.subject))


def _ref_key(ref: str) -> tuple[str, int]:
    path, _, line = ref.rpartition(":")
    return (path, int(line)) if line.isdigit() else (ref, 0)


# ----------------------------------------------------------------------------- the rest


def corrections(raw: list[RawFinding], by_finding: dict[str, list[Verdict]]) -> list[Correction]:
    rows: list[Correction] = []
    for f in raw:
        for v in sorted(by_finding.get(f.id, []), key=lambda v: -PRECEDENCE[v.action]):
            if v.action == "CONFIRMED":
                continue
            actual = v.reason
            if v.measured_value is not None:
                actual = f"Actual: {v.measured_value:g}. {v.reason}"
            if v.framing:
                # a correction that takes out deliberate subjects keeps the risk they accept in view
                measured = f"Actual: {v.measured_value:g}. " if v.measured_value is not None else ""
                actual = f"{measured}{v.framing} ({v.reason})"
            rows.append(
                Correction(
                    finding=f.id, stated=f.title, actual=actual, action=v.action, challenger=v.challenger
                )
            )
    return rows


def themes(findings: list[Finding]) -> list[Theme]:
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.theme:
            grouped[f.theme].append(f)
    out: list[Theme] = []
    for key, theme in load_themes().items():
        title, summary = theme.title, theme.summary
        members = grouped.get(key, [])
        concerns = sorted({c for f in members for c in f.concerns}, key=CONCERNS.index)
        if len(concerns) < 2:
            continue
        out.append(Theme(title=title, summary=summary, concerns=concerns, findings=[f.id for f in members]))
    out.sort(key=lambda t: -sum(f.rank_a for f in findings if f.id in t.findings))
    return out


def summaries(state: ResearchRecord, by_finding: dict[str, list[Verdict]]) -> list[ConcernSummary]:
    rows = []
    for concern in CONCERNS:
        result = state.results.get(concern)
        if result is None:
            continue
        dropped = [
            f.id for f in result.findings if any(v.action == "DROPPED" for v in by_finding.get(f.id, []))
        ]
        rows.append(
            ConcernSummary(
                concern=concern,
                status=result.status,
                raw=len(result.findings),
                real=len(result.findings) - len(dropped),
                dropped=dropped,
            )
        )
    return rows


def unread(inventory: Inventory) -> Unread:
    """The files and cluster resource types the audit did not read (their messages and reasons were
    redacted when their records were built: ``EstateText``)."""
    live = inventory.live

    def as_read_back(issues: list[ParseIssue]) -> list[ParseIssue]:
        # the report's own type, so a report equals itself read back from audit.json
        return [ParseIssue.model_validate(issue.model_dump()) for issue in issues]

    return Unread(
        estate=as_read_back(list(inventory.code.issues)),
        cluster=as_read_back(list(live.issues)) if live else [],
        resources=list(live.unread) if live else [],
    )


def scope_gaps(inventory: Inventory, shown: int = 10) -> list[str]:
    """One line naming the files the checks left out as not deployed (``tools/inventory/scope.py``)."""
    paths = not_deployed(inventory)
    if not paths:
        return []
    more = f" and {len(paths) - shown} more" if len(paths) > shown else ""
    unreached = any(path_is_deployed(p) is None for p in paths)
    why = ", or that no Flux Kustomization or Argo CD Application deploys" if unreached else ""
    return [
        f"Not deployed, so not counted as production: {len(paths)} "
        f"{'file' if len(paths) == 1 else 'files'} under test/, benchmark/, examples/ or archive/, or named "
        f"*.example/*.sample{why} ({', '.join(paths[:shown])}{more})."
    ]


def gaps(state: ResearchRecord) -> list[str]:
    out = list(state.gaps)
    for concern in CONCERNS:
        result = state.results.get(concern)
        if result is None:
            continue
        if result.status == "failed":
            out.append(f"{CONCERN_CODES[concern]} {concern} research failed ({result.error}); not audited.")
        if result.note:
            out.append(f"{CONCERN_CODES[concern]} {concern}: {result.note}.")
        by_reason: dict[str, list[str]] = defaultdict(list)
        for check, reason in result.skipped.items():
            by_reason[reason].append(check)
        for reason, checks in sorted(by_reason.items()):
            out.append(f"{CONCERN_CODES[concern]} {concern}: {', '.join(sorted(checks))} not run: {reason}.")
    return out


def framings(
    raw: list[RawFinding],
    verdicts: Sequence[Verdict],
    findings: list[Finding],
    lead_a: list[str],
    lead_b: list[str],
) -> list[str]:
    titles_raw = {f.id: f.title for f in raw}
    out = [
        f"{v.finding} ({titles_raw.get(v.finding, '?')}): {v.framing}"
        for v in sorted(verdicts, key=lambda v: _seq(v.finding))
        if v.action in ("REFRAMED", "CORRECTED") and v.framing
    ]
    titles = {f.id: f.title for f in findings}
    only_b = [f for f in lead_b if f not in lead_a]
    if only_b:
        out.append(
            "Re-rank by operator fatigue: "
            + ", ".join(f"{f} ({titles[f]})" for f in only_b)
            + " lead Rank B but not Rank A; if weekly toil dominates, start there."
        )
    return out


def next_moves(findings: list[Finding], lead_a: list[str], lead_b: list[str]) -> list[NextMove]:
    by_id = {f.id: f for f in findings}
    placed: set[str] = set()
    moves: list[NextMove] = []

    def place(when: When, ids: list[str], limit: int) -> None:
        for fid in ids:
            if fid in placed or limit <= 0:
                continue
            f = by_id[fid]
            placed.add(fid)
            limit -= 1
            moves.append(NextMove(when=when, finding=fid, text=f"{f.title}: {f.recommendation}"))

    quick = [f for f in lead_a if f in lead_b and by_id[f].risk <= 2 and not by_id[f].dangerous]
    place("Week 1", quick, 4)
    place("Week 2", [f for f in lead_b if not by_id[f].dangerous], 4)
    place("Month 2", [f.id for f in findings if f.effort <= 3 or f.dangerous], 6)
    place("Month 3+", [f.id for f in findings], 6)
    return moves


def all_evidence(state: ResearchRecord) -> list[Evidence]:
    seen: dict[str, Evidence] = {}
    for result in state.results.values():
        for ev in result.evidence:
            seen.setdefault(ev.id, ev)
    for ev in state.challenge_evidence:
        seen.setdefault(ev.id, ev)
    return [seen[k] for k in sorted(seen)]
