"""A big snapshot's biggest dumps staged by a child while this process stages the rest (issue 13):
what the backend stores, the types it serves and the issues it reports, in their order, are the same
as when this process reads every dump itself; a child that fails or is cut short leaves its files to
this process."""

from __future__ import annotations

import json
import signal
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

import tools.kube.snapshot_farm as farm
import tools.kube.snapshot_files as files
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"
ISSUES = [  # what the dumps below make the backend report, in its order
    ("broken.json", "syntax"),
    ("deep.json", "too_deep"),
    ("b pods again.json", "skipped_object"),  # the string item, when the file is staged
    ("weird.json", "skipped_object"),
    ("b pods again.json", "skipped_object"),  # the item with no name, when the objects are filed
]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """The mini snapshot (a CRD and its objects, Secrets, metrics) with the dumps a loader must get
    right: a typed list without kinds, a NaN, an object twice (the later file wins), items skipped,
    a truncated dump, one nested too deep, one that is not a List, a YAML dump, a dump in a subdir."""
    root = tmp_path / "prod"
    root.mkdir()
    for source in MINI.iterdir():
        (root / source.name).write_bytes(source.read_bytes())
    pod = {"metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}}}
    _write(root / "a pods.json", json.dumps({"apiVersion": "v1", "kind": "PodList", "items": [pod]}))
    again = {**pod, "apiVersion": "v1", "kind": "Pod", "status": {"phase": "Failed"}}
    _write(root / "b pods again.json", json.dumps({"kind": "List", "items": [again, "not an object", {}]}))
    _write(
        root / "nan.json",
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n", "namespace": "x"}, '
        '"data": {"ratio": NaN}}',
    )
    _write(
        root / "nested" / "ns.json",
        json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}),
    )
    _write(root / "broken.json", '{"apiVersion": "v1", "kind": "List", "items": [')
    _write(root / "deep.json", '{"kind": "List", "items": ' + "[" * 1000 + "]" * 1000 + "}")
    _write(root / "weird.json", "[1, 2]")
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"}}
    _write(root / "svc.json", json.dumps({**service, "spec": {"type": "NodePort"}}))  # svc.yaml wins
    _write(root / "svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n")
    return root


def state(backend: SnapshotBackend) -> Any:
    return (
        {key: dict(objects._blobs) for key, objects in backend._objects.items()},
        list(backend._types.items()),
        [issue.model_dump() for issue in backend.issues],
        backend.unread,
        backend.info,
    )


def every_json_dump(monkeypatch: pytest.MonkeyPatch) -> list[list[Path]]:
    """Have the child stage every JSON dump, whatever the sizes; the paths each child was given."""
    monkeypatch.setattr(farm, "FARM_MIN_BYTES", 0)
    monkeypatch.setattr(farm, "FARM_SHARE", 1.0)
    monkeypatch.setattr(farm, "cores", lambda: 2)
    given: list[list[Path]] = []
    real = farm.Farm.__init__

    def recorded(self: farm.Farm, paths: list[Path]) -> None:
        given.append(list(paths))
        real(self, paths)

    monkeypatch.setattr(farm.Farm, "__init__", recorded)
    return given


