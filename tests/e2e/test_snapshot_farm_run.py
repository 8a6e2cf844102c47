"""``infra-audit run --cluster DIR`` starts the child staging a big snapshot's biggest dumps before its
own imports, and the snapshot's backend claims it (issue 13): the report's findings are those of a
run that read every dump in process, byte for byte. The sizes that make a snapshot big are lowered
here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import cli
from estates import HOMELAB, REPO

import tools.kube.snapshot_farm as farm

pytestmark = pytest.mark.e2e


REPORTS = ("audit.json", "audit.md", "audit.sarif")


def _run(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    cluster = str((HOMELAB / "cluster").relative_to(REPO))  # relative, as typed: the backend's is absolute
    argv = [
        "run",
        str(HOMELAB),
        "--offline",
        "--cluster",
        cluster,
        "--date",
        "2026-01-01",
        "--run-id",
        "farm",
    ]
    code, printed = cli([*argv, "--out", str(tmp / "out"), "--state-dir", str(tmp / "state")], monkeypatch)
    assert code in (0, 1, 4), printed
    assert json.loads((tmp / "out" / "audit.json").read_text())["findings"]
    return {name: (tmp / "out" / name).read_bytes() for name in REPORTS}


def test_the_run_starts_the_child_early_and_the_backend_claims_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process = _run(tmp_path / "in-process", monkeypatch)
    monkeypatch.setattr(farm, "FARM_MIN_BYTES", 0)
    monkeypatch.setattr(farm, "cores", lambda: 2)
    started: list[list[str]] = []
    real = farm.Farm.__init__

    def recorded(self: farm.Farm, paths: list[Path]) -> None:
        started.append([p.name for p in paths])
        real(self, paths)

    monkeypatch.setattr(farm.Farm, "__init__", recorded)
    early: list[tuple[Path, int]] = []
    real_early = farm.Farm.early.__func__  # type: ignore[attr-defined]

    def recorded_early(cls: type[farm.Farm], root: Path) -> None:
        real_early(cls, root)
        early.append((root, len(started)))

    monkeypatch.setattr(farm.Farm, "early", classmethod(recorded_early))
    farmed = _run(tmp_path / "farmed", monkeypatch)
    assert early == [((HOMELAB / "cluster").relative_to(REPO), 1)]  # started by the run before its imports...
    assert len(started) == 1 and started[0]  # ...and the one the backend used: no second child
    assert not farm._early
    assert farmed == in_process
