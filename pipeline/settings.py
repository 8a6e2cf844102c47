"""Run settings: one object, built once by the CLI from flags and the environment, passed down.

Nothing reads the environment at import time; ``from_env`` is called by the CLI only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.llm.accounting import Price, RunBudget
from tools.checks.spec import CONCERNS, Concern
from tools.errors import SettingsError
from tools.evidence import DEFAULT_OUTPUT_CAP
from tools.pathnames import shown


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
    output_cap: int = Field(
        default=DEFAULT_OUTPUT_CAP, description="Characters of tool output kept per call."
    )
    file_cap: int = Field(default=2 * 1024 * 1024, description="Largest file a repo tool reads, in bytes.")
    concerns: tuple[Concern, ...] = Field(default=CONCERNS, description="Concerns to research.")
    out: Path | None = Field(default=None, description="Directory for audit.md, audit.json and audit.sarif.")
    mode: str = Field(default="offline", description="offline, or llm when an API key is configured.")
    llm: LlmOptions | None = Field(default=None, description="Set in llm mode.")
    date: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="Audit date (YYYY-MM-DD); today when unset."
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

    def resolve(self, path: str | Path) -> Path:
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self.workdir is None:
            return candidate
        return self.workdir / candidate

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
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_first_problem(exc)) from None


def _first_problem(exc: ValidationError) -> str:
    """One line naming the setting and the rule it breaks (never echoing a value)."""
    error = exc.errors()[0]
    name = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
    return f"{name}: {error['msg'].lower()}"
