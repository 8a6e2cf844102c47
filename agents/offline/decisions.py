"""Decisions written in an estate, in the forms people write them.

A decision is a unit of text, never a window of nearby lines:

* ``adr``: an architecture decision record (a doc under ``adr/``, ``decisions/``, named ``0001-...``,
  or with a ``Status:`` line). Its title, the text before its first section, and its Decision and
  Consequences sections are the statement; its Context is not. A status other than accepted
  (proposed, superseded, rejected, deprecated) is no decision.
* ``policy``: a ``Policy:`` or ``Decision:`` line (with its bullet or paragraph), in docs or code.
* ``faq``: a question heading ("Why no CPU limits?") and the answer under it.
* ``rule``: a bullet or paragraph of a contributor or agent guide (AGENTS.md, CLAUDE.md,
  CONTRIBUTING.md, anything under ``.claude/``, a standards, conventions or guidelines doc) holding
  a rule word (never, always, do not, must, convention, exception, on purpose, ...), or any item
  under a guide's "Conventions" (Policies, Rules, Decisions, Exceptions) heading.
* ``exception``: a row of a table under a heading of known exceptions (waivers, accepted risks).
* ``comment``: a comment block in code holding an intent phrase or a ``Policy:`` line; it is about
  the record it sits on.
* ``note``: a comment block in code that gives a reason or an end and no intent phrase ("OnDelete:
  a new pod comes up sealed, so pods are rolled by hand", "Manual sync until ..."). It explains a
  choice without accepting its risk: it can reframe the finding on its record, never take a subject
  out, and a note that calls itself pending ("until we fix", "temporarily", "TODO") says nothing.
* ``prose``: any other doc bullet or paragraph holding an intent phrase ("on purpose", "by design").

What a unit is *about* (its topic, whether it accepts the finding's state, whom it names) is for
``decision_match.py``. Files are read through the jail and the redactor, and split on "\\n" only so
line numbers agree with ripgrep's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.errors import SandboxViolation
from tools.redact import redact_text
from tools.sandbox import Jail

DOC_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".adoc")
COMMENT_PREFIXES = ("#", "//", "/*", "*", "<!--", "--")
MAX_WINDOW = 12
BULLET = re.compile(r"^\s*([-*+]|\d+[.)])\s+")
HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
ADR_PATH = re.compile(
    r"(^|/)(adrs?|decisions?|architecture/decisions)/|(^|/)\d{3,4}[-_][^/]+$", re.IGNORECASE
)
ADR_MAX_LINES = 200
STATUS = re.compile(r"^\W*status\W*\s*[:=]?\s*\**\s*([a-z]+)", re.IGNORECASE)
ACCEPTED_STATUS = {"accepted", "approved", "decided", "adopted", "agreed", "final", "done", "implemented"}
ADR_SKIPPED_SECTIONS = re.compile(
    r"^(context|background|problem|options|considered options|alternatives|status|references|links)\b",
    re.IGNORECASE,
)
META = re.compile(r"^\W*(date|deciders?|authors?|owners?)\W*\s*:", re.IGNORECASE)
POLICY_LINE = re.compile(r"^\W*(policy|decision)\s*\**\s*:", re.IGNORECASE)
FAQ_HEADING = re.compile(r"^\s*#{1,6}\s+(q:\s*)?why\b.*\?\s*\**\s*$", re.IGNORECASE)
EXCEPTION_HEADING = re.compile(
    r"^\s*#{1,6}\s+.*\b(exceptions?|waivers?|accepted risks?|known deviations?)\b", re.IGNORECASE
)
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\s*\|[\s:|-]+\|\s*$")
RULE_HEADING = re.compile(
    r"\b(conventions?|polic(?:y|ies)|rules?|decisions?|exceptions?|guidelines?|do not|don't|never)\b",
    re.IGNORECASE,
)
GUIDE = re.compile(
    r"(^|/)(agents|claude|contributing|standards?|conventions|guidelines)\.md$|(^|/)\.claude/", re.IGNORECASE
)

INTENT_PATTERN = (
    r"on purpose|by design|deliberate(ly)?|intentional(ly)?|accepted risk|documented exception|"
    r"known exception|we (do not|don't|never)|won't fix|is expected"
)
INTENT = re.compile(INTENT_PATTERN, re.IGNORECASE)
RULE_WORDS = re.compile(
    r"\b(never|always|do not|don't|must|should not|shouldn't|conventions?|exceptions?|polic(?:y|ies)|decided|"
    r"decision)\b|" + INTENT_PATTERN,
    re.IGNORECASE,
)
PENDING_NOTE = re.compile(
    r"\b(todo|fixme|xxx|hack|workaround|temporar(y|ily)|broken|revert|to be fixed|needs? fixing|"
    r"until (we|someone|it is|it's|this is) (fix|fixed|repair|sort|resolv))",
    re.IGNORECASE,
)
"""A note that says its state is a pending fix, anywhere in its block: no explanation of a choice."""
REASONED_COMMENT = r"^\s*(#|//)\s*\S.*(\bbecause\b|\bsince\b|, so\b|\bso that\b|\botherwise\b|\buntil\b)"
"""A comment line in code that gives a reason or an end ("OnDelete: a new pod comes up sealed, so pods
are rolled by hand", "Manual sync until the migration is verified"): the common way a setting's choice
is written beside it. Only a comment block sitting on the finding's record can cover it, and only by
stating one of the check's topics."""
FORMS_PATTERN = INTENT_PATTERN + r"|^\W*(policy|decision)\s*\**\s*:|" + REASONED_COMMENT
"""The search over every file: intent phrases and ``Policy:`` lines, in docs and in code comments, and
comments in code that give a reason."""
DOC_FORMS_PATTERN = (
    r"^\W*status\W*\s*[:=]|^\s*#{1,6}\s+(q:\s*)?why\b"
    r"|^\s*#{1,6}\s+.*\b(exceptions?|waivers?|accepted risks?|known deviations?)\b"
)
"""The search over docs only (a YAML ``status:`` is no ADR): ADR status lines, FAQ and exception headings."""
DOC_GLOB = "*.{md,markdown,txt,rst,adoc}"
GUIDE_GLOB = (
    "{**/AGENTS.md,**/CLAUDE.md,**/CONTRIBUTING.md,**/.claude/**,**/standards.md,**/STANDARDS.md,"
    "**/conventions.md,**/CONVENTIONS.md,**/guidelines.md,**/GUIDELINES.md}"
)
GUIDE_PATTERN = RULE_WORDS.pattern


@dataclass(frozen=True)
class Decision:
    """A unit of text that records a decision, with the line each piece of it starts on."""

    path: str
    line: int
    form: str
    lines: tuple[tuple[int, str], ...]
    evidence: str
    title: str = ""
    """An ADR's title, a FAQ's question or an exception table's heading: what the unit is about."""
    names_from: tuple[tuple[int, str], ...] = field(default=())
    """For an exception row: the row alone (the heading names no workload)."""

    @property
    def is_doc(self) -> bool:
        return self.form not in ("comment", "note")

    @property
    def in_code(self) -> bool:
        """A comment block in code (``comment`` or ``note``): it is about the record it sits on."""
        return not self.is_doc

    @property
    def text(self) -> str:
        return "\n".join(t for _, t in self.lines)


class DecisionReader:
    """Reads the files the searches hit, once each, and cuts their units."""

    def __init__(self, jail: Jail) -> None:
        self.jail = jail
        self.cache: dict[str, list[str]] = {}

    def lines(self, path: str) -> list[str]:
        lines = self.cache.get(path)
        if lines is None:
            try:
                lines = redact_text(self.jail.read_text(path)).split("\n")
            except (SandboxViolation, OSError):
                lines = []
            self.cache[path] = lines
        return lines


def find_decisions(
    jail: Jail, searches: list[tuple[str, list[tuple[str, int]]]], skip: str
) -> list[Decision]:
    """Every decision unit around the searches' hits, each once, in the order of the hits.

    ``searches`` is (evidence id, hits) per search: the forms, the docs' forms, the guides.
    """
    reader = DecisionReader(jail)
    seen: set[tuple[str, int]] = set()
    adrs: set[str] = set()
    out: list[Decision] = []
    for source, batch in searches:
        for path, line in batch:
            if path == skip:
                continue
            lines = reader.lines(path)
            if not lines or line > len(lines):
                continue
            for decision in _units(path, line, lines, source, adrs):
                key = (decision.path, decision.line)
                if key not in seen:
                    seen.add(key)
                    out.append(decision)
    return out


def _units(path: str, line: int, lines: list[str], evidence: str, adrs: set[str]) -> list[Decision]:
    is_doc = path.lower().endswith(DOC_SUFFIXES) or GUIDE.search(path) is not None
    index = line - 1
    text = lines[index]
    if not is_doc:
        if not _is_comment(text):
            if INTENT.search(text) or POLICY_LINE.search(text):
                return [Decision(path, line, "comment", ((line, text),), evidence)]
            return []
        return [_comment(path, lines, index, evidence)]
    if is_adr(path, lines):
        if path in adrs:
            return []
        adrs.add(path)
        adr = _adr(path, lines, evidence)
        return [adr] if adr is not None else []
    if FAQ_HEADING.match(text):
        return [_faq(path, lines, index, evidence)]
    above = _heading_above(lines, index)
    if above is not None and FAQ_HEADING.match(lines[above]):
        return [_faq(path, lines, above, evidence)]  # a line of an answer: the question is its topic
    if EXCEPTION_HEADING.match(text):
        return _exception_rows(path, lines, index, evidence)
    if TABLE_ROW.match(text):
        return _table_row(path, lines, index, evidence)
    if GUIDE.search(path) and HEADING.match(text):
        # a guide's "## Conventions" (or Policies, Rules, ...): every item under it is a rule
        return _section_rules(path, lines, index, evidence) if RULE_HEADING.search(text) else []
    if POLICY_LINE.search(text):
        return [_doc_unit(path, lines, index, "policy", evidence)]
    if GUIDE.search(path):
        unit = _doc_unit(path, lines, index, "rule", evidence)
        return [unit] if RULE_WORDS.search(unit.text) else []
    if INTENT.search(text):
        return [_doc_unit(path, lines, index, "prose", evidence)]
    return []


def is_adr(path: str, lines: list[str]) -> bool:
    """Under adr/ or decisions/ (or named 0001-...), or a status line on top and a Decision section."""
    if ADR_PATH.search(path):
        return True
    return any(STATUS.match(ln) for ln in lines[:15]) and any(
        (h := HEADING.match(ln)) is not None and h.group(1).strip().lower().startswith("decision")
        for ln in lines[:ADR_MAX_LINES]
    )


def _adr(path: str, lines: list[str], evidence: str) -> Decision | None:
    """The ADR's statement: title, preamble, and every section but the context (None unless accepted)."""
    body = lines[:ADR_MAX_LINES]
    title = ""
    kept: list[tuple[int, str]] = []
    skipping = False
    for number, text in enumerate(body, start=1):
        heading = HEADING.match(text)
        status = STATUS.match(text)
        if status:
            if status.group(1).lower() not in ACCEPTED_STATUS:
                return None
            continue
        if heading:
            if not title:
                title = heading.group(1).strip()
                kept.append((number, f"{title.rstrip('.')}."))
                continue
            skipping = ADR_SKIPPED_SECTIONS.match(heading.group(1).strip()) is not None
            continue
        if text.strip() and not skipping and not META.match(text):
            kept.append((number, text))
    if not kept:
        return None
    return Decision(path, kept[0][0], "adr", tuple(kept), evidence, title=title)


def _faq(path: str, lines: list[str], index: int, evidence: str) -> Decision:
    question = HEADING.match(lines[index])
    title = question.group(1).strip() if question else lines[index].strip()
    kept = [(index + 1, title)]
    for number in range(index + 1, min(len(lines), index + 1 + 3 * MAX_WINDOW)):
        if HEADING.match(lines[number]):
            break
        if lines[number].strip():
            kept.append((number + 1, lines[number]))
    return Decision(path, index + 1, "faq", tuple(kept), evidence, title=title)


def _exception_rows(path: str, lines: list[str], index: int, evidence: str) -> list[Decision]:
    heading = HEADING.match(lines[index])
    title = heading.group(1).strip() if heading else ""
    rows: list[Decision] = []
    header = True
    for number in range(index + 1, min(len(lines), index + 1 + 10 * MAX_WINDOW)):
        text = lines[number]
        if HEADING.match(text):
            break
        if not TABLE_ROW.match(text):
            if rows or not header:
                if not text.strip():
                    continue
                break
            continue
        if TABLE_RULE.match(text):
            header = False
            continue
        if header:
            continue
        cells = " | ".join(c.strip() for c in text.strip().strip("|").split("|"))
        row = ((number + 1, cells),)
        rows.append(
            Decision(
                path,
                number + 1,
                "exception",
                ((number + 1, f"{title}: {cells}."),),
                evidence,
                title=title,
                names_from=row,
            )
        )
    return rows


def _heading_above(lines: list[str], index: int) -> int | None:
    for above in range(index - 1, max(-1, index - 3 * MAX_WINDOW), -1):
        if HEADING.match(lines[above]):
            return above
    return None


def _table_row(path: str, lines: list[str], index: int, evidence: str) -> list[Decision]:
    """A row of a table is a unit of its own; a row of a table of known exceptions comes with it."""
    for above in range(index - 1, max(-1, index - 10 * MAX_WINDOW), -1):
        if HEADING.match(lines[above]):
            if EXCEPTION_HEADING.match(lines[above]):
                return _exception_rows(path, lines, above, evidence)
            break
    if TABLE_RULE.match(lines[index]) or not INTENT.search(lines[index]):
        return []
    cells = " | ".join(c.strip() for c in lines[index].strip().strip("|").split("|"))
    return [Decision(path, index + 1, "prose", ((index + 1, f"{cells}."),), evidence)]


def _section_rules(path: str, lines: list[str], index: int, evidence: str) -> list[Decision]:
    """Every bullet or paragraph between a guide's rule heading and the next heading."""
    units: list[Decision] = []
    number = index + 1
    while number < len(lines) and not HEADING.match(lines[number]):
        if lines[number].strip() and not TABLE_ROW.match(lines[number]):
            unit = _doc_unit(path, lines, number, "rule", evidence)
            units.append(unit)
            number = max(number, unit.lines[-1][0])  # the unit's last line (1-based) is the next index
        else:
            number += 1
    return units


def _is_comment(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(COMMENT_PREFIXES) or (bool(stripped) and stripped.endswith("*/"))


def _comment(path: str, lines: list[str], index: int, evidence: str) -> Decision:
    start = index
    while start > 0 and index - start < MAX_WINDOW and _is_comment(lines[start - 1]):
        start -= 1
    end = index
    while end + 1 < len(lines) and end - index < MAX_WINDOW and _is_comment(lines[end + 1]):
        end += 1
    kept = tuple((n + 1, lines[n]) for n in range(start, end + 1))
    text = "\n".join(t for _, t in kept)
    form = "comment" if INTENT.search(text) or POLICY_LINE.search(text) else "note"
    return Decision(path, index + 1, form, kept, evidence)


def _doc_unit(path: str, lines: list[str], index: int, form: str, evidence: str) -> Decision:
    """A markdown bullet (up to the next bullet or blank line) or a paragraph."""
    start = index
    while (
        start > 0
        and index - start < MAX_WINDOW
        and not BULLET.match(lines[start])
        and lines[start - 1].strip()
        and not HEADING.match(lines[start - 1])
    ):
        start -= 1
    end = index
    while (
        end + 1 < len(lines)
        and end - index < MAX_WINDOW
        and lines[end + 1].strip()
        and not BULLET.match(lines[end + 1])
        and not HEADING.match(lines[end + 1])
    ):
        end += 1
    kept = tuple((n + 1, lines[n]) for n in range(start, end + 1))
    return Decision(path, start + 1, form, kept, evidence)


def unit_at(jail: Jail, path: str, line: int) -> Decision | None:
    """The unit of documentation a citation ``path:line`` points into (None: not a doc, or no such line).

    An ADR is its whole statement, a FAQ its question and answer, a table row its row, anything
    else its bullet or paragraph. Used to judge a model's ``documented_at``.
    """
    if not (path.lower().endswith(DOC_SUFFIXES) or GUIDE.search(path)):
        return None
    lines = DecisionReader(jail).lines(path)
    if not 1 <= line <= len(lines):
        return None
    index = line - 1
    if is_adr(path, lines):
        return _adr(path, lines, "") or Decision(path, line, "adr", ((line, lines[index]),), "")
    if FAQ_HEADING.match(lines[index]):
        return _faq(path, lines, index, "")
    if TABLE_ROW.match(lines[index]):
        return Decision(path, line, "prose", ((line, lines[index]),), "")
    return _doc_unit(path, lines, index, "prose", "")
