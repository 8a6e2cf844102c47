"""The tool-use loop every LLM agent runs: explore with read-only tools, then submit once.

One loop for all roles (researcher, challengers, synthesizer); a role is its prompt, its toolset and
its submission tool. The rules the loop enforces, whatever the model does:

* every tool call goes through the ``Toolbox`` (validated, sandboxed, redacted, recorded as
  evidence); the tool result the model sees starts with the evidence id it can cite;
* the same call with the same arguments twice by one agent is answered from the ledger and counted
  as a loop (another agent's identical call is answered from the ledger too, but is not a loop);
  after ``MAX_REPEATS`` loops the agent is told to submit;
* budgets: at ``max_tool_calls`` for this agent, or when the run's token or dollar budget is spent,
  the agent gets one last turn whose only tool is the submission tool, forced;
* the submission is a forced structured-output tool whose input schema is a pydantic model; a
  submission that does not validate, or whose claims cite evidence the agent never saw, is rejected
  with a message that says exactly what to fix, and the agent may submit again, up to
  ``MAX_REJECTED`` rejections; the same rejected submission again (same input, nothing new seen
  since) is a loop and ends the agent at once. An agent ended so has no payload, and its role falls
  back to the deterministic path (``stopped`` says why);
* text with no tool call is nudged once towards submitting, then the final turn is forced;
* what real models get wrong is answered, never run (see "With a model" in docs/architecture.md):
  a tool call whose input was not a JSON object, or the call a ``max_tokens`` stop cut off (its input
  may be incomplete, so a submission that happens to validate is not accepted either), gets an
  error tool_result saying what to resend, and counts as a tool call (exploration) or a rejection
  (submission), so it is bounded by the same budgets; a ``refusal`` ends the agent at once; a
  ``pause_turn`` is continued (the next request carries the paused turn), up to ``MAX_PAUSES``;
  a request the model cannot take (``ModelRejected`` with failure ``too_large`` or
  ``context_overflow``) is retried once from the prompt alone with the submission forced, and a
  second ends the agent (its role falls back).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from agents.context import AgentContext
from agents.llm.accounting import Accountant, usage_line
from agents.llm.prompts import render
from agents.llm.protocol import (
    Message,
    ModelClient,
    ModelReply,
    ModelRequest,
    TextBlock,
    ToolChoice,
    ToolDef,
    ToolUseBlock,
    tool_results,
    user_text,
)
from agents.llm.settings import RunBudget
from domain.concerns import Role, agent_label
from domain.errors import ModelRejected
from domain.evidence import Evidence
from tools.registry import Toolbox, ToolSpec

P = TypeVar("P", bound=BaseModel)

MAX_REPEATS = 3
MAX_REJECTED = 3
MAX_PAUSES = 2
CUT_OFF = (
    "Submission cut off at the output token limit, nothing was recorded. Submit again, more "
    "concisely: shorter summaries and at most the 20 most telling locations per finding."
)
TOO_LARGE = {"too_large": "request too large", "context_overflow": "context window exceeded"}
"""The ``ModelRejected.failure`` of a request the model cannot take, and how ``stopped`` says it."""
COMPACTED = (
    "Your earlier turns no longer fit the model's context window and were dropped. Do not explore "
    "further: submit now, citing evidence ids you have seen (the catalog's results above included)."
)
AUTO = ToolChoice(mode="auto")
_EMPTY_TURN = Message(role="assistant", content=[TextBlock(text="(no reply)")])
MAX_TURNS = 60
OUTPUT_SHOWN = 6_000


@dataclass
class Submission(Generic[P]):
    """The structured-output tool of a role: its schema, and the checks the loop runs on a submission."""

    name: str
    description: str
    schema: type[P]
    check: Callable[[P, set[str]], list[str]] = field(default=lambda payload, seen: [])
    """Returns problems (empty: accepted), given the payload and the evidence ids the agent has seen."""

    def tool(self) -> ToolDef:
        schema = self.schema.model_json_schema()
        schema.pop("title", None)
        return ToolDef(name=self.name, description=self.description, input_schema=schema)


@dataclass
class AgentRun(Generic[P]):
    agent: str
    payload: P | None
    seen: set[str]
    called: set[str] = field(default_factory=set)
    """Evidence ids of this agent's own tool calls: a repeat of one of these is this agent's loop."""
    tool_calls: int = 0
    repeats: int = 0
    turns: int = 0
    rejected: int = 0
    rejected_inputs: set[str] = field(default_factory=set)
    """Each rejected submission's input and the evidence seen then: the same again is a loop."""
    looped: bool = False
    """It sent a rejected submission again, unchanged, with nothing new seen in between."""
    stopped: str = "submitted"

    def rejection_limit(self) -> str | None:
        """Why the agent must end after its rejected submissions, if it must."""
        if self.looped:
            return "the same rejected submission again"
        if self.rejected >= MAX_REJECTED:
            return f"{self.rejected} submissions rejected"
        return None


