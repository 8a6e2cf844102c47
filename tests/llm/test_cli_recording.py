"""``infra-audit run --record`` against the scripted server, as a user with a key records a cassette.

These run the recording path in-process (the CLI, the SDK over loopback HTTP, vcrpy in record mode)
and then replay what was written, to hold the recording to two promises: a re-recorded cassette
replays, and a run leaves no connection open behind it.
"""

from __future__ import annotations

import gc
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from estates import REPO
from fakes import Router, ScriptedAnthropicServer, reply, text
from replays import DATE, CliRun, run_cli
from scenarios import gitops
from scenarios.common import SCRIPTED_MODEL, Agent, researcher_key

from pipeline.cli import main

pytestmark = pytest.mark.vcr

ARGV = ["run", "examples/gitops-base", "--concern", "maintenance", "--run-id", "rec", "--date", DATE]


@dataclass
class Recorded:
    replayed: CliRun
    unclosed: list[str]
    """ResourceWarnings raised when the objects the recording run left behind were collected."""


def record_then_replay(
    router: Router, cassette: Path, work: Path, monkeypatch: pytest.MonkeyPatch
) -> Recorded:
    """Record a run against the scripted server (``--record``), then replay the cassette it wrote."""
    with ScriptedAnthropicServer(router) as server, monkeypatch.context() as env:
        env.chdir(REPO)
        env.setenv("ANTHROPIC_API_KEY", "scripted-test-key")
        env.setenv("ANTHROPIC_BASE_URL", server.base_url)
        recorded = [*ARGV, "--model", SCRIPTED_MODEL, "--record", str(cassette)]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            assert main([*recorded, "--out", str(work / "out"), "--state-dir", str(work / "state")]) == 0
            gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    replay_argv = [*ARGV, "--replay", str(cassette), "--state-dir", str(work / "replay")]
    replayed = run_cli(replay_argv, work / "replayed")
    return Recorded(replayed, unclosed)


def test_a_recording_run_leaves_no_connection_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BUG (pipeline/commands/run.py): the command builds an ``AnthropicModel`` and never closes it,
    so its pooled keep-alive sockets are only reclaimed by the garbage collector, with a warning."""
    done = record_then_replay(gitops.router(), tmp_path / "cassette.yaml", tmp_path, monkeypatch)
    assert done.replayed.code == 0, done.replayed.stderr
    assert done.unclosed == []


def test_a_cassette_recorded_over_an_old_one_replays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BUG (pipeline/recording.py): ``--record`` onto an existing cassette keeps the old interactions the
    new run did not repeat (vcrpy "all" mode without ``drop_unused_requests``), so it never replays."""
    cassette = tmp_path / "cassette.yaml"
    first = record_then_replay(gitops.router(), cassette, tmp_path / "one", monkeypatch)
    assert first.replayed.code == 0, first.replayed.stderr
    terse = Agent("terse", [lambda convo: reply(text("Nothing to add."))] * 3)
    changed = Router({**gitops.router().routes, researcher_key("maintenance"): terse})
    second = record_then_replay(changed, cassette, tmp_path / "two", monkeypatch)
    assert second.replayed.code == 0, second.replayed.stderr
