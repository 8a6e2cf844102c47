"""The intent challenger: is this finding a decision the estate already took, on purpose?

Two sources, both cited by ``path:line`` in the verdict:

* ``.infra-audit.yaml`` at the estate root: accepted risks with a reason (and an optional expiry).
  A whole-check entry drops (or reframes) the finding; an entry with a subject removes that subject.
* Decisions written in the repo, in the forms people write them (``decisions.py``: ADRs, ``Policy:``
  lines, FAQ headings, rules in contributor and agent guides, tables of known exceptions, comments
  next to the code, prose with an intent phrase). A decision covers a finding only when it states
  one of the topics the finding's check declares, the way the finding reports it
  (``decision_match.py``); it never covers one on a passing word. A decision that names no workload
  (or says "cluster-wide") covers the whole finding; otherwise only the subjects it names (a comment:
  the record it sits on). A topic whose decision accepts a risk the seeds keep visible (one
  instance: HA deferred, backup and restore open; Audit mode: the move to Enforce; the lifecycle
  marker convention) REFRAMES the finding instead of dropping it; a partial cover is CORRECTED with
  the same framing.

Then, findings already solved elsewhere in the estate by a mechanism the check does not read
(``solved_elsewhere.py``) lose the covered subjects, or are reframed.

The searches for decisions are ordinary ``repo_search`` calls, so they are evidence like any other.
"""

from __future__ import annotations

from datetime import date as Date
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from agents.challenge import ChallengeOutcome
from agents.context import AgentContext
from agents.offline.decision_match import Match, match
from agents.offline.decision_scope import applies, covers, subject_name
from agents.offline.decisions import (
    DOC_FORMS_PATTERN,
    DOC_GLOB,
    FORMS_PATTERN,
    GUIDE_GLOB,
    GUIDE_PATTERN,
    PENDING_NOTE,
    Decision,
    find_decisions,
)
from agents.offline.solved_elsewhere import solved_elsewhere
from domain.concerns import agent_label
from domain.errors import SandboxViolation
from domain.evidence import Evidence
from domain.findings import RawFinding, Verdict
from tools.checks.spec import TopicSpec, load_topics, spec_by_id
from tools.inventory.inventory import Inventory
from tools.inventory.loading import LoadError
from tools.inventory.yaml_lines import load_documents
from tools.redact import redact_text
from tools.registry import Toolbox

STANCE = "intent"
AGENT = agent_label("challenge", "intent")
ACCEPTED_FILE = ".infra-audit.yaml"
SEARCH_CAP = 1000  # repo_search's most lines; its value is always the full count


class AcceptedRisk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check: str
    subject: str | None = None
    reason: Annotated[str, AfterValidator(redact_text)]  # estate text: it reaches verdicts and reports
    until: Date | None = None
    action: str = "drop"
    framing: Annotated[str, AfterValidator(redact_text)] | None = None


def challenge_intent(findings: list[RawFinding], ctx: AgentContext, run_date: str) -> ChallengeOutcome:
    outcome = ChallengeOutcome()
    toolbox = ctx.toolbox()
    inventory = ctx.inventory()
    accepted, accepted_ev = _accepted_risks(ctx, run_date, outcome)
    searches = [
        _search(toolbox, {"pattern": FORMS_PATTERN}),
        _search(toolbox, {"pattern": DOC_FORMS_PATTERN, "glob": DOC_GLOB}),
        _search(toolbox, {"pattern": GUIDE_PATTERN, "glob": GUIDE_GLOB}),
    ]
    forms = searches[0]
    for search in searches:
        if (search.value or 0) > SEARCH_CAP:
            outcome.gaps.append(
                f"The search for decisions ({search.command}) matched {search.value:g} lines; only the first "
                f"{SEARCH_CAP} were read, so decisions written past them were not applied."
            )
    cited = [*searches] + ([accepted_ev] if accepted_ev else [])
    decisions = find_decisions(
        toolbox.jail, [(s.id, _hits(toolbox.ledger.data(s.id))) for s in searches], skip=ACCEPTED_FILE
    )
    known_names = _known_names(inventory)
    for finding in findings:
        verdict = _judge(finding, accepted, decisions, known_names, inventory, accepted_ev, forms, toolbox)
        outcome.verdicts.append(verdict)
    outcome.evidence = cited
    return outcome


def _search(toolbox: Toolbox, args: dict[str, Any]) -> Evidence:
    return toolbox.call("repo_search", {**args, "ignore_case": True, "max_results": SEARCH_CAP}, agent=AGENT)


def _hits(data: object) -> list[tuple[str, int]]:
    """(path, line) of each match, from a search's structured data."""
    if not isinstance(data, list):
        return []
    return [
        (str(m["path"]), int(m["line"])) for m in data if isinstance(m, dict) and "path" in m and "line" in m
    ]


