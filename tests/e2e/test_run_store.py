"""The run store is pruned: the newest N runs per estate are kept; ``infra-audit runs`` lists and deletes."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from estates import GITOPS, REPO
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver

from domain.concerns import CONCERNS
from domain.errors import SettingsError
from pipeline.audit import resume_audit
from pipeline.cli import main
from pipeline.context import RunContext
from pipeline.graph import CHECKPOINT_TYPES, compile_graph
from pipeline.runs import RunStore
from pipeline.settings import RunSettings
from pipeline.state import AuditState
from tools.evidence import Ledger

pytestmark = pytest.mark.e2e

DATE = "2026-11-20"


SMALL = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - {name: web, image: "nginx:1.27"}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-file estate: these tests are about the run store, not the audit (a bundled estate's full
    audit costs seconds, and they run a dozen)."""
    root = tmp_path_factory.mktemp("small") / "estate"
    root.mkdir()
    (root / "web.yaml").write_text(SMALL, encoding="utf-8")
    return root


@pytest.fixture
def estates(tmp_path: Path, small: Path) -> tuple[Path, Path]:
    """Two estates: the same files at two paths are two estates for the store."""
    other = tmp_path / "other"
    shutil.copytree(small, other)
    return small, other


def run(estate: Path, run_id: str, state: Path, *flags: str) -> None:
    argv = ["run", str(estate), "--run-id", run_id, "--date", DATE, "--state-dir", str(state), *flags]
    assert main(argv) == 0


def ids(state: Path) -> list[str]:
    return [r.run_id for r in RunStore(state).runs()]