def test_a_farmed_snapshot_is_stored_as_if_read_here(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = state(SnapshotBackend(root))
    given = every_json_dump(monkeypatch)
    staged_here: list[Path] = []
    real_stage = files.stage_file
    monkeypatch.setattr(files, "stage_file", lambda path: staged_here.append(path) or real_stage(path))
    farmed = SnapshotBackend(root)
    in_order = sorted(given[0], key=lambda p: p.relative_to(root).as_posix())
    assert given[0] == in_order  # in the order the backend applies them
    assert {p.suffix for p in given[0]} == {".json"} and len(given[0]) >= 8
    assert staged_here == []  # the child gave every stage it was asked for
    assert state(farmed) == here
    assert [(Path(i.path).name, i.reason) for i in farmed.issues] == ISSUES
    table = {t.kind: t for t in farmed.api_resources()}
    assert farmed.get_object(table["Pod"], "web-1", "shop")["status"] == {"phase": "Failed"}
    assert "spec" not in farmed.get_object(table["Service"], "web", "shop")  # the YAML, named later


def _fake_python(tmp_path: Path, body: str) -> str:
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.mark.parametrize(
    "body",
    [
        "exit 1",  # it could not run: no output at all
        f'"{sys.executable}" "$@" | head -c 100',  # cut short inside its first stage
        "printf '\\000\\000\\000\\000\\000\\000\\000\\012garbage!!!'",  # a stage that is not a pickle
    ],
)
def test_what_the_child_did_not_give_is_staged_here(
    root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, body: str
) -> None:
    here = state(SnapshotBackend(root))
    given = every_json_dump(monkeypatch)
    monkeypatch.setattr(farm.sys, "executable", _fake_python(tmp_path, body))
    staged_here: list[Path] = []
    real_stage = files.stage_file
    monkeypatch.setattr(files, "stage_file", lambda path: staged_here.append(path) or real_stage(path))
    farmed = SnapshotBackend(root)
    assert given and set(given[0]) <= set(staged_here)
    assert state(farmed) == here


def test_which_dumps_go_to_the_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = {"big.json": 60, "mid.json": 30, "small.json": 20, "huge.yaml": 80}  # KiB
    for name, kib in sizes.items():
        (tmp_path / name).write_bytes(b" " * kib * 1024)
    paths = sorted(tmp_path.iterdir())
    monkeypatch.setattr(farm, "FARM_MIN_BYTES", 110 * 1024)  # the JSON in all
    monkeypatch.setattr(farm, "cores", lambda: 2)
    started: list[list[str]] = []
    monkeypatch.setattr(farm.Farm, "__init__", lambda self, chosen: started.append([p.name for p in chosen]))
    monkeypatch.setattr(farm, "FARM_SHARE", 0.4)
    assert farm.Farm.start(paths) is not None
    assert started == [["big.json"]]  # the biggest JSON up to 40% of all bytes (76 KiB): not mid, not small
    monkeypatch.setattr(farm, "FARM_SHARE", 0.5)
    assert farm.Farm.start(paths) is not None
    assert started[-1] == ["big.json", "mid.json"]  # up to 95 KiB: small would make it 110
    monkeypatch.setattr(farm, "cores", lambda: 1)
    assert farm.Farm.start(paths) is None  # one core: nothing to gain
    monkeypatch.setattr(farm, "cores", lambda: 2)
    monkeypatch.setattr(farm, "FARM_MIN_BYTES", 111 * 1024)
    assert farm.Farm.start(paths) is None  # too little JSON for a child's start to pay
    assert len(started) == 2


def test_a_child_started_early_is_the_one_the_backend_claims(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = state(SnapshotBackend(root))
    given = every_json_dump(monkeypatch)
    monkeypatch.setattr(farm, "EARLY_SHARE", 1.0)
    farm.Farm.early(root)  # as `infra-audit run --cluster DIR` does before its imports
    assert len(given) == 1 and farm._early
    assert state(SnapshotBackend(root)) == here
    assert len(given) == 1 and not farm._early  # claimed, not started again
    assert state(SnapshotBackend(root)) == here and len(given) == 2  # a second backend starts its own


def test_an_early_child_for_files_that_changed_is_replaced(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = every_json_dump(monkeypatch)
    monkeypatch.setattr(farm, "EARLY_SHARE", 1.0)
    farm.Farm.early(root)
    (root / "broken.json").unlink()  # one of the files it was given is gone by the time the backend opens
    here_now = state(SnapshotBackend(root))
    assert len(given) == 2 and (root / "broken.json") in given[0] and (root / "broken.json") not in given[1]
    monkeypatch.setattr(farm, "FARM_MIN_BYTES", 1 << 62)
    assert state(SnapshotBackend(root)) == here_now


def test_an_early_child_never_claimed_is_killed_at_exit(
    root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    every_json_dump(monkeypatch)
    monkeypatch.setattr(farm.sys, "executable", _fake_python(tmp_path, "exec sleep 60"))  # a slow child
    farm.Farm.early(root / "missing")  # a directory that is not there: nothing started, nothing raised
    assert not farm._early
    farm.Farm.early(root)
    (child,) = farm._early.values()
    farm._early.kill_unclaimed()  # what runs at exit when the run ended before opening its snapshot
    assert not farm._early
    assert child._proc.wait(timeout=10) == -signal.SIGKILL  # killed, not left to run after the run
    child._ended()


def test_a_second_early_child_for_one_snapshot_replaces_the_first(
    root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    every_json_dump(monkeypatch)
    monkeypatch.setattr(farm.sys, "executable", _fake_python(tmp_path, "exec sleep 60"))
    farm.Farm.early(root)
    (first,) = farm._early.values()
    farm.Farm.early(root)  # a second run in one process before the first opened its snapshot
    (second,) = farm._early.values()
    assert second is not first
    assert first._proc.wait(timeout=10) == -signal.SIGKILL  # stopped, not left running
    farm._early.kill_unclaimed()
    assert second._proc.wait(timeout=10) == -signal.SIGKILL
    second._ended()
