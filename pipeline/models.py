"""Which mind an audit runs with: offline, or a model reached with credentials from the environment.

The CLI calls these; nothing reads the environment at import time. A cassette replay runs the LLM
path with a placeholder credential: vcrpy answers every request from the cassette, and an
unplanned request fails instead of reaching a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.llm.protocol import ModelClient
from agents.llm.providers import make_model
from agents.llm.settings import ENV_API_KEY, ENV_AUTH_TOKEN, ENV_BASE_URL, ModelSettings
from domain.errors import SettingsError
from pipeline.settings import LlmOptions

if TYPE_CHECKING:
    pass

REPLAY_KEY = "replay-from-cassette"
LOCAL_KEY = "no-key-for-a-local-server"


@dataclass(frozen=True)
class Mind:
    mode: str  # "offline" or "llm"
    why: str


def choose(env: Mapping[str, str], *, offline: bool, replay: bool, record: bool) -> Mind:
    if offline:
        return Mind("offline", "--offline given")
    if replay:
        return Mind("llm", "replaying a cassette")
    if env.get(ENV_API_KEY) or env.get(ENV_AUTH_TOKEN):
        return Mind("llm", "an Anthropic credential is set")
    if env.get(ENV_BASE_URL):
        return Mind("llm", f"{ENV_BASE_URL} points at an Anthropic-compatible server")
    if record:
        raise SettingsError(
            f"--record needs a model: set {ENV_API_KEY} (or {ENV_BASE_URL} for a local server)"
        )
    return Mind("offline", f"no {ENV_API_KEY} or {ENV_BASE_URL} set")


def build_model(options: LlmOptions, env: Mapping[str, str], *, replay: bool = False) -> ModelClient:
    """The run's model client. The provider's SDK is imported only now (the anthropic SDK's import
    cost is in docs/performance.md): an offline run never pays for it."""
    overrides = {
        "model": options.model,
        "base_url": options.base_url,
        "stream": options.stream,
        "price": options.price,
    }
    if replay:
        # a replay has nothing to retry: a request the cassette lacks will not appear on a second try
        settings = ModelSettings.from_env({}, api_key=REPLAY_KEY, max_retries=0, **overrides)
    else:
        settings = ModelSettings.from_env(env, **overrides)
        if not settings.has_credentials:
            settings = ModelSettings.from_env(env, api_key=LOCAL_KEY, **overrides)
    return make_model(settings, options.provider)


def label_for(model: ModelClient, endpoint: str, date: str) -> dict[str, str]:
    """What a recorded cassette says about itself."""
    local = "127.0.0.1" in endpoint or "localhost" in endpoint
    return {
        "recorded_against": endpoint,
        "model": model.model,
        "recorded_on": date,
        "note": "a local server, not api.anthropic.com" if local else "the Anthropic API",
    }
