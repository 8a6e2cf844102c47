"""``rerun`` takes the model flags of ``run``: its budget, price and request timeout are the user's."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import cli
from estates import FLUX_HOMELAB, GITOPS
from helm_estates import import_charts

from agents.llm import providers
from agents.llm.protocol import ModelReply, ModelRequest, TextBlock
from agents.llm.scripted import FunctionModel
from agents.llm.settings import ModelSettings
from pipeline.render.json_out import load_report

pytestmark = pytest.mark.e2e


def test_rerun_keeps_the_budget_and_price_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    base = ["--state-dir", str(state)]
    code, _ = cli(
        ["run", str(GITOPS), "--offline", "--out", str(out), "--date", "2026-11-20", "--run-id", "r", *base],
        monkeypatch,
    )
    assert code == 0
    seen: list[ModelSettings] = []
    made: list[FunctionModel] = []

    def factory(settings: ModelSettings) -> FunctionModel:
        seen.append(settings)
        made.append(FunctionModel(lambda r: ModelReply(model="x", content=[TextBlock(text="no")]), "toy-2"))
        return made[-1]

    monkeypatch.setitem(providers.PROVIDERS, "toy", factory)
    argv = ["rerun", str(out / "audit.json"), "--concern", "R5", "--provider", "toy"]
    flags = ["--max-tool-calls", "0", "--price", "1,2", "--max-usd", "3", "--request-timeout", "300"]
    code, printed = cli([*argv, *flags], monkeypatch, ANTHROPIC_API_KEY="k")
    assert code == 0, printed
    (settings,) = seen
    assert settings.budget.max_tool_calls_per_agent == 0 and settings.budget.max_usd_per_run == 3
    assert settings.price is not None and (settings.price.input, settings.price.output) == (1.0, 2.0)
    assert settings.timeout == 300
    research: list[ModelRequest] = [r for r in made[0].requests if r.agent == "research:security"]
    # no tool call allowed: the first turn already offers only the submission, forced
    assert research and [t.name for t in research[0].tools] == ["submit_findings"]


def test_a_bad_budget_flag_is_refused_even_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, printed = cli(
        ["rerun", str(tmp_path / "audit.json"), "--concern", "R1", "--max-usd", "-1"], monkeypatch
    )
    assert code == 2 and printed.startswith("infra-audit: error: --max-usd: ") and printed.count("\n") == 1


def _offline_run(estate: Path, out: Path, run_id: str, *more: str) -> list[str]:
    """``infra-audit run ESTATE --offline`` at the demo's clock, into ``out``."""
    return [
        "run",
        str(estate),
        "--offline",
        "--out",
        str(out),
        "--date",
        "2026-11-20",
        "--run-id",
        run_id,
        *more,
    ]


def _reliability(audit_json: Path) -> list[tuple[str | None, float | None]]:
    report = load_report(audit_json)
    return [(f.check, f.claims[0].value) for f in report.concerns["reliability"].findings]


def test_rerun_renders_with_the_chart_cache_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flux-homelab's workloads exist only once its releases render: a re-run given the run's
    ``--chart-cache`` finds the same reliability findings; one without it renders nothing and says so."""
    cache = import_charts(tmp_path / "charts")
    out, state = tmp_path / "out", ["--state-dir", str(tmp_path / "state")]
    run = _offline_run(FLUX_HOMELAB, out, "f", *state)
    assert cli([*run, "--chart-cache", str(cache)], monkeypatch)[0] == 0
    rendered = _reliability(out / "audit.json")
    # rendered workloads: single replicas pinned by a volume, which no file of the estate holds as such
    assert any(check == "REL-SINGLE-REPLICA" and value for check, value in rendered), rendered
    rerun = ["rerun", str(out / "audit.json"), "--concern", "R1", "--offline"]
    code, printed = cli([*rerun, "--out", str(tmp_path / "again"), "--chart-cache", str(cache)], monkeypatch)
    assert code == 0, printed
    assert _reliability(tmp_path / "again" / "audit.json") == rendered
    code, printed = cli(
        [*rerun, "--out", str(tmp_path / "bare"), "--chart-cache", str(tmp_path / "none")], monkeypatch
    )
    assert code == 0, printed
    assert _reliability(tmp_path / "bare" / "audit.json") != rendered


def test_rerun_refuses_to_fetch_charts_into_the_estate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, state = tmp_path / "out", ["--state-dir", str(tmp_path / "state")]
    run = _offline_run(GITOPS, out, "g", *state)
    assert cli(run, monkeypatch)[0] == 0
    argv = ["rerun", str(out / "audit.json"), "--concern", "R1", "--offline", "--fetch-charts"]
    code, printed = cli([*argv, "--chart-cache", str(GITOPS / ".charts")], monkeypatch)
    assert code == 2 and printed.count("\n") == 1
    assert printed.startswith("infra-audit: error: --chart-cache ") and "inside the audited estate" in printed
