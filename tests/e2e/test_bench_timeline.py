"""``bench/phases.py --timeline`` (issue 13): the order it reports is the graph's, and it sees the
recount's two fed children start, take work and answer; ``bench/snapshot_open.py`` finds the open
inside the real CLI. Only orders are asserted, never a duration."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from estates import HOMELAB, REPO

pytestmark = pytest.mark.e2e


def test_the_timeline_follows_the_graph_and_sees_both_recount_children(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "bench/phases.py",
            "audit",
            str(HOMELAB),
            "--cluster",
            str(HOMELAB / "cluster"),
            "--work",
            str(tmp_path),
            "--timeline",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out = json.loads(done.stdout)
    assert out["rc"] == 0
    order = ("inventory", "research", "challenge", "synthesize", "render")
    nodes = [out["timeline"][f"node:{name}"] for name in order]
    for (_, end), (start, _) in itertools.pairwise(nodes):
        assert end <= start  # each node begins once the one before it has ended
    research = [span for label, span in out["timeline"].items() if label.startswith("research:")]
    assert len(research) == 5
    children = out["recount_children"]
    assert set(children) == {"batch", "jq engine"}
    for row in children.values():
        assert row["answers"] >= 1 and row["messages"] >= row["answers"]
        assert row["started"] <= row["first sent"] <= row["first answer"] <= row["last answer"]
        assert row["last answer"] <= row["output ended"]
        assert nodes[0][0] <= row["started"] <= nodes[1][0]  # started with the inventory, before the research
    assert out["children_cpu_s"] > 0


def test_snapshot_open_times_the_open_inside_the_real_cli() -> None:
    """``bench/snapshot_open.py``: the open is found (its import hook fired: the script exits non-zero
    when no snapshot was opened or the run failed, which ``check=True`` refuses)."""
    done = subprocess.run(
        [sys.executable, "bench/snapshot_open.py", str(HOMELAB / "cluster"), "--runs", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert re.search(r"open at [\d.]+ s, took [\d.]+ s; run [\d.]+ s", done.stdout), done.stdout