def tool_defs(specs: list[ToolSpec]) -> list[ToolDef]:
    return [ToolDef(name=s.name, description=s.description, input_schema=s.input_schema()) for s in specs]


def render_evidence(evidence: Evidence, repeated: bool) -> str:
    """What the model reads back: the evidence id to cite first, then the command and the output."""
    head = f"evidence {evidence.id} | {evidence.tool} | status {evidence.status}"
    if evidence.value is not None:
        head += f" | value {evidence.value:g}"
    if repeated:
        head += " | you already ran this exact call; answered from the ledger (a loop: change the query)"
    body = evidence.error if evidence.status == "error" else evidence.output
    text = body or ""
    if len(text) > OUTPUT_SHOWN:
        text = text[:OUTPUT_SHOWN] + f"\n[... {len(text) - OUTPUT_SHOWN} more characters: narrow the query]"
    elif evidence.truncated:
        text += "\n[output truncated: narrow the query]"
    return f"{head}\n$ {evidence.command}\n{text}"


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()[:12]
    )


def run_agent(
    *,
    agent: str,
    client: ModelClient,
    system: str,
    prompt: str,
    toolbox: Toolbox,
    tools: list[ToolSpec],
    submission: Submission[P],
    accountant: Accountant,
    budget: RunBudget,
    seen: set[str] | None = None,
    max_tokens: int = 8192,
    on_turn: Callable[[AgentRun[P]], None] | None = None,
    model: str | None = None,
) -> AgentRun[P]:
    """Run one agent to its submission or the end of its budget. ``seen``: ids it may cite from the start."""
    run: AgentRun[P] = AgentRun(agent=agent, payload=None, seen=set(seen or ()))
    messages = [user_text(prompt)]
    explore = tool_defs(tools)
    submit = submission.tool()
    by_name = {s.name for s in tools}
    final = False
    nudged = False
    compacted = False
    pauses = 0
    while run.turns < MAX_TURNS:
        run.turns += 1
        spent = accountant.check_budget()
        if run.tool_calls >= budget.max_tool_calls_per_agent or run.repeats >= MAX_REPEATS or spent:
            final = True
        request = ModelRequest(
            agent=agent,
            system=system,
            messages=messages,
            tools=[submit] if final else [*explore, submit],
            # forced: exactly one submission, so a reply cannot carry two that overwrite each other
            tool_choice=(ToolChoice(mode="tool", name=submission.name, parallel=False) if final else AUTO),
            max_tokens=max_tokens,
            model=model,
        )
        try:
            reply = client.complete(request)
        except ModelRejected as exc:
            if exc.failure not in TOO_LARGE:
                raise
            if compacted or len(messages) == 1:  # nothing left to drop: the prompt alone is too large
                run.stopped = TOO_LARGE[exc.failure]
                return run
            # the conversation outgrew the model: once, the prompt alone, and the submission forced
            compacted = final = True
            messages = [user_text(f"{prompt}\n\n{COMPACTED}")]
            continue
        uses = reply.tool_uses
        calls_before = run.tool_calls
        _append_reply(messages, reply)
        if reply.stop_reason == "refusal":  # what it refused, it refuses again: nothing is run
            accountant.record(agent, reply.model, reply.usage, stop_reason=reply.stop_reason)
            run.stopped = "the model refused"
            return run
        if not uses and reply.stop_reason == "pause_turn" and pauses < MAX_PAUSES:
            # a paused turn goes back as it is, and the model carries on from where it stopped
            accountant.record(agent, reply.model, reply.usage, stop_reason=reply.stop_reason)
            pauses += 1
            continue
        if not uses:
            accountant.record(agent, reply.model, reply.usage, stop_reason=reply.stop_reason)
            if final:
                run.stopped = "no-submission"
                return run
            messages.append(user_text(_nudge(submission.name, nudged)))
            final = nudged
            nudged = True
            continue
        answers: list[tuple[str, str, bool]] = []
        # at a max_tokens stop the last block is where the output ended: its input may be incomplete
        cut = uses[-1].id if reply.stop_reason == "max_tokens" else None
        for use in uses:
            if use.id == cut or use.invalid_input is not None:
                answer = _unusable(run, submission.name, use, cut_off=use.id == cut)
            elif use.name == submission.name:
                answer = _submit(run, submission, use)
            elif final or (use.name not in by_name and use.name in toolbox.names()):
                answer = (use.id, _refused(use.name, final, by_name, submission.name), True)
            else:
                answer = _call(run, toolbox, use, agent)
            answers.append(answer)
        # usage with the calls this turn actually ran, the same count the budget uses
        accountant.record(
            agent,
            reply.model,
            reply.usage,
            tool_calls=run.tool_calls - calls_before,
            stop_reason=reply.stop_reason,
        )
        if on_turn is not None:
            on_turn(run)
        if run.payload is not None:
            return run
        if (limit := run.rejection_limit()) is not None:
            run.stopped = limit
            return run
        messages.append(tool_results(answers))
        if final and not any(u.name == submission.name for u in uses):
            run.stopped = "no-submission"
            return run
    run.stopped = "turn-limit"
    return run


