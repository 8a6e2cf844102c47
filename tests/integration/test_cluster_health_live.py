"""The cluster-health checks read the same through the live backend as through the snapshot.

The emulator serves the bundled k3s-platform snapshot on 127.0.0.1 (kmock; see kube_emulator.py);
the inventory is built once from the API and once from the files, and every cluster-health check
must give the same count, total, subjects, details and measures. Every request the live read made
is a GET: the checks ask the cluster nothing beyond the audit's one read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from estates import K3S, K3S_SNAPSHOT, ground_truth
from kube_emulator import KubeEmulator

from tools.checks.spec import CheckContext, get_detector
from tools.clock import parse_clock
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.kube.backend import KubeBackend
from tools.kube.live import LiveBackend
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

CHECKS = [entry["check"] for entry in ground_truth("k3s-platform")["cluster_checks"]]


@pytest.fixture(scope="module")
def emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator(K3S_SNAPSHOT)
    emu.start()
    yield emu
    emu.stop()


def results(backend: KubeBackend) -> dict[str, Any]:
    ctx = CheckContext(
        build_inventory(K3S, cluster=backend),
        Toolbox(Jail(K3S), backend, Ledger()),
        now=parse_clock("2026-11-28T10:00:00Z"),
    )
    out = {}
    for check in CHECKS:
        found = get_detector(check)(ctx)
        rows = sorted((loc.subject, loc.detail, loc.ref.split("/", 1)[1]) for loc in found.locations)
        out[check] = (found.count, found.total, rows, found.measures)
    return out


def test_live_and_snapshot_give_the_same_cluster_health(emulator: KubeEmulator, tmp_path: Path) -> None:
    config = emulator.kubeconfig(tmp_path / "config", context="forge-admin", cluster="forge")
    live = LiveBackend.from_kubeconfig(kubeconfig=str(config), context="forge-admin")
    from_api = results(live)
    from_files = results(SnapshotBackend(K3S_SNAPSHOT))
    assert from_api == from_files
    assert sum(count for count, *_ in from_api.values()) == sum(
        entry["count"] for entry in ground_truth("k3s-platform")["cluster_checks"]
    )
    methods = {r.method for r in emulator.requests()}
    assert methods == {"GET"}
