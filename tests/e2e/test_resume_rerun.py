"""Runs that are killed, re-run in part, or lose a concern: the audit survives each."""

from __future__ import annotations

import json
import shutil
import sqlite3
import textwrap
from pathlib import Path

import pytest
from clirun import killed
from estates import GITOPS, REPO

import pipeline.nodes as nodes
from domain.concerns import CONCERNS, Concern
from domain.findings import ConcernResult
from pipeline.audit import resume_audit, run_audit
from pipeline.cli import main
from pipeline.render.json_out import load_report
from pipeline.runs import RunStore
from pipeline.settings import RunSettings
from tools.checks.spec import CheckContext

pytestmark = pytest.mark.e2e

DATE = "2026-11-20"

# The child process runs a real audit in which the first KEEP research branches to start finish
# normally; any later branch waits until those KEEP branches' results are in the checkpoint database
# (at most 30 s), then the process dies as if killed (no cleanup, exit 137). The concerns that
# finished are written to a file, one per line, so the test knows exactly which must not run again.
KILLED_RUN = textwrap.dedent(
    """
    import os, sqlite3, sys, threading, time
    import pipeline.nodes as nodes
    from pipeline.cli import main

    estate, state_dir, out, finished_file, keep, *flags = sys.argv[1:]
    keep = int(keep)
    real = nodes.research_offline
    lock = threading.Lock()
    started = []

    def saved():
        with sqlite3.connect(os.path.join(state_dir, "runs", "killed.sqlite")) as conn:
            return conn.execute(
                "SELECT COUNT(DISTINCT task_id) FROM writes WHERE thread_id = 'killed' "
                "AND channel = 'results' AND task_path LIKE '~__pregel_push%'"
            ).fetchone()[0]

    def research(concern, ctx):
        with lock:
            started.append(concern)
            mine = len(started)
        if mine <= keep:
            result = real(concern, ctx)
            with lock, open(finished_file, "a") as f:
                f.write(concern + "\\n")
            return result
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and saved() < keep:
            time.sleep(0.02)
        os._exit(137)

    nodes.research_offline = research
    sys.exit(main(["run", estate, "--run-id", "killed", "--date", "2026-11-20",
                   "--state-dir", state_dir, "--out", out, *flags]))
    """
)


def finished_research_branches(state_dir: Path) -> int:
    with sqlite3.connect(state_dir / "runs" / "killed.sqlite") as conn:
        return int(
            conn.execute(
                "SELECT COUNT(DISTINCT task_id) FROM writes WHERE thread_id = 'killed' "
                "AND channel = 'results' AND task_path LIKE '~__pregel_push%'"  # research, not __start__
            ).fetchone()[0]
        )


