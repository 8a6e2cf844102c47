"""The snapshot holds its objects as bytes and decodes them per call (issue 13: no raw JSON beside the
records). What a caller gets is what the parsed dump held, reduced as before; the JSON text the
numbers challenger hands jq is the same list; nothing decoded is shared between calls."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest
from estates import HOMELAB_SNAPSHOT, K3S_SNAPSHOT

from bench.cluster_snapshot import generate
from tools.checks.reproduce_run import Listings
from tools.kube import snapshot_files
from tools.kube.backend import LAST_APPLIED
from tools.kube.resources import ResourceTable
from tools.kube.snapshot import SnapshotBackend
from tools.kube.snapshot_store import bracketed

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"
T = ResourceTable()


@pytest.mark.parametrize("root", [HOMELAB_SNAPSHOT, K3S_SNAPSHOT, MINI], ids=["homelab", "k3s", "mini"])
def test_the_text_for_jq_is_the_listed_objects(root: Path) -> None:
    backend = SnapshotBackend(root)
    listings = Listings()
    for rtype in backend.api_resources():
        try:
            objects = backend.list_objects(rtype)
        except Exception:  # an unread type fails the same way through either path
            continue
        fast = _listing_json(backend, rtype)
        assert fast is not None, rtype.qualified  # every bundled dump is JSON with string names
        assert json.loads(fast) == objects, rtype.qualified
        assert json.loads(listings.text(backend, rtype.qualified)) == objects


def test_a_listed_object_is_a_fresh_copy(tmp_path: Path) -> None:
    backend = SnapshotBackend(MINI)
    pods = T.resolve("pods")
    first = backend.list_objects(pods)
    name, namespace = first[0]["metadata"]["name"], first[0]["metadata"].get("namespace")
    first[0]["metadata"]["name"] = "changed"
    first[0]["spec"] = None
    got = backend.get_object(pods, name, namespace)
    got["metadata"]["labels"] = {"changed": "yes"}
    again = backend.list_objects(pods)
    assert again[0]["metadata"]["name"] == name
    assert again[0]["spec"] is not None
    assert backend.get_object(pods, name, namespace) == again[0]
    assert "changed" not in (again[0]["metadata"].get("labels") or {})


def test_a_yaml_dump_keeps_its_values_and_secrets_stay_metadata(tmp_path: Path) -> None:
    (tmp_path / "dump.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: dated, namespace: a, "
        "annotations: {kubectl.kubernetes.io/last-applied-configuration: '{\"x\": 1}', keep: me}}\n"
        "data: {1: one, n: 3}\n"
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\n"
        "data: {password: aHVudGVyMg==}\n"
    )
    backend = SnapshotBackend(tmp_path)
    (config,) = backend.list_objects(T.resolve("configmaps"))
    assert config["data"] == {1: "one", "n": 3}  # a YAML integer key stays one (JSON would make it "1")
    assert config["metadata"]["annotations"] == {"keep": "me"}
    assert _listing_json(backend, T.resolve("configmaps")) is None  # not JSON: decoded and dumped instead
    text = Listings().text(backend, "configmaps")
    assert json.loads(text) == [{**config, "data": {"1": "one", "n": 3}}]
    (secret,) = backend.list_objects(T.resolve("secrets"))
    assert secret == {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}
    assert b"aHVudGVyMg" not in (_listing_json(backend, T.resolve("secrets")) or b"")


def test_the_backend_holds_less_than_its_dumps(tmp_path: Path) -> None:
    """Held as parsed JSON the objects took 3.9x the dumps' text (4 and 12 copies); as bytes, 1.1-1.2x."""
    generate(tmp_path, 4)
    dumps = sum(p.stat().st_size for p in tmp_path.glob("*.json"))
    gc.collect()
    tracemalloc.start()
    try:
        backend = SnapshotBackend(tmp_path)
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(backend.list_objects(T.resolve("pods"))) > 100
    assert held < 2 * dumps, (held, dumps)


