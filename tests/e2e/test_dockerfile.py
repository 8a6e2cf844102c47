"""The Dockerfile, without a container engine (none exists where this project is built): its shape
(multi-stage, non-root, pinned by the lock, entrypoint infra-audit), and its build stage's install
steps run in a fresh venv, then the installed command run from outside the source tree.

The default test borrows the dependencies from the project's .venv (a path in a .pth) and runs the
project's own install step as written, which catches what a non-editable install loses (the catalog,
the prompts, the report templates). Installing the whole lock again takes minutes: that variant is
marked slow (``make test-slow``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from estates import GITOPS, REPO

pytestmark = pytest.mark.e2e

DOCKERFILE = REPO / "Dockerfile"
TARGET = "/opt/infra-audit"


def instructions() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of (INSTRUCTION, arguments), continuations joined."""
    stages: list[list[tuple[str, str]]] = []
    logical = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        op, _, rest = logical.partition(" ")
        logical = ""
        if op.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((op.upper(), rest.strip()))
    return stages


def test_the_dockerfile_is_multi_stage_non_root_pinned_with_an_infra_audit_entrypoint() -> None:
    build, final = instructions()
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build") and final[0] == ("FROM", "${PYTHON_IMAGE}")
    runs = [args for op, args in build if op == "RUN"]
    assert f"{TARGET}/bin/pip install --require-hashes --no-deps -r requirements.lock" in runs
    assert f"{TARGET}/bin/pip install --no-deps --no-build-isolation ." in runs  # nothing left to resolve
    assert ("COPY", f"--from=build {TARGET} {TARGET}") in final
    user = next(args for op, args in final if op == "USER")
    assert user.split(":")[0] not in ("0", "root") and user.split(":")[0].isdigit()
    assert final[-2:] == [("ENTRYPOINT", '["infra-audit"]'), ("CMD", '["--help"]')]
    assert not any(op == "RUN" and "pip" in args for op, args in final)  # nothing installed unpinned


def _build_stage(tmp: Path, *, full_lock: bool) -> Path:
    """Run the build stage's COPY and RUN steps in ``tmp``; returns the venv they installed into."""
    build, _ = instructions()
    src, venv = tmp / "src", tmp / "venv"
    src.mkdir()
    for op, args in build:
        if op == "COPY":
            *sources, dest = args.split()
            for name in sources:
                origin = REPO / name.rstrip("/")
                target = src / dest if dest not in ("./", ".") else src / origin.name
                if origin.is_dir():
                    shutil.copytree(origin, target, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(origin, target if dest not in ("./", ".") else src / origin.name)
        elif op == "RUN":
            command = args.replace(TARGET, str(venv))
            if "requirements.lock" in command and not full_lock:
                _borrow_dependencies(venv)
                continue
            done = subprocess.run(
                ["bash", "-c", command], cwd=src, capture_output=True, text=True, timeout=1800, check=False
            )
            assert done.returncode == 0, (command, done.stderr[-3000:])
    return venv


def _borrow_dependencies(venv: Path) -> None:
    """The lock's packages as the project's .venv has them, on the fresh venv's path (not as a site
    dir: the project's editable install there stays off, so the fresh install is what runs)."""
    site = Path(sysconfig.get_paths()["purelib"])
    fresh = next((venv / "lib").glob("python3*/site-packages"))
    # the lock step would have replaced the venv's own setuptools (Python 3.11's venv ships one) with
    # the locked one, the build backend of the next step
    for own in fresh.glob("setuptools*"):
        shutil.rmtree(own) if own.is_dir() else own.unlink()
    (fresh / "_borrowed_deps.pth").write_text(f"{site}\n", encoding="utf-8")


def _installed_command_works(tmp: Path, venv: Path) -> None:
    env = {
        **os.environ,
        # rg: the ripgrep wheel's binary lives in the venv that installed the lock (the borrowed one)
        "PATH": os.pathsep.join([str(venv / "bin"), str(Path(sys.prefix) / "bin"), os.environ["PATH"]]),
        "INFRA_AUDIT_HOME": str(tmp / "home"),
    }
    for key in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "PYTHONPATH"):
        env.pop(key, None)

    def sh(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / argv[0]), *argv[1:]],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    where = sh(
        "python", "-c", "import pipeline, tools.checks.spec as s; print(pipeline.__file__); print(s.__file__)"
    )
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(venv)) for line in where.stdout.split()), where.stdout  # not the repo's
    version = sh("infra-audit", "--version")
    assert (version.returncode, version.stdout.split()[0]) == (0, "infra-audit"), version.stderr
    out = tmp / "out"
    audit = sh("infra-audit", "run", str(GITOPS), "--offline", "--out", str(out), "--date", "2026-11-20")
    assert audit.returncode == 0, audit.stdout[-2000:] + audit.stderr[-2000:]
    assert {p.name for p in out.iterdir()} >= {"audit.md", "audit.json", "audit.sarif"}


def test_the_build_stage_installs_a_working_infra_audit(tmp_path: Path) -> None:
    venv = _build_stage(tmp_path, full_lock=False)
    _installed_command_works(tmp_path, venv)


@pytest.mark.slow
def test_the_build_stage_with_the_whole_lock(tmp_path: Path) -> None:
    """Every step as written, the lock included (minutes: pip installs every pinned package again)."""
    venv = _build_stage(tmp_path, full_lock=True)
    _installed_command_works(tmp_path, venv)


def test_commands_quote_nothing_the_shell_could_expand() -> None:
    build, _ = instructions()
    for op, args in build:
        if op == "RUN":
            assert shlex.split(args) and "$(" not in args and "`" not in args
