"""The pre-commit hook: ``infra-audit hook`` reports findings in the changed files only, honours inline
suppressions, fails at --fail-on; and ``pre-commit try-repo`` installs and runs it from this repository,
offline (pip may not reach an index: PIP_NO_INDEX; the dependencies come from the project's .venv)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import pytest
from clirun import cli
from estates import REPO

pytestmark = pytest.mark.e2e

WEB = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  template:
    spec:
      containers:
        # infra-audit:ignore MNT-IMAGE-LATEST reason="pinned by digest in the mirror"
        - {name: web, image: "nginx:latest"}
"""
API = WEB.replace("name: web", "name: api").replace(
    "        # infra-audit:ignore", "        # not an ignore:"
)


def estate(root: Path) -> Path:
    root.mkdir()
    (root / "web.yaml").write_text(WEB, encoding="utf-8")
    (root / "api.yaml").write_text(API, encoding="utf-8")
    return root


def test_the_hook_reports_the_changed_files_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = estate(tmp_path / "repo")
    code, printed = cli(["hook", "--root", str(root), "api.yaml"], monkeypatch)
    lines = printed.splitlines()
    assert code == 1 and lines[-1] == "infra-audit: 4 finding(s) at or above high in the changed files"
    assert all(line.startswith("api.yaml:") for line in lines[:-1]) and len(lines) > 3
    assert "api.yaml:10: high MNT-IMAGE-LATEST Deployment/shop/api/api: " in printed
    # web.yaml: its :latest is suppressed inline; what is left there is below critical
    code, printed = cli(["hook", "--root", str(root), "--fail-on", "critical", "web.yaml"], monkeypatch)
    assert "MNT-IMAGE-LATEST" not in printed and "web.yaml:1: critical REL-PROBE-ANY" in printed and code == 1
    code, printed = cli(["hook", "--root", str(root), "README.md"], monkeypatch)
    assert (code, printed) == (0, "")
    assert not any(
        p.name.startswith(".") or p.suffix in (".json", ".md") for p in root.iterdir()
    )  # wrote nothing


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit try-repo needs git")
def test_pre_commit_try_repo_runs_the_hook_offline(tmp_path: Path) -> None:
    root = estate(tmp_path / "repo")
    git = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "."], cwd=root, check=True)
    env = {
        **os.environ,
        **git,
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "PIP_NO_INDEX": "1",  # offline: nothing may be fetched
        "PIP_NO_DEPS": "1",  # the hook's own venv gets infra-audit only ...
        "PIP_NO_BUILD_ISOLATION": "0",  # ... built with the locked setuptools ...
        "PYTHONPATH": sysconfig.get_paths()["purelib"],  # ... and imports the locked dependencies
        # ... and ripgrep's binary, which the ripgrep wheel puts in the venv that installed the lock
        "PATH": os.pathsep.join([sysconfig.get_paths()["scripts"], os.environ["PATH"]]),
    }
    pre_commit = Path(sysconfig.get_paths()["scripts"]) / "pre-commit"
    done = subprocess.run(
        [str(pre_commit), "try-repo", str(REPO), "infra-audit", "--files", "api.yaml", "web.yaml"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    assert "infra-audit..." in out and "Failed" in out
    assert "api.yaml:10: high MNT-IMAGE-LATEST" in out and "web.yaml:10: high MNT-IMAGE-LATEST" not in out


def test_the_hook_renders_releases_from_the_chart_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """flux-homelab's workloads exist only in its releases: with the chart cache a run uses, the hook
    reports the rendered jellyfin's ``:latest`` and its ``strategy: Recreate`` at the values lines that
    set them; without, nothing of it."""
    from estates import FLUX_HOMELAB
    from helm_estates import import_charts

    cache = import_charts(tmp_path / "charts")
    release = "kubernetes/apps/media/jellyfin/app/helmrelease.yaml"
    hook = ["hook", "--root", str(FLUX_HOMELAB), "--fail-on", "high", release]
    code, printed = cli([*hook, "--chart-cache", str(cache)], monkeypatch)
    assert code == 1
    assert printed.splitlines() == [
        f"{release}:2: high REL-PVC-NO-BACKUP PersistentVolumeClaim/media/jellyfin-config: "
        "Persistent volumes have no backup job covering them",
        f"{release}:14: medium REL-SINGLE-REPLICA Deployment/media/jellyfin: "
        "Single-replica workloads pinned by a ReadWriteOnce volume or the Recreate strategy",
        f"{release}:19: high MNT-IMAGE-LATEST Deployment/media/jellyfin/app: "
        "Containers use :latest, an untagged image or a tag variable defaulting to latest",
        f"{release}:19: low SCA-CPU-LIMIT Deployment/media/jellyfin/app: "
        "Containers have a CPU request but no CPU limit",
        "infra-audit: 2 finding(s) at or above high in the changed files",
    ]
    code, printed = cli([*hook, "--chart-cache", str(tmp_path / "empty")], monkeypatch)
    assert (code, printed) == (0, "")
