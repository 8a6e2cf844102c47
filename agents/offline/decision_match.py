"""Does a decision cover a finding? By topic, through the catalog, never by a passing word.

A check names its topics (``catalog.yaml``), a topic its terms (``topics.yaml``). A decision covers
a finding only when one of its sentences *states* one of the finding's topics the way the finding
reports it: a ``stated`` term said plainly ("wireguard runs privileged"), or a ``negated`` term
negated ("no CPU limits", "HA is explicitly deferred", "never a CPU limit", "Why no CPU limits?").
The same term the other way round is a rule against the finding ("never run privileged",
"memory limits are required"), and a sentence that calls something open ("an open item", "NOT
deferred", "TODO") or puts it behind a gate ("privileged containers need a decision record") accepts
nothing. So "All CPU limits are removed" says nothing about memory limits,
and a sentence about MySQL says nothing about CPU limits.

Scope: the workloads a decision names, in its accepting sentence, else in its title (an ADR's, a FAQ
question), else anywhere in its statement. A decision that names none, or says "cluster-wide",
"every workload", "all containers", applies to the whole finding.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from agents.offline.decisions import DOC_SUFFIXES, Decision, DecisionReader, unit_at
from tools.checks.spec import TopicSpec
from tools.sandbox import Jail

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
CLAUSE_END = re.compile(
    r"[,;]\s+|:\s+|\s+(?:but|and|while|whereas)\s+|\s+\u2014\s+|\s+-\s+|\s+\(|(?<!\()\)(?=\s|$)"
)
PATHISH = re.compile(r"\S*[/\\]\S*|\S+\.(md|tf|ya?ml|json|sh|hcl)\b")
PRE_NEGATION = re.compile(
    r"(?:\bno|\bnot|\bwithout|\bdoesn't|\bavoid|\bremove|\bremoved|\bdisable|\bdisabled|\bzero|"
    r"\bnor|\bskip|\bdrop|\bdropped)\s+(?:[\w'-]+\s+){0,2}$|\b(?:never|do not|don't|must not|should not)\b",
    re.IGNORECASE,
)
POST_NEGATION = re.compile(
    r"^\s*(?:(?:is|are|was|were|stay|stays|remain|remains|has been|have been|got|get|gets)\s+)?"
    r"(?:\w+ly\s+)?(?:removed|disabled|deferred|dropped|omitted|unset|off|not\b|never\b|turned off)",
    re.IGNORECASE,
)
OPEN_ITEM = re.compile(
    r"\bopen item\b|\bstill open\b|\bis open\b|\bremains open\b|\bnot deferred\b|\btodo\b|\bfixme\b|"
    r"\bnot part of this decision\b|\bnot (?:deliberate|intentional|on purpose)\b|\bto be fixed\b",
    re.IGNORECASE,
)
GENERAL = re.compile(
    r"\bcluster[- ]?wide\b|\bestate[- ]wide\b|\b(?:all|every|each|any)\s+(?:of\s+the\s+|our\s+|the\s+)?"
    r"(?:\S+\s+){0,1}?(?:workloads?|containers?|deployments?|statefulsets?|daemonsets?|pods?|namespaces?|"
    r"polic(?:y|ies)|resources?|services?|apps?|applications?|charts?|releases?|kubernetes_\S*)",
    re.IGNORECASE,
)
REFERENCE = re.compile(
    r"^\W*(see|cf\.?|compare|refer to|as in|e\.g\.?|for example|like|such as|unlike|except)\b", re.IGNORECASE
)
GATE = re.compile(
    r"\b(?:needs?|requires?|must (?:have|get|go through)|only with|subject to)\b"
    r"(?:\s+\S+){0,4}?\s+(?:decision records?|adrs?|approvals?|reviews?|sign[- ]?offs?|exceptions?|"
    r"waivers?|justifications?)\b"
    r"|\bmust (?:first )?be (?:approved|reviewed|justified|documented|recorded|signed off)\b"
    r"|\b(?:go|goes|going) through (?:the |an? )?(?:exception|approval|review) process\b",
    re.IGNORECASE,
)
"""A clause that puts the topic behind a gate ("Privileged containers need a decision record in
docs/decisions/", "hostPath requires approval"): a rule for how to decide, not a decision; the record
it asks for is the decision."""
MARKUP = re.compile(r"\*\*|`|(?<!\w)\*(?=\w)|(?<=\w)\*(?![\w/])")
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


@dataclass(frozen=True)
class Match:
    """A decision stating one of a finding's topics: where, what it says, and whom it is about."""

    topic: TopicSpec
    line: int
    sentence: str
    names: tuple[str, ...]
    general: bool

    def where(self, decision: Decision) -> str:
        return f"{decision.path}:{self.line}"


@dataclass(frozen=True)
class _Sentence:
    text: str
    line: int


def match(
    decision: Decision, topics: list[TopicSpec], known_names: set[str], every: list[TopicSpec]
) -> Match | None:
    """The first sentence of the decision that states one of ``topics`` as the finding reports it.

    A clause is about the topic its first term names (``every`` is the whole topic table): "No memory
    limit on purpose (see the ignore_changes note)" is about memory limits, not ignore_changes.
    """
    keys = {t.key for t in topics}
    sentences, stating = _stating(decision, tuple(every))
    for index, topic in stating:
        if topic.key in keys:
            sentence = sentences[index]
            return Match(
                topic=topic,
                line=sentence.line,
                sentence=sentence.text,
                names=_names(decision, sentence, sentences, known_names),
                general=_general(decision, sentence, known_names),
            )
    return None


@functools.lru_cache(maxsize=4096)
def _stating(
    decision: Decision, every: tuple[TopicSpec, ...]
) -> tuple[list[_Sentence], list[tuple[int, TopicSpec]]]:
    """The decision's sentences, and each clause that states its topic (the topic its first term
    names), in order: (its sentence's index, the topic). The same whatever the finding: worked out
    once per decision, where the challenge asked it again for every finding (the finding only says
    which topics count)."""
    sentences, topics = _sentences(decision), list(every)
    stating: list[tuple[int, TopicSpec]] = []
    for index, sentence in enumerate(sentences):
        if OPEN_ITEM.search(sentence.text):
            continue
        for clause in CLAUSE_END.split(PATHISH.sub(" ", sentence.text)):
            if REFERENCE.match(clause) or GATE.search(clause):
                continue  # "(see the ignore_changes note)" points elsewhere, "X needs an ADR" asks for one
            topic = _first_topic(clause, topics)
            if topic is not None and _states(clause, topic):
                stating.append((index, topic))
    return sentences, stating


def _first_topic(clause: str, every: list[TopicSpec]) -> TopicSpec | None:
    """The topic whose term comes first in the clause (the longest term where two start together)."""
    best: tuple[int, int, TopicSpec] | None = None
    folded = _fold(clause)
    for topic, term, folded_term in _terms(every):
        if folded_term is not None and folded_term not in folded:
            continue  # ``_may_occur``, with the term folded once per run, not once per clause
        for start, end in _occurrences(clause, term):
            if best is None or (start, -(end - start)) < (best[0], -best[1]):
                best = (start, end - start, topic)
    return best[2] if best else None


_TERMS: dict[tuple[int, ...], tuple[list[TopicSpec], list[tuple[TopicSpec, str, str | None]]]] = {}


def _terms(every: list[TopicSpec]) -> list[tuple[TopicSpec, str, str | None]]:
    """Each term of ``every`` with its topic and its casefolded form (None for a term that is not
    ASCII: always searched). Worked out once per topic table: a challenge asks every term of every
    clause (285,000 times on the 1,600-file estate), and folding the term was a third of that."""
    key = tuple(map(id, every))
    found = _TERMS.get(key)
    if found is None:
        terms = [
            (topic, term, term.casefold() if term.isascii() else None)
            for topic in every
            for term in (*topic.stated, *topic.negated)
        ]
        found = _TERMS[key] = (list(every), terms)  # the topics kept: their ids stay theirs
    return found[1]


def mentions(text: str, name: str) -> bool:
    return _word(name).search(text) is not None


def names_topic(text: str, topics: list[TopicSpec]) -> bool:
    """Does any term of ``topics`` appear in ``text`` at all (either way round)?"""
    flat = _flat(text)
    folded = _fold(flat)
    return any(
        _may_occur(folded, term) and _occurrences(flat, term)
        for topic in topics
        for term in (*topic.stated, *topic.negated)
    )


def _states(clause: str, topic: TopicSpec) -> bool:
    for term in topic.stated:
        if any(not _negated(clause, span) for span in _occurrences(clause, term)):
            return True
    return any(_negated(clause, span) for term in topic.negated for span in _occurrences(clause, term))


def _occurrences(text: str, term: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _word(term).finditer(text)]


def _fold(text: str) -> str:
    """``text`` folded so that every case-insensitive match of an ASCII term is a substring of it:
    ``casefold``, and the two letters ``re`` matches to an ``i`` that casefolding does not make one."""
    return text.casefold().replace("\u0131", "i").replace("i\u0307", "i")


def _may_occur(folded: str, term: str) -> bool:
    """False only where ``term`` cannot occur in the text ``folded`` came from (a cheap test first)."""
    return not term.isascii() or term.casefold() in folded


@functools.lru_cache(maxsize=16384)
def _word(term: str) -> re.Pattern[str]:
    """``term`` as a whole word, any case; compiled once per term (a challenge asks every topic's terms
    of every clause of every decision: 285,000 lookups on the 1,600-file estate, where escaping the term
    and finding it in ``re``'s cache cost more than the search)."""
    return re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])", re.IGNORECASE)


