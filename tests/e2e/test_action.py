"""action.yml, the composite GitHub Action: its shape, and its audit step's script run as the runner
would run it (bash, INPUT_* variables, $GITHUB_OUTPUT), with infra-audit on PATH. GitHub itself is not
reachable where this project is built: the upload step is checked by its inputs only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from estates import REPO

pytestmark = pytest.mark.e2e

ACTION = REPO / "action.yml"
WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: web, image: "nginx:latest"}]
"""


def steps() -> dict[str, dict[str, Any]]:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    assert {"path", "fail-on", "baseline", "upload-sarif"} <= set(action["inputs"])
    return {s.get("name", s.get("uses", "")): s for s in action["runs"]["steps"]}


def test_the_action_installs_from_the_lock_uploads_sarif_and_gates_last() -> None:
    named = steps()
    install = named["Install infra-audit (pinned by its lock)"]["run"]
    assert '--require-hashes --no-deps -r "$GITHUB_ACTION_PATH/requirements.lock"' in install
    assert '--no-deps --no-build-isolation "$GITHUB_ACTION_PATH"' in install
    upload = named["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ steps.audit.outputs.sarif }}"
    assert "always()" in upload["if"]  # a failed gate still shows its findings
    assert list(named)[-1] == "Gate" and named["Gate"]["run"] == 'exit "$CODE"'
    for step in named.values():  # inputs reach scripts through env, never pasted into the script
        assert "${{ inputs." not in step.get("run", "")


def audit_step(tmp: Path, **inputs: str) -> tuple[int, dict[str, str]]:
    script = steps()["Audit"]["run"]
    output = tmp / f"output-{len(list(tmp.glob('output-*')))}"
    output.touch()
    env = {
        "PATH": os.pathsep.join([str(Path(sys.prefix) / "bin"), os.environ["PATH"]]),
        "HOME": str(tmp / "home"),
        "RUNNER_TEMP": str(tmp / "runner"),
        "GITHUB_OUTPUT": str(output),
        "INPUT_PATH": "estate",
        "INPUT_FAIL_ON": "",
        "INPUT_BASELINE": "",
        "INPUT_OUT": "",
        "INPUT_ARGS": "--offline --date 2026-11-20",
        **inputs,
    }
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())
    return done.returncode, outputs


def test_the_audit_step_passes_fail_on_and_baseline_and_never_fails_itself(tmp_path: Path) -> None:
    (tmp_path / "estate").mkdir()
    (tmp_path / "estate" / "web.yaml").write_text(WEB, encoding="utf-8")
    (tmp_path / "runner").mkdir()
    code, out = audit_step(tmp_path, INPUT_FAIL_ON="high")
    assert code == 0 and out["exit-code"] == "1"  # the gate failed; the step did not, so SARIF uploads
    assert out["out"] == str(tmp_path / "runner" / "infra-audit")
    assert json.loads(Path(out["sarif"]).read_text(encoding="utf-8"))["runs"][0]["results"]

    baseline = tmp_path / "baseline.json"
    baseline.write_bytes(Path(out["out"], "audit.json").read_bytes())
    code, out = audit_step(tmp_path, INPUT_FAIL_ON="high", INPUT_BASELINE=str(baseline), INPUT_OUT="second")
    assert code == 0 and out["exit-code"] == "0"  # nothing new since the baseline
    assert json.loads(Path(tmp_path, "second", "audit.json").read_text(encoding="utf-8"))["baseline"]

    code, out = audit_step(tmp_path, INPUT_FAIL_ON="severe", INPUT_OUT="third")
    assert code == 0 and out["exit-code"] == "2" and "sarif" not in out  # nothing to upload

    gate = subprocess.run(["bash", "-c", steps()["Gate"]["run"]], env={"CODE": "1"}, check=False)
    assert gate.returncode == 1
