"""A run reads the cluster once (issue 13) and parses the code once (issue 11): the numbers challenger
recounts through standard-tool commands, not through a second parse. Nor is other work done again per
item: the recount works out what is not deployed once, and the tool specs are built once per process."""

from __future__ import annotations

from typing import Any

import pytest
from estates import HOMELAB, REPO

import agents.offline.recounter as numbers
from pipeline.audit import run_audit
from pipeline.settings import RunSettings
from tools import registry
from tools.inventory import build, live
from tools.inventory.inventory import LiveState

pytestmark = pytest.mark.e2e


def test_the_cluster_is_loaded_once_and_the_code_parsed_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[LiveState] = []
    parses: list[int] = []
    real_load, real_parse = live.load_live_state, build.parse_code

    def counting_load(backend: Any) -> LiveState:
        loaded.append(real_load(backend))
        return loaded[-1]

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        parses.append(1)
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(live, "load_live_state", counting_load)
    monkeypatch.setattr(build, "parse_code", counting_parse)
    scoped: list[int] = []
    specs: list[str] = []
    real_scope, real_spec = numbers.not_deployed, registry.spec_from_function

    def counting_scope(*args: Any, **kwargs: Any) -> Any:
        scoped.append(1)
        return real_scope(*args, **kwargs)

    def counting_spec(fn: Any, group: Any) -> Any:
        specs.append(fn.__name__)
        return real_spec(fn, group)

    monkeypatch.setattr(numbers, "not_deployed", counting_scope)
    monkeypatch.setattr(registry, "spec_from_function", counting_spec)
    settings = RunSettings(
        estate=HOMELAB,
        estate_label="examples/homelab",
        cluster="examples/homelab/cluster",
        date="2026-11-20",
        workdir=REPO,
    )
    state = run_audit(settings, run_id="read-once")
    assert state.report is not None
    assert len(loaded) == 1  # research and the recount share one reading of the cluster
    assert len(parses) == 1  # the recount runs rg/jq/python3 commands, never our parser again
    assert len(scoped) == 1  # once per recount, not once per recounted check (37 on the large estate)
    assert len(specs) == len(set(specs)) <= 9  # a toolbox per branch, the specs built once per process
    recounted = [e for e in state.report.evidence if e.id.endswith(".r")]
    assert recounted and {e.tool for e in recounted} == {"reproduce", "listed"}
    assert any(e.tool == "reproduce" and e.args["id"].startswith("REL-LIVE") for e in recounted)