def _negated(clause: str, span: tuple[int, int]) -> bool:
    start, end = span
    return PRE_NEGATION.search(clause[:start]) is not None or POST_NEGATION.match(clause[end:]) is not None


def _flat(text: str) -> str:
    return " ".join(MARKUP.sub("", LINK.sub(r"\1", text)).split())


def _sentences(decision: Decision) -> list[_Sentence]:
    """Sentences of the unit's prose, each with the line it starts on (comment and list markers removed)."""
    flat = ""
    starts: list[tuple[int, int]] = []  # (offset in flat, line)
    for number, text in decision.lines:
        cleaned = text
        if decision.in_code:
            cleaned = re.sub(r"^\s*(#+|//|/\*+|\*+/?|<!--|--)\s?", " ", cleaned)
        cleaned = re.sub(r"^\s*(#{1,6}|[-*+]|\d+[.)])\s+", " ", cleaned)
        cleaned = _flat(cleaned)
        if not cleaned:
            continue
        starts.append((len(flat), number))
        flat += cleaned + " "
    out: list[_Sentence] = []
    offset = 0
    for part in SENTENCE_END.split(flat):
        begin = flat.find(part, offset)
        offset = begin + len(part)
        if part.strip():
            line = next((n for o, n in reversed(starts) if o <= begin), decision.line)
            out.append(_Sentence(part.strip(), line))
    return out


