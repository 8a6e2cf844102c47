"""The arguments a cassette was recorded with, kept in its header, so ``--replay FILE`` alone replays.

A replay matches requests byte for byte, and the requests are rendered prompts: they carry the estate
path as typed, the cluster, the context, the run id, the date, the model, the concerns researched, the
budget (a researcher is told its tool-call budget) and streaming. ``RecordedRun`` is all of that, and
``reconcile`` fills the arguments of a replay from it: an argument not given takes the recorded value;
one given with another value is a one-line ``SettingsError`` naming the flag and both values, since
the replay could not match anyway.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.llm.settings import Price, RunBudget
from domain.concerns import Concern
from domain.errors import SettingsError

RUN_KEY = "run"
"""Where the header of a cassette keeps its ``RecordedRun``."""


class RecordedRun(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: Literal["run", "rerun"]
    estate: str = Field(description="The estate path as it was given (relative to the working directory).")
    cluster: str | None = Field(default=None, description="'live' or a snapshot directory, as given.")
    context: str | None = None
    run_id: str
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    provider: str = Field(default="anthropic", description="--provider (cassettes before it: anthropic).")
    region: str | None = Field(
        default=None, description="Bedrock's or Vertex's region: a Vertex request's path names it."
    )
    project: str | None = Field(default=None, description="Vertex's project: its requests' path names it.")
    model: str
    challenger_model: str | None = None
    synthesizer_model: str | None = None
    request_timeout: float | None = Field(
        default=None,
        description="--request-timeout as given; a replay waits for nothing, so a given one wins.",
    )
    concerns: tuple[Concern, ...] = Field(min_length=1)
    stream: bool = False
    anonymize: bool = False
    budget: RunBudget = Field(default_factory=RunBudget)
    price: Price | None = None


def recorded_run(label: dict[str, object], path: Path) -> RecordedRun | None:
    """The ``RecordedRun`` of a cassette header; None for a cassette recorded before headers had one."""
    raw = label.get(RUN_KEY)
    if raw is None:
        return None
    try:
        return RecordedRun.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or RUN_KEY
        raise SettingsError(f"cassette {path}: header '{RUN_KEY}.{where}': {error['msg'].lower()}") from None


def _same_place(given: str, recorded: str) -> bool:
    if "live" in (given, recorded):
        return given == recorded
    return Path(given).expanduser().resolve() == Path(recorded).expanduser().resolve()


def _contradiction(path: Path, flag: str, given: object, recorded: object) -> SettingsError:
    return SettingsError(
        f"{flag} {given} contradicts the cassette {path}, recorded with {flag} {recorded}; "
        "omit it to replay the recording"
    )


def reconcile(args: argparse.Namespace, recorded: RecordedRun, path: Path) -> None:
    """Fill ``args`` (of ``run``) from ``recorded``; raise on a given argument that contradicts it."""
    if recorded.command != "run":
        raise SettingsError(
            f"cassette {path} records an 'infra-audit {recorded.command}': replay it with "
            f"'infra-audit {recorded.command} ... --replay {path}'"
        )
    if args.path is not None and not _same_place(args.path, recorded.estate):
        raise _contradiction(path, "PATH", repr(args.path), repr(recorded.estate))
    args.path = recorded.estate  # the label as recorded: the prompts quote it
    if args.cluster is not None and (
        recorded.cluster is None or not _same_place(args.cluster, recorded.cluster)
    ):
        raise _contradiction(path, "--cluster", args.cluster, recorded.cluster or "(none)")
    args.cluster = recorded.cluster
    flags: list[tuple[str, str, object]] = [
        ("provider", "--provider", recorded.provider),
        ("context", "--context", recorded.context),
        ("run_id", "--run-id", recorded.run_id),
        ("date", "--date", recorded.date),
        ("model", "--model", recorded.model),
        ("challenger_model", "--challenger-model", recorded.challenger_model),
        ("synthesizer_model", "--synthesizer-model", recorded.synthesizer_model),
        ("max_tool_calls", "--max-tool-calls", recorded.budget.max_tool_calls_per_agent),
        ("max_tokens", "--max-tokens", recorded.budget.max_tokens_per_run),
        ("max_usd", "--max-usd", recorded.budget.max_usd_per_run),
    ]
    for name, flag, value in flags:
        given = getattr(args, name)
        if given is not None and given != value:
            raise _contradiction(path, flag, given, "(none)" if value is None else value)
        setattr(args, name, value)
    if args.request_timeout is None:
        args.request_timeout = recorded.request_timeout
    if args.concerns and set(args.concerns) != set(recorded.concerns):
        raise _contradiction(path, "--concern", ",".join(args.concerns), ",".join(recorded.concerns))
    args.concerns = list(recorded.concerns)
    if args.stream and not recorded.stream:
        raise _contradiction(path, "--stream", "(given)", "(not given)")
    args.stream = recorded.stream
    if args.anonymize and not recorded.anonymize:
        raise _contradiction(path, "--anonymize", "(given)", "(not given)")
    args.anonymize = recorded.anonymize
    recorded_price = f"{recorded.price.input:g},{recorded.price.output:g}" if recorded.price else None
    if args.price is not None and _price_pair(args.price) != _price_pair(recorded_price):
        raise _contradiction(path, "--price", args.price, recorded_price or "(none)")
    args.price = recorded_price


def _price_pair(text: str | None) -> tuple[float, ...] | str | None:
    try:
        return tuple(float(x) for x in text.split(",")) if text else None
    except ValueError:
        return text  # not a price: compares unequal, and the contradiction names it


def reconcile_rerun(concerns: list[Concern] | None, recorded: RecordedRun, path: Path) -> list[Concern]:
    """The concerns of a re-run replay: the recorded ones; given ones must be the same."""
    if recorded.command != "rerun":
        raise SettingsError(
            f"cassette {path} records an 'infra-audit {recorded.command}': replay it with "
            f"'infra-audit {recorded.command} --replay {path}'"
        )
    if concerns and set(concerns) != set(recorded.concerns):
        raise _contradiction(path, "--concern", ",".join(concerns), ",".join(recorded.concerns))
    return list(recorded.concerns)
