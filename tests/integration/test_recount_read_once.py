"""On a live cluster the recount's jq commands read the objects the audit read: no second list.

The emulator serves the k3s-platform snapshot (kmock, ``kube_emulator.py``). Through ``read_once``
(what ``RunContext`` does to a live backend) the inventory's whole-cluster lists are kept, and every
catalog jq command then runs without one more request to the API server, printing what it prints over
the snapshot's files. Without the wrapper the same recount lists again: the test can tell.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from estates import K3S, K3S_SNAPSHOT
from kube_emulator import KubeEmulator

from agents.offline.challenge_numbers import cluster_facts
from pipeline.context import recounted_types
from tools.checks.reproduce import ReproSpec, Where, every_option
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import load_catalog
from tools.inventory.build import build_inventory
from tools.kube.backend import KubeBackend
from tools.kube.live import LiveBackend
from tools.kube.read_once import ReadOnce, read_once
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator(K3S_SNAPSHOT)
    emu.start()
    yield emu
    emu.stop()


def cluster_specs() -> list[tuple[str, ReproSpec]]:
    """Every command of the catalog that reads the cluster (jq filters, and the scripts that join the
    code with it) and needs no $code (those run python over the estate too)."""
    return [
        (f"{check.id}:{key}", option)
        for check in load_catalog()
        for key, spec in check.reproduce.items()
        for option in every_option(spec)
        if option.resources and option.code is None
    ]


def recount(backend: KubeBackend) -> dict[str, float | None]:
    where = Where(estate=str(K3S), cluster="live", now="2026-11-28T00:00:00Z", **cluster_facts(backend))
    return {name: run_spec(spec, Jail(K3S), where, backend).value for name, spec in cluster_specs()}


def test_the_recount_reads_what_the_audit_read_and_asks_the_cluster_nothing(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    config = emulator.kubeconfig(tmp_path / "config", context="forge-admin", cluster="forge")
    backend = read_once(
        LiveBackend.from_kubeconfig(kubeconfig=str(config), context="forge-admin"), recounted_types()
    )
    assert isinstance(backend, ReadOnce)
    build_inventory(K3S, cluster=backend)
    before = len(emulator.requests())
    printed = recount(backend)
    assert len(emulator.requests()) == before  # not one request more
    assert printed == recount(SnapshotBackend(K3S_SNAPSHOT))
    assert len(printed) >= 30 and all(v is not None for v in printed.values())
    pods = next(r for r in backend.api_resources() if r.qualified == "pods")
    backend.list_objects(pods, namespace="platform")  # not a whole-cluster list: asked of the cluster
    assert len(emulator.requests()) == before + 1


def test_without_read_once_the_recount_lists_the_cluster_again(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    config = emulator.kubeconfig(tmp_path / "config", context="forge-admin", cluster="forge")
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(config), context="forge-admin")
    build_inventory(K3S, cluster=backend)
    before = len(emulator.requests())
    recount(backend)
    assert len(emulator.requests()) > before


def test_a_snapshot_is_not_wrapped() -> None:
    snapshot = SnapshotBackend(K3S_SNAPSHOT)
    assert read_once(snapshot, frozenset({"pods"})) is snapshot
    assert read_once(None, frozenset()) is None
    assert {"pods", "events", "endpointslices.discovery.k8s.io", "nodes"} <= recounted_types()


def test_once_released_a_kept_type_is_an_error_not_a_second_read(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    """Once the report is made (``RunContext.let_go``) the kept lists are let go: listing a
    kept type again fails, and asks the cluster nothing; another list still goes to the cluster."""
    from tools.kube.backend import KubeQueryError

    config = emulator.kubeconfig(tmp_path / "config", context="forge-admin", cluster="forge")
    backend = read_once(
        LiveBackend.from_kubeconfig(kubeconfig=str(config), context="forge-admin"), recounted_types()
    )
    assert isinstance(backend, ReadOnce)
    pods = next(r for r in backend.api_resources() if r.qualified == "pods")
    assert backend.list_objects(pods)  # kept
    backend.release()
    before = len(emulator.requests())
    with pytest.raises(KubeQueryError):
        backend.list_objects(pods)
    assert len(emulator.requests()) == before
    assert backend.list_objects(pods, namespace="platform")  # not kept: asked of the cluster
    assert len(emulator.requests()) == before + 1
