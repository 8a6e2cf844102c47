"""Model providers: a name, and how to build a ``ModelClient`` from ``ModelSettings``.

A provider speaks the neutral protocol of ``agents/llm/protocol.py`` and its own wire format. To add
one, write its module (a class with ``model``, ``endpoint``, ``complete`` and ``close``) and add one
line to ``PROVIDERS``. The factory imports its module lazily: an offline run never pays for an SDK.
Tests build ``ScriptedModel`` and ``FunctionModel`` directly; they need no settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from domain.errors import SettingsError

if TYPE_CHECKING:  # the names and the table are read at start-up ('--provider'); the types are not
    from agents.llm.protocol import ModelClient
    from agents.llm.settings import ModelSettings

ProviderFactory = Callable[["ModelSettings"], "ModelClient"]


def _anthropic(settings: ModelSettings) -> ModelClient:
    from agents.llm.anthropic_model import AnthropicModel

    return AnthropicModel(settings)


def _bedrock(settings: ModelSettings) -> ModelClient:
    from agents.llm.cloud_models import BedrockModel

    return BedrockModel(settings)


def _vertex(settings: ModelSettings) -> ModelClient:
    from agents.llm.cloud_models import VertexModel

    return VertexModel(settings)


PROVIDERS: dict[str, ProviderFactory] = {
    "anthropic": _anthropic,
    "bedrock": _bedrock,
    "vertex": _vertex,
}
DEFAULT_PROVIDER = "anthropic"


def make_model(settings: ModelSettings) -> ModelClient:
    """The client of ``settings.provider``; an unknown one is a one-line ``SettingsError``."""
    factory = PROVIDERS.get(settings.provider)
    if factory is None:
        known = ", ".join(sorted(PROVIDERS))
        raise SettingsError(f"unknown model provider {settings.provider!r}; known: {known}")
    return factory(settings)
