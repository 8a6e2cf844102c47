"""What loading a cluster holds at once (issue 13, fourth part): one kind decoded at a time, the records'
field-name sets shared, a snapshot's keys owned.

Sizes come from tracemalloc on a snapshot generated from the home-lab's (``bench/cluster_snapshot.py``,
4 copies of every namespace: the same bytes every run), so the bounds hold on any machine and no
clock is read. Decoding every type at once, as the load did before, put its peak above what it keeps
by 0.90-0.92 of the whole cluster decoded (4 and 12 copies); one kind at a time, 0.32.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bench.cluster_snapshot import generate
from tools.inventory.live import load_live_state
from tools.inventory.models import LiveRef
from tools.kube.snapshot import SnapshotBackend
from tools.kube.snapshot_store import Staged

COPIES = 4


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> SnapshotBackend:
    dest = tmp_path_factory.mktemp("cluster") / "snapshot"
    generate(dest, COPIES)
    return SnapshotBackend(dest)


def _traced() -> int:
    return tracemalloc.get_traced_memory()[0]


def test_the_load_never_holds_every_kind_decoded_at_once(backend: SnapshotBackend) -> None:
    load_live_state(backend)  # the first load imports and caches what any load needs: not measured
    gc.collect()
    tracemalloc.start()
    try:
        start = _traced()
        decoded = [backend.list_objects(t) for t in backend.api_resources()]
        every_kind = _traced() - start
        del decoded
        gc.collect()
        start = _traced()
        tracemalloc.reset_peak()
        state = load_live_state(backend)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert state.pods and state.workloads and state.objects  # the load did its work
    assert every_kind > 4_000_000  # the cluster is big enough for the bound to mean something
    # above what it keeps, the load needs the largest kind decoded (the pods: half the cluster), not all
    assert peak - held < 0.6 * every_kind, (peak - held, every_kind)


def _models(value: Any) -> Iterator[BaseModel]:
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, BaseModel):
            yield current
            stack.extend(current.__dict__.values())
        elif isinstance(current, list | tuple):
            stack.extend(current)
        elif isinstance(current, dict):
            stack.extend(current.values())


def test_the_live_records_share_one_fields_set_per_content(backend: SnapshotBackend) -> None:
    state = load_live_state(backend)
    records = [m for name, value in state if name != "cluster" for m in _models(value)]
    sets = {id(m.__pydantic_fields_set__): m.__pydantic_fields_set__ for m in records}
    contents = {frozenset(s) for s in sets.values()}
    assert len(records) > 3_000
    assert len(sets) == len(contents) < 100  # one set object per distinct content, not one per model


def test_a_shared_fields_set_leaves_copies_and_dumps_as_they_were() -> None:
    a = LiveRef(cluster="c", namespace="n", object_kind="Pod", name="a")
    b = LiveRef(cluster="c", namespace=None, object_kind="Pod", name="b")
    c = LiveRef(cluster="c", object_kind="Node", name="c")  # namespace not given: another content
    d = LiveRef(cluster="c", object_kind="Node", name="d")
    assert a.__pydantic_fields_set__ is b.__pydantic_fields_set__  # shared as each is made
    assert c.__pydantic_fields_set__ is d.__pydantic_fields_set__ is not a.__pydantic_fields_set__
    assert c.model_fields_set == {"cluster", "object_kind", "name"}
    copied = c.model_copy(update={"namespace": "m"})  # pydantic updates the copy's set, not the shared one
    assert copied.model_fields_set == {"cluster", "object_kind", "name", "namespace"}
    assert c.model_fields_set == d.model_fields_set == {"cluster", "object_kind", "name"}
    assert c.model_dump(exclude_unset=True) == {"cluster": "c", "object_kind": "Node", "name": "c"}
    again = LiveRef(cluster="c", object_kind="Node", name="e")  # after a copy, the next one shares as before
    assert again.__pydantic_fields_set__ is c.__pydantic_fields_set__


def test_a_record_assigned_to_takes_its_own_set_first() -> None:
    """A Helm render's summary gets its reason after it is made: the name goes to its set, not to
    the set every record of that content shares."""
    a = LiveRef(cluster="c", object_kind="Node", name="a")
    b = LiveRef(cluster="c", object_kind="Node", name="b")
    shared = a.__pydantic_fields_set__
    a.namespace = "n"
    assert a.model_fields_set == {"cluster", "object_kind", "name", "namespace"}
    assert b.__pydantic_fields_set__ is shared and shared == {"cluster", "object_kind", "name"}
    assert b.model_dump(exclude_unset=True) == {"cluster": "c", "object_kind": "Node", "name": "b"}
    a.name = "a2"  # a second assignment: its own set already
    assert a.name == "a2" and b.model_fields_set == {"cluster", "object_kind", "name"}


def test_a_staged_object_keeps_no_string_of_the_parse() -> None:
    parsed = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod"}}
    staged = Staged.of(parsed, as_json=True)
    assert (staged.api_version, staged.kind, staged.name, staged.namespace) == (
        "apps/v1",
        "Deployment",
        "web",
        "prod",
    )
    meta = parsed["metadata"]
    assert staged.name is not meta["name"] and staged.namespace is not meta["namespace"]
    assert staged.kind is not parsed["kind"] and staged.api_version is not parsed["apiVersion"]
    assert (
        Staged.of({"kind": "X", "metadata": {"name": 7}}, as_json=True).name == 7
    )  # not a string: as it was


def test_load_keeps_every_list_in_the_order_of_the_kinds(tmp_path: Path) -> None:
    """Kinds are read in dependency order (ReplicaSets and pods first), but the lists come out by kind
    name, as when every kind was read at once."""
    dest = tmp_path / "snapshot"
    generate(dest, 1)
    state = load_live_state(SnapshotBackend(dest))
    kinds = [o.kind for o in state.objects]
    assert kinds == sorted(kinds)
    assert {"Pod", "ReplicaSet", "Deployment", "Namespace"} <= set(kinds)
