"""The numbers challenger's set of live refs (``recounter.live_refs``): the ref of every record the
cluster gave and of every live container, and nothing of the code. It is built once per run from the
record classes' fields (issue 13: asking each of 78,818 records and containers with ``getattr`` took
0.27-0.28 s at 10k pods), so it is held here to the plain definition, record by record, on the
bundled clusters."""

from __future__ import annotations

from typing import Any

import pytest

from agents.offline.recounter import live_refs
from tests.estates import HOMELAB, HOMELAB_SNAPSHOT, K3S, K3S_SNAPSHOT
from tools.inventory.build import build_inventory
from tools.inventory.inventory import LiveState
from tools.inventory.models import LiveRef
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit


def _by_definition(live: LiveState) -> set[str]:
    refs: set[str] = set()
    for name in LiveState.model_fields:
        items: Any = getattr(live, name)
        for item in items if isinstance(items, list) else ():
            for record in (item, *getattr(item, "containers", ())):
                source = getattr(record, "source", None)
                if isinstance(source, LiveRef):
                    refs.add(str(source))
    return refs


@pytest.mark.parametrize(("estate", "snapshot"), [(HOMELAB, HOMELAB_SNAPSHOT), (K3S, K3S_SNAPSHOT)])
def test_every_live_record_and_container_and_nothing_of_the_code(estate: Any, snapshot: Any) -> None:
    inventory = build_inventory(estate, cluster=SnapshotBackend(snapshot))
    live = inventory.live
    assert live is not None
    refs = live_refs(live)
    assert refs == _by_definition(live)
    assert {str(p.source) for p in live.pods} <= refs and live.pods
    assert {str(c.source) for w in live.workloads for c in w.containers} <= refs
    assert not {str(w.source) for w in inventory.code.workloads} & refs
    assert all(ref.startswith(f"{live.cluster.name}/") for ref in refs)
