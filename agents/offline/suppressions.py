"""Inline suppressions: ``infra-audit:ignore CHECK-ID reason="..." until=YYYY-MM-DD`` in a comment on
the line of an object or value, or in the comment block right above it.

Any comment syntax the catalog reads works (``#`` in HCL, YAML and shell, ``//`` and ``/* */`` in
HCL, ``<!-- -->`` in Markdown, ``{{/* */}}`` in Helm templates): the marker must follow a comment
opener on its line. A suppression applies to its check and to the subjects whose ref is that line
(or the first code line after its comment block), or, where that line starts an object (a resource,
a workload, a release), any line of that object (``widen``): a finding cites the line to change inside
it. Nothing else. It becomes a verdict of the
``suppression`` stance that takes those subjects out (or drops the finding when none is left), so
synthesis recounts and re-titles as for an accepted risk. An expired one is listed and takes out
nothing; one with no reason is refused (``SuppressionError``, one line, exit 2).

The marker is found with ``repo_search`` (sandboxed, redacted, recorded as evidence); the lines
between a comment and its object are read through the jail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date as Date

from agents.context import AgentContext
from domain.concerns import agent_label
from domain.errors import SandboxViolation, SuppressionError
from domain.evidence import Evidence
from domain.findings import RawFinding, Verdict
from domain.identity import code_file, names_an_object
from domain.results import ToolStatus
from domain.suppressions import Suppression
from tools.inventory.inventory import Records
from tools.inventory.models import CodeRef
from tools.redact import redact_text

STANCE = "suppression"
AGENT = agent_label("challenge", STANCE)
MARKER = "infra-audit:ignore"
_COMMENT_OPENER = r"(#|//|/\*|<!--|\{\{-?\s*/\*|--|;)"
_LINE = re.compile(
    _COMMENT_OPENER + r".*?" + re.escape(MARKER) + r"\s+(?P<check>[A-Za-z0-9_-]+)(?P<rest>.*)$"
)
_REASON = re.compile(r'reason\s*=\s*"(?P<reason>[^"]*)"')
_UNTIL = re.compile(r"until\s*=\s*(?P<until>\S+?)(?=\s|-->|\*/|$)")
_COMMENT_ONLY = re.compile(r"^\s*" + _COMMENT_OPENER)
MAX_BLOCK = 20


class Inline:
    """One parsed suppression comment and the line of code it covers (to ``end``, where that line
    starts an object: ``widen``)."""

    def __init__(self, record: Suppression, path: str, target: int, line: int) -> None:
        self.record = record
        self.path = path
        self.target = target
        self.line = line
        self.end: int | None = None


SPANNING = ("workloads", "resources", "helm_releases", "namespaces", "pvcs", "policies")
"""Code records a suppression written above covers whole: a finding on one cites the line to change
inside it (``replicas = 1``, a strategy, a release's values line), not always its first line."""


def widen(inline: list[Inline], code: Records, read_text: Callable[[str], str] | None = None) -> None:
    """Each suppression whose line starts an object of the estate covers that object to its last line:
    a Terraform block to its closing brace, a YAML document to the next ``---`` or the file's end
    (``read_text`` reads it through the jail; without it, YAML objects are not widened)."""
    if not inline:
        return
    ends: dict[tuple[str, int], int | None] = {}
    for name in SPANNING:
        for record in getattr(code, name):
            source = record.source
            if isinstance(source, CodeRef):
                key = (source.path, source.line)
                ends[key] = max(ends.get(key) or 0, source.end_line or 0) or None
    for sup in inline:
        key = (sup.path, sup.target)
        if key not in ends:
            continue
        end = ends[key]
        if end is None and read_text is not None and sup.path.endswith((".yaml", ".yml")):
            end = _document_end(read_text, sup.path, sup.target)
        sup.end = end if end is not None and end > sup.target else None


def _document_end(read_text: Callable[[str], str], path: str, line: int) -> int | None:
    """The last line of the YAML document holding ``line``: before the next ``---``, else the file's last."""
    try:
        lines = read_text(path).split("\n")
    except (SandboxViolation, OSError):
        return None
    for number in range(line, len(lines)):  # lines[number] is line number + 1
        if lines[number].startswith("---"):
            return number
    return len(lines)


def scan(ctx: AgentContext, today: Date) -> tuple[list[Inline], Evidence | None]:
    """Every inline suppression of the estate, parsed and dated; refuses one with no reason."""
    toolbox = ctx.toolbox()
    search = toolbox.call("repo_search", {"pattern": MARKER, "fixed": True, "max_results": 1000}, agent=AGENT)
    if search.status == ToolStatus.ERROR:  # never a silent "no suppression": that would un-suppress
        raise SuppressionError(f"cannot search the estate for {MARKER} comments: {search.error}")
    data = toolbox.ledger.data(search.id)
    hits = (
        [(str(m["path"]), int(m["line"])) for m in data if isinstance(m, dict)]
        if isinstance(data, list)
        else []
    )
    found: list[Inline] = []
    cache: dict[str, list[str]] = {}
    for path, line in hits:
        if path not in cache:
            try:
                cache[path] = toolbox.jail.read_text(path).split("\n")
            except (SandboxViolation, OSError):
                cache[path] = []
        lines = cache[path]
        if not 0 < line <= len(lines):
            continue
        parsed = parse(lines[line - 1], f"{path}:{line}", today)
        if parsed is not None:
            found.append(Inline(parsed, path, _target(lines, line), line))
    return found, (search if hits else None)


def parse(text: str, where: str, today: Date) -> Suppression | None:
    """The suppression on one line of text; None when the line holds no marker after a comment opener."""
    match = _LINE.search(text)
    if match is None:
        return None
    check, rest = match["check"], redact_text(match["rest"])  # the reason is estate text: no secret
    reason = _REASON.search(rest)
    if reason is None or not reason["reason"].strip():
        raise SuppressionError(
            f'{where}: "{MARKER} {check}" has no reason: write {MARKER} {check} reason="why" '
            "[until=YYYY-MM-DD]"
        )
    until = None
    if (found := _UNTIL.search(rest)) is not None:
        try:
            until = Date.fromisoformat(found["until"])
        except ValueError:
            raise SuppressionError(
                f"{where}: {MARKER} {check}: until={found['until']!r} is not a date YYYY-MM-DD"
            ) from None
    state = "expired" if until is not None and until < today else "unmatched"
    return Suppression(
        kind="inline", check=check, where=where, reason=reason["reason"].strip(), until=until, state=state
    )


def _target(lines: list[str], line: int) -> int:
    """The line a suppression covers: its own when code precedes the comment on it, else the first
    line after its comment block."""
    text = lines[line - 1]
    if not _COMMENT_ONLY.match(text):
        return line
    nxt = line
    while (
        nxt < len(lines)
        and nxt - line < MAX_BLOCK
        and (_COMMENT_ONLY.match(lines[nxt]) or not lines[nxt].strip())
    ):
        nxt += 1
    return nxt + 1


def covers(sup: Inline, check: str | None, file: str, line: int) -> bool:
    active = sup.record.state != "expired"
    if not active or sup.record.check != check or sup.path != file:
        return False
    return line in (sup.target, sup.line) or (sup.end is not None and sup.target <= line <= sup.end)


def verdicts(findings: list[RawFinding], inline: list[Inline], evidence: Evidence | None) -> list[Verdict]:
    """One verdict per finding an active inline suppression covers; marks each suppression applied.

    What is taken out: an object subject (``Deployment/shop/web``) wherever it is seen (code and live),
    any other subject (``kubectl scale``, ``password assignment``) at that place only, by its ref.
    """
    out: list[Verdict] = []
    for finding in findings:
        removed: dict[str, tuple[str, Inline]] = {}  # subject or ref -> (subject, suppression)
        # only a suppression of the finding's check can cover it: a finding of thousands of live
        # objects is not read place by place when none is written for its check (issue 13)
        candidates = [sup for sup in inline if sup.record.check == finding.check]
        for loc in finding.locations if candidates else ():
            file = code_file(loc.ref)
            if file is None:
                continue
            line = int(loc.ref.rsplit(":", 1)[1])
            for sup in candidates:
                if covers(sup, finding.check, file, line):
                    key = loc.subject if names_an_object(loc.subject) else loc.ref
                    removed.setdefault(key, (loc.subject, sup))
        if not removed:
            continue
        for subject, sup in removed.values():
            sup.record.state = "applied"
            if subject not in sup.record.subjects:
                sup.record.subjects.append(subject)
        remaining = [
            loc for loc in finding.locations if loc.subject not in removed and loc.ref not in removed
        ]
        reason = "; ".join(
            f"{s} suppressed at {i.record.where} ({i.record.reason})" for s, i in removed.values()
        )
        out.append(
            Verdict(
                finding=finding.id,
                challenger=STANCE,
                action="CORRECTED" if remaining else "DROPPED",
                reason=f"Suppressed inline: {reason}",
                evidence=[evidence.id] if evidence else [],
                documented_at=next(iter(removed.values()))[1].record.where,
                removed_subjects=list(removed) if remaining else [],
            )
        )
    return out


def accepted_list(ctx: AgentContext, today: Date, verdicts_given: list[Verdict]) -> list[Suppression]:
    """The accepted risks of ``.infra-audit.yaml``, as suppressions: applied when a verdict cites their
    line, expired when their date passed; one with no reason is refused (the intent challenger applies
    them; this lists them)."""
    import yaml

    from tools.inventory.loading import LoadError
    from tools.inventory.yaml_lines import load_documents

    name = ".infra-audit.yaml"
    try:
        text = ctx.toolbox().jail.read_text(name)
        load_documents(text)
        root = yaml.compose(text)
    except (SandboxViolation, OSError, LoadError, yaml.YAMLError):
        return []  # the intent challenger reports an unreadable file as a gap
    items = []
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if getattr(key, "value", None) == "accepted_risks" and isinstance(value, yaml.SequenceNode):
                items = [n for n in value.value if isinstance(n, yaml.MappingNode)]
    out = []
    for node in items:
        line = node.start_mark.line + 1
        where = f"{name}:{line}"
        entry = {getattr(k, "value", ""): getattr(v, "value", None) for k, v in node.value}
        check = str(entry.get("check") or "")
        reason = entry.get("reason")
        reason = redact_text(reason) if isinstance(reason, str) else reason  # as challenge_intent's
        if not isinstance(reason, str) or not reason.strip():
            raise SuppressionError(
                f'{where}: the accepted risk for {check or "a check"} has no reason: add reason: "why"'
            )
        until = None
        try:
            until = Date.fromisoformat(str(entry["until"])) if entry.get("until") else None
        except ValueError:
            until = None  # the intent challenger reports it as not a valid accepted risk
        cited = [v for v in verdicts_given if v.documented_at == where or f"({reason})" in v.reason]
        state = "expired" if until is not None and until < today else "applied" if cited else "unmatched"
        subject = entry.get("subject")
        out.append(
            Suppression(
                kind="accepted",
                check=check,
                where=where,
                reason=reason.strip(),
                until=until,
                subject=str(subject) if subject else None,
                state=state,
                subjects=([str(subject)] if subject else ["(the whole finding)"])
                if state == "applied"
                else [],
            )
        )
    return out
