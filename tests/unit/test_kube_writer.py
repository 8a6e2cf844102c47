"""write_snapshot from a snapshot: format, stability, what is left out, and atomicity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tenacity import RetryCallState

from domain.errors import SnapshotError
from tools.kube import kubectl as k
from tools.kube import snapshot_writer
from tools.kube.resources import ResourceTable
from tools.kube.snapshot import SnapshotBackend
from tools.kube.snapshot_writer import write_snapshot

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"

EXPECTED_FILES = {
    "core.v1.namespaces.json": 5,
    "core.v1.nodes.json": 2,
    "core.v1.pods.json": 8,
    "apps.v1.deployments.json": 4,
    "apps.v1.statefulsets.json": 1,
    "apps.v1.replicasets.json": 2,
    "batch.v1.jobs.json": 2,
    "batch.v1.cronjobs.json": 1,
    "core.v1.persistentvolumeclaims.json": 1,
    "policy.v1.poddisruptionbudgets.json": 1,
    "autoscaling.v2.horizontalpodautoscalers.json": 1,
    "networking.k8s.io.v1.networkpolicies.json": 1,
    "core.v1.services.json": 1,
    "core.v1.configmaps.json": 1,
    "core.v1.secrets.json": 1,
    "rbac.authorization.k8s.io.v1.clusterroles.json": 1,
    "rbac.authorization.k8s.io.v1.clusterrolebindings.json": 1,
    "apiextensions.k8s.io.v1.customresourcedefinitions.json": 1,
    "core.v1.events.json": 5,
    "kyverno.io.v1.clusterpolicies.json": 1,
    "helm.toolkit.fluxcd.io.v2.helmreleases.json": 1,
    "metrics.k8s.io.v1beta1.nodes.json": 2,
    "metrics.k8s.io.v1beta1.pods.json": 4,
}


@pytest.fixture(scope="module")
def mini() -> SnapshotBackend:
    return SnapshotBackend(MINI)


def test_snapshot_to_snapshot(mini: SnapshotBackend, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    summary = write_snapshot(mini, out)
    assert summary.files == EXPECTED_FILES
    assert summary.objects == 48
    assert summary.captured_at == "2025-06-01T12:00:00Z"  # the data's time, not the copy's
    assert (
        "persistentvolumes" in summary.skipped
        and summary.skipped["persistentvolumes"] == "not served by the source"
    )
    assert (
        str(summary)
        == "48 objects of 23 types from cluster 'mini'; 28 audited types not served by the source"
    )
    assert json.loads((out / "_snapshot.json").read_text()) == {
        "format": "infra-audit-snapshot/1",
        "cluster": "mini",
        "context": "mini-admin",
        "captured_at": "2025-06-01T12:00:00Z",
        "server_version": "v1.30.4+k3s1",
    }
    assert sorted(p.name for p in out.iterdir()) == sorted([*EXPECTED_FILES, "_snapshot.json"])
    copy = SnapshotBackend(out)
    assert copy.warnings == []
    assert copy.api_resources() == mini.api_resources()
    for query in [
        ("po", True),
        ("deploy", True),
        ("no", False),
        ("cpol", False),
        ("hr", True),
        ("secrets", True),
    ]:
        a, b = (
            k.kube_get(mini, query[0], all_namespaces=query[1]),
            k.kube_get(copy, query[0], all_namespaces=query[1]),
        )
        assert (a.output, a.data) == (b.output, b.data), query
    assert k.kube_top(mini, "nodes").output == k.kube_top(copy, "nodes").output


def test_output_is_stable_and_sorted(mini: SnapshotBackend, tmp_path: Path) -> None:
    write_snapshot(mini, tmp_path / "a")
    write_snapshot(SnapshotBackend(tmp_path / "a"), tmp_path / "b")
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    pods = json.loads((tmp_path / "a" / "core.v1.pods.json").read_text())
    assert pods["kind"] == "List" and pods["apiVersion"] == "v1"
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods["items"]]
    assert keys == sorted(keys)
    text = (tmp_path / "a" / "core.v1.pods.json").read_text()
    assert text.startswith('{\n  "apiVersion": "v1",\n  "items": [\n    {\n      "apiVersion": "v1",')


def test_what_is_left_out(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "kind": "Widget", "singular": "widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object"}},
                }
            ],
        },
    }
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "data": {"DATABASE_URL": "postgres://u:pw@db/x"},
        "binaryData": {"blob": "AAAA"},
        "metadata": {"name": "app", "namespace": "default", "managedFields": [{"manager": "kubectl"}]},
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "data": {"pw": "aHVudGVyMg=="},
        "metadata": {"name": "s", "namespace": "default"},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "managedFields": [{"manager": "kubelet"}]},
    }
    (src / "dump.json").write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": [crd, cm, secret, pod]})
    )
    out = tmp_path / "out"
    summary = write_snapshot(SnapshotBackend(src), out, ["cm", "secrets", "crd", "po"])
    assert summary.files == {
        "core.v1.configmaps.json": 1,
        "core.v1.secrets.json": 1,
        "apiextensions.k8s.io.v1.customresourcedefinitions.json": 1,
        "core.v1.pods.json": 1,
    }
    assert summary.skipped == {}

    def items(name: str) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads((out / name).read_text())["items"]
        return loaded

    assert items("core.v1.configmaps.json") == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "namespace": "default"}}
    ]
    assert items("core.v1.secrets.json") == [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}}
    ]
    assert items("core.v1.pods.json")[0]["metadata"] == {"name": "p", "namespace": "default"}
    assert items("apiextensions.k8s.io.v1.customresourcedefinitions.json")[0]["spec"]["versions"] == [
        {"name": "v1", "served": True, "storage": True}
    ]
    assert "aHVudGVyMg" not in "".join(p.read_text() for p in out.iterdir())
    # the stripped CRD still declares its type to the reader
    assert ResourceTable(SnapshotBackend(out).api_resources()).resolve("widgets").kind == "Widget"


def test_refuses_foreign_targets(mini: SnapshotBackend, tmp_path: Path) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.md").write_text("mine")
    with pytest.raises(SnapshotError) as exc:
        write_snapshot(mini, busy)
    assert (
        str(exc.value)
        == f"refusing to write into {str(busy)!r}: it is not empty and not a snapshot (no _snapshot.json)"
    )
    assert (busy / "notes.md").read_text() == "mine"
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SnapshotError, match="exists and is not a directory"):
        write_snapshot(mini, tmp_path / "afile")
    with pytest.raises(SnapshotError, match='resource type "gadgets"'):
        write_snapshot(mini, tmp_path / "new", ["gadgets"])
    assert not (tmp_path / "new").exists()


def test_replaces_an_existing_snapshot_and_an_empty_dir(mini: SnapshotBackend, tmp_path: Path) -> None:
    out = tmp_path / "snap"
    write_snapshot(mini, out, ["ns"])
    assert sorted(p.name for p in out.iterdir())[0] == "_snapshot.json"
    write_snapshot(mini, out, ["no"])
    assert "core.v1.namespaces.json" not in {p.name for p in out.iterdir()}
    assert "core.v1.nodes.json" in {p.name for p in out.iterdir()}
    empty = tmp_path / "empty"
    empty.mkdir()
    write_snapshot(mini, empty, ["ns"])
    assert (empty / "core.v1.namespaces.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "snap"]  # no temporary leftovers


def test_failure_mid_write_leaves_nothing(
    mini: SnapshotBackend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_dump = snapshot_writer._dump
    calls = {"n": 0}

    def failing_dump(path: Path, payload: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real_dump(path, payload)

    monkeypatch.setattr(snapshot_writer, "_dump", failing_dump)
    with pytest.raises(OSError, match="No space left"):
        write_snapshot(mini, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setattr(snapshot_writer, "_dump", real_dump)
    write_snapshot(mini, tmp_path / "out", ["ns"])
    calls["n"] = 0
    monkeypatch.setattr(snapshot_writer, "_dump", failing_dump)
    with pytest.raises(OSError):
        write_snapshot(mini, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "_snapshot.json",
        "core.v1.namespaces.json",
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


class Flaky:
    """A backend whose list of pods answers 503 ``failures`` times before it works."""

    def __init__(self, inner: SnapshotBackend, failures: int) -> None:
        self.inner = inner
        self.failures = failures
        self.pod_lists = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def list_objects(self, rtype: Any, *args: Any, **kwargs: Any) -> Any:
        if rtype.plural == "pods":
            self.pod_lists += 1
            if self.pod_lists <= self.failures:
                from tools.kube.backend import UnavailableError

                raise UnavailableError("the server is currently unable to handle the request (503)")
        return self.inner.list_objects(rtype, *args, **kwargs)


@pytest.mark.parametrize(("failures", "lists", "kept"), [(2, 3, True), (5, 3, False)])
def test_a_busy_api_server_is_retried_at_this_edge_only(
    mini: SnapshotBackend,
    tmp_path: Path,
    failures: int,
    lists: int,
    kept: bool,
) -> None:
    """tenacity retries a 503 up to 3 times here, outside the graph; a type that keeps failing is skipped."""
    flaky = Flaky(mini, failures)
    summary = write_snapshot(flaky, tmp_path / "snap", retry_wait=0)  # type: ignore[arg-type]
    assert flaky.pod_lists == lists
    assert ("core.v1.pods.json" in summary.files) is kept
    assert ("pods" in " ".join(summary.skipped)) is not kept


def test_the_snapshot_backoff_starts_at_retry_wait_and_doubles_to_ten_times_it() -> None:
    """1 s, 2 s, 4 s ... at most 10 s by default; ``retry_wait=0`` (the tests) never waits."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    waits: dict[float, list[float]] = {}
    for first in (snapshot_writer.SNAPSHOT_RETRY_WAIT, 0.0):
        backoff = snapshot_writer._backoff(first)
        waits[first] = []
        for attempt in (1, 2, 3, 4, 5):
            state.attempt_number = attempt
            waits[first].append(backoff(state))
    assert waits == {1.0: [1, 2, 4, 8, 10], 0.0: [0, 0, 0, 0, 0]}
