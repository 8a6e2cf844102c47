"""``--anonymize``: no namespace or workload name reaches the model, and the report keeps them.

An estate whose namespace and workload names are canaries (``zqcanary-...``) is audited in llm mode
with a model that lists the estate, reads a file by the pseudonymised path it was shown, and submits
nothing (the floor restores the catalog's findings). Not one canary may appear in any request, in
the tool results the model reads, or over the wire (so in a cassette); the tools ran with the real
names, and the report names the real workloads.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fakes import Router, ScriptedAnthropicServer, reply, text, tool_use
from fakes.script import assistant_turns
from graphs import DATE
from replays import run_cli
from scenarios.common import SCRIPTED_MODEL

from agents.llm.anonymize import Pseudonyms
from agents.llm.protocol import ModelReply, ModelRequest, TextBlock, ToolUseBlock
from agents.llm.scripted import FunctionModel
from agents.llm.settings import ModelSettings
from pipeline.audit import run_audit
from pipeline.cli import main
from pipeline.settings import RunSettings

pytestmark = pytest.mark.graph

NAMESPACE = "zqcanary-payments"
WORKLOADS = ("zqcanary-ledger", "zqcanary-ledger-db")
CANARIES = (NAMESPACE, *WORKLOADS)
MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {wl}
  namespace: {ns}
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example/{wl}:latest
"""


def plant(root: Path) -> Path:
    estate = root / "estate"
    for wl in WORKLOADS:
        folder = estate / "apps" / wl
        folder.mkdir(parents=True)
        (folder / "deployment.yaml").write_text(MANIFEST.format(ns=NAMESPACE, wl=wl), encoding="utf-8")
    return estate


PSEUDO_PATH = re.compile(r"apps/(anon-wl-\d+)")


def researcher(turn: int, last_results: list[str]) -> ModelReply:
    """List the apps, read the first one by the path it was shown, then submit nothing."""
    if turn == 0:
        use = ToolUseBlock(id="t0", name="repo_list", input={"path": "apps"})
        return ModelReply(model="x", content=[TextBlock(text="Listing."), use], stop_reason="tool_use")
    if turn == 1:
        shown = PSEUDO_PATH.search(last_results[0])
        assert shown is not None, last_results
        use = ToolUseBlock(id="t1", name="repo_read", input={"path": f"apps/{shown[1]}/deployment.yaml"})
        return ModelReply(model="x", content=[use], stop_reason="tool_use")
    use = ToolUseBlock(id="t2", name="submit_findings", input={"findings": []})
    return ModelReply(model="x", content=[use], stop_reason="tool_use")


def answer(request: ModelRequest) -> ModelReply:
    turn = sum(m.role == "assistant" for m in request.messages)
    if request.agent.startswith("research:"):
        return researcher(turn, [b.content for b in request.messages[-1].tool_results])
    return ModelReply(model="x", content=[TextBlock(text="Nothing to add.")], stop_reason="end_turn")


def settings(estate: Path, out: Path, anonymize: bool) -> RunSettings:
    return RunSettings(
        estate=estate,
        estate_label="estate",
        concerns=("maintenance",),
        date=DATE,
        workdir=estate.parent,
        mode="llm",
        llm=ModelSettings(model=SCRIPTED_MODEL, anonymize=anonymize),
        out=out,
    )


def leaks(value: str) -> list[str]:
    return [c for c in CANARIES if c in value]


def test_no_name_reaches_the_model_and_the_report_keeps_them(tmp_path: Path) -> None:
    estate = plant(tmp_path)
    model = FunctionModel(answer, model=SCRIPTED_MODEL)
    state = run_audit(settings(estate, tmp_path / "out", anonymize=True), "anon", model=model)
    sent = [r.model_dump_json() for r in model.requests]
    assert sent and all(leaks(body) == [] for body in sent)
    research = [r for r in model.requests if r.agent == "research:maintenance"]
    assert len(research) == 3
    read = research[2].messages[-1].tool_results[0]
    # the tool ran with the real path (the ledger has the real file), the model read pseudonyms
    assert not read.is_error and "image: registry.example/anon-wl-" in read.content
    assert "anon-ns-1" in read.content
    md = (tmp_path / "out" / "audit.md").read_text(encoding="utf-8")
    assert all(c in md for c in WORKLOADS)  # the report is written with the real names
    assert state.report is not None and "anon-" not in json.dumps(state.report.model_dump(mode="json"))


def test_without_the_flag_the_names_are_sent(tmp_path: Path) -> None:
    """The control: the same run without --anonymize sends the canaries (the test above can fail)."""
    estate = plant(tmp_path)
    model = FunctionModel(answer_plain, model=SCRIPTED_MODEL)
    run_audit(settings(estate, tmp_path / "out", anonymize=False), "plain", model=model)
    assert any(leaks(r.model_dump_json()) for r in model.requests)


def answer_plain(request: ModelRequest) -> ModelReply:
    if request.agent.startswith("research:"):
        use = ToolUseBlock(id="t2", name="submit_findings", input={"findings": []})
        return ModelReply(model="x", content=[use], stop_reason="tool_use")
    return ModelReply(model="x", content=[TextBlock(text="Nothing to add.")], stop_reason="end_turn")


def test_over_the_wire_and_in_the_cassette_only_pseudonyms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate = plant(tmp_path)

    def script(body: dict[str, Any]) -> Any:
        system = "".join(b.get("text", "") for b in body.get("system") or [])
        turn = assistant_turns(body)
        if system.startswith("You are the maintenance researcher") and turn == 0:
            return reply(text("Listing."), tool_use("repo_list", {"path": "apps"}))
        if system.startswith("You are the maintenance researcher") and turn == 1:
            return reply(tool_use("submit_findings", {"findings": []}))
        return reply(text("Nothing to add."))

    cassette = tmp_path / "anon.yaml"
    with ScriptedAnthropicServer(Router({}, default=script)) as server, monkeypatch.context() as env:
        env.chdir(tmp_path)
        env.setenv("ANTHROPIC_API_KEY", "scripted-test-key")
        env.setenv("ANTHROPIC_BASE_URL", server.base_url)
        argv = ["run", str(estate), "--concern", "maintenance", "--run-id", "anon", "--date", DATE]
        argv += ["--model", SCRIPTED_MODEL, "--anonymize", "--record", str(cassette)]
        assert main([*argv, "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state")]) == 0
    bodies = [json.dumps(r.body) for r in server.requests]
    assert bodies and all(leaks(b) == [] for b in bodies)
    assert any("apps/anon-wl-1" in b for b in bodies)  # the listing the model read, pseudonymised
    assert leaks(cassette.read_text(encoding="utf-8")) == []
    assert all(c in (tmp_path / "out" / "audit.md").read_text(encoding="utf-8") for c in WORKLOADS)
    replayed = run_cli(
        ["run", "--replay", str(cassette), "--state-dir", str(tmp_path / "replay")], tmp_path / "r"
    )
    assert replayed.code == 0, replayed.stderr[-2000:]


def test_pseudonyms_round_trip_whole_names_only() -> None:
    names = Pseudonyms(["shop", "default"], ["shop-db", "web"])
    text_ = "apps/shop/x.yaml shop-db web webhook default shopping"
    masked = names.forward(text_)
    assert masked == "apps/anon-ns-1/x.yaml anon-wl-1 anon-wl-2 webhook default shopping"
    assert names.reverse(masked) == text_
