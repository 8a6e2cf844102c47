"""The intent challenger: is this finding a decision the estate already took, on purpose?

Two sources, both cited by ``path:line`` in the verdict:

* ``.infra-audit.yaml`` at the estate root: accepted risks with a reason (and an optional expiry).
  A whole-check entry drops (or reframes) the finding; an entry with a subject removes that subject.
* Decisions written in the repo: a unit of documentation (a bullet item or paragraph of CLAUDE.md,
  AGENTS.md, README, docs/; a whole ADR, whose title is its topic) or a comment block next to the
  code, holding a strong intent phrase ("on purpose", "by design", "deliberately", "documented
  exception", ...) and one of the check's ``deliberate_terms``. A sentence with an intent phrase
  and a term that names no workload ("All CPU limits are removed cluster-wide, on purpose.") drops
  the whole finding. Otherwise the decision removes the subjects named in its topic sentence, or,
  for a comment block, the record it sits on.

Then, findings already solved elsewhere in the estate by a mechanism the check does not read
(``solved_elsewhere.py``) lose the covered subjects, or are reframed.

The search for intent phrases is an ordinary ``repo_search`` call, so it is evidence like any other.
"""

from __future__ import annotations

import re
from datetime import date as Date

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from agents.challenge import ChallengeOutcome
from agents.context import AgentContext
from agents.offline.decisions import MAX_WINDOW, Decision, find_decisions
from agents.offline.solved_elsewhere import solved_elsewhere
from domain.concerns import agent_label
from domain.errors import SandboxViolation
from domain.evidence import Evidence
from domain.findings import RawFinding, Verdict
from tools.checks.spec import spec_by_id
from tools.inventory import indexes
from tools.inventory.inventory import Inventory
from tools.inventory.loading import LoadError
from tools.inventory.yaml_lines import load_documents
from tools.registry import Toolbox

STANCE = "intent"
AGENT = agent_label("challenge", "intent")
ACCEPTED_FILE = ".infra-audit.yaml"
INTENT_PATTERN = (
    r"on purpose|by design|deliberate(ly)?|intentional(ly)?|accepted risk|documented exception|"
    r"known exception|we (do not|don't|never)|won't fix|is expected"
)
INTENT = re.compile(INTENT_PATTERN, re.IGNORECASE)
CODE_SPAN = re.compile(r"`[^`]*`")
PATHISH = re.compile(r"\S*[/\\]\S*|\S+\.(md|tf|ya?ml|json|sh|hcl)\b")


class AcceptedRisk(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check: str
    subject: str | None = None
    reason: str
    until: Date | None = None
    action: str = "drop"
    framing: str | None = None


def challenge_intent(findings: list[RawFinding], ctx: AgentContext, run_date: str) -> ChallengeOutcome:
    outcome = ChallengeOutcome()
    toolbox = ctx.toolbox()
    inventory = ctx.inventory()
    accepted, accepted_ev = _accepted_risks(ctx, run_date, outcome)
    search = toolbox.call(
        "repo_search", {"pattern": INTENT_PATTERN, "ignore_case": True, "max_results": 1000}, agent=AGENT
    )
    cited = [search] + ([accepted_ev] if accepted_ev else [])
    decisions = find_decisions(ctx, search, toolbox.ledger.data(search.id), skip=ACCEPTED_FILE)
    known_names = _known_names(inventory)
    for finding in findings:
        verdict = _judge(finding, accepted, decisions, known_names, inventory, accepted_ev, search, toolbox)
        outcome.verdicts.append(verdict)
    outcome.evidence = cited
    return outcome


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
    names: set[str] = set()
    for workload in inventory.code.workloads + (inventory.live.workloads if inventory.live else []):
        if workload.name and len(workload.name) >= 3:
            names.add(workload.name.lower())
    return names


def _subject_name(subject: str) -> str:
    return subject.rsplit("/", 1)[-1].lower()


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.IGNORECASE) is not None


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
    terms = [t.lower() for t in spec_by_id(finding.check).deliberate_terms] if finding.check else []
    for decision in decisions:
        if not terms or not _has_term(decision.text, terms):
            continue
        where = f"{decision.path}:{decision.line}"
        if decision.is_doc and _general(decision, terms, known_names):
            return Verdict(
                finding=finding.id,
                challenger=STANCE,
                action="DROPPED",
                reason=f'By design: {where} records this as deliberate: "{_quote(decision.text)}"',
                evidence=[decision.evidence],
                documented_at=where,
            )
        covered = [
            loc.subject for loc in finding.locations if _covers(decision, loc.subject, loc.ref, inventory)
        ]
        for subject in covered:
            if subject not in removed:
                removed[subject] = where
                reasons.append(f"{subject} is documented as deliberate at {where}")
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
    if not remaining:
        return Verdict(
            finding=finding.id,
            challenger=STANCE,
            action="DROPPED",
            reason="; ".join(reasons),
            evidence=sorted(set(evidence)),
            documented_at=first_where,
            removed_subjects=sorted(removed),
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
        removed_subjects=sorted(removed),
    )


def _has_term(text: str, terms: list[str]) -> bool:
    low = " ".join(text.lower().split())
    return any(t in low for t in terms)


def _general(decision: Decision, terms: list[str], known_names: set[str]) -> bool:
    """One sentence holds an intent phrase and a check term and names no workload: it applies to all.

    Code spans and paths are left out of this test (a file name such as
    ``0003-privileged-wireguard.md`` is not a statement about privileged containers), because a
    general decision drops the whole finding and must be stated in words.
    """
    for sentence in decision.sentences:
        prose = PATHISH.sub(" ", CODE_SPAN.sub(" ", sentence))
        if (
            INTENT.search(prose)
            and _has_term(prose, terms)
            and not any(_mentions(sentence, n) for n in known_names)
        ):
            return True
    return False


def _covers(decision: Decision, subject: str, ref: str, inventory: Inventory) -> bool:
    """Is this subject what the decision is about?

    In docs, the subject must be named in the unit's topic sentence (a passing mention elsewhere,
    e.g. "postgres is shared by paperless", decides nothing about paperless). In code, the comment
    block must sit on or just above the record the location belongs to.
    """
    name = _subject_name(subject)
    if decision.is_doc:
        if subject.startswith("Namespace/"):
            # a namespace is named as one ("the velero namespace", "namespace `velero`"), or a common
            # word such as "networking" would count as a decision about that namespace
            return _names_namespace(decision.topic, name)
        return len(name) >= 3 and _mentions(decision.topic, name)
    path, _, line_text = ref.rpartition(":")
    if path != decision.path or not line_text.isdigit():
        return False
    start = _enclosing_start(inventory, path, int(line_text))
    return start - MAX_WINDOW <= decision.line <= int(line_text)


def _names_namespace(text: str, name: str) -> bool:
    quoted = rf"`?{re.escape(name)}`?"
    pattern = rf"(?<![\w-]){quoted}\s+namespace\b|\bnamespace\s+{quoted}(?![\w-])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _enclosing_start(inventory: Inventory, path: str, line: int) -> int:
    """First line of the record that holds ``path:line`` (the workload around a container)."""
    best = line
    for first, last in indexes.workload_spans(inventory.code).get(path, ()):
        if first <= line <= (last or line):
            best = min(best, first)
    return best


def _quote(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
