"""Model settings: which provider and model, where, with which credential, how patiently, at what cost.

One frozen object, built once by the CLI from flags and the environment (``pipeline/settings.py``,
the one module that reads it) and passed to the provider. The SDK is never left to read the
environment either: ``AnthropicModel`` passes every value explicitly, so what this object says is
what the run uses. It is saved with the run for ``resume`` without its credentials (excluded from
every dump), which are read from the environment again each time.

Credentials are ``SecretStr`` so that a ``repr``, a log line or a validation error can never show
them. Both may be set (as the SDK allows through the environment); the API key then wins, as it
does in the SDK, and the auth token is not sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_serializer

from domain.errors import SettingsError
from domain.urls import without_userinfo

if TYPE_CHECKING:
    from agents.llm.protocol import Usage

DEFAULT_MODEL = "claude-sonnet-5-5"
"""The newest Sonnet the installed SDK (anthropic 2.12) lists in ``types/model_param.py``.

Sonnet is the tier built for long tool-using agent loops at a moderate price; Opus costs more per
token and an audit runs eight agents. Its list price is not in ``accounting.PRICES`` (it was not
published when that table was written), so a run on the default model reports its cost as unknown
and is held by the token budget, unless the CLI passes a price (``ModelSettings.price``).
"""

DEFAULT_BASE_URL = "https://api.anthropic.com"


def cloud_endpoint(provider: str, region: str | None) -> str | None:
    """The default endpoint of a cloud provider in ``region``, as the SDK's own clients build it
    (``anthropic/lib/bedrock/_client.py``, ``lib/vertex/_client.py``); None for the Anthropic API."""
    if provider == "bedrock":
        return f"https://bedrock-runtime.{region or '(no region)'}.amazonaws.com"
    if provider == "vertex":
        shared = {"global": "aiplatform", "us": "aiplatform.us.rep", "eu": "aiplatform.eu.rep"}
        host = shared.get(region or "") or f"{region or '(no region)'}-aiplatform"
        return f"https://{host}.googleapis.com/v1"
    return None


MILLION = 1_000_000


class Price(BaseModel):
    """USD per million tokens. ``cache_write`` is the 5-minute TTL rate (1.25x input)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(ge=0)
    cache_read: float = Field(ge=0)

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_creation_input_tokens * self.cache_write
            + usage.cache_read_input_tokens * self.cache_read
        ) / MILLION


class RunBudget(BaseModel):
    """What one run may spend. Hitting a limit ends the agents cleanly with what they have."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_tool_calls_per_agent: int = Field(default=40, ge=0, description="Tool calls one agent may make.")
    # A researcher that uses its 40 calls re-sends a growing conversation each turn (most of it cache
    # reads): on the order of 2-3M tokens each, ~20M for a seven-agent run. An estimate from the loop's
    # shape, not a measurement (no model is reachable where this was written).
    max_tokens_per_run: int = Field(
        default=25_000_000,
        ge=0,
        description="Tokens the whole run may use: input (uncached, cache writes, cache reads) plus output.",
    )
    max_usd_per_run: float = Field(
        default=25.0, ge=0, description="Dollars the whole run may cost; applies where the price is known."
    )


class CloudCredentials(BaseModel):
    """What Bedrock and Vertex authenticate with, read from their usual environment by the CLI
    (``pipeline/settings.Environment``), never saved with a run. Unset values are left to the
    cloud's own chain: boto3's (shared config and credentials files, SSO, container or instance
    role) and google-auth's application default credentials."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    aws_profile: str | None = Field(default=None, description="AWS_PROFILE.")
    aws_access_key_id: SecretStr | None = Field(default=None, description="AWS_ACCESS_KEY_ID.")
    aws_secret_access_key: SecretStr | None = Field(default=None, description="AWS_SECRET_ACCESS_KEY.")
    aws_session_token: SecretStr | None = Field(default=None, description="AWS_SESSION_TOKEN.")
    bedrock_api_key: SecretStr | None = Field(
        default=None, description="AWS_BEARER_TOKEN_BEDROCK: a Bedrock API key, sent as a bearer token."
    )
    vertex_access_token: SecretStr | None = Field(
        default=None, description="A Google OAuth access token (tests, a replay); unset: google-auth's ADC."
    )

    def secrets(self) -> list[str]:
        values = (
            self.aws_access_key_id,
            self.aws_secret_access_key,
            self.aws_session_token,
            self.bedrock_api_key,
            self.vertex_access_token,
        )
        return [s.get_secret_value() for s in values if s is not None]


class ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str = Field(default="anthropic", description="Who serves the model (agents/llm/providers.py).")
    model: str = Field(default=DEFAULT_MODEL, min_length=1, description="Model id sent to the Messages API.")
    challenger_model: str | None = Field(
        default=None,
        min_length=1,
        description="Model of the challengers (--challenger-model); unset: ``model``.",
    )
    synthesizer_model: str | None = Field(
        default=None,
        min_length=1,
        description="Model of the synthesizer (--synthesizer-model); unset: ``model``.",
    )
    api_key: SecretStr | None = Field(default=None, exclude=True, description="ANTHROPIC_API_KEY.")
    auth_token: SecretStr | None = Field(
        default=None,
        exclude=True,
        description="ANTHROPIC_AUTH_TOKEN: a bearer token (a gateway, a local server).",
    )
    base_url: str | None = Field(
        default=None,
        description="ANTHROPIC_BASE_URL: any Anthropic-compatible endpoint (Ollama, vLLM, llama.cpp, "
        "LiteLLM, or the tests' scripted server). Unset: the Anthropic API. For Bedrock "
        "ANTHROPIC_BEDROCK_BASE_URL, for Vertex ANTHROPIC_VERTEX_BASE_URL (the SDK's own names).",
    )
    region: str | None = Field(
        default=None,
        description="Bedrock: the AWS region (AWS_REGION, AWS_DEFAULT_REGION, or the profile's); Vertex: "
        "CLOUD_ML_REGION. Saved with the run: a resume and a replay reach the same endpoint.",
    )
    project: str | None = Field(
        default=None,
        description="Vertex: the Google Cloud project (ANTHROPIC_VERTEX_PROJECT_ID, else the credentials').",
    )
    cloud: CloudCredentials = Field(
        default_factory=CloudCredentials,
        exclude=True,
        description="Bedrock's and Vertex's credentials; never saved.",
    )
    max_retries: int = Field(
        default=2, ge=0, le=10, description="SDK retries on 408/409/429/5xx and dropped connections."
    )
    timeout: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description="Seconds a request may wait for the server (--request-timeout): without streaming, "
        "for the whole reply; with streaming, between two events. A timeout is not retried by the SDK.",
    )
    anonymize: bool = Field(
        default=False,
        description="Pseudonymise namespace and workload names in every request (--anonymize; "
        "agents/llm/anonymize.py).",
    )
    stream: bool = Field(
        default=False, description="Stream replies (SSE); the reply handed to the agent is the same."
    )
    max_tokens: int = Field(
        default=8192, ge=1, description="Ceiling on max_tokens per call; a request asking for more is capped."
    )
    price: Price | None = Field(
        default=None, description="Price override (USD per million tokens); wins over the built-in table."
    )
    budget: RunBudget = Field(default_factory=RunBudget, description="What the run may spend.")

    @field_serializer("base_url")
    def _saved_without_userinfo(self, url: str | None) -> str | None:
        """A ``user:password@`` in the endpoint is a credential: never saved with the run (resume
        takes it from ``ANTHROPIC_BASE_URL`` again, see ``pipeline/models.build_model``)."""
        return without_userinfo(url) if url else url

    def role_model(self, role: str) -> str | None:
        """The model of a role when it is not ``model`` (the researchers always run on ``model``)."""
        chosen = {"challenge": self.challenger_model, "synthesize": self.synthesizer_model}.get(role)
        return chosen if chosen not in (None, self.model) else None

    @property
    def has_credentials(self) -> bool:
        return self.api_key is not None or self.auth_token is not None

    @property
    def endpoint(self) -> str:
        """Where requests go, without any user:password part, for messages a user may read."""
        default = cloud_endpoint(self.provider, self.region) or DEFAULT_BASE_URL
        return without_userinfo(self.base_url or default).rstrip("/")

    def secrets(self) -> list[str]:
        """The credential values, so error texts can be scrubbed of them."""
        direct = [s.get_secret_value() for s in (self.api_key, self.auth_token) if s is not None]
        return direct + self.cloud.secrets()

    def with_cloud(self, cloud: CloudCredentials) -> ModelSettings:
        """The same settings with Bedrock's or Vertex's credentials (from the environment, never saved)."""
        return self.model_copy(update={"cloud": cloud})

    def with_credentials(self, api_key: str | None, auth_token: str | None) -> ModelSettings:
        """The same settings with credentials (read from the environment by the CLI, never saved)."""
        return self.model_copy(
            update={
                "api_key": SecretStr(api_key) if api_key else None,
                "auth_token": SecretStr(auth_token) if auth_token else None,
            }
        )

    @classmethod
    def build(cls, **values: Any) -> ModelSettings:
        """Settings from flags (``None`` values are ignored); a bad value is a one-line ``SettingsError``
        that names the field and never echoes a value."""
        try:
            return cls.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
            )
            raise SettingsError(f"invalid model settings: {problems}") from None
