"""One dump of a snapshot read into what ``SnapshotBackend`` stores (``stage_file``), here or in a
child process that stages the biggest dumps of a big snapshot while this one stages the rest (issue 13).

Staging a dump is its parse, the depth check, and each object reduced (``served``) and kept as compact
bytes (``snapshot_store.Staged``); its parsed documents are let go when it returns. The backend applies
the staged files in the order of their names, whichever process staged them, so what it stores, the
issues it reports and their order do not depend on where a file was read.

Why a child: the parse holds the interpreter lock, and opening a 10k-pod snapshot was 1.1-1.2 s of the
audit's own core before anything else could run, while the second core had nothing to do yet (the
recount's children start once the cluster is open). The pods' dump alone, half of the snapshot's bytes,
was 0.49-0.50 s of it. ``Farm`` hands the biggest JSON dumps, up to half of the snapshot's bytes, to
``python -P -m tools.kube.snapshot_files PATH...`` (this module), which prints each file's stage
pickled, in order; the bytes it writes are read by a thread as they come, so the child never waits on
the pipe. A child that cannot start, fails, or says nothing within ``FARM_WAIT_S``: its files are
staged here instead, as if there had been no child. Small snapshots (under ``FARM_MIN_BYTES``) and
one-core machines never start one.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.unread import SkipReason
from tools.inventory.loading import LoadError, Texts, load_json_finite
from tools.inventory.yaml_lines import load_values
from tools.kube.backend import KubeObject
from tools.kube.resources import ResourceType, split_file_stem
from tools.kube.snapshot_store import Staged
from tools.sizes import MIB, format_size

MAX_FILE_BYTES = 512 * MIB  # a List of 100,000 pods is about 350 MiB
FARM_MIN_BYTES = 32 * MIB
"""A snapshot's dumps must hold this much JSON in all before a child stages some of them: below it
(about 5,000 pods) the child's start (0.15-0.2 s to import this module) buys nothing."""
FARM_SHARE = 0.5
"""The most of the snapshot's bytes the child stages: the two processes then parse about as much."""
FARM_WAIT_S = 300.0
"""The longest wait for the child's output to end once this process has staged its own files."""


@dataclass
class FileStage:
    """One dump staged: why it did not load (message, reason, line), or its objects in order, each with
    the type it declares when it is a CustomResourceDefinition; and the items skipped in it."""

    failed: tuple[str, SkipReason, int | None] | None = None
    items: list[tuple[ResourceType | None, Staged]] = field(default_factory=list)
    skipped: list[tuple[str, SkipReason]] = field(default_factory=list)


def read_capped(path: Path, cap: int) -> bytes:
    with open(path, "rb") as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise LoadError(f"larger than {format_size(cap)}, skipped", None, "too_large")
    return data


def stage_file(path: Path) -> FileStage:
    """``path`` read, checked and reduced to what the backend stores; never raises for the file."""
    texts: Texts = {}
    try:
        docs, finite = _load_documents(path, texts)
    except OSError as exc:
        return FileStage(failed=(f"unreadable: {exc.strerror or exc}", "unreadable", None))
    except LoadError as exc:
        return FileStage(failed=(exc.message, exc.reason, exc.line))
    stage = FileStage()
    as_json = path.suffix == ".json"
    for obj, text in _items(path, docs, texts if finite else {}, stage.skipped):
        crd = _crd_types(obj) if obj.get("kind") == "CustomResourceDefinition" else None
        stage.items.append((crd, Staged.of(obj, as_json=as_json, finite=finite, text=text)))
    return stage


def _load_documents(path: Path, texts: Texts) -> tuple[list[Any], bool]:
    """The documents of one dump, and for a JSON dump whether every number in it is finite (its
    objects can then be stored by orjson without a look for NaN) and, in ``texts``, the compact text
    of each item of a List the depth check wrote; raises ``LoadError`` or ``OSError``."""
    data = read_capped(path, MAX_FILE_BYTES)
    if path.suffix == ".json":
        doc, finite = load_json_finite(data, texts)
        return [doc], finite
    return load_values(data), False


def _crd_types(doc: dict[str, Any]) -> ResourceType | None:
    """The resource type a CustomResourceDefinition declares (its storage, else first served, version)."""
    spec = doc.get("spec") or {}
    names = spec.get("names") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    version = next(
        (v["name"] for v in versions if v.get("storage")), versions[0]["name"] if versions else None
    )
    if not (spec.get("group") and names.get("plural") and names.get("kind") and version):
        return None
    return ResourceType(
        group=spec["group"],
        version=version,
        plural=names["plural"],
        kind=names["kind"],
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        singular=names.get("singular") or names["kind"].lower(),
    )