# ----------------------------------------------------------------------------- accepted risks


def _accepted_risks(
    ctx: AgentContext, run_date: str, outcome: ChallengeOutcome
) -> tuple[list[tuple[AcceptedRisk, int]], Evidence | None]:
    toolbox = ctx.toolbox()
    try:
        text = toolbox.jail.read_text(ACCEPTED_FILE)
    except (SandboxViolation, OSError):
        return [], None
    evidence = toolbox.call("repo_read", {"path": ACCEPTED_FILE}, agent=AGENT)
    try:
        load_documents(text)  # the bounded loader first: nesting and alias expansion refused here
        root = yaml.compose(text)
    except (LoadError, yaml.YAMLError) as exc:
        why = exc.message if isinstance(exc, LoadError) else type(exc).__name__
        outcome.gaps.append(f"{ACCEPTED_FILE} could not be read ({why}); no accepted risk applied.")
        return [], evidence
    entries: list[tuple[AcceptedRisk, int]] = []
    items = _accepted_nodes(root)
    if not items:
        outcome.gaps.append(
            f"{ACCEPTED_FILE} has no 'accepted_risks' list (a misspelled key, or not a list); "
            "no accepted risk applied."
        )
    today = Date.fromisoformat(run_date[:10])  # the audit clock's day (tools/clock.py); risks expire by date
    for node in items:
        line = node.start_mark.line + 1
        try:
            risk = AcceptedRisk.model_validate(yaml.safe_load(yaml.serialize(node)))
        except (ValidationError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0]
            outcome.gaps.append(f"{ACCEPTED_FILE}:{line} is not a valid accepted risk ({first}); ignored.")
            continue
        if risk.until is not None and risk.until < today:
            outcome.gaps.append(
                f"Accepted risk for {risk.check} at {ACCEPTED_FILE}:{line} expired on {risk.until}; "
                "it no longer hides the finding."
            )
            continue
        entries.append((risk, line))
    return entries, evidence


def _accepted_nodes(root: yaml.Node | None) -> list[yaml.Node]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if (
            isinstance(key, yaml.ScalarNode)
            and key.value == "accepted_risks"
            and isinstance(value, yaml.SequenceNode)
        ):
            return list(value.value)
    return []


# ---------------------------------------------------------------------------------- decisions


def _known_names(inventory: Inventory) -> set[str]:
    """Names a decision can scope itself to: workloads and policies, code and live."""
    names: set[str] = set()
    live = inventory.live
    workloads = [*inventory.code.workloads, *(live.workloads if live else [])]
    for name in [w.name for w in workloads] + [p.name for p in inventory.code.policies]:
        if name and len(name) >= 3:
            names.add(name.lower())
    return names


# ------------------------------------------------------------------------------------ judging


