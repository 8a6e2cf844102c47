"""``infra-audit run`` starts a child parsing a big estate before its own imports, tells it the chart
cache once it has read its environment, and takes its records in place of its own parse (issue 13):
the report is byte for byte that of a run that parsed in process. The size that makes an estate big is
lowered here; the estate has Flux HelmReleases of a local chart, rendered in the child."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import cli
from estates import FLUX_HOMELAB

import tools.inventory.parse_early as early
from tools.helm.options import ChartOptions
from tools.inventory import build
from tools.inventory.inventory import Records

pytestmark = pytest.mark.e2e

REPORTS = ("audit.json", "audit.md", "audit.sarif")


def _run(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, bytes], int]:
    parsed: list[Path] = []
    real = build.parse_estate

    def counted(root: Path, charts: Callable[[], ChartOptions | None]) -> tuple[int, Records]:
        parsed.append(root)
        return real(root, charts)

    monkeypatch.setattr(build, "parse_estate", counted)
    argv = ["run", str(FLUX_HOMELAB), "--offline", "--date", "2026-01-01", "--run-id", "early"]
    code, printed = cli([*argv, "--out", str(tmp / "out"), "--state-dir", str(tmp / "state")], monkeypatch)
    assert code in (0, 1, 4), printed
    return {name: (tmp / "out" / name).read_bytes() for name in REPORTS}, len(parsed)


def test_the_run_takes_the_childs_parse_and_reports_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_process, parses = _run(tmp_path / "in-process", monkeypatch)
    assert parses == 1  # a small estate: no child
    monkeypatch.setattr(early, "MIN_FILES", 1)
    monkeypatch.setattr(early, "cores", lambda: 2)
    started: list[Path] = []
    real_init = early.EarlyParse.__init__

    def recorded(self: early.EarlyParse, root: Path) -> None:
        started.append(root)
        real_init(self, root)

    monkeypatch.setattr(early.EarlyParse, "__init__", recorded)
    from_child, parses = _run(tmp_path / "child", monkeypatch)
    assert started == [FLUX_HOMELAB]
    assert parses == 0  # the estate was parsed once, in the child
    assert not early._early
    assert from_child == in_process