def _items(
    path: Path, docs: list[Any], texts: Texts, skipped: list[tuple[str, SkipReason]]
) -> list[tuple[KubeObject, bytes | None]]:
    """Objects of the documents of one file, each with apiVersion and kind where they can be told,
    and its compact text from ``texts`` when that is still the object's (nothing was added to it)."""
    hint = split_file_stem(path.stem)
    out: list[tuple[KubeObject, bytes | None]] = []
    for doc in docs:
        if not isinstance(doc, dict):
            skipped.append(("skipped a document that is not a Kubernetes object or List", "skipped_object"))
            continue
        if isinstance(doc.get("items"), list):
            list_kind = str(doc.get("kind") or "")
            item_kind = list_kind[:-4] if list_kind.endswith("List") and list_kind != "List" else None
            for item in doc["items"]:
                if not isinstance(item, dict):
                    skipped.append(("skipped a List item that is not an object", "skipped_object"))
                    continue
                obj = dict(item)
                if item_kind and not obj.get("kind"):
                    obj.setdefault("apiVersion", doc.get("apiVersion"))
                    obj["kind"] = item_kind
                if hint and not obj.get("apiVersion"):
                    obj["apiVersion"] = f"{hint[0]}/{hint[1]}" if hint[0] else hint[1]
                if hint and not obj.get("kind"):
                    obj["__plural_hint"] = hint[2]
                out.append((obj, texts.get(id(item)) if obj == item else None))
        elif doc.get("kind") and doc.get("apiVersion"):
            out.append((doc, None))
        else:
            skipped.append(("skipped a document without apiVersion/kind or items", "skipped_object"))
    return out


# ----------------------------------------------------------------------------- the child


class Farm:
    """A child staging ``paths`` (the biggest JSON dumps), started at once; ``results`` gathers them."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self._out = bytearray()
        root = str(Path(__file__).resolve().parents[2])  # where ``tools`` is, as this process imports it
        search = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": search}
        self._proc = subprocess.Popen(  # an argv list, no shell; -P: nothing imported from the cwd
            [sys.executable, "-P", "-m", __name__, *map(str, paths)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @classmethod
    def start(cls, files: list[Path]) -> Farm | None:
        """A child for the biggest JSON dumps up to ``FARM_SHARE`` of the bytes, or None where it buys
        nothing."""
        if (os.cpu_count() or 1) < 2:
            return None
        sizes: dict[Path, int] = {}
        for path in files:
            with contextlib.suppress(OSError):
                sizes[path] = path.stat().st_size
        total = sum(sizes.values())
        if sum(n for p, n in sizes.items() if p.suffix == ".json") < FARM_MIN_BYTES:
            return None
        chosen: list[Path] = []
        farmed = 0
        for path in sorted((p for p in sizes if p.suffix == ".json"), key=lambda p: -sizes[p]):
            if sizes[path] <= MAX_FILE_BYTES and farmed + sizes[path] <= total * FARM_SHARE:
                chosen.append(path)
                farmed += sizes[path]
        if not chosen:
            return None
        try:
            return cls(sorted(chosen, key=files.index))
        except OSError:
            return None

    def _read(self) -> None:
        assert self._proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            while chunk := self._proc.stdout.read(1 << 20):
                self._out += chunk

    def results(self) -> dict[Path, FileStage]:
        """Each path's stage: the child's, else (it failed or stalled) staged in this process."""
        self._reader.join(FARM_WAIT_S)
        if self._reader.is_alive() or self._proc.poll() is None:
            self._proc.kill()
            self._reader.join()
        self._proc.wait()
        assert self._proc.stdout is not None
        self._proc.stdout.close()
        staged: dict[Path, FileStage] = {}
        with memoryview(self._out) as view:
            at = 0
            for path in self.paths:
                size = int.from_bytes(view[at : at + 8], "big")
                if size == 0 or at + 8 + size > len(view):
                    break  # cut short: the child ended early, the rest is staged here
                try:
                    failed, items, skipped = pickle.loads(view[at + 8 : at + 8 + size])  # its own bytes
                except Exception:  # garbled: the rest is staged here
                    break
                at += 8 + size
                staged[path] = FileStage(failed, [(crd, Staged(*fields)) for crd, fields in items], skipped)
        self._out = bytearray()
        return {path: staged.get(path) or stage_file(path) for path in self.paths}


def main(argv: list[str]) -> int:
    """Stage each path and print its stage pickled, after its length (8 bytes, big-endian), in order."""
    gc.disable()  # millions of dicts of JSON, all let go when a file is staged
    out = sys.stdout.buffer
    for arg in argv:
        stage = stage_file(Path(arg))
        fields = [(crd, tuple(getattr(s, f) for f in Staged.__slots__)) for crd, s in stage.items]
        payload = pickle.dumps((stage.failed, fields, stage.skipped), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(payload).to_bytes(8, "big"))
        out.write(payload)
        out.flush()
        del stage, fields, payload
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # its output is written: no teardown between it and the audit's end of file