def test_an_object_has_one_live_ref_for_all_its_records() -> None:
    """Its LiveObject, its records and its runtime state share one source (70k refs at 10k pods,
    half of them copies, before)."""
    from tools.inventory.live import load_live_state

    state = load_live_state(SnapshotBackend(HOMELAB_SNAPSHOT))
    objects = {str(o.source): o.source for o in state.objects}
    shared = [
        *(w.source for w in state.workloads),
        *(p.source for p in state.pods),
        *(n.source for n in state.namespaces),
        *(j.source for j in state.jobs),
    ]
    assert len(shared) > 50
    assert all(objects[str(s)] is s for s in shared)  # the same instance, not an equal copy
    assert len({id(o.source) for o in state.objects}) == len(state.objects)


@pytest.mark.parametrize("count", [0, 1, 2, 400])
def test_a_listing_is_bracketed_in_one_copy(count: int) -> None:
    """The JSON text of a type (and what a list decodes) is made in one copy of its objects' bytes: its
    brackets added to the joined text took two more (a 10k-pod cluster's pods are 35 MB)."""
    blobs = [json.dumps({"metadata": {"name": f"pod-{i}"}, "pad": "x" * 5000}).encode() for i in range(count)]
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        text = bracketed(blobs)
        peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert text == b"[" + b",".join(blobs) + b"]"
    assert json.loads(text) == [json.loads(b) for b in blobs]
    if count == 400:
        assert peak < 1.2 * len(text), (peak, len(text))  # two copies at once measured 2.0x


def test_what_orjson_cannot_write_exactly_is_stored_as_the_dump_held_it(tmp_path: Path) -> None:
    """Objects are stored by orjson, which refuses an integer past 64 bits and a lone surrogate and
    writes NaN and infinities as null: those come back from a list exactly as the dump's parse made
    them, and the text for jq says the same."""
    (tmp_path / "core.v1.configmaps.json").write_text(
        '{"apiVersion": "v1", "items": ['
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big", "namespace": "a"},'
        ' "data": {"n": 123456789012345678901234567890}},'
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "nan", "namespace": "a"},'
        ' "data": {"x": NaN, "y": 1e400, "z": null}},'
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain", "namespace": "a"},'
        ' "data": {"z": null, "w": "caf\\u00e9"}},'
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "sur", "namespace": "a"},'
        ' "data": {"s": "\\ud800"}}]}'
    )
    backend = SnapshotBackend(tmp_path)
    by_name = {o["metadata"]["name"]: o["data"] for o in backend.list_objects(T.resolve("configmaps"))}
    assert by_name["big"] == {"n": 123456789012345678901234567890}
    nan = by_name["nan"]
    assert nan["x"] != nan["x"] and nan["y"] == float("inf") and nan["z"] is None
    assert by_name["plain"] == {"z": None, "w": "café"}
    assert by_name["sur"] == {"s": "\ud800"}
    text = _listing_json(backend, T.resolve("configmaps"))
    assert text is not None
    listed = {o["metadata"]["name"]: o["data"] for o in json.loads(text)}
    assert listed["big"] == by_name["big"] and listed["plain"] == by_name["plain"]
    assert listed["nan"]["y"] == float("inf") and listed["nan"]["z"] is None


def _special_dumps(root: Path) -> None:
    """Dumps whose objects the backend does not store as read: kind-less items of a typed list, a
    Secret, bookkeeping, a NaN in the dump (each with enough brackets for the depth check to run)."""
    labels = {f"l{i}": {"k": [i]} for i in range(60)}
    pod = {"metadata": {"name": "bare", "namespace": "a", "labels": labels}, "spec": {}}
    (root / "extra-pods.json").write_text(json.dumps({"kind": "PodList", "apiVersion": "v1", "items": [pod]}))
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "a"}}
    secret["data"] = labels
    kept = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kept", "namespace": "a", "managedFields": [labels]},
    }
    applied = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": "a", "annotations": {LAST_APPLIED: "{}", "x": "y"}},
        "data": labels,
    }
    (root / "extra.json").write_text(json.dumps({"kind": "List", "items": [secret, kept, applied]}))
    nan = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": "b"}} for n in "xy"]
    nan[0]["data"] = {"x": float("nan"), **labels}
    (root / "nan.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": nan}))


