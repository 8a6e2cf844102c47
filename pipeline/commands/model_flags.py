"""The model flags of ``run`` and ``rerun``, and the ``ModelSettings`` they make with the environment."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from agents.llm.providers import DEFAULT_PROVIDER, PROVIDERS
from domain.errors import SettingsError

if TYPE_CHECKING:
    from agents.llm.settings import ModelSettings, Price, RunBudget
    from pipeline.settings import Environment

MAX_REQUEST_TIMEOUT = 3600
BUDGET_FLAGS = {
    "max_tool_calls": ("max_tool_calls_per_agent", "--max-tool-calls"),
    "max_tokens": ("max_tokens_per_run", "--max-tokens"),
    "max_usd": ("max_usd_per_run", "--max-usd"),
}


def add_model_flags(parser: argparse.ArgumentParser, *, recording: bool) -> None:
    """The model group; ``recording`` adds --offline, --record and --replay (``run`` only)."""
    group = parser.add_argument_group("model (LLM agents)")
    if recording:
        group.add_argument("--offline", action="store_true", help="never call a model, even with an API key")
    group.add_argument(
        "--provider",
        choices=sorted(PROVIDERS),
        help=f"who serves the model (default {DEFAULT_PROVIDER}); bedrock and vertex use the anthropic "
        "SDK's own clients, with credentials from their usual environment (README, 'Providers')",
    )
    group.add_argument("--model", help="model id of every agent (default: the client's current Sonnet)")
    group.add_argument(
        "--challenger-model", metavar="MODEL", help="model id of the challengers (default: --model)"
    )
    group.add_argument(
        "--synthesizer-model", metavar="MODEL", help="model id of the synthesizer (default: --model)"
    )
    group.add_argument("--stream", action="store_true", help="stream replies (SSE)")
    group.add_argument(
        "--anonymize",
        action="store_true",
        help="send the model pseudonyms for namespace and workload names; the report keeps the real ones",
    )
    group.add_argument(
        "--request-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds a model request may wait for the server (default 120); with --stream, between "
        "two events, not for the whole reply",
    )
    if recording:
        group.add_argument(
            "--record", metavar="CASSETTE", help="record the model's HTTP traffic to this YAML file"
        )
        group.add_argument(
            "--replay", metavar="CASSETTE", help="replay a recorded run: no network, no key needed"
        )
    group.add_argument("--max-tool-calls", type=int, help="tool calls per agent (default 40)")
    group.add_argument(
        "--max-concurrency", type=int, help="agents at once (default: all five; 1 for a rate-limited key)"
    )
    group.add_argument("--max-tokens", type=int, help="tokens per run, all agents (default 25,000,000)")
    group.add_argument("--max-usd", type=float, help="estimated dollars per run (default 25)")
    group.add_argument(
        "--price", metavar="IN,OUT", help="USD per million input,output tokens for an unlisted model"
    )


def price(text: str | None) -> Price | None:
    from agents.llm.settings import Price

    if text is None:
        return None
    problem = (
        f"--price {text!r} is not 'IN,OUT' in USD per million tokens (two numbers, 0 or more), e.g. 3,15"
    )
    try:
        cost_in, cost_out = (float(x) for x in text.split(","))
    except ValueError:
        raise SettingsError(problem) from None
    if not all(math.isfinite(c) and c >= 0 for c in (cost_in, cost_out)):
        raise SettingsError(problem)
    return Price(input=cost_in, output=cost_out, cache_write=cost_in * 1.25, cache_read=cost_in * 0.1)


def request_timeout(seconds: float | None) -> float | None:
    if seconds is not None and not 0 < seconds <= MAX_REQUEST_TIMEOUT:
        raise SettingsError(
            f"--request-timeout: give seconds above 0 and at most {MAX_REQUEST_TIMEOUT}, not {seconds:g}"
        )
    return seconds


def budget(args: argparse.Namespace) -> RunBudget:
    from pydantic import ValidationError

    from agents.llm.settings import RunBudget

    given: dict[str, Any] = {}
    for flag, (name, _) in BUDGET_FLAGS.items():
        if getattr(args, flag) is not None:
            given[name] = getattr(args, flag)
    try:
        return RunBudget(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        names = {name: shown for name, shown in BUDGET_FLAGS.values()}
        flag = names.get(str(error["loc"][0]), "a budget flag")
        raise SettingsError(f"{flag}: {error['msg'].lower()}") from None


def model_settings(args: argparse.Namespace, env: Environment, model: str | None = None) -> ModelSettings:
    """What the flags say of the model (``model`` wins over --model: a replay's or a rerun's), with the
    environment's endpoint and credentials."""
    return env.model_settings(
        provider=args.provider or DEFAULT_PROVIDER,
        model=model or args.model,
        challenger_model=args.challenger_model,
        synthesizer_model=args.synthesizer_model,
        stream=args.stream,
        anonymize=args.anonymize,
        timeout=request_timeout(args.request_timeout),
        budget=budget(args),
        price=price(args.price),
    )
