"""What a scripted agent can read from a request, and the pieces every scenario is built from.

A scenario is scripted agent behaviour, not a model: each route of the ``Router`` is a function of
the whole request JSON. It reads what a real agent would read (its system prompt, the tool results
of earlier turns) and answers with a fixed decision for its turn. Nothing here uses randomness or
the clock, so the same request always gets the same reply and recordings are byte-stable.

Route keys are the first line of each rendered system prompt (``prompts/*.md.j2``), and evidence
ids are computed the way the ledger computes them (``tools.evidence.evidence_id``): the catalog's
are checked against the ids the prompt shows, so a prompt or ledger change fails loudly here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fakes import Reply, ScriptError, assistant_turns, reply, text, tool_use
from fakes.script import render_message

from agents.llm.anthropic_wire import request_body
from agents.llm.protocol import ModelReply, ModelRequest
from domain.concerns import CONCERN_CODES, Concern
from tools.checks.spec import spec_by_id
from tools.evidence import evidence_id

SCRIPTED_MODEL = "scripted-test-model"
"""The model id scripted runs send. Not a real model: it says so, and it has no known price."""

Script = Callable[[dict[str, Any]], Reply]
Turn = Callable[["Conversation"], Reply]
CODE_TO_CONCERN: dict[str, Concern] = {code: concern for concern, code in CONCERN_CODES.items()}


def researcher_key(concern: str) -> str:
    return (
        f"You are the {concern} researcher of infra-audit, auditing an infrastructure estate as a senior SRE."
    )


NUMBERS_KEY = (
    "You are the numbers challenger of infra-audit, re-checking the numbers and facts of an "
    "infrastructure audit as a skeptical senior SRE."
)
INTENT_KEY = (
    "You are the intent challenger of infra-audit, re-checking the intent and scope of an "
    "infrastructure audit as a skeptical senior SRE."
)
SYNTH_KEY = (
    "You are the synthesizer of infra-audit, writing the prose of an infrastructure audit report "
    "as a senior SRE."
)


def check_evidence(check: str) -> str:
    """The evidence id of a catalog result: content-addressed like every tool call."""
    return evidence_id("check", {"id": check})


# --- reading a request ------------------------------------------------------------------------------

_EVIDENCE_HEAD = re.compile(r"^evidence (E-[0-9a-f]{10}) \| (\S+) \| status (\w+)(?: \| value (\S+))?")


@dataclass(frozen=True)
class ToolCall:
    """One tool call the agent made in an earlier turn, with the tool_result it got back."""

    id: str
    name: str
    input: Mapping[str, Any]
    text: str
    is_error: bool

    @property
    def evidence(self) -> str:
        match = _EVIDENCE_HEAD.match(self.text)
        if match is None:
            raise ScriptError(f"{self.name} came back without an evidence id: {self.text[:120]!r}")
        return match.group(1)

    @property
    def value(self) -> float | None:
        match = _EVIDENCE_HEAD.match(self.text)
        return float(match.group(4)) if match and match.group(4) else None

    def line_of(self, needle: str) -> int:
        """The line number ``repo_read`` shows for the first line containing ``needle``."""
        for line in self.text.splitlines():
            number, sep, rest = line.partition(": ")
            if sep and number.strip().isdigit() and needle in rest:
                return int(number)
        raise ScriptError(f"{needle!r} is not in the result of {self.name}({dict(self.input)})")


@dataclass(frozen=True)
class Conversation:
    """The request as an agent sees it: system prompt, turn number, earlier calls and answers."""

    request: Mapping[str, Any]

    @property
    def system(self) -> str:
        system = self.request.get("system")
        if isinstance(system, list):
            return "".join(b.get("text", "") for b in system if isinstance(b, dict))
        return str(system or "")

    @property
    def turn(self) -> int:
        return assistant_turns(self.request)

    def calls(self) -> list[ToolCall]:
        uses: dict[str, dict[str, Any]] = {}
        answers: dict[str, dict[str, Any]] = {}
        for message in self.request.get("messages", []):
            for block in message.get("content") or []:
                if not isinstance(block, dict):
                    continue
                if block.get("type") == "tool_use":
                    uses[block["id"]] = block
                elif block.get("type") == "tool_result":
                    answers[block["tool_use_id"]] = block
        return [
            ToolCall(
                id=uid,
                name=use["name"],
                input=use["input"],
                text=_result_text(answers[uid]),
                is_error=bool(answers[uid].get("is_error")),
            )
            for uid, use in uses.items()
            if uid in answers
        ]

    def call(self, name: str, args: Mapping[str, Any]) -> ToolCall:
        for made in self.calls():
            if made.name == name and dict(made.input) == dict(args):
                return made
        raise ScriptError(f"no answered call {name}({dict(args)}) in this conversation")

    def last_results(self) -> list[str]:
        """Texts of the tool results in the last user turn (what the agent reads right now)."""
        last = (self.request.get("messages") or [{}])[-1]
        return [_result_text(b) for b in last.get("content") or [] if b.get("type") == "tool_result"]


def _result_text(block: Mapping[str, Any]) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content if isinstance(b, dict))
    return str(content or "")


# --- the researcher's catalog, as its prompt shows it ----------------------------------------------

_ROW = re.compile(
    r"^- \*\*(?P<id>[A-Z0-9-]+)\*\*: (?P<title>.*)\. Evidence `(?P<evidence>E-[0-9a-f]{10})` "
    r"\(value (?P<value>\d+)\)\.$"
)
_SAMPLE = re.compile(r"^  - `(?P<ref>\S+)  (?P<subject>.+)`$")
_OF = re.compile(r"\b(\d+) of (\d+)\b")


@dataclass(frozen=True)
class CatalogRow:
    check: str
    title: str
    evidence: str
    value: int
    sample: tuple[tuple[str, str], ...]

    @property
    def total(self) -> int | None:
        match = _OF.search(self.title)
        return int(match.group(2)) if match else None


def catalog(system: str) -> dict[str, CatalogRow]:
    """The positive catalog results listed under "Start from the catalog", by check id.

    Each id is checked against the ledger's content address, so a prompt that shows a different
    id (or a ledger that hashes differently) stops the script instead of producing bad citations.
    """
    heads: dict[str, re.Match[str]] = {}
    samples: dict[str, list[tuple[str, str]]] = {}
    section = system.split("## Start from the catalog", 1)[-1].split("\nHow findings died", 1)[0]
    for line in section.splitlines():
        if row := _ROW.match(line):
            heads[row["id"]] = row
            samples[row["id"]] = []
        elif (sample := _SAMPLE.match(line)) and samples:
            samples[next(reversed(samples))].append((sample["ref"], sample["subject"]))
    out = {}
    for check, row in heads.items():
        if row["evidence"] != check_evidence(check):
            raise ScriptError(f"{check}: the prompt shows {row['evidence']}, the ledger id is different")
        out[check] = CatalogRow(
            check, row["title"], row["evidence"], int(row["value"]), tuple(samples[check])
        )
    return out


def catalog_finding(row: CatalogRow, **changes: Any) -> dict[str, Any]:
    """A finding as a careful researcher submits a catalog result: its count, evidence and sample."""
    spec = spec_by_id(row.check)
    finding: dict[str, Any] = {
        "check": row.check,
        "title": row.title,
        "summary": spec.rationale,
        "recommendation": spec.recommendation,
        "impact": spec.impact,
        "effort": spec.effort,
        "risk": spec.risk,
        "fatigue": spec.fatigue,
        "claims": [{"text": row.title, "value": row.value, "evidence": [row.evidence]}],
        "total": row.total,
        "locations": [{"ref": ref, "subject": subject} for ref, subject in row.sample],
        "extra_concerns": list(spec.concerns[1:]),
    }
    finding.update(changes)
    return finding


# --- scripted agents ----------------------------------------------------------------------------------


@dataclass
class Agent:
    """A conversation scripted turn by turn: reply N answers the request holding N assistant turns."""

    name: str
    turns: Sequence[Turn]

    def __call__(self, request: dict[str, Any]) -> Reply:
        convo = Conversation(request)
        if convo.turn >= len(self.turns):
            raise ScriptError(f"{self.name} has {len(self.turns)} turns; the request wants turn {convo.turn}")
        return self.turns[convo.turn](convo)


def explore(note: str, *calls: tuple[str, dict[str, Any]]) -> Turn:
    """A turn that says what it is after and makes these tool calls."""
    return lambda convo: reply(text(note), *(tool_use(name, args) for name, args in calls))


def submit(tool: str, build: Callable[[Conversation], dict[str, Any]], note: str = "") -> Turn:
    """A turn that submits what ``build`` computes from the conversation so far."""

    def turn(convo: Conversation) -> Reply:
        blocks = [text(note)] if note else []
        return reply(*blocks, tool_use(tool, build(convo)))

    return turn


# --- challengers and synthesizer: what their prompts list ---------------------------------------------

_FINDING = re.compile(
    r"^### (?P<id>R\d#\d+) \((?P<concern>\w+), (?:check (?P<check>[A-Z0-9-]+)|no check)\): (?P<title>.*)$"
)
_CLAIM = re.compile(r"^- Claim: (?P<text>.*?)(?: \(value (?P<value>[^)]+)\))?; evidence (?P<evidence>.+)$")
_CITED = re.compile(r"^- `(?P<id>E-[^`]+)` (?P<tool>\S+), value (?P<value>\S+): `")


@dataclass(frozen=True)
class Judged:
    """A finding as a challenger's prompt lists it."""

    id: str
    concern: str
    check: str | None
    title: str
    claims: tuple[tuple[str, float | None, tuple[str, ...]], ...]
    refs: tuple[str, ...]