def test_an_object_is_written_once_at_load_and_stored_as_it_would_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The depth check writes each item of a List as compact JSON (``loading``); the backend stores
    that text where it serves the object as read, instead of writing it again (issue 13: 44k objects
    at 10k pods). What it stores is what writing the object afresh stores."""
    generate(tmp_path, 4)
    _special_dumps(tmp_path)
    written = 0
    dumps = orjson.dumps

    def counted(*args: Any, **kwargs: Any) -> bytes:
        nonlocal written
        written += 1
        return dumps(*args, **kwargs)

    monkeypatch.setattr(orjson, "dumps", counted)
    backend = SnapshotBackend(tmp_path)
    monkeypatch.setattr(orjson, "dumps", dumps)
    stored = {key: dict(t._blobs) for key, t in backend._objects.items()}
    objects = sum(len(blobs) for blobs in stored.values())
    assert objects > 500
    assert written < 1.1 * objects, (written, objects)  # once each, and again for the few not stored as read

    real = snapshot_files.load_json_finite
    monkeypatch.setattr(snapshot_files, "load_json_finite", lambda data, texts=None: real(data))  # afresh
    afresh = SnapshotBackend(tmp_path)
    assert {key: dict(t._blobs) for key, t in afresh._objects.items()} == stored
    reduced = {o["metadata"]["name"]: o for o in backend.list_objects(T.resolve("configmaps"))}
    assert "managedFields" not in reduced["kept"]["metadata"]
    assert reduced["applied"]["metadata"]["annotations"] == {"x": "y"}
    assert "data" not in backend.get_object(T.resolve("secrets"), "s", "a")


def _listing_json(backend: SnapshotBackend, rtype: Any) -> bytes | None:
    """The JSON text of a type's list as the snapshot holds it (its objects' bytes joined)."""
    blobs = backend.listing_blobs(rtype)
    return None if blobs is None else bracketed(blobs)


def test_a_listing_is_in_namespace_and_name_order_whatever_the_dump_order(tmp_path: Path) -> None:
    """``list_objects`` sorts by namespace, then name: from the keys the objects are stored under when
    every name is a string, and by each object's metadata otherwise (a YAML dump is pickled)."""
    pods = [
        {"metadata": {"name": name, "namespace": ns}, "spec": {"n": i}}
        for i, (ns, name) in enumerate([("b", "z"), ("a", "y"), ("b", "a"), ("a", "b"), ("", "c")])
    ]
    (tmp_path / "core.v1.pods.json").write_text(
        json.dumps({"kind": "PodList", "apiVersion": "v1", "items": pods})
    )
    lines = [
        f"- apiVersion: v1\n  kind: Service\n  metadata: {{name: {n}, namespace: {ns}}}"
        for ns, n in (("b", "q"), ("a", "r"), ("a", "p"))
    ]
    (tmp_path / "core.v1.services.yaml").write_text(
        "apiVersion: v1\nkind: List\nitems:\n" + "\n".join(lines) + "\n"
    )
    backend = SnapshotBackend(tmp_path)
    for plural in ("pods", "services"):
        rtype = T.resolve(plural)
        listed = backend.list_objects(rtype)
        key = [(o["metadata"].get("namespace") or "", o["metadata"]["name"]) for o in listed]
        assert key == sorted(key) and len(key) == (5 if plural == "pods" else 3)
        assert [o["metadata"]["name"] for o in backend.list_objects(rtype, namespace="a")] == (
            ["b", "y"] if plural == "pods" else ["p", "r"]
        )
    assert [
        o["metadata"]["name"]
        for o in backend.list_objects(T.resolve("pods"), field_selector="metadata.namespace=b")
    ] == ["a", "z"]
