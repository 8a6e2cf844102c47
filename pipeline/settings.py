"""Run settings: one object, built once by the CLI from flags and the environment, passed down.

Nothing reads the environment at import time; ``from_env`` is called by the CLI only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.llm.accounting import Price, RunBudget
from tools.checks.spec import CONCERNS, Concern
from tools.clock import CLOCK_FORMS, format_clock, parse_clock
from tools.errors import SettingsError
from tools.evidence import DEFAULT_OUTPUT_CAP
from tools.pathnames import shown
from tools.sandbox import DEFAULT_FILE_CAP

DEFAULT_KEEP_RUNS = 10
KEEP_RUNS_ENV = "INFRA_AUDIT_KEEP_RUNS"


class LlmOptions(BaseModel):
    """How the LLM agents run. No credential lives here: a run's settings are saved for ``resume``,
    and the key is read from the environment again each time."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = Field(default=None, description="Model id; the client's default when unset.")
    base_url: str | None = Field(default=None, description="Anthropic-compatible endpoint, when not the API.")
    stream: bool = False
    budget: RunBudget = Field(default_factory=RunBudget)
    price: Price | None = None


class RunSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    estate: Path = Field(description="Root of the estate (the repo) to audit.")
    cluster: str | None = Field(
        default=None, description="'live' for the kubeconfig context, or a snapshot dir."
    )
    context: str | None = Field(default=None, description="kubeconfig context, like kubectl --context.")
    kubeconfig: str | None = Field(
        default=None, description="kubeconfig path(s), ':'-separated like KUBECONFIG."
    )
    kube_timeout: float = Field(
        default=20.0,
        gt=0,
        le=600,
        description="Seconds a Kubernetes API request may take (connecting: at most 5 of them).",
    )
    output_cap: int = Field(
        default=DEFAULT_OUTPUT_CAP, description="Characters of tool output kept per call."
    )
    file_cap: int = Field(
        default=DEFAULT_FILE_CAP, description="Largest file a repo tool reads, in bytes (default 2 MiB)."
    )
    concerns: tuple[Concern, ...] = Field(default=CONCERNS, description="Concerns to research.")
    out: Path | None = Field(default=None, description="Directory for audit.md, audit.json and audit.sarif.")
    mode: str = Field(default="offline", description="offline, or llm when an API key is configured.")
    llm: LlmOptions | None = Field(default=None, description="Set in llm mode.")
    date: str | None = Field(
        default=None,
        description="The audit clock (tools/clock.py): every judgement of time in the run uses it. "
        "When unset, a run settles it once at its start (pipeline/cluster.py) and saves it for resume.",
    )
    max_concurrency: int | None = Field(
        default=None, ge=1, description="Graph tasks at once (research branches, challengers); 1: one by one."
    )
    retry_wait: float = Field(
        default=30.0, ge=0, description="Seconds before the node retry after a model outage (tests: ~0)."
    )
    estate_label: str | None = Field(
        default=None, description="The estate path as the user typed it, for reproducible commands."
    )
    workdir: Path | None = Field(
        default=None, description="Working directory of the run; relative paths resolve against it on resume."
    )
    keep_runs: int = Field(
        default=DEFAULT_KEEP_RUNS,
        ge=0,
        description="Runs of this estate the run store keeps after a run (--keep-runs).",
    )

    def resolve(self, path: str | Path) -> Path:
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self.workdir is None:
            return candidate
        return self.workdir / candidate

    @field_validator("date")
    @classmethod
    def _one_spelling(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return format_clock(parse_clock(value))
        except ValueError:
            raise ValueError(f"not a date or time in the form {CLOCK_FORMS}") from None

    @property
    def clock(self) -> datetime | None:
        """The audit clock as an aware UTC datetime; None until the run has settled it."""
        return parse_clock(self.date) if self.date else None

    @property
    def display_estate(self) -> str:
        """The estate path as typed, shown as valid UTF-8 (``tools.pathnames``)."""
        return shown(self.estate_label or str(self.estate))

    @property
    def display_cluster(self) -> str | None:
        return shown(self.cluster) if self.cluster else None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: object) -> RunSettings:
        env = os.environ if env is None else env
        values = {k: v for k, v in flags.items() if v is not None}
        if "kubeconfig" not in values and env.get("KUBECONFIG"):
            values["kubeconfig"] = env["KUBECONFIG"]
        if "keep_runs" not in values and env.get(KEEP_RUNS_ENV):
            values["keep_runs"] = keep_runs_from_env(env)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_first_problem(exc)) from None


def keep_runs_from_env(env: Mapping[str, str]) -> int:
    """``$INFRA_AUDIT_KEEP_RUNS``, or the default; a value that is not a count is a one-line error."""
    text = env.get(KEEP_RUNS_ENV, "").strip()
    if not text:
        return DEFAULT_KEEP_RUNS
    if not text.isdigit():
        raise SettingsError(f"{KEEP_RUNS_ENV}={text!r}: not a number of runs (0 or more)")
    return int(text)


def _first_problem(exc: ValidationError) -> str:
    """One line naming the setting and the rule it breaks (never echoing a value)."""
    error = exc.errors()[0]
    name = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{name}: {message[:1].lower()}{message[1:]}"
