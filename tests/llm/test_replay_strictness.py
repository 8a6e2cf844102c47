"""A replay is strict: a request that differs by one byte fails, and so does a cassette holding more
than the run asks for.

Requests match on method, path and the parsed JSON body, so these tests also pin down that the
prompts are the only moving part: change one byte of one prompt and the replay no longer matches.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from anthropic import _base_client
from estates import GITOPS, REPO
from replays import CASSETTES, GITOPS_ARGV, load_cassette, replay
from scenarios.common import SCRIPTED_MODEL
from vcr.errors import CannotOverwriteExistingCassetteException

import agents.llm.loop
from agents.llm.settings import ModelSettings
from domain.errors import ModelRejected
from pipeline.audit import run_audit
from pipeline.models import build_model
from pipeline.recording import cassette
from pipeline.settings import Environment, RunSettings

pytestmark = pytest.mark.vcr

CASSETTE = CASSETTES / "scripted-gitops-full.yaml"


def one_byte_more(module: Any, role_line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Render ``module``'s prompts as usual, with one byte added to the prompt opening with ``role_line``."""
    real: Callable[..., str] = module.render

    def render(*args: Any, **kwargs: Any) -> str:
        prompt = real(*args, **kwargs)
        return prompt.replace("senior SRE.", "senior SRE!", 1) if prompt.startswith(role_line) else prompt

    monkeypatch.setattr(module, "render", render)


class SdkWaits:
    """Stands in for ``time`` inside the SDK's base client: records each retry wait, sleeps none."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_a_changed_prompt_byte_fails_the_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One byte more in the synthesizer's prompt: vcrpy finds no recorded answer and the run fails.

    A replay has nothing to retry (the client is built with max_retries=0) and the mismatch is a
    rejected request, not an outage: one line that says what differs, no wait, no report written.
    """
    waits = SdkWaits()
    monkeypatch.setattr(_base_client, "time", waits)
    one_byte_more(agents.llm.loop, "You are the synthesizer", monkeypatch)
    done = replay(GITOPS_ARGV, CASSETTE, tmp_path)
    assert done.code == 4  # the run stopped: incomplete
    assert done.stderr == (
        "infra-audit: error: synthesize: model scripted-test-model: replay: no recorded interaction matches "
        "this request (the prompt, the estate, the run id or the date differ from the recording)\n"
    )
    assert waits.waits == [] and not (done.out / "audit.md").exists()


def test_the_mismatch_is_vcrpys_no_match_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same run without the CLI, to read the cause the one-line error only names."""
    monkeypatch.setattr(_base_client, "time", SdkWaits())
    one_byte_more(agents.llm.loop, "You are the synthesizer", monkeypatch)
    monkeypatch.chdir(REPO)
    settings = RunSettings(
        estate=GITOPS,
        estate_label="examples/gitops-base",
        date="2026-11-20",
        workdir=REPO,
        mode="llm",
        llm=ModelSettings(model=SCRIPTED_MODEL),
    )
    model = build_model(ModelSettings(model=SCRIPTED_MODEL), Environment(), replay=True)
    with pytest.raises(ModelRejected) as caught, cassette(CASSETTE, "replay"):
        run_audit(settings, "scripted-gitops", model=model)
    cause = caught.value.__cause__.__cause__ if caught.value.__cause__ else None
    assert isinstance(cause, CannotOverwriteExistingCassetteException)
    said = str(cause)
    assert said.startswith("Can't play back this request: no recorded interaction matches it")
    assert "(the closest differ in _json_body)" in said  # the body, i.e. the prompt, is what changed


def test_a_cassette_with_an_extra_interaction_fails_as_only_partly_played(tmp_path: Path) -> None:
    document = copy.deepcopy(load_cassette(CASSETTE))
    extra = copy.deepcopy(document["interactions"][0])
    extra["request"]["body"]["json"]["messages"].append({"role": "user", "content": "one more turn"})
    document["interactions"].append(extra)
    padded = tmp_path / "padded.yaml"
    text = yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=120)
    padded.write_text(text, encoding="utf-8")
    played = len(document["interactions"]) - 1
    done = replay(GITOPS_ARGV, padded, tmp_path)
    assert done.code == 2
    said = f"was only partly played ({played} of {played + 1} interactions): the run asked for less than"
    assert said in done.stderr


def turn_matched(tmp_path: Path, match: str = "turn") -> Path:
    """The gitops cassette with ``replay_match`` set in its header, as a real model's cassette has."""
    document = copy.deepcopy(load_cassette(CASSETTE))
    document["infra_audit"]["replay_match"] = match
    path = tmp_path / "turn-matched.yaml"
    path.write_text(
        yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=120),
        encoding="utf-8",
    )
    return path


def test_a_turn_matched_cassette_replays_to_a_changed_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``replay_match: turn`` (a real model's cassette, too dear to re-record at every prompt change):
    a changed byte after the role line is no mismatch, and every interaction plays once."""
    monkeypatch.setattr(_base_client, "time", SdkWaits())
    real = agents.llm.loop.render
    changed: list[str] = []

    def render(*args: Any, **kwargs: Any) -> str:
        prompt: str = real(*args, **kwargs)
        if "the backlog below is final." in prompt:
            changed.append(prompt.splitlines()[0])
        return prompt.replace("the backlog below is final.", "the backlog below is final!", 1)

    monkeypatch.setattr(agents.llm.loop, "render", render)
    done = replay(GITOPS_ARGV, turn_matched(tmp_path), tmp_path)
    assert changed and all(line.startswith("You are the synthesizer") for line in changed)
    assert (done.code, done.stderr) == (0, "")
    assert (done.out / "audit.md").is_file()


def test_a_turn_matched_cassette_still_fails_on_another_conversation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role line names the agent: change it and no recorded conversation matches."""
    monkeypatch.setattr(_base_client, "time", SdkWaits())
    real = agents.llm.loop.render

    def render(*args: Any, **kwargs: Any) -> str:
        prompt: str = real(*args, **kwargs)
        return prompt.replace("You are the synthesizer", "You are the composer", 1)

    monkeypatch.setattr(agents.llm.loop, "render", render)
    done = replay(GITOPS_ARGV, turn_matched(tmp_path), tmp_path)
    assert done.code == 4
    assert done.stderr.startswith(
        "infra-audit: error: synthesize: model scripted-test-model: replay: no recorded"
    )


def test_an_unknown_replay_match_is_a_one_line_error(tmp_path: Path) -> None:
    done = replay(GITOPS_ARGV, turn_matched(tmp_path, "fuzzy"), tmp_path)
    assert done.code == 2
    assert done.stderr.endswith("replay_match must be one of body, turn, not 'fuzzy'\n")
    assert done.stderr.count("\n") == 1