def judged(system: str) -> list[Judged]:
    out: list[dict[str, Any]] = []
    for line in (
        system.split("## Findings to judge", 1)[-1].split("## Evidence the claims cite", 1)[0].splitlines()
    ):
        if match := _FINDING.match(line):
            out.append({**match.groupdict(), "claims": [], "refs": ()})
        elif (claim := _CLAIM.match(line)) and out:
            value = None if claim["value"] is None else float(claim["value"])
            out[-1]["claims"].append((claim["text"], value, tuple(claim["evidence"].split(", "))))
        elif line.startswith("- Refs: ") and out:
            out[-1]["refs"] = tuple(line[len("- Refs: ") :].split(", "))
    return [Judged(**{**f, "claims": tuple(f["claims"])}) for f in out]


def cited_values(system: str) -> dict[str, float | None]:
    """Evidence id -> value, from "Evidence the claims cite"."""
    section = system.split("## Evidence the claims cite", 1)[-1].split("## Evidence rules", 1)[0]
    values: dict[str, float | None] = {}
    for line in section.splitlines():
        if match := _CITED.match(line):
            values[match["id"]] = None if match["value"] == "none" else float(match["value"])
    return values


@dataclass(frozen=True)
class Backlog:
    """The synthesizer's view: final findings with their concerns, leaders and dangerous items."""

    findings: dict[str, tuple[str, tuple[Concern, ...]]]
    leaders_a: tuple[str, ...]
    leaders_b: tuple[str, ...]
    dangerous: tuple[str, ...]


