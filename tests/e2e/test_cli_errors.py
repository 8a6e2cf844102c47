"""Bad input: a clear one-line error and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from estates import GITOPS, HOMELAB

from pipeline.cli import main

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["run", "/nonexistent"], 2, "infra-audit: error: estate path '/nonexistent' does not exist"),
        (["run", "/etc/hostname"], 2, "infra-audit: error: estate path '/etc/hostname' is not a directory"),
        (
            ["run", str(GITOPS), "--cluster", "/nonexistent"],
            2,
            "infra-audit: error: snapshot '/nonexistent' does not exist",
        ),
        (["run", str(GITOPS), "--cluster", str(HOMELAB / "stacks")], 2, "holds no Kubernetes objects"),
        (["run", str(GITOPS), "--concern", "nope"], 2, "--concern: unknown concern 'nope'; valid: R1"),
        (
            ["run", str(GITOPS), "--date", "21-11-2026"],
            2,
            "'21-11-2026' is not a date or time in the form YYYY-MM-DD (00:00 UTC) or "
            "YYYY-MM-DDTHH:MM:SSZ (UTC)",
        ),
        (["rerun", "/nonexistent.json", "--concern", "security"], 2, "no audit report at /nonexistent.json"),
        (["rerun", "/etc/hostname", "--concern", "security"], 2, "is not a valid infra-audit report"),
        (["check", str(GITOPS), "NOPE"], 2, "unknown check 'NOPE'; list them with 'infra-audit checks'"),
        (["resume", "missing-run"], 2, "no run 'missing-run'"),
        (
            ["run", str(GITOPS), "--max-tool-calls", "-1"],
            2,
            "--max-tool-calls: input should be greater than or equal to 0",
        ),
        (["run", str(GITOPS), "--max-usd", "-5"], 2, "--max-usd: input should be greater than or equal to 0"),
        (
            ["run", str(GITOPS), "--request-timeout", "0"],
            2,
            "--request-timeout: give seconds above 0 and at most 3600, not 0",
        ),
        (
            ["rerun", "/nonexistent.json", "--concern", "R1", "--request-timeout", "nan"],
            2,
            "--request-timeout: give seconds above 0 and at most 3600, not nan",
        ),
        (
            ["run", str(GITOPS), "--max-concurrency", "0"],
            2,
            "--max-concurrency: input should be greater than or equal to 1",
        ),
        (["run", str(GITOPS), "--out", str(GITOPS / "reports")], 2, "is inside the audited estate"),
        (
            ["run", str(GITOPS), "--cluster", "live", "--kubeconfig", "/nonexistent/kubeconfig"],
            2,
            "kubeconfig",
        ),
        (
            ["snapshot", "-o", "/tmp/never-written", "--kubeconfig", "/nonexistent/kubeconfig"],
            2,
            "kubeconfig",
        ),
    ],
)
def test_one_line_error_and_exit_code(
    argv: list[str],
    code: int,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INFRA_AUDIT_HOME", str(tmp_path))
    try:
        exit_code = main(argv)
    except SystemExit as exc:  # argparse rejects a flag before main's own handling
        exit_code = int(exc.code or 0)
    assert exit_code == code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert message in lines[0]
    assert "Traceback" not in err


def test_tool_errors_are_evidence_not_crashes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tool", str(GITOPS), "repo_read", "path=../../etc/passwd"]) == 1
    assert "uses '..' to leave the estate root" in capsys.readouterr().out
    assert main(["tool", str(GITOPS), "kube_get", "resource=pods"]) == 1
    assert "kube_get reads a cluster, and this audit has none" in capsys.readouterr().out
    assert main(["tool", str(GITOPS), "nosuchtool"]) == 1
    assert "unknown tool 'nosuchtool'" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("cassette_text", "message"),
    [
        ("- a\n", "is not an infra-audit cassette"),
        ("key: [unclosed\n", "cannot read cassette"),
        (
            "infra_audit: {model: m}\ninteractions:\n- foo: 1\n",
            "cassette interaction 1 has no request and response",
        ),
    ],
)
def test_a_broken_cassette_is_a_one_line_error(
    cassette_text: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INFRA_AUDIT_HOME", str(tmp_path))
    tape = tmp_path / "tape.yaml"
    tape.write_text(cassette_text)
    code = main(["run", str(GITOPS), "--replay", str(tape), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert message in lines[0] and "Traceback" not in err


def test_a_kustomization_that_does_not_build_is_a_note_not_a_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken kustomization is said once and read file by file; a field not built is said too."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app/kustomization.yaml").write_text("resources: [deploy.yaml, gone.yaml]\n")
    deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
    (tmp_path / "app/deploy.yaml").write_text(deploy)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok/kustomization.yaml").write_text("namespace: ok\nresources: [d.yaml]\nvars: []\n")
    (tmp_path / "ok/d.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\n")
    assert main(["inventory", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    dump = json.loads(out.out)
    workloads = {w["name"]: w["namespace"] for w in dump["code"]["workloads"]}
    assert workloads == {"web": None, "w": "ok"}  # the broken one read raw, the other built
    assert [(i["path"], i["line"], i["reason"]) for i in dump["code"]["issues"]] == [
        ("app/kustomization.yaml", 1, "note"),
        ("ok/kustomization.yaml", 3, "note"),
    ]
