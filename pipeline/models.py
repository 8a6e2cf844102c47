"""Which mind an audit runs with: offline, or a model reached with credentials from the environment.

The CLI calls these; nothing reads the environment at import time. A cassette replay runs the LLM
path with a placeholder credential: vcrpy answers every request from the cassette, and an
unplanned request fails instead of reaching a network.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.llm.protocol import ModelClient
from agents.llm.providers import make_model
from agents.llm.settings import ModelSettings
from domain.errors import SettingsError
from domain.urls import without_userinfo
from pipeline.settings import ENV_API_KEY, ENV_BASE_URL, Environment

REPLAY_KEY = "replay-from-cassette"
LOCAL_KEY = "no-key-for-a-local-server"


@dataclass(frozen=True)
class Mind:
    mode: str  # "offline" or "llm"
    why: str


def choose(env: Environment, *, offline: bool, replay: bool, record: bool) -> Mind:
    if offline:
        return Mind("offline", "--offline given")
    if replay:
        return Mind("llm", "replaying a cassette")
    if env.has_credentials:
        return Mind("llm", "an Anthropic credential is set")
    if env.base_url:
        return Mind("llm", f"{ENV_BASE_URL} points at an Anthropic-compatible server")
    if record:
        raise SettingsError(
            f"--record needs a model: set {ENV_API_KEY} (or {ENV_BASE_URL} for a local server)"
        )
    return Mind("offline", f"no {ENV_API_KEY} or {ENV_BASE_URL} set")


def build_model(settings: ModelSettings, env: Environment, *, replay: bool = False) -> ModelClient:
    """The run's model client, with the environment's credentials. The provider's SDK is imported
    only now (the anthropic SDK's import cost is in docs/performance.md): an offline run never pays."""
    if replay:
        # a replay has nothing to retry: a request the cassette lacks will not appear on a second try
        settings = settings.model_copy(update={"max_retries": 0}).with_credentials(REPLAY_KEY, None)
    else:
        if env.base_url and settings.base_url == without_userinfo(env.base_url):
            settings = settings.model_copy(update={"base_url": env.base_url})  # saved without its userinfo
        settings = settings.with_credentials(env.api_key, env.auth_token)
        if not settings.has_credentials:  # a local server that wants no key still needs a header
            settings = settings.with_credentials(LOCAL_KEY, None)
    return make_model(settings)


def label_for(model: ModelClient, endpoint: str, date: str) -> dict[str, str]:
    """What a recorded cassette says about itself."""
    local = "127.0.0.1" in endpoint or "localhost" in endpoint
    return {
        "recorded_against": endpoint,
        "model": model.model,
        "recorded_on": date,
        "note": "a local server, not api.anthropic.com" if local else "the Anthropic API",
    }