def test_each_run_keeps_the_newest_n_runs_of_its_estate(
    tmp_path: Path, estates: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    gitops, other = estates
    run(other, "other-1", state)
    for n in (1, 2, 3):
        run(gitops, f"g{n}", state, "--keep-runs", "2")
    assert ids(state) == ["other-1", "g2", "g3"]  # the other estate's run is not this estate's to prune
    assert sorted(p.name for p in (state / "runs").iterdir()) == ["g2.sqlite", "g3.sqlite", "other-1.sqlite"]
    assert "pruned 1 older run(s) of this estate" in capsys.readouterr().out
    with sqlite3.connect(state / "runs.sqlite") as conn:
        rows = conn.execute("SELECT run_id FROM infra_audit_runs ORDER BY run_id").fetchall()
    assert rows == [("g2",), ("g3",), ("other-1",)]


def test_the_default_is_ten_and_the_environment_can_change_it(
    tmp_path: Path, small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert RunSettings(estate=GITOPS).keep_runs == 10
    state = tmp_path / "state"
    monkeypatch.setenv("INFRA_AUDIT_KEEP_RUNS", "1")
    run(small, "a", state)
    run(small, "b", state)
    assert ids(state) == ["b"]
    run(small, "c", state, "--keep-runs", "3")  # the flag wins over the environment
    assert ids(state) == ["b", "c"]


def test_a_bad_keep_runs_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("INFRA_AUDIT_KEEP_RUNS", "ten")
    argv = ["run", str(GITOPS), "--date", DATE, "--state-dir", str(tmp_path)]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "infra-audit: error: INFRA_AUDIT_KEEP_RUNS='ten': not a number of runs (0 or more)\n"
    )
    monkeypatch.delenv("INFRA_AUDIT_KEEP_RUNS")
    assert main([*argv, "--keep-runs", "-1"]) == 2
    assert (
        capsys.readouterr().err
        == "infra-audit: error: --keep-runs: input should be greater than or equal to 0\n"
    )
    assert ids(tmp_path) == []


def test_runs_lists_id_estate_start_status_and_size(
    tmp_path: Path, small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    run(small, "listed", state)
    capsys.readouterr()
    assert main(["runs", "--state-dir", str(state)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["run", "id", "estate", "started", "(UTC)", "status", "size"]
    row = lines[1].split()
    # the last step's state only (pipeline/checkpoints.py): under a MiB, where every step's made MiBs
    size = sum(p.stat().st_size for p in (state / "runs").glob("listed.sqlite*"))
    assert row[:2] == ["listed", str(small)] and row[4] == "finished" and row[6] == "KiB"
    assert float(row[5]) == round(size / 2**10, 1)
    assert lines[2].startswith("1 run(s), ") and lines[2].endswith(f" in {state}")


def test_delete_removes_checkpoints_and_settings_and_gives_the_space_back(
    tmp_path: Path, small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    for run_id in ("a", "b", "c"):
        run(small, run_id, state)
    store = RunStore(state)
    before = store.disk_usage()
    a_and_c = sum((state / "runs" / f"{r}.sqlite").stat().st_size for r in ("a", "c"))
    capsys.readouterr()
    assert main(["runs", "delete", "a", "c", "--state-dir", str(state)]) == 0
    assert capsys.readouterr().out.startswith(f"deleted 2 run(s) from {state}: ")
    assert ids(state) == ["b"]
    assert not (state / "runs" / "a.sqlite").exists() and not (state / "runs" / "c.sqlite").exists()
    assert before - store.disk_usage() == a_and_c
    with pytest.raises(Exception, match="no run 'a'"):
        store.load("a")


def test_deleting_an_unknown_run_deletes_nothing(
    tmp_path: Path, small: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    run(small, "kept", state)
    capsys.readouterr()
    assert main(["runs", "delete", "kept", "nope", "--state-dir", str(state)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("infra-audit: error: no run 'nope' in ") and err.count("\n") == 1
    assert ids(state) == ["kept"] and (state / "runs" / "kept.sqlite").exists()


def test_prune_keeps_n_per_estate_or_for_one_estate(
    tmp_path: Path, estates: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    gitops, other = estates
    for run_id in ("g1", "g2", "g3"):
        run(gitops, run_id, state)
    for run_id in ("o1", "o2"):
        run(other, run_id, state)
    assert main(["runs", "prune", "--keep", "1", "--estate", str(other), "--state-dir", str(state)]) == 0
    assert ids(state) == ["g1", "g2", "g3", "o2"]
    assert main(["runs", "prune", "--keep", "2", "--state-dir", str(state)]) == 0
    assert ids(state) == ["g2", "g3", "o2"]
    assert "deleted g1 (" in capsys.readouterr().out
    assert main(["runs", "prune", "--keep", "0", "--state-dir", str(state)]) == 0
    assert ids(state) == [] and list((state / "runs").iterdir()) == []


def test_a_run_id_cannot_leave_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", str(GITOPS), "--run-id", "../escape", "--date", DATE, "--state-dir", str(tmp_path / "s")]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("infra-audit: error: run id '../escape': use up to 100 letters")
    assert not (tmp_path / "escape.sqlite").exists()


def legacy_run(store: RunStore, run_id: str) -> None:
    """A run as the store kept it before one file per run: its checkpoints inside runs.sqlite."""
    settings = RunSettings(estate=GITOPS, estate_label="examples/gitops-base", date=DATE, workdir=REPO)
    with sqlite3.connect(store.path) as conn:
        conn.execute(
            "INSERT INTO infra_audit_runs (run_id, settings, created) VALUES (?, ?, ?)",
            (run_id, settings.model_dump_json(), f"2026-01-0{len(run_id)}T00:00:00"),
        )
    # the old layout was LangGraph's own saver (every step's whole state inline), in the shared file
    saver = SqliteSaver(
        sqlite3.connect(store.path, check_same_thread=False),
        serde=JsonPlusSerializer(allowed_msgpack_modules=CHECKPOINT_TYPES),
    )
    state = AuditState(run_id=run_id, date=DATE, mode="offline", concerns=list(CONCERNS))
    ctx = RunContext(settings=settings, ledger=Ledger(), date=DATE)
    compile_graph(saver).invoke(state, {"configurable": {"thread_id": run_id}}, context=ctx)
    saver.conn.close()


def test_runs_of_the_old_layout_are_listed_and_deleted_and_the_space_comes_back(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    legacy_run(store, "old")
    legacy_run(store, "older")
    runs = {r.run_id: r for r in store.runs()}
    assert set(runs) == {"old", "older"} and runs["old"].status == "unknown" and runs["old"].size > 1_000_000
    before = store.disk_usage()
    freed = store.delete(["old"])
    assert [r.run_id for r in store.runs()] == ["older"]
    with sqlite3.connect(store.path) as conn:
        threads = {r[0] for r in conn.execute("SELECT DISTINCT thread_id FROM checkpoints")}
        threads |= {r[0] for r in conn.execute("SELECT DISTINCT thread_id FROM writes")}
    assert threads == {"older"}
    assert freed == before - store.disk_usage()
    assert freed > runs["old"].size * 0.9  # VACUUM gave the deleted run's pages back to the disk
    # its checkpoints name types of an earlier layout (agents.findings, ...): refused, not half-read
    with pytest.raises(SettingsError, match=r"^run 'older' was checkpointed by an earlier infra-audit"):
        resume_audit("older", store)
