"""What a newcomer sees when something goes wrong: one line per problem, never a wall of traceback.

A concern that crashes is one line (concern, exception class, short message, the file holding its
traceback); a directory with nothing to audit warns and the report says so; a snapshot copied onto its
own source is refused.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from estates import GITOPS, HOMELAB_SNAPSHOT, K3S, K3S_SNAPSHOT, REPO

import pipeline.nodes as nodes
from domain.concerns import Concern
from domain.findings import ConcernResult
from pipeline.cli import main
from tools.checks.spec import CheckContext

pytestmark = pytest.mark.e2e

MINI = REPO / "tests" / "fixtures" / "snapshot-mini"


def cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "400")  # one logical line is one printed line (no soft wrap)
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue()


def test_a_crashing_concern_is_one_line_naming_its_traceback_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = nodes.research_offline

    def crashing(concern: Concern, ctx: CheckContext) -> ConcernResult:
        if concern == "maintenance":
            raise ValueError("a parser met something odd\nsecond line of the message\nthird")
        return real(concern, ctx)

    monkeypatch.setattr(nodes, "research_offline", crashing)
    out = tmp_path / "out"
    argv = ["run", str(GITOPS), "--offline", "--out", str(out), "--state-dir", str(tmp_path / "s")]
    code, stdout, stderr = cli(argv, monkeypatch)
    assert code == 4  # a failed concern: the audit is incomplete
    assert "Traceback" not in stdout + stderr and stderr == ""
    traceback_file = out / "traceback-research-maintenance.txt"
    crash = [line for line in stdout.splitlines() if line.startswith("research R3 maintenance: failed")]
    assert crash == [
        "research R3 maintenance: failed: ValueError: a parser met something odd second line of the "
        f"message third (traceback in {traceback_file})"
    ]
    written = traceback_file.read_text()
    assert written.startswith("Traceback (most recent call last):") and "in crashing" in written
    assert list(json.loads((out / "audit.json").read_text())["meta"]["concerns_failed"]) == ["maintenance"]


def test_without_out_the_traceback_goes_to_the_run_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crashing(concern: Concern, ctx: CheckContext) -> ConcernResult:
        raise KeyError("boom")

    monkeypatch.setattr(nodes, "research_offline", crashing)
    argv = ["run", str(GITOPS), "--offline", "--concern", "security", "--run-id", "crash"]
    code, stdout, _ = cli([*argv, "--state-dir", str(tmp_path / "s")], monkeypatch)
    where = tmp_path / "s" / "runs" / "crash.tracebacks" / "traceback-research-security.txt"
    assert code == 4 and f"failed: KeyError: 'boom' (traceback in {where})" in stdout
    assert "\nKeyError: 'boom'\n" in where.read_text()
    # the traceback belongs to the run: deleting the run deletes it
    code, _, _ = cli(["runs", "delete", "crash", "--state-dir", str(tmp_path / "s")], monkeypatch)
    assert code == 0 and not where.parent.exists()


def test_a_directory_with_nothing_auditable_warns_and_the_report_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    estate = tmp_path / "notes"
    estate.mkdir()
    (estate / "README.md").write_text("# just notes\n")
    (estate / "run.sh").write_text("echo hi\n")
    out = tmp_path / "out"
    argv = ["run", str(estate), "--offline", "--out", str(out), "--state-dir", str(tmp_path / "s")]
    code, stdout, _ = cli(argv, monkeypatch)
    assert code == 0
    assert f"inventory warning: nothing auditable in {estate}: no infrastructure code found" in stdout
    said = (
        f"The estate {estate} holds no infrastructure code infra-audit reads (Terraform/Terragrunt, "
        "Kubernetes YAML, Kustomize, Helm, Flux, Argo CD): 2 files scanned, no records; the checks of "
        "code had nothing to read."
    )
    assert said in json.loads((out / "audit.json").read_text())["gaps"]
    assert said in (out / "audit.md").read_text()


def test_a_date_before_the_snapshots_capture_warns_and_the_report_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """k3s-platform was captured 2026-11-28T10:00:00Z; judged at 2026-11-20 its stale CronJob's last
    run lies in the future. The run says so (and a run at the capture's date does not)."""
    gap = "The audit clock (2026-11-20) is earlier than the snapshot's capture (2026-11-28T10:00:00Z)"
    for date, warned in (("2026-11-20", True), ("2026-11-28", False)):
        out = tmp_path / date
        argv = ["run", str(K3S), "--cluster", str(K3S_SNAPSHOT), "--offline", "--date", date]
        code, stdout, _ = cli([*argv, "--out", str(out), "--state-dir", str(tmp_path / "s")], monkeypatch)
        assert code == 0
        said = "inventory warning: the audit clock 2026-11-20 is before the capture 2026-11-28T10:00:00Z"
        assert (said in stdout) is warned
        clock_gaps = [g for g in json.loads((out / "audit.json").read_text())["gaps"] if "audit clock" in g]
        assert [g[: len(gap)] for g in clock_gaps] == ([gap] if warned else [])
        assert (gap in (out / "audit.md").read_text()) is warned


def test_an_estate_with_code_gets_no_such_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["run", str(GITOPS), "--offline", "--out", str(tmp_path / "o"), "--state-dir", str(tmp_path / "s")]
    code, stdout, _ = cli(argv, monkeypatch)
    assert code == 0 and "nothing auditable" not in stdout
    assert not any(
        "holds no infrastructure code" in g
        for g in json.loads((tmp_path / "o" / "audit.json").read_text())["gaps"]
    )


@pytest.mark.parametrize("target", [".", "copy", "copy/inner", ".."])
def test_a_snapshot_is_not_written_onto_its_own_source(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "snap"
    shutil.copytree(MINI, source)
    if target.startswith("copy"):
        (source / "copy").mkdir()
    before = sorted(p.name for p in source.iterdir())
    out = (source / target) if target != ".." else tmp_path
    code, _, stderr = cli(["snapshot", "-o", str(out), "--from", str(source)], monkeypatch)
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith(f"infra-audit: error: -o {str(out)!r} is the --from snapshot {str(source)!r}")
    assert sorted(p.name for p in source.iterdir()) == before


def test_a_snapshot_copy_elsewhere_still_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, _ = cli(["snapshot", "-o", str(tmp_path / "copy"), "--from", str(MINI)], monkeypatch)
    assert code == 0 and (tmp_path / "copy" / "_snapshot.json").is_file()


@pytest.mark.parametrize("concerns", [["security"], []], ids=["the-only-concern", "all-five"])
def test_a_run_whose_every_research_branch_failed_still_writes_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, concerns: list[str]
) -> None:
    """The research -> challenge_round edge does not fire after an error handler; the handler routes."""

    def crashing(concern: Concern, ctx: CheckContext) -> ConcernResult:
        raise KeyError("boom")

    monkeypatch.setattr(nodes, "research_offline", crashing)
    out = tmp_path / "out"
    argv = ["run", str(GITOPS), "--offline", "--out", str(out), "--state-dir", str(tmp_path / "s")]
    code, stdout, _ = cli([*argv, *(f"--concern={c}" for c in concerns)], monkeypatch)
    assert code == 4 and "the run ended without a report" not in stdout
    report = json.loads((out / "audit.json").read_text())
    failed = concerns or ["reliability", "declarative", "maintenance", "scalability", "security"]
    assert sorted(report["meta"]["concerns_failed"]) == sorted(failed)
    assert report["findings"] == [] and (out / "audit.md").is_file()


def test_nothing_is_written_inside_what_is_audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--out, --state-dir and --record inside the estate or the snapshot are refused, for run and rerun."""
    estate = tmp_path / "estate"
    shutil.copytree(GITOPS, estate)
    snapshot = tmp_path / "snap"
    shutil.copytree(HOMELAB_SNAPSHOT, snapshot)
    state = ["--state-dir", str(tmp_path / "s")]
    for flags in (
        ["--out", str(estate / "out")],
        ["--out", str(snapshot / "reports"), "--cluster", str(snapshot)],
        ["--state-dir", str(estate / ".state")],
        ["--record", str(estate / "c.yaml")],
    ):
        argv = ["run", str(estate), "--offline", *([] if "--state-dir" in flags else state), *flags]
        code, _, stderr = cli(argv, monkeypatch)
        assert code == 2 and "is inside the audited" in stderr and stderr.count("\n") == 1, flags
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code, _, _ = cli(["run", str(estate), "--offline", "--out", str(tmp_path / "out"), *state], monkeypatch)
    assert code == 0
    code, _, stderr = cli(
        [
            "rerun",
            str(tmp_path / "out" / "audit.json"),
            "--concern",
            "R5",
            "--offline",
            "--out",
            str(estate / "rr"),
        ],
        monkeypatch,
    )
    assert code == 2 and "--out" in stderr and "is inside the audited estate" in stderr
    assert (
        not (estate / "rr").exists() and not (estate / "out").exists() and not (snapshot / "reports").exists()
    )
    assert [p for p in before if p.parts[0] in ("estate", "snap")] == sorted(
        p.relative_to(tmp_path)
        for p in tmp_path.rglob("*")
        if p.relative_to(tmp_path).parts[0] in ("estate", "snap")
    )


@pytest.mark.parametrize("price", ["-1,2", "nan,nan", "inf,1", "3", "a,b"])
def test_a_bad_price_is_one_line(price: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["run", str(GITOPS), "--offline", f"--price={price}", "--state-dir", str(tmp_path / "s")]
    code, stdout, stderr = cli(argv, monkeypatch)
    assert code == 2 and stderr.startswith(f"infra-audit: error: --price {price!r} is not 'IN,OUT'")
    assert stderr.count("\n") == 1 and "Traceback" not in stdout + stderr


def test_a_bad_run_id_is_refused_before_anything_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["run", str(GITOPS), "--offline", "--run-id", "x/y", "--state-dir", str(tmp_path / "s")]
    code, stdout, stderr = cli(argv, monkeypatch)
    assert code == 2 and "run id: x/y" not in stdout and stderr.startswith("infra-audit: error: run id 'x/y'")


def test_snapshot_files_not_read_are_shown_as_the_user_named_the_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report is shared: it names the snapshot as given (snap/...), not the auditor's absolute path."""
    shutil.copytree(HOMELAB_SNAPSHOT, tmp_path / "snap")
    pods = next((tmp_path / "snap").glob("*pods.json"))
    pods.write_text(pods.read_text()[:200])  # truncated
    monkeypatch.chdir(tmp_path)
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    argv = ["run", str(GITOPS), "--offline", "--cluster", "snap", "--out", "out", "--state-dir", "s"]
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        assert main(argv) == 4  # a resource type was lost: incomplete
    report = (tmp_path / "out" / "audit.md").read_text()
    assert f"snap/{pods.name}" in report and str(tmp_path) not in report
    assert str(tmp_path) not in (tmp_path / "out" / "audit.json").read_text()


@pytest.mark.parametrize("command", ["run", "inventory"])
def test_fetched_charts_are_never_cached_inside_what_is_audited(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--fetch-charts writes the charts it pulls into --chart-cache: inside the estate (or the snapshot)
    that is a write to what is audited, refused in one line before anything runs."""
    estate = tmp_path / "estate"
    shutil.copytree(GITOPS, estate)
    snapshot = tmp_path / "snap"
    shutil.copytree(HOMELAB_SNAPSHOT, snapshot)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    extra = ["--offline", "--out", str(tmp_path / "out"), "--state-dir", str(tmp_path / "s")]
    for cache, cluster in ((estate / ".charts", []), (snapshot / "charts", ["--cluster", str(snapshot)])):
        argv = [command, str(estate), "--fetch-charts", "--chart-cache", str(cache), *cluster]
        code, _, stderr = cli([*argv, *(extra if command == "run" else [])], monkeypatch)
        assert code == 2 and "--chart-cache" in stderr and "is inside the audited" in stderr, stderr
        assert stderr.count("\n") == 1
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    # without --fetch-charts the cache is only read: a cache inside the estate is allowed
    code, _, stderr = cli(["inventory", str(estate), "--chart-cache", str(estate / ".charts")], monkeypatch)
    assert code == 0, stderr