def _names(
    decision: Decision, sentence: _Sentence, sentences: list[_Sentence], known: set[str]
) -> tuple[str, ...]:
    if decision.names_from:
        # a row of exceptions is about the workloads of its first cell that names any
        for cell in " ".join(t for _, t in decision.names_from).split(" | "):
            found = sorted(n for n in known if mentions(cell, n))
            if found:
                return tuple(found)
        return ()
    for text in (sentence.text, decision.title, " ".join(s.text for s in sentences)):
        bare = PATHISH.sub(" ", text)
        found = sorted(n for n in known if mentions(bare, n))
        if found:
            return tuple(found)
    return ()


def _general(decision: Decision, sentence: _Sentence, known: set[str]) -> bool:
    """Applies to the whole finding: says so ("cluster-wide", "every workload"), or names no workload."""
    if decision.in_code:
        return False  # a comment is about the record it sits on
    if decision.form == "exception":
        return False  # a row of exceptions is about the workloads it names
    if GENERAL.search(sentence.text) or GENERAL.search(_flat(decision.title)):
        return True
    statement = PATHISH.sub(" ", _flat(" ".join(t for _, t in decision.lines)))
    return not any(mentions(statement, n) for n in known)


def off_topic(jail: Jail, where: str, topics: list[TopicSpec]) -> str | None:
    """Why a cited ``path:line`` of the docs cannot hold a decision on ``topics`` (None: it can, or it
    is not a doc line this can judge, such as a values file where another mechanism lives)."""
    path, _, number = where.rpartition(":")
    if not topics or not number.isdigit() or path == ".infra-audit.yaml":
        return None
    unit = unit_at(jail, path, int(number))
    if unit is None:
        is_doc = path.lower().endswith(DOC_SUFFIXES)
        if is_doc and not 1 <= int(number) <= len(DecisionReader(jail).lines(path)):
            return f"{where} is not a line of {path}"
        return None
    if names_topic(unit.text + " " + unit.title, topics):
        return None
    return f"{where} is not about {' or '.join(t.key for t in topics)}"
