"""A model per role: ``--model`` for every agent, ``--challenger-model`` and ``--synthesizer-model``
for theirs. Each role's requests carry its model, on the graph and on the wire; the cassette header
records the choice (and ``--request-timeout``), so ``--replay FILE`` alone replays, and a flag that
contradicts the header is one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from estates import REPO
from fakes import ScriptedAnthropicServer
from graphs import llm_settings
from replays import DATE, run_cli
from scenarios import gitops
from scenarios.common import (
    INTENT_KEY,
    NUMBERS_KEY,
    SCRIPTED_MODEL,
    SYNTH_KEY,
    as_model_function,
    researcher_key,
)

from agents.llm.scripted import FunctionModel
from agents.llm.settings import ModelSettings
from pipeline.audit import run_audit
from pipeline.cli import main
from pipeline.recorded_run import RecordedRun
from pipeline.recording import read_label

pytestmark = pytest.mark.vcr

CHALLENGER = "scripted-challenger-model"
SYNTHESIZER = "scripted-synthesizer-model"
ARGV = ["run", "examples/gitops-base", "--concern", "maintenance", "--run-id", "roles", "--date", DATE]
ROLES = ["--challenger-model", CHALLENGER, "--synthesizer-model", SYNTHESIZER, "--request-timeout", "30"]


def test_each_roles_requests_carry_its_model_on_the_graph() -> None:
    model = FunctionModel(as_model_function(gitops.router()), model=SCRIPTED_MODEL)
    llm = ModelSettings(model=SCRIPTED_MODEL, challenger_model=CHALLENGER, synthesizer_model=SYNTHESIZER)
    run_audit(llm_settings().model_copy(update={"llm": llm}), "roles", model=model)
    by_role = {(r.agent.split(":")[0], r.model) for r in model.requests}
    # the researchers run on the client's own model: their requests name none (their bytes unchanged)
    assert by_role == {("research", None), ("challenge", CHALLENGER), ("synthesize", SYNTHESIZER)}


def test_a_role_model_equal_to_the_runs_changes_nothing() -> None:
    model = FunctionModel(as_model_function(gitops.router()), model=SCRIPTED_MODEL)
    llm = ModelSettings(model=SCRIPTED_MODEL, challenger_model=SCRIPTED_MODEL)
    run_audit(llm_settings().model_copy(update={"llm": llm}), "roles", model=model)
    assert {r.model for r in model.requests} == {None}


def test_on_the_wire_each_role_sends_its_model_and_the_header_alone_replays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cassette = tmp_path / "roles.yaml"
    with ScriptedAnthropicServer(gitops.router()) as server, monkeypatch.context() as env:
        env.chdir(REPO)
        env.setenv("ANTHROPIC_API_KEY", "scripted-test-key")
        env.setenv("ANTHROPIC_BASE_URL", server.base_url)
        argv = [*ARGV, "--model", SCRIPTED_MODEL, *ROLES, "--record", str(cassette)]
        assert main([*argv, "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")]) == 0
    models = {r.route: r.body["model"] for r in server.requests}
    assert models == {
        researcher_key("maintenance"): SCRIPTED_MODEL,
        NUMBERS_KEY: CHALLENGER,
        INTENT_KEY: CHALLENGER,
        SYNTH_KEY: SYNTHESIZER,
    }
    recorded = RecordedRun.model_validate(read_label(cassette)["run"])
    assert (recorded.model, recorded.challenger_model, recorded.synthesizer_model) == (
        SCRIPTED_MODEL,
        CHALLENGER,
        SYNTHESIZER,
    )
    assert recorded.request_timeout == 30

    done = run_cli(
        ["run", "--replay", str(cassette), "--state-dir", str(tmp_path / "replay")], tmp_path / "r"
    )
    assert done.code == 0, done.stderr[-2000:]
    assert done.stderr == ""

    for flag, given, value in (
        ("--challenger-model", SCRIPTED_MODEL, CHALLENGER),
        ("--synthesizer-model", "other-model", SYNTHESIZER),
    ):
        refused = run_cli(["run", "--replay", str(cassette), flag, given], tmp_path / "refused")
        assert refused.code == 2
        assert refused.stderr == (
            f"infra-audit: error: {flag} {given} contradicts the cassette {cassette}, recorded with "
            f"{flag} {value}; omit it to replay the recording\n"
        )


def test_a_role_model_given_to_a_replay_recorded_without_one_is_one_line(tmp_path: Path) -> None:
    cassette = REPO / "cassettes" / "scripted-gitops-full.yaml"
    done = run_cli(["run", "--replay", str(cassette), "--challenger-model", "x"], tmp_path / "out")
    assert done.code == 2
    assert done.stderr == (
        f"infra-audit: error: --challenger-model x contradicts the cassette {cassette}, recorded with "
        "--challenger-model (none); omit it to replay the recording\n"
    )
