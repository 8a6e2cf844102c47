"""deploy/cronjob.yaml: the in-cluster CronJob runs a full audit (snapshot included) and keeps the last
reports. Its script is run here as the container would run it, with the snapshot taken from a
snapshot directory (``SNAPSHOT_ARGS=--from``) instead of the cluster and the estate already cloned."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from estates import REPO

pytestmark = pytest.mark.e2e

CRONJOB = REPO / "deploy" / "cronjob.yaml"
SNAPSHOT = REPO / "tests" / "fixtures" / "snapshot-mini"
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


def container() -> dict[str, Any]:
    docs = list(yaml.safe_load_all(CRONJOB.read_text(encoding="utf-8")))
    job = next(d for d in docs if d["kind"] == "CronJob")
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert {d["metadata"]["name"] for d in docs if d["kind"] == "PersistentVolumeClaim"} == {
        v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v
    }
    (audit,) = pod["containers"]
    return dict(audit)


def test_the_cronjob_runs_a_full_audit_with_an_optional_key_from_a_secret() -> None:
    audit = container()
    script = audit["args"][0]
    assert (
        "infra-audit snapshot -o" in script
        and 'infra-audit run "$ESTATE" --cluster "$run/snapshot"' in script
    )
    key = next(e for e in audit["env"] if e["name"] == "ANTHROPIC_API_KEY")
    assert key["valueFrom"]["secretKeyRef"]["optional"] is True  # no Secret: offline
    assert audit["securityContext"]["readOnlyRootFilesystem"] is True
    assert audit["securityContext"]["allowPrivilegeEscalation"] is False


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_script_keeps_the_last_reports_and_points_latest_at_the_newest(tmp_path: Path) -> None:
    audit = container()
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "web.yaml").write_text(WEB, encoding="utf-8")
    env = {e["name"]: e["value"] for e in audit["env"] if "value" in e}
    env.update(
        ESTATE=str(estate),
        REPORTS=str(tmp_path / "reports"),
        STATE=str(tmp_path / "state"),
        KEEP="2",
        SNAPSHOT_ARGS=f"--from {SNAPSHOT}",
        RUN_ARGS="--offline --date 2026-11-20",
        PATH=os.pathsep.join([str(Path(sys.prefix) / "bin"), os.environ["PATH"]]),
        HOME=str(tmp_path / "home"),
    )
    (tmp_path / "reports").mkdir()
    made = []
    for _ in range(3):
        done = _run(audit["args"][0], env)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        made.append(os.readlink(tmp_path / "reports" / "latest"))
    kept = sorted(p.name for p in (tmp_path / "reports").iterdir() if p.name != "latest")
    assert kept == made[1:]  # the oldest went, the newest two stay
    newest = tmp_path / "reports" / "latest"
    assert {p.name for p in newest.iterdir()} >= {"audit.md", "audit.json", "audit.sarif", "snapshot"}

    # a snapshot that cannot be taken leaves no empty report directory and fails the job
    env["SNAPSHOT_ARGS"] = f"--from {tmp_path / 'nowhere'}"
    done = _run(audit["args"][0], env)
    assert done.returncode == 2
    assert sorted(p.name for p in (tmp_path / "reports").iterdir() if p.name != "latest") == made[1:]
