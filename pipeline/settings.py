"""Run settings, and the one place that reads the environment.

``Environment.read()`` takes what infra-audit uses of the process environment, once, in the CLI's
``main``; every command gets that snapshot (``args.env``) and builds its settings from it and the
flags: ``RunSettings`` for the run, ``ModelSettings`` (``agents/llm/settings.py``) for the model.
No other module reads ``os.environ`` (``tests/unit/test_layers.py`` checks it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from agents.llm.settings import CloudCredentials, ModelSettings
from domain.concerns import CONCERNS, Concern, Mode
from domain.errors import SettingsError
from domain.identity import Severity
from tools.clock import CLOCK_FORMS, format_clock, parse_clock
from tools.evidence import DEFAULT_OUTPUT_CAP
from tools.helm.options import ChartOptions
from tools.pathnames import shown
from tools.sandbox import DEFAULT_FILE_CAP

DEFAULT_KEEP_RUNS = 10
KEEP_RUNS_ENV = "INFRA_AUDIT_KEEP_RUNS"
CHART_CACHE_ENV = "INFRA_AUDIT_CHART_CACHE"


ENV_API_KEY = "ANTHROPIC_API_KEY"
ENV_AUTH_TOKEN = "ANTHROPIC_AUTH_TOKEN"
ENV_BASE_URL = "ANTHROPIC_BASE_URL"
# Bedrock and Vertex: the names the anthropic SDK's own clients, boto3 and google-auth read
CLOUD_ENV = {
    "aws_region": "AWS_REGION",
    "aws_default_region": "AWS_DEFAULT_REGION",
    "aws_profile": "AWS_PROFILE",
    "aws_access_key_id": "AWS_ACCESS_KEY_ID",
    "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "aws_session_token": "AWS_SESSION_TOKEN",
    "bedrock_api_key": "AWS_BEARER_TOKEN_BEDROCK",
    "bedrock_base_url": "ANTHROPIC_BEDROCK_BASE_URL",
    "vertex_region": "CLOUD_ML_REGION",
    "vertex_project": "ANTHROPIC_VERTEX_PROJECT_ID",
    "vertex_base_url": "ANTHROPIC_VERTEX_BASE_URL",
}


@dataclass(frozen=True)
class Environment:
    """What infra-audit reads of the process environment; empty values count as unset."""

    api_key: str | None = None
    auth_token: str | None = None
    base_url: str | None = None
    kubeconfig: str | None = None
    keep_runs: str | None = None
    home: str | None = None
    """``$INFRA_AUDIT_HOME``: the run store."""
    xdg_state_home: str | None = None
    chart_cache: str | None = None
    """``$INFRA_AUDIT_CHART_CACHE``: the Helm chart cache."""
    xdg_cache_home: str | None = None
    cloud: Mapping[str, str] = field(default_factory=dict)
    """Bedrock's and Vertex's variables that are set, by ``CLOUD_ENV`` key (``aws_region``, ...)."""

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> Environment:
        source = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return source.get(name, "").strip() or None

        return cls(
            api_key=get(ENV_API_KEY),
            auth_token=get(ENV_AUTH_TOKEN),
            base_url=get(ENV_BASE_URL),
            kubeconfig=get("KUBECONFIG"),
            keep_runs=get(KEEP_RUNS_ENV),
            home=get("INFRA_AUDIT_HOME"),
            xdg_state_home=get("XDG_STATE_HOME"),
            chart_cache=get(CHART_CACHE_ENV),
            xdg_cache_home=get("XDG_CACHE_HOME"),
            cloud={key: value for key, name in CLOUD_ENV.items() if (value := get(name))},
        )

    @property
    def has_credentials(self) -> bool:
        return self.api_key is not None or self.auth_token is not None

    def state_dir(self) -> Path:
        """Where runs are kept: ``$INFRA_AUDIT_HOME``, else ``$XDG_STATE_HOME/infra-audit``."""
        if self.home:
            return Path(self.home)
        return Path(self.xdg_state_home or Path.home() / ".local" / "state") / "infra-audit"

    def chart_cache_for(self, given: str | None) -> Path:
        """``--chart-cache`` when given, else this environment's cache (``chart_cache_dir``)."""
        return Path(given).expanduser() if given else self.chart_cache_dir()

    def chart_cache_dir(self) -> Path:
        """The Helm chart cache: ``$INFRA_AUDIT_CHART_CACHE``, else ``$XDG_CACHE_HOME/infra-audit/charts``
        (``~/.cache/infra-audit/charts``)."""
        if self.chart_cache:
            return Path(self.chart_cache).expanduser()
        return Path(self.xdg_cache_home or Path.home() / ".cache") / "infra-audit" / "charts"

    def keep_runs_count(self) -> int:
        """``$INFRA_AUDIT_KEEP_RUNS``, or the default; a value that is not a count is a one-line error."""
        text = self.keep_runs or ""
        if not text:
            return DEFAULT_KEEP_RUNS
        if not text.isdigit():
            raise SettingsError(f"{KEEP_RUNS_ENV}={text!r}: not a number of runs (0 or more)")
        return int(text)

    def base_url_for(self, provider: str | None) -> str | None:
        """The endpoint override of a provider: ANTHROPIC_BASE_URL, or the SDK's Bedrock/Vertex one."""
        if provider in ("bedrock", "vertex"):
            return self.cloud.get(f"{provider}_base_url")
        return self.base_url

    def region_for(self, provider: str | None) -> str | None:
        if provider == "bedrock":
            return self.cloud.get("aws_region") or self.cloud.get("aws_default_region")
        return self.cloud.get("vertex_region") if provider == "vertex" else None

    def cloud_credentials(self) -> CloudCredentials:
        """Bedrock's and Vertex's credentials of this environment (unset: the cloud's own chain)."""
        secret = {
            k: SecretStr(v)
            for k, v in self.cloud.items()
            if k in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "bedrock_api_key")
        }
        return CloudCredentials(aws_profile=self.cloud.get("aws_profile"), **secret)

    def model_settings(self, **flags: Any) -> ModelSettings:
        """Model settings from flags, with the endpoint and credentials of this environment."""
        provider = flags.get("provider")
        cloud = {"region": self.region_for(provider)}
        if provider == "vertex":
            cloud["project"] = self.cloud.get("vertex_project")
        settings = ModelSettings.build(**{"base_url": self.base_url_for(provider), **cloud, **flags})
        return settings.with_credentials(self.api_key, self.auth_token).with_cloud(self.cloud_credentials())


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
    mode: Mode = Field(default="offline", description="offline, or llm when a model is configured.")
    llm: ModelSettings | None = Field(
        default=None, description="Set in llm mode (saved without its credentials)."
    )
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
    chart_cache: Path | None = Field(
        default=None, description="The Helm chart cache directory (--chart-cache); None: no cache."
    )
    fetch_charts: bool = Field(
        default=False, description="Pull charts missing from the cache (--fetch-charts; network, read-only)."
    )
    keep_runs: int = Field(
        default=DEFAULT_KEEP_RUNS,
        ge=0,
        description="Runs of this estate the run store keeps after a run (--keep-runs).",
    )
    fail_on: Severity | None = Field(
        default=None, description="Exit 1 when an open finding is at or above this severity (--fail-on)."
    )
    baseline: Path | None = Field(
        default=None, description="An older audit.json: only findings new since it gate (--baseline)."
    )

    def resolve(self, path: str | Path) -> Path:
        candidate = Path(path).expanduser()
        if candidate.is_absolute() or self.workdir is None:
            return candidate
        return self.workdir / candidate

    def chart_options(self) -> ChartOptions:
        return ChartOptions(
            cache_dir=self.resolve(self.chart_cache) if self.chart_cache is not None else None,
            fetch=self.fetch_charts,
            timeout=self.kube_timeout,
        )

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
    def from_env(cls, env: Environment, **flags: object) -> RunSettings:
        values = {k: v for k, v in flags.items() if v is not None}
        if "kubeconfig" not in values and env.kubeconfig:
            values["kubeconfig"] = env.kubeconfig
        if "chart_cache" not in values:
            values["chart_cache"] = env.chart_cache_dir()
        if "keep_runs" not in values and env.keep_runs:
            values["keep_runs"] = env.keep_runs_count()
        try:
            settings = cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(_first_problem(exc)) from None
        settings.refuse_fetching_into_audited()
        return settings

    def refuse_fetching_into_audited(self) -> None:
        """``--fetch-charts`` writes what it pulls into the chart cache: a cache inside the estate or the
        snapshot directory would be a write to what is audited. One line, exit 2 (read-only, it is fine)."""
        if not self.fetch_charts or self.chart_cache is None:
            return
        cache = self.resolve(self.chart_cache).resolve()
        snapshot = self.resolve(self.cluster) if self.cluster and self.cluster != "live" else None
        for what, root in (("estate", self.resolve(self.estate)), ("snapshot", snapshot)):
            if root is not None and root.is_dir() and cache.is_relative_to(root.resolve()):
                raise SettingsError(
                    f"--chart-cache {str(self.chart_cache)!r} is inside the audited {what} and "
                    "--fetch-charts would write to it: infra-audit never writes to what it audits; "
                    "put the cache elsewhere"
                )


def _first_problem(exc: ValidationError) -> str:
    """One line naming the setting and the rule it breaks (never echoing a value)."""
    error = exc.errors()[0]
    name = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{name}: {message[:1].lower()}{message[1:]}"
