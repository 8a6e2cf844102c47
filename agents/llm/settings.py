"""Model settings: which model, where, with which credential, and how patiently.

One frozen object, built once by the CLI (``ModelSettings.from_env(os.environ, **flags)``) and passed
to ``AnthropicModel``. Nothing here reads the environment at import time, and the SDK is never left
to read it either: ``AnthropicModel`` passes every value explicitly, so what this object says is
what the run uses.

Credentials are ``SecretStr`` so that a ``repr``, a log line or a validation error can never show
them. Both may be set (as the SDK allows through the environment); the API key then wins, as it
does in the SDK, and the auth token is not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from agents.llm.accounting import Price
from domain.errors import SettingsError

DEFAULT_MODEL = "claude-sonnet-5-5"
"""The newest Sonnet the installed SDK (anthropic 2.12) lists in ``types/model_param.py``.

Sonnet is the tier built for long tool-using agent loops at a moderate price; Opus costs more per
token and an audit runs eight agents. Its list price is not in ``accounting.PRICES`` (it was not
published when that table was written), so a run on the default model reports its cost as unknown
and is held by the token budget, unless the CLI passes a price (``ModelSettings.price``).
"""

DEFAULT_BASE_URL = "https://api.anthropic.com"

ENV_API_KEY = "ANTHROPIC_API_KEY"
ENV_AUTH_TOKEN = "ANTHROPIC_AUTH_TOKEN"
ENV_BASE_URL = "ANTHROPIC_BASE_URL"


class ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(default=DEFAULT_MODEL, min_length=1, description="Model id sent to the Messages API.")
    api_key: SecretStr | None = Field(default=None, description="ANTHROPIC_API_KEY.")
    auth_token: SecretStr | None = Field(
        default=None, description="ANTHROPIC_AUTH_TOKEN: a bearer token (a gateway, a local server)."
    )
    base_url: str | None = Field(
        default=None,
        description="ANTHROPIC_BASE_URL: any Anthropic-compatible endpoint (Ollama, vLLM, llama.cpp, "
        "LiteLLM, or the tests' scripted server). Unset: the Anthropic API.",
    )
    max_retries: int = Field(
        default=2, ge=0, le=10, description="SDK retries on 408/409/429/5xx and dropped connections."
    )
    timeout: float = Field(default=120.0, gt=0, description="Seconds per HTTP attempt.")
    stream: bool = Field(
        default=False, description="Stream replies (SSE); the reply handed to the agent is the same."
    )
    max_tokens: int = Field(
        default=8192, ge=1, description="Ceiling on max_tokens per call; a request asking for more is capped."
    )
    price: Price | None = Field(
        default=None, description="Price override (USD per million tokens); wins over the built-in table."
    )

    @property
    def has_credentials(self) -> bool:
        return self.api_key is not None or self.auth_token is not None

    @property
    def endpoint(self) -> str:
        """Where requests go, without any user:password part, for messages a user may read."""
        url = self.base_url or DEFAULT_BASE_URL
        scheme, sep, rest = url.partition("://")
        if not sep:
            return url.rsplit("@", 1)[-1]
        host, slash, path = rest.partition("/")
        return f"{scheme}://{host.rsplit('@', 1)[-1]}{slash}{path}".rstrip("/")

    def secrets(self) -> list[str]:
        """The credential values, so error texts can be scrubbed of them."""
        return [s.get_secret_value() for s in (self.api_key, self.auth_token) if s is not None]

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> ModelSettings:
        """Settings from the environment the CLI passes in, then flags (``None`` flags are ignored).

        Empty environment values count as unset, as they do for the SDK. A bad value is a
        ``SettingsError`` (one line, exit 2) that names the field and never echoes a value.
        """
        values: dict[str, Any] = {}
        names = (("api_key", ENV_API_KEY), ("auth_token", ENV_AUTH_TOKEN), ("base_url", ENV_BASE_URL))
        for field, name in names:
            value = env.get(name, "").strip()
            if value:
                values[field] = value
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
            )
            raise SettingsError(f"invalid model settings: {problems}") from None
