"""Each seam takes a new member through its one registration line, and the run uses it end to end.

docs/architecture.md ("Adding one") names the file and the line for each; these tests add a toy
one exactly there (with ``monkeypatch.setitem`` on the registry) and run the CLI or the graph.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from clirun import cli
from estates import GITOPS

from agents import stances
from agents.challenge import ChallengeOutcome
from agents.context import AgentContext
from agents.llm import providers
from agents.llm.protocol import ModelReply, ModelRequest, TextBlock, Usage
from agents.llm.scripted import FunctionModel
from domain.findings import ConcernResult, RawFinding, Verdict
from pipeline import render
from pipeline.render.output import Renderer, RunOutputs
from tools.inventory import build, parsers
from tools.inventory.inventory import Records
from tools.inventory.k8s_objects import records_from_object
from tools.inventory.parsers import Parser
from tools.inventory.sources import CodeRef

pytestmark = pytest.mark.e2e


def audit(tmp_path: Path, *flags: str) -> list[str]:
    return [
        "run", str(GITOPS), "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "state"),
        "--date", "2026-11-20", "--run-id", "seam", *flags,
    ]  # fmt: skip


def test_a_parser_registered_in_one_line_feeds_the_inventory_and_the_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A toy format, one ``kind namespace/name image`` per line, mapped by the shared object mapper."""

    def parse(root: Path, paths: list[str]) -> Records:
        records = Records()
        for rel in paths:
            for number, line in enumerate((root / rel).read_text().splitlines(), start=1):
                kind, ref, image = line.split()
                namespace, name = ref.split("/")
                obj = {
                    "apiVersion": "apps/v1",
                    "kind": kind,
                    "metadata": {"name": name, "namespace": namespace},
                    "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}},
                }
                records.extend(records_from_object(obj, CodeRef(path=rel, line=number), "manifest"))
        return records

    toy = Parser("toy", lambda name: name.endswith(".toy"), parse)
    monkeypatch.setattr(parsers, "PARSERS", (*parsers.PARSERS, toy))
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "apps.toy").write_text(
        "Deployment web/api ghcr.io/acme/api:1.2.3\nDeployment web/ui nginx:latest\n"
    )
    code, printed = cli(["inventory", str(estate), "--json"], monkeypatch)
    assert code == 0
    workloads = json.loads(printed)["code"]["workloads"]
    assert [
        (w["kind"], w["namespace"], w["name"], w["source"]["path"], w["source"]["line"]) for w in workloads
    ] == [
        ("Deployment", "web", "api", "apps.toy", 1),
        ("Deployment", "web", "ui", "apps.toy", 2),
    ]
    code, printed = cli(["check", str(estate), "REL-PROBE-ANY"], monkeypatch)
    assert code == 0 and "REL-PROBE-ANY: 2 of 2" in printed
    assert "apps.toy:1  Deployment/web/api" in printed and "apps.toy:2  Deployment/web/ui" in printed


def test_the_walk_and_the_parsers_agree_on_every_file_name(tmp_path: Path) -> None:
    """The walk used to keep its own list of names and left ``.renovaterc.json5`` unparsed."""
    for name in (".renovaterc.json5", "renovate.json5", "main.tf", "Jenkinsfile", "values.yml", "README.md"):
        (tmp_path / name).write_text("{}\n")
    files = build.discover(tmp_path)
    assert files.by_parser == {
        "terraform": ["main.tf"],
        "manifests": [".renovaterc.json5", "Jenkinsfile", "renovate.json5", "values.yml"],
    }
    assert files.other == ["README.md"]
    assert all(parsers.manifest_claims(name) for name in parsers.RENOVATE_NAMES)


def test_a_renderer_registered_in_one_line_is_written_by_every_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ids(out: RunOutputs) -> str:
        return "".join(f"{f.id} {f.rank_a}\n" for f in out.report.findings)

    monkeypatch.setitem(render.RENDERERS, "ids", Renderer(name="ids", filename="ids.txt", render=ids))
    code, _ = cli(audit(tmp_path, "--offline"), monkeypatch)
    assert code == 0
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    expected = "".join(f"{f['id']} {f['rank_a']}\n" for f in report["findings"])
    assert (tmp_path / "out" / "ids.txt").read_text() == expected and expected
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "audit.json", "audit.md", "audit.sarif", "ids.txt", "transcript.jsonl",
    ]  # fmt: skip


def test_a_provider_registered_in_one_line_serves_every_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider that never submits: every agent falls back to the deterministic floor, and says so."""

    def silent(request: ModelRequest) -> ModelReply:
        return ModelReply(model="x", content=[TextBlock(text="nothing to add")], usage=Usage(input_tokens=3))

    made: list[FunctionModel] = []

    def factory(settings: object) -> FunctionModel:
        made.append(FunctionModel(silent, model="toy-1"))
        return made[-1]

    monkeypatch.setitem(providers.PROVIDERS, "toy", factory)
    code, printed = cli(audit(tmp_path, "--provider", "toy"), monkeypatch, ANTHROPIC_API_KEY="unused")
    assert code == 0, printed
    (model,) = made
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert report["meta"]["mode"] == "llm" and report["meta"]["model"] == "toy-1"
    agents = {r.agent for r in model.requests}
    assert agents == {
        *(f"research:{c}" for c in ("reliability", "declarative", "maintenance", "scalability", "security")),
        "challenge:numbers",
        "challenge:intent",
        "synthesize",
    }
    notes = {c: r["note"] for c, r in report["concerns"].items()}
    assert all("did not submit" in (n or "") for n in notes.values()), notes
    assert report["findings"]  # the deterministic floor stands


def test_a_stance_registered_in_one_line_challenges_and_its_verdict_is_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A toy 'scope' challenger drops the first finding as not deployed; the others are untouched."""

    def scope(
        findings: list[RawFinding], results: Mapping[str, ConcernResult], ctx: AgentContext
    ) -> ChallengeOutcome:
        first = findings[0]
        verdict = Verdict(
            finding=first.id,
            challenger="scope",
            action="DROPPED",
            reason="toy: not deployed",
            documented_at="README.md:1",
        )
        return ChallengeOutcome(verdicts=[verdict])

    toy = dataclasses.replace(
        stances.INTENT,
        name="scope",
        offline=scope,
        failure="scope was not read",
        order=3,
        cites_documents=False,
    )
    monkeypatch.setitem(stances.STANCES, "scope", toy)
    code, _ = cli(audit(tmp_path, "--offline"), monkeypatch)
    assert code == 0
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    scoped = [v for v in report["verdicts"] if v["challenger"] == "scope"]
    assert len(scoped) == 1 and scoped[0]["action"] == "DROPPED"
    dropped = scoped[0]["finding"]
    corrections = [(c["action"], c["challenger"]) for c in report["corrections"] if c["finding"] == dropped]
    assert corrections == [("DROPPED", "scope")]
    assert all(dropped not in f["raw_ids"] for f in report["findings"])
    assert {v["challenger"] for v in report["verdicts"]} == {"numbers", "intent", "scope"}


def test_a_registered_stance_that_crashes_leaves_its_own_failure_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> ChallengeOutcome:
        raise RuntimeError("toy stance exploded")

    toy = dataclasses.replace(stances.INTENT, name="scope", offline=broken, failure="scope was not read")
    monkeypatch.setitem(stances.STANCES, "scope", toy)
    code, _ = cli(audit(tmp_path, "--offline"), monkeypatch)
    report = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert (
        "The scope challenger failed (RuntimeError: toy stance exploded); scope was not read."
        in report["gaps"]
    )
    assert code == 0 and report["findings"]
