"""Decisions written in an estate: the units of text around each intent phrase.

A decision is a unit, not a window of nearby lines: a bullet item or paragraph of the docs, a whole
ADR (its title is the topic), or a comment block in code. Files are read through the jail and the
redactor, and split on "\n" only so line numbers agree with ripgrep's. The intent challenger
(``challenge_intent.py``) decides what each unit covers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.context import AgentContext
from domain.errors import SandboxViolation
from domain.evidence import Evidence
from tools.redact import redact_text

DOC_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".adoc")
COMMENT_PREFIXES = ("#", "//", "/*", "*", "<!--")
MAX_WINDOW = 12
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
BULLET = re.compile(r"^\s*([-*+]|\d+[.)])\s+")
ADR_PATH = re.compile(
    r"(^|/)(adrs?|decisions?|architecture/decisions)/|(^|/)\d{3,4}[-_][^/]+$", re.IGNORECASE
)
ADR_MAX_LINES = 200


@dataclass
class Decision:
    """A unit of text holding an intent phrase: a bullet or paragraph (docs), a comment block (code)."""

    path: str
    line: int
    text: str
    evidence: str
    is_doc: bool

    @property
    def sentences(self) -> list[str]:
        flat = " ".join(self.text.replace("*", " ").split())
        return [p for p in SENTENCE_END.split(flat) if p]

    @property
    def topic(self) -> str:
        """The unit's first sentence: what the decision is about (e.g. '**MySQL is a standalone ...**')."""
        sentences = self.sentences
        return sentences[0] if sentences else ""


def find_decisions(ctx: AgentContext, search: Evidence, data: object, skip: str) -> list[Decision]:
    """Windows of text around each intent phrase: the paragraph (docs) or the comment block (code)."""
    hits = _hits(data)
    jail = ctx.toolbox().jail
    cache: dict[str, list[str]] = {}
    decisions: list[Decision] = []
    for path, line in hits:
        if path == skip:
            continue
        lines = cache.get(path)
        if lines is None:
            try:
                # Through the jail (size, binary and symlink checks) and the redactor, split on "\n"
                # only so line numbers agree with ripgrep's.
                lines = redact_text(jail.read_text(path)).split("\n")
            except (SandboxViolation, OSError):
                lines = []
            cache[path] = lines
        if not lines or line > len(lines):
            continue
        is_doc = path.lower().endswith(DOC_SUFFIXES)
        text = _adr(lines) if is_doc and ADR_PATH.search(path) else _window(lines, line - 1, is_doc)
        if text:
            decisions.append(Decision(path=path, line=line, text=text, evidence=search.id, is_doc=is_doc))
    return decisions


def _hits(data: object) -> list[tuple[str, int]]:
    """(path, line) of each match, from the search's structured data."""
    if not isinstance(data, list):
        return []
    return [
        (str(m["path"]), int(m["line"])) for m in data if isinstance(m, dict) and "path" in m and "line" in m
    ]


def _window(lines: list[str], index: int, is_doc: bool) -> str:
    """The unit around ``lines[index]``: its bullet item or paragraph (docs), its comment block (code)."""
    if is_doc:
        return _doc_unit(lines, index)
    if not _is_comment(lines[index]):
        return lines[index]  # an intent phrase at the end of a code line: that line alone
    start = index
    while start > 0 and index - start < MAX_WINDOW and _is_comment(lines[start - 1]):
        start -= 1
    end = index
    while end + 1 < len(lines) and end - index < MAX_WINDOW and _is_comment(lines[end + 1]):
        end += 1
    return "\n".join(lines[start : end + 1])


def _adr(lines: list[str]) -> str:
    """An architecture decision record is one decision: its title (the topic) and its whole body."""
    body = [ln for ln in lines[:ADR_MAX_LINES] if ln.strip()]
    title = next((ln.lstrip("# ").strip() for ln in body if ln.startswith("#")), body[0] if body else "")
    rest = [ln for ln in body if ln.lstrip("# ").strip() != title]
    return "\n".join([f"{title.rstrip('.')}.", *rest])


def _is_comment(text: str) -> bool:
    stripped = text.strip()
    return stripped.startswith(COMMENT_PREFIXES) or (bool(stripped) and stripped.endswith("*/"))


def _doc_unit(lines: list[str], index: int) -> str:
    """A markdown bullet (up to the next bullet or blank line) or a paragraph."""
    start = index
    while (
        start > 0
        and index - start < MAX_WINDOW
        and not BULLET.match(lines[start])
        and lines[start - 1].strip()
    ):
        start -= 1
    end = index
    while (
        end + 1 < len(lines)
        and end - index < MAX_WINDOW
        and lines[end + 1].strip()
        and not BULLET.match(lines[end + 1])
    ):
        end += 1
    return "\n".join(lines[start : end + 1])