@pytest.mark.parametrize(
    ("flags", "keep"),
    [([], 2), ([], 4), (["--max-concurrency", "1"], 2), (["--max-concurrency", "1"], 3)],
    ids=["default-2-done", "default-4-done", "one-at-a-time-2-done", "one-at-a-time-3-done"],
)
def test_resume_after_a_killed_run_redoes_only_the_unfinished_concerns(
    flags: list[str], keep: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir, out, finished_file = tmp_path / "state", tmp_path / "out", tmp_path / "finished"
    killed(KILLED_RUN, *map(str, (GITOPS, state_dir, out, finished_file, keep)), *flags)
    assert not (out / "audit.md").exists()
    finished = finished_file.read_text().split()
    assert len(finished) == len(set(finished)) == keep
    # every finished branch is in the checkpoint, whatever the concurrency
    assert finished_research_branches(state_dir) == keep
    assert [(r.run_id, r.status) for r in RunStore(state_dir).runs()] == [("killed", "incomplete")]

    calls: list[str] = []
    real = nodes.research_offline

    def counting(concern: Concern, ctx: CheckContext) -> ConcernResult:
        calls.append(concern)
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", counting)
    state = resume_audit("killed", RunStore(state_dir))
    assert sorted(calls) == sorted(set(CONCERNS) - set(finished))  # each unfinished one once, no other
    assert state.report is not None and sorted(state.report.concerns) == sorted(CONCERNS)
    assert (out / "audit.md").exists() and (out / "audit.json").exists()
    assert [(r.run_id, r.status) for r in RunStore(state_dir).runs()] == [("killed", "finished")]

    clean = run_audit(
        RunSettings(estate=GITOPS, estate_label=str(GITOPS), date=DATE, workdir=REPO), run_id="killed"
    )
    assert clean.report is not None
    assert state.report.findings == clean.report.findings
    assert state.report.verdicts == clean.report.verdicts


def test_resume_of_an_unknown_run_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["resume", "nope", "--state-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("infra-audit: error: no run 'nope'") and "\n" not in err


def test_rerun_of_one_concern_leaves_the_others_byte_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate = tmp_path / "estate"
    shutil.copytree(GITOPS, estate)
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "run",
                "estate",
                "--out",
                "first",
                "--run-id",
                "r1",
                "--date",
                DATE,
                "--state-dir",
                str(tmp_path / "state"),
            ]
        )
        == 0
    )
    first = json.loads((tmp_path / "first" / "audit.json").read_text())

    # The estate changes after the audit: a new privileged, probe-less, latest-tagged DaemonSet.
    (estate / "apps" / "ops" / "sniffer.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: sniffer, namespace: ops}
        spec:
          selector: {matchLabels: {app: sniffer}}
          template:
            metadata: {labels: {app: sniffer}}
            spec:
              hostNetwork: true
              containers:
                - name: sniffer
                  image: nicolaka/netshoot:latest
                  securityContext: {privileged: true}
        """)
    )
    # listed in its kustomization, as a real change would be (a file no kustomization lists is not
    # deployed: tools/inventory/scope.py reachability)
    listing = estate / "apps" / "ops" / "kustomization.yaml"
    listing.write_text(listing.read_text() + "  - sniffer.yaml\n")
    calls: list[str] = []
    real = nodes.research_offline

    def counting(concern: Concern, ctx: CheckContext) -> ConcernResult:
        calls.append(concern)
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", counting)
    assert main(["rerun", "first/audit.json", "--concern", "security", "--out", "second"]) == 0
    assert calls == ["security"]
    second = json.loads((tmp_path / "second" / "audit.json").read_text())

    for concern in CONCERNS:
        same = json.dumps(first["concerns"][concern], sort_keys=True) == json.dumps(
            second["concerns"][concern], sort_keys=True
        )
        assert same is (concern != "security"), concern
    others = [v for v in first["verdicts"] if not v["finding"].startswith("R5#")]
    assert others == [v for v in second["verdicts"] if not v["finding"].startswith("R5#")]
    # the re-run security research sees the new DaemonSet; the untouched concerns do not
    privileged = next(f for f in second["concerns"]["security"]["findings"] if f["check"] == "SEC-PRIVILEGED")
    assert "DaemonSet/ops/sniffer/sniffer" in [loc["subject"] for loc in privileged["locations"]]
    maintenance = json.dumps(second["concerns"]["maintenance"])
    assert "sniffer" not in maintenance
    report = load_report(tmp_path / "second" / "audit.json")
    assert report.meta.run_id == "r1-rerun-security"


def test_a_crashing_concern_is_recorded_and_the_rest_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = nodes.research_offline

    def crashing(concern: Concern, ctx: CheckContext) -> ConcernResult:
        if concern == "scalability":
            raise RuntimeError("detector blew up")
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", crashing)
    code = main(
        ["run", str(GITOPS), "--out", str(tmp_path), "--date", DATE, "--state-dir", str(tmp_path / "s")]
    )
    assert code == 4  # a failed concern: incomplete
    report = load_report(tmp_path / "audit.json")
    assert report.meta.concerns_failed == {"scalability": "RuntimeError: detector blew up"}
    assert report.concerns["scalability"].status == "failed"
    assert {c for c, r in report.concerns.items() if r.status == "ok"} == set(CONCERNS) - {"scalability"}
    assert any("R4 scalability research failed" in g for g in report.gaps)
    assert report.findings and all(f.concerns[0] != "scalability" for f in report.findings)
    assert "failed concerns: scalability" in capsys.readouterr().out
