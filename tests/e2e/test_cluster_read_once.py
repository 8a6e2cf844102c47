"""A run reads the cluster once (issue 13) and parses the code once (issue 11): the numbers challenger
recounts through standard-tool commands, not through a second parse. Nor is other work done again per
item: the recount works out what is not deployed once, and the tool specs are built once per process."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from estates import ARGO_HOMELAB, HOMELAB, REPO

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
    settings = _settings()
    state = run_audit(settings, run_id="read-once")
    assert state.report is not None
    assert len(loaded) == 1  # research and the recount share one reading of the cluster
    assert len(parses) == 1  # the recount runs rg/jq/python3 commands, never our parser again
    assert len(scoped) == 1  # once per recount, not once per recounted check (37 on the large estate)
    assert len(specs) == len(set(specs)) <= 9  # a toolbox per branch, the specs built once per process
    recounted = [e for e in state.report.evidence if e.id.endswith(".r")]
    assert recounted and {e.tool for e in recounted} == {"reproduce", "listed"}
    assert any(e.tool == "reproduce" and e.args["id"].startswith("REL-LIVE") for e in recounted)


def test_the_recount_starts_as_each_check_ends_and_runs_each_command_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each check that found something sends its python commands to the run's one batch child as it
    ends, while the research goes on; the challenger sends only what none did, and every job runs
    once, in one child."""
    from tools.checks import reproduce_batch, reproduce_run

    sent: list[tuple[str, list[Any]]] = []  # (thread, the jobs it sent first)
    children: list[Any] = []
    real_submit, real_child = reproduce_batch.Scripts.submit, reproduce_batch._Child.__init__

    def submit(self: Any, jobs: list[Any]) -> None:
        before = set(self._child.known) if self._child is not None else set()
        real_submit(self, jobs)
        after = set(self._child.known) if self._child is not None else set()
        sent.append((threading.current_thread().name, [j for j in jobs if j in after - before]))

    def child(self: Any, jail: Any) -> None:
        children.append(self)
        real_child(self, jail)

    alone: list[str] = []
    real_alone = reproduce_run._child

    def child_alone(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        alone.append(argv[1])
        return real_alone(argv, *args, **kwargs)

    monkeypatch.setattr(reproduce_batch.Scripts, "submit", submit)
    monkeypatch.setattr(reproduce_batch._Child, "__init__", child)
    monkeypatch.setattr(reproduce_run, "_child", child_alone)
    settings = _settings()
    state = run_audit(settings, run_id="early")
    assert len(children) == 1
    assert [c for c in children if c.proc.poll() is None] == []  # ended with the round
    assert [a for a in alone if a.endswith(".py")] == []  # no script ran again alone: the batch's answers
    new = [job for _, jobs in sent for job in jobs]
    assert len(new) == len(set(new)) > 10  # each command sent once
    findings = [f for result in state.results.values() for f in result.findings]
    assert len(sent) == len(findings) + 1  # each finding's check as it ended, then the challenger
    assert sum(len(jobs) for _, jobs in sent[:-1]) > len(sent[-1][1])  # most started before the challenge
    recounts = [e for e in state.challenge_evidence if e.tool == numbers.INDEPENDENT]
    assert recounts and all(e.error is None for e in recounts)


def _settings() -> RunSettings:
    """The home-lab with its snapshot, as the demo runs it."""
    return RunSettings(
        estate=HOMELAB,
        estate_label="examples/homelab",
        cluster="examples/homelab/cluster",
        date="2026-11-20",
        workdir=REPO,
    )


@pytest.mark.parametrize(
    ("estate", "cluster", "warmed"),
    [
        (HOMELAB, "examples/homelab/cluster", [["cluster"]]),  # nothing left out: one reading
        (ARGO_HOMELAB, None, [[], ["benchmark/fio/job.yaml", "test/load-generator/deployment.yaml"]]),
    ],
    ids=["homelab", "argocd-homelab"],
)
def test_the_batch_child_reads_the_estate_before_the_research_ends(
    estate: Path, cluster: str | None, warmed: list[list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recount's batch child starts as the inventory starts, and its first message is the warm-up
    (the estate's objects, the snapshot skipped); once the inventory is read, a second one where the
    checks left files out (their texts are read already), and only then any command of a check."""
    from tools.checks import reproduce_batch

    order: list[str] = []
    real_send, real_parse = reproduce_batch._Child.send, build.parse_code

    def send(self: Any, *pieces: Any) -> None:
        for piece in pieces:
            text = bytes(piece) if isinstance(piece, bytes) else b""
            if text.startswith(b'{"warm"'):
                order.append(json.dumps(json.loads(text)["warm"]["skip"]))
            elif text.startswith(b'{"job"'):
                order.append("job")
        real_send(self, *pieces)

    def parse(*args: Any, **kwargs: Any) -> Any:
        order.append("parse")
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(reproduce_batch._Child, "send", send)
    monkeypatch.setattr(build, "parse_code", parse)
    settings = RunSettings(estate=estate, cluster=cluster, date="2026-11-20", workdir=REPO)
    state = run_audit(settings, run_id="warm")
    first, *then = [json.dumps(skip) for skip in warmed]
    assert order[: 2 + len(then)] == [first, "parse", *then]
    assert order[2 + len(then) :] and set(order[2 + len(then) :]) == {"job"}
    recounts = [e for e in state.challenge_evidence if e.tool == numbers.INDEPENDENT]
    assert recounts and all(e.error is None for e in recounts)


def test_the_jq_engine_parses_the_cluster_before_the_inventory_and_runs_every_filter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a cluster, the recount's jq engine starts before the live inventory is read (its parse
    runs beside the inventory and the research), every recounted jq filter runs in it (none in a jq
    child of its own) and it ends with the round."""
    from tools.checks import reproduce_batch, reproduce_jq

    order: list[str] = []
    engines: list[Any] = []
    alone: list[str] = []
    real_engine, real_start = reproduce_jq.JqEngine.__init__, reproduce_jq.JqWork.start
    real_load, real_alone = live.load_live_state, reproduce_batch._jq_alone

    def engine(self: Any, *args: Any) -> None:
        engines.append(self)
        real_engine(self, *args)

    def start(self: Any, *args: Any) -> None:  # in the inventory node's thread: no race to order
        order.append("engine")
        real_start(self, *args)

    def load(backend: Any) -> LiveState:
        order.append("live inventory")
        return real_load(backend)

    def one_child(program: str, *args: Any) -> Any:
        alone.append(program)
        return real_alone(program, *args)

    monkeypatch.setattr(reproduce_jq.JqEngine, "__init__", engine)
    monkeypatch.setattr(reproduce_jq.JqWork, "start", start)
    monkeypatch.setattr(live, "load_live_state", load)
    monkeypatch.setattr(reproduce_batch, "_jq_alone", one_child)
    state = run_audit(_settings(), run_id="jq-engine")
    assert state.report is not None
    assert order[:1] == ["engine"] and order.count("engine") == 1 and "live inventory" in order
    assert alone == []  # every program ran over the engine's parsed listings
    assert len(engines) == 1 and engines[0]._child is None  # closed with the round
    jq_recounts = [
        e
        for e in state.challenge_evidence
        if e.tool == numbers.INDEPENDENT and str(e.command).startswith("jq ")
    ]
    assert len(jq_recounts) >= 3 and all(e.error is None and e.value is not None for e in jq_recounts)


def test_the_snapshot_is_let_go_before_the_reports_are_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Once the report is made the snapshot's objects are let go (and the freed heap given back)
    before rendering: at 10k pods the run peaked while rendering with them held. The reports are the
    kept example's all the same (``test_pipeline_estates``)."""
    import pipeline.render as render
    from tools.kube.backend import KubeQueryError
    from tools.kube.snapshot import SnapshotBackend

    backend = SnapshotBackend(HOMELAB / "cluster", shown_as="examples/homelab/cluster")
    released_at_render: list[bool] = []
    real_write = render.write_outputs

    def write(*args: Any, **kwargs: Any) -> Any:
        released_at_render.append(backend._released)
        return real_write(*args, **kwargs)

    monkeypatch.setattr(render, "write_outputs", write)
    settings = _settings().model_copy(update={"out": tmp_path / "out"})
    state = run_audit(settings, run_id="let-go", backend=backend)
    assert state.report is not None and released_at_render == [True]
    pods = next(r for r in backend.api_resources() if r.qualified == "pods")
    with pytest.raises(KubeQueryError):
        backend.list_objects(pods)
