"""The collector and a cluster's objects (issue 13): a snapshot loads with the collector paused, and a
run freezes the heap once the cluster's inventory is built, then gives it back when the graph returns.
At 10k pods, full collections re-scanning the cluster's objects took 5.8 s of a 19.6 s run."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import pytest
from estates import HOMELAB, HOMELAB_SNAPSHOT, REPO

from pipeline import nodes
from pipeline.audit import run_audit
from pipeline.context import RunContext
from pipeline.settings import RunSettings
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.scope import deployed_view
from tools.kube import snapshot, snapshot_files
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.e2e


def _settings(cluster: str | None) -> RunSettings:
    return RunSettings(
        estate=HOMELAB, estate_label="examples/homelab", cluster=cluster, date="2026-11-20", workdir=REPO
    )


def test_a_snapshot_loads_with_the_collector_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    enabled: list[bool] = []
    real = snapshot_files._load_documents

    def watched(*args: Any) -> Any:
        enabled.append(gc.isenabled())
        return real(*args)

    monkeypatch.setattr(snapshot_files, "_load_documents", watched)
    assert gc.isenabled()
    SnapshotBackend(HOMELAB_SNAPSHOT)
    assert enabled and not any(enabled)
    assert gc.isenabled()  # and turned back on


@pytest.mark.parametrize(("cluster", "frozen"), [("examples/homelab/cluster", True), (None, False)])
def test_a_run_freezes_the_heap_only_with_a_cluster_and_releases_it(
    monkeypatch: pytest.MonkeyPatch, cluster: str | None, frozen: bool
) -> None:
    seen: list[int] = []
    real = nodes.synthesize

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_freeze_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(nodes, "synthesize", watched)
    assert gc.get_freeze_count() == 0
    state = run_audit(_settings(cluster), run_id="frozen")
    assert state.report is not None
    assert len(seen) == 1 and (seen[0] > 0) is frozen
    assert gc.get_freeze_count() == 0


def test_a_context_outside_a_run_never_freezes() -> None:
    """``infra-audit check`` and the hook build a context of their own: nothing releases it there."""
    ctx = RunContext(settings=_settings(None), ledger=Ledger(), backend=SnapshotBackend(HOMELAB_SNAPSHOT))
    assert ctx.inventory().live is not None
    assert gc.get_freeze_count() == 0
    ctx.release_heap()  # a no-op: it froze nothing
    assert gc.get_freeze_count() == 0


def test_letting_go_frees_the_inventory_and_the_snapshot_and_the_heap_stays_frozen() -> None:
    """``let_go`` (the render node, once the report is made): the inventory, the recount's plans that
    hold it and the snapshot's objects go, freed as their last reference goes (no collection: the
    heap stays frozen until the graph returns), and asking for the inventory again is an error, not
    a second parse."""
    ctx = RunContext(
        settings=_settings("examples/homelab/cluster"),
        ledger=Ledger(),
        backend=SnapshotBackend(HOMELAB_SNAPSHOT),
        freeze_heap=True,
    )
    inventory = ctx.inventory()
    recounter = ctx.recounter()
    assert recounter.check_context().inventory is inventory and gc.get_freeze_count() > 0
    assert deployed_view(inventory) is inventory  # the home-lab deploys every record: its own view
    gone, live_gone = weakref.ref(inventory), weakref.ref(inventory.live)
    del inventory
    collections = gc.get_stats()[2]["collections"]
    ctx.let_go()
    assert gone() is None and live_gone() is None  # freed there, by reference counting
    assert gc.get_stats()[2]["collections"] == collections and gc.get_freeze_count() > 0
    assert recounter._check_ctx is None and ctx._inventory is None
    with pytest.raises(RuntimeError):
        ctx.inventory()
    assert ctx.backend is not None and ctx.backend.api_resources()  # what it serves is still known
    with pytest.raises(snapshot.KubeQueryError):
        ctx.backend.list_objects(ctx.backend.api_resources()[0])
    ctx.release_heap()  # the graph has returned: the heap goes back to the collector
    assert gc.get_freeze_count() == 0


def test_an_inventory_that_is_its_own_view_holds_no_reference_to_itself() -> None:
    """Every record of the home-lab may be deployed, so the checks' view is the inventory itself: a
    flag, not a reference (a cycle made the whole inventory garbage only a full collection frees)."""
    inventory = build_inventory(HOMELAB, cluster=SnapshotBackend(HOMELAB_SNAPSHOT))
    assert deployed_view(inventory) is inventory and inventory.scoped_view is inventory
    assert inventory not in gc.get_referents(inventory.__pydantic_private__)
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        gone = weakref.ref(inventory.live)
        del inventory
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


def test_in_a_run_the_inventory_goes_when_let_go_whatever_the_pauses_froze(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The research, the offline challengers and the synthesis run with the collector paused, and with
    a cluster what they build is frozen with the heap: were any of it to hold the inventory, letting it
    go before rendering (where the run peaks) would free nothing, and no collection would say so."""
    freed: list[bool] = []
    real = RunContext.let_go

    def watched(self: RunContext) -> None:
        gone = weakref.ref(self._inventory) if self._inventory is not None else None
        real(self)
        freed.append(gone is not None and gone() is None)

    monkeypatch.setattr(RunContext, "let_go", watched)
    settings = _settings("examples/homelab/cluster").model_copy(update={"out": tmp_path})
    state = run_audit(settings, run_id="let-go")
    assert state.report is not None and state.report.findings
    assert freed == [True] and (tmp_path / "audit.json").is_file()
    assert gc.get_freeze_count() == 0