def _append_reply(messages: list[Message], reply: ModelReply) -> None:
    """The model's turn onto the conversation; a turn continuing a paused one joins it (roles
    alternate), and the API refuses an assistant turn with no content, so an empty one says so."""
    if messages[-1].role == "assistant":
        messages[-1] = Message(role="assistant", content=[*messages[-1].content, *reply.content])
    else:
        messages.append(reply.as_message() if reply.content else _EMPTY_TURN)


def _unusable(
    run: AgentRun[P], submit_name: str, use: ToolUseBlock, *, cut_off: bool
) -> tuple[str, str, bool]:
    """A call whose input cannot be trusted: answered with what to resend, never run nor accepted.

    It counts as what it tried to be, so a model that keeps sending them meets the same bounds: a
    rejected submission (``MAX_REJECTED``, and the same one again is a loop), or a tool call."""
    if use.name == submit_name:
        _rejected(run, use)
        if cut_off:
            return (use.id, CUT_OFF, True)
        return (
            use.id,
            f"Submission rejected, nothing was recorded: its input was not a JSON object "
            f"({use.invalid_input}). Submit again with valid JSON.",
            True,
        )
    run.tool_calls += 1
    why = (
        "your reply was cut off at the output token limit inside this call, so its input may be incomplete"
        if cut_off
        else f"its input was not a JSON object ({use.invalid_input})"
    )
    return (use.id, f"{use.name} was not run: {why}. Send the call again, complete and shorter.", True)


def _nudge(submit_name: str, nudged: bool) -> str:
    if nudged:
        return f"Submit now with {submit_name}: this is your last turn."
    return f"Continue with a tool call, or submit what you have with {submit_name}."


def _refused(name: str, final: bool, available: set[str], submit_name: str) -> str:
    if final:
        return f"{name} was not run: your budget is spent. Submit what you have with {submit_name} now."
    return f"There is no tool {name!r}. Tools: {', '.join(sorted(available))}, and {submit_name} to submit."


def _call(run: AgentRun[P], toolbox: Toolbox, use: ToolUseBlock, agent: str) -> tuple[str, str, bool]:
    # A name the toolbox does not know (a write verb, a cluster tool without a cluster) is refused by
    # the toolbox and recorded as error evidence, like any failed call. A repeat is judged per agent:
    # the ledger is shared by the whole run, and another agent's identical call is not this one's loop
    # (nor may the text an agent reads depend on which parallel agent called first).
    evidence, _ = toolbox.run(use.name, dict(use.input), agent=agent)
    repeated = evidence.id in run.called
    run.called.add(evidence.id)
    run.tool_calls += 1
    run.repeats += int(repeated)
    run.seen.add(evidence.id)
    return (use.id, render_evidence(evidence, repeated), evidence.status == "error")


def _rejected(run: AgentRun[P], use: ToolUseBlock) -> None:
    key = json.dumps(use.input, sort_keys=True, default=str) + f"|{len(run.seen)}"
    run.rejected += 1
    # the seen set only grows: the same size is the same set, so the same checks give the same answer
    if key in run.rejected_inputs:
        run.looped = True
    run.rejected_inputs.add(key)


def _submit(run: AgentRun[P], submission: Submission[P], use: ToolUseBlock) -> tuple[str, str, bool]:
    try:
        payload = submission.schema.model_validate(use.input)
    except ValidationError as exc:
        _rejected(run, use)
        return (
            use.id,
            f"Submission rejected, nothing was recorded. Fix and submit again: {_problems(exc)}",
            True,
        )
    problems = submission.check(payload, run.seen)
    if problems:
        _rejected(run, use)
        listed = "\n".join(f"- {p}" for p in problems[:20])
        return (
            use.id,
            f"Submission rejected, nothing was recorded. Fix these and submit again:\n{listed}",
            True,
        )
    run.payload = payload
    return (use.id, json.dumps({"accepted": True}), False)


def run_role(
    ctx: AgentContext,
    *,
    role: Role,
    who: str | None,
    template: str,
    variables: dict[str, Any],
    prompt: str,
    submission: Submission[P],
    toolbox: Toolbox | None = None,
    explore: bool = True,
    seen: set[str] | None = None,
) -> AgentRun[P]:
    """Run one role's agent on the run's model: its prompt rendered from ``template``, the run's
    accountant and budget, every turn reported to the progress display with its usage so far."""
    model, accountant, budget = ctx.llm()
    toolbox = toolbox or ctx.toolbox()
    agent = agent_label(role, who)
    return run_agent(
        agent=agent,
        client=model,
        system=render(template, **variables),
        prompt=prompt,
        toolbox=toolbox,
        tools=toolbox.specs if explore else [],
        submission=submission,
        accountant=accountant,
        budget=budget,
        seen=seen,
        model=ctx.role_model(role),
        on_turn=lambda run: ctx.progress(
            role, who or "report", f"turn {run.turns}: {usage_line(accountant, agent)}", detail=True
        ),
    )