def backlog(system: str) -> Backlog:
    findings: dict[str, tuple[str, tuple[Concern, ...]]] = {}
    lines = system.splitlines()
    for i, line in enumerate(lines):
        if match := re.match(r"^### (F\d+): (.*)$", line):
            codes = lines[i + 2].split(";", 1)[0].split("+")
            findings[match[1]] = (match[2], tuple(CODE_TO_CONCERN[c] for c in codes))
    leaders = re.search(r"^Rank A leaders: (.*?)\. Rank B leaders: (.*?)\. Leading both", system, re.M)
    if leaders is None:
        raise ScriptError("the synthesizer prompt has no leaders line")
    danger = system.split("## Dangerous to execute", 1)[-1].split("## What to write", 1)[0]

    def ids(text_: str) -> tuple[str, ...]:
        return tuple(i for i in text_.split(", ") if i != "none")

    return Backlog(
        findings=findings,
        leaders_a=ids(leaders[1]),
        leaders_b=ids(leaders[2]),
        dangerous=tuple(re.findall(r"^- (F\d+): ", danger, re.M)),
    )


def concerns_of(backlog_: Backlog, ids: Sequence[str]) -> set[str]:
    return {c for i in ids for c in backlog_.findings[i][1]}


# --- the same scripts without HTTP: a FunctionModel ---------------------------------------------------


def as_model_function(script: Script, model: str = SCRIPTED_MODEL) -> Callable[[ModelRequest], ModelReply]:
    """Answer a ``ModelRequest`` with a route script, through the server's own wire rendering.

    Graph tests use this with ``FunctionModel``: the same scenario, with no HTTP and no SDK.
    """

    def answer(request: ModelRequest) -> ModelReply:
        body = request_body(request, model, request.max_tokens)
        message = render_message(script(body), body)
        return ModelReply.model_validate(
            {k: message[k] for k in ("model", "content", "stop_reason", "usage")}
        )

    return answer