def _judge(
    finding: RawFinding,
    accepted: list[tuple[AcceptedRisk, int]],
    decisions: list[Decision],
    known_names: set[str],
    inventory: Inventory,
    accepted_ev: Evidence | None,
    search: Evidence,
    toolbox: Toolbox,
) -> Verdict:
    removed: dict[str, str] = {}  # subject -> where it is documented
    reasons: list[str] = []
    evidence: list[str] = []
    framings: list[str] = []
    for risk, line in accepted:
        if risk.check != finding.check:
            continue
        where = f"{ACCEPTED_FILE}:{line}"
        assert accepted_ev is not None
        if risk.subject is None:
            action = "REFRAMED" if risk.action == "reframe" else "DROPPED"
            return Verdict(
                finding=finding.id,
                challenger=STANCE,
                action=action,
                reason=f"Accepted risk: {risk.reason}",
                evidence=[accepted_ev.id],
                documented_at=where,
                framing=risk.framing,
            )
        for loc in finding.locations:
            if risk.subject in (loc.subject, loc.ref):
                removed.setdefault(loc.subject, where)
                reasons.append(f"{loc.subject} accepted ({risk.reason})")
                evidence.append(accepted_ev.id)
    topics = _topics(finding)
    every = list(load_topics().values())
    noted: dict[str, tuple[str, Match]] = {}  # subject -> the note in code that explains it (framing only)
    for decision in decisions if topics else []:
        if decision.form == "note" and PENDING_NOTE.search(decision.text):
            continue  # "until we fix", "temporarily": a pending fix, not a choice explained
        found = match(decision, topics, known_names, every)
        if found is None:
            continue
        where = found.where(decision)
        if decision.is_doc and found.general:
            return _whole(finding, decision, found, where)
        covered = [
            loc.subject
            for loc in finding.locations
            if covers(decision, found, loc, inventory) and applies(found.topic, loc)
        ]
        if decision.form == "note":  # explains the choice, does not accept its risk: framed, still counted
            for subject in covered:
                noted.setdefault(subject, (where, found))
            if covered:
                evidence.append(decision.evidence)
            continue
        fresh = [s for s in covered if s not in removed]
        for subject in fresh:
            removed[subject] = where
            reasons.append(f"{subject} is documented as deliberate at {where}")
        if fresh and found.topic.framing:
            framings.append(_framing(found.topic, where, fresh))
        if covered:
            evidence.append(decision.evidence)
    solution = solved_elsewhere(finding, inventory, toolbox)
    if solution is not None:
        if solution.reframe and not removed:
            return Verdict(
                finding=finding.id,
                challenger=STANCE,
                action="REFRAMED",
                reason=solution.reason,
                evidence=solution.evidence,
                framing=solution.reframe,
                documented_at=solution.where,
            )
        subjects = {loc.subject for loc in finding.locations}
        for subject in solution.subjects:
            if subject in subjects and subject not in removed:
                removed[subject] = solution.where
                reasons.append(f"{subject} is already covered at {solution.where}: {solution.reason}")
        evidence.extend(solution.evidence)
    for subject in removed:  # a subject a decision takes out needs no explanation beside it
        noted.pop(subject, None)
    framings += _notes_framings(noted)
    if not removed and noted:
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="REFRAMED",
            reason="; ".join(f"{s} is explained beside its code at {w}" for s, (w, _) in noted.items()),
            evidence=sorted(set(evidence)),
            documented_at=next(iter(noted.values()))[0],
            framing=" ".join(framings),
        )
    if not removed:
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="CONFIRMED",
            reason="No accepted risk or recorded decision covers this finding.",
            evidence=[search.id],
        )
    remaining = [loc for loc in finding.locations if loc.subject not in removed]
    first_where = next(iter(removed.values()))
    framing = " ".join(framings) or None
    if not remaining:
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            # a decision that accepts a risk the seeds keep visible leaves the finding, reframed
            action="REFRAMED" if framing else "DROPPED",
            reason="; ".join(reasons),
            evidence=sorted(set(evidence)),
            documented_at=first_where,
            framing=framing,
            removed_subjects=[] if framing else sorted(removed),
        )
    stated = finding.claims[0].value
    new_value = None if stated is None else stated - (len(finding.locations) - len(remaining))
    return Verdict(
        finding=finding.id,
        challenger=STANCE,
        action="CORRECTED",
        reason="; ".join(reasons),
        evidence=sorted(set(evidence)),
        measured_value=new_value,
        documented_at=first_where,
        framing=framing,
        removed_subjects=sorted(removed),
    )


def _topics(finding: RawFinding) -> list[TopicSpec]:
    if not finding.check:
        return []
    table = load_topics()
    return [table[t] for t in spec_by_id(finding.check).topics]


def _whole(finding: RawFinding, decision: Decision, found: Match, where: str) -> Verdict:
    """A decision that names no workload (or says cluster-wide): the whole finding."""
    quote = f'"{_quote(found.sentence)}"'
    if found.topic.on_decision == "reframe" and found.topic.framing:
        subjects = [loc.subject for loc in finding.locations]
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="REFRAMED",
            reason=f"Decided on purpose at {where}: {quote}",
            evidence=[decision.evidence],
            documented_at=where,
            framing=_framing(found.topic, where, subjects),
        )
    return Verdict(
        finding=finding.id,
        challenger=STANCE,
        action="DROPPED",
        reason=f"By design: {where} records this as deliberate: {quote}",
        evidence=[decision.evidence],
        documented_at=where,
    )


def _notes_framings(noted: dict[str, tuple[str, Match]]) -> list[str]:
    """One framing per note, naming the subjects it explains, in the order the notes were read."""
    by_note: dict[str, tuple[Match, list[str]]] = {}
    for subject, (where, found) in noted.items():
        by_note.setdefault(where, (found, []))[1].append(subject)
    return [_noted(found, where, subjects) for where, (found, subjects) in by_note.items()]


def _noted(found: Match, where: str, subjects: list[str]) -> str:
    """A note's framing: its topic's, where the topic reframes, else what the note says and what it is not."""
    if found.topic.framing:
        return _framing(found.topic, where, subjects)
    return (
        f'Explained beside the code at {where} ("{_quote(found.sentence)}"): an explanation, not an '
        "accepted risk; decide it where decisions are kept, or fix it."
    )


def _framing(topic: TopicSpec, where: str, subjects: list[str]) -> str:
    names = list(dict.fromkeys(subject_name(s) for s in subjects))  # a workload once, not per container
    shown = ", ".join(names) if len(names) <= 4 else f"{', '.join(names[:3])} and {len(names) - 3} more"
    assert topic.framing is not None
    return topic.framing.format(where=where, subjects=shown)


def _quote(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
