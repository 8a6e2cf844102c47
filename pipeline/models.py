"""Which mind an audit runs with: offline, or a model reached with credentials from the environment.

The CLI calls these; nothing reads the environment at import time. A cassette replay runs the LLM
path with a placeholder credential: vcrpy answers every request from the cassette, and an
unplanned request fails instead of reaching a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from agents.llm.providers import DEFAULT_PROVIDER, make_model
from agents.llm.settings import CloudCredentials, ModelSettings
from domain.errors import SettingsError
from domain.urls import without_userinfo
from pipeline.settings import ENV_API_KEY, ENV_BASE_URL, Environment

if TYPE_CHECKING:
    from agents.llm.protocol import ModelClient

REPLAY_KEY = "replay-from-cassette"
LOCAL_KEY = "no-key-for-a-local-server"


@dataclass(frozen=True)
class Mind:
    mode: str  # "offline" or "llm"
    why: str


def choose(
    env: Environment, *, offline: bool, replay: bool, record: bool, provider: str | None = None
) -> Mind:
    if offline:
        return Mind("offline", "--offline given")
    if replay:
        return Mind("llm", "replaying a cassette")
    if provider not in (None, DEFAULT_PROVIDER):  # its credentials are checked when its client is built
        return Mind("llm", f"--provider {provider}")
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
        # a replay has nothing to retry: a request the cassette lacks will not appear on a second try;
        # a cloud provider authenticates with a placeholder token, so nothing is signed or refreshed
        replayed = CloudCredentials(bedrock_api_key=REPLAY_KEY, vertex_access_token=REPLAY_KEY)
        settings = settings.model_copy(update={"max_retries": 0}).with_credentials(REPLAY_KEY, None)
        settings = settings.with_cloud(replayed)
    else:
        given = env.base_url_for(settings.provider)
        if given and settings.base_url == without_userinfo(given):
            settings = settings.model_copy(update={"base_url": given})  # saved without its userinfo
        settings = settings.with_credentials(env.api_key, env.auth_token).with_cloud(env.cloud_credentials())
        if settings.provider != DEFAULT_PROVIDER:
            return make_model(settings)
        if not settings.has_credentials:  # a local server that wants no key still needs a header
            settings = settings.with_credentials(LOCAL_KEY, None)
    return make_model(settings)


def label_for(
    model: ModelClient, endpoint: str, date: str, provider: str = DEFAULT_PROVIDER
) -> dict[str, str]:
    """What a recorded cassette says about itself."""
    local = "127.0.0.1" in endpoint or "localhost" in endpoint
    where = {"bedrock": "Amazon Bedrock", "vertex": "Google Cloud Vertex AI"}.get(provider)
    return {
        "recorded_against": endpoint,
        "provider": provider,
        "model": model.model,
        "recorded_on": date,
        "note": f"a local server, not {where or 'api.anthropic.com'}"
        if local
        else where or "the Anthropic API",
    }
