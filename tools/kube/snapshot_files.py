"""One dump of a snapshot read into what ``SnapshotBackend`` stores (``stage_file``): its parse, the
depth check, and each object reduced (``served``) and kept as compact bytes (``snapshot_store.Staged``);
its parsed documents are let go when it returns.

Run as ``python -P -m tools.kube.snapshot_files PATH...`` it is the child ``snapshot_farm.Farm``
starts: it stages each path and prints each stage pickled, after its length, in order.
"""

from __future__ import annotations

import gc
import os
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain.unread import SkipReason
from tools.inventory.loading import LoadError, Texts, load_json_finite
from tools.inventory.yaml_lines import load_values
from tools.kube.backend import KubeObject
from tools.kube.resources import ResourceType, split_file_stem
from tools.kube.snapshot_farm import MAX_FILE_BYTES
from tools.kube.snapshot_store import Staged
from tools.sizes import format_size


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
