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

import re
from datetime import date as Date
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from agents.challenge import ChallengeOutcome
from agents.context import AgentContext
from agents.offline.decision_match import Match, match
from agents.offline.decisions import (
    DOC_FORMS_PATTERN,
    DOC_GLOB,
    FORMS_PATTERN,
    GUIDE_GLOB,
    GUIDE_PATTERN,
    Decision,
    find_decisions,
)
from agents.offline.solved_elsewhere import solved_elsewhere
from domain.concerns import agent_label
from domain.errors import SandboxViolation
from domain.evidence import Evidence
from domain.findings import Location, RawFinding, Verdict
from tools.checks.spec import TopicSpec, load_topics, spec_by_id
from tools.inventory import indexes
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


def _subject_name(subject: str) -> str:
    """The workload (or object) a subject is about: ``name`` of ``Kind/ns/name`` and of a live
    ``cluster/ns/Kind/name``; for a container (``Kind/ns/name/container``), its workload's name, which
    is what a decision names (app-template's containers are all called ``app``)."""
    parts = subject.split("/")
    if len(parts) >= 4 and parts[0][:1].isupper():
        return parts[2].lower()  # a code container: Kind/ns/workload/container
    if len(parts) >= 5 and parts[2][:1].isupper():
        return parts[3].lower()  # a live container: cluster/ns/Kind/workload/container
    return parts[-1].lower()


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
    for decision in decisions if topics else []:
        found = match(decision, topics, known_names, every)
        if found is None:
            continue
        where = found.where(decision)
        if decision.is_doc and found.general:
            return _whole(finding, decision, found, where)
        covered = [loc.subject for loc in finding.locations if _covers(decision, found, loc, inventory)]
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


def _framing(topic: TopicSpec, where: str, subjects: list[str]) -> str:
    names = [_subject_name(s) for s in subjects]
    shown = ", ".join(names) if len(names) <= 4 else f"{', '.join(names[:3])} and {len(names) - 3} more"
    assert topic.framing is not None
    return topic.framing.format(where=where, subjects=shown)


def _covers(decision: Decision, found: Match, loc: Location, inventory: Inventory) -> bool:
    """Is this subject what the decision is about?

    In docs, the subject must be one the decision names where it states the topic (its accepting
    sentence, else its title, else its statement): a passing mention elsewhere decides nothing. A
    namespace must be named as one ("the velero namespace"). In code, the comment block must sit on
    or just above the record the location belongs to.
    """
    name = _subject_name(loc.subject)
    if decision.is_doc:
        if loc.subject.startswith("Namespace/"):
            return _names_namespace(found.sentence, name) or _names_namespace(decision.title, name)
        container = loc.subject.rsplit("/", 1)[-1].lower()  # a decision may name the container itself
        return name in found.names or container in found.names
    path, _, line_text = loc.ref.rpartition(":")
    if path != decision.path or not line_text.isdigit():
        return False
    line = int(line_text)
    start = _enclosing_start(inventory, path, line)
    block_end = decision.lines[-1][0]
    # the block sits right above the record (a blank line between at most), or inside it above the line
    return start - 2 <= block_end < start or start <= decision.line <= line


def _names_namespace(text: str, name: str) -> bool:
    quoted = rf"`?{re.escape(name)}`?"
    pattern = rf"(?<![\w-]){quoted}\s+namespace\b|\bnamespace\s+{quoted}(?![\w-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


ENCLOSING_LISTS = ("resources", "escape_hatches", "ignore_changes", "policies", "helm_releases")
"""Code records besides workloads whose block a ref inside it belongs to (a finding cites the offending
line, ``timestamp()`` or ``validationFailureAction``, not the block's first line)."""


def _enclosing_start(inventory: Inventory, path: str, line: int) -> int:
    """First line of the record that holds ``path:line``: the workload around a container, else the
    nearest Terraform block or object of ``ENCLOSING_LISTS`` that starts at or above it."""
    best = line
    for first, last in indexes.workload_spans(inventory.code).get(path, ()):
        if first <= line <= (last or line):
            best = min(best, first)
    if best < line:
        return best
    starts = [
        source.line
        for name in ENCLOSING_LISTS
        for record in getattr(inventory.code, name)
        if (source := getattr(record, "source", None)) is not None
        and getattr(source, "path", None) == path
        and isinstance(getattr(source, "line", None), int)
        and source.line <= line
        and (getattr(source, "end_line", None) is None or line <= source.end_line)
    ]
    return max(starts, default=best)


def _quote(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
