"""The objects of a snapshot as compact bytes, decoded when a tool asks for them (issue 13).

Held as parsed JSON, a 10k-pod snapshot took about 280 MiB beside the records built from it; as
bytes it is about the size of its compact JSON. Each object is stored already reduced (Secrets to
metadata, bookkeeping dropped: ``SnapshotBackend`` does that before it stores), so nothing decoded
from here was ever more than what the backend serves.

An object read from a JSON dump is stored as compact JSON (UTF-8, written by orjson, 10x faster
than the standard library's encoder: 0.05 s against 0.48 s for a 10k-pod cluster's pods; the text
of a type is the bytes joined); one read from YAML, which may hold values JSON has not (a date, an
integer key), is pickled, which gives back exactly what was stored. A type is decoded by one
``json.loads`` over its objects' joined bytes, so the keys its objects share are one string each, as
they were when the whole dump was parsed at once. Every call decodes afresh: no caller can change
what a later one reads, and nothing decoded stays alive after the caller drops it.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tools.json_text import compact
from tools.kube.backend import KubeObject, secret_metadata_only, without_bookkeeping

ObjectKey = tuple[str, str]  # (namespace or "", name)


def encode(obj: KubeObject, as_json: bool, finite: bool = False) -> bytes:
    """``obj`` as stored: compact JSON for an object read from JSON (``tools/json_text.py``: orjson,
    or the standard library where orjson would not give back exactly what was read; ``finite``: its
    dump held no NaN or infinite number, so none is looked for), else pickled."""
    if not as_json:
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return compact(obj, finite=finite)


def _is_json(data: bytes) -> bool:
    return data[:1] == b"{"  # a pickle starts with its protocol byte, 0x80


def decode(data: bytes) -> KubeObject:
    if _is_json(data):
        decoded: KubeObject = json.loads(data)
        return decoded
    restored: KubeObject = pickle.loads(data)  # bytes this module wrote, never read from disk
    return restored


def bracketed(blobs: list[bytes]) -> bytes:
    """``[`` + the blobs joined by commas + ``]``, made in one copy: adding the brackets to the joined
    bytes would copy them twice more (a 10k-pod cluster's pods are 35 MiB of text)."""
    if not blobs:
        return b"[]"
    parts = list(blobs)
    parts[0] = b"[" + parts[0]
    parts[-1] = parts[-1] + b"]"
    return b",".join(parts)


def decode_all(blobs: list[bytes]) -> list[KubeObject]:
    """The objects of ``blobs``, in order: the JSON ones in one parse (shared keys), others one by one."""
    if all(_is_json(b) for b in blobs):
        decoded: list[KubeObject] = json.loads(bracketed(blobs))
        return decoded
    return [decode(b) for b in blobs]


class TypeObjects:
    """The stored objects of one resource type, by (namespace or "", name)."""

    __slots__ = ("_blobs", "_plain")

    def __init__(self) -> None:
        self._blobs: dict[ObjectKey, bytes] = {}
        self._plain = True  # all JSON with string names: the text of the type is the bytes joined

    def put(self, key: ObjectKey, data: bytes, name_is_str: bool) -> None:
        self._blobs[key] = data
        self._plain = self._plain and name_is_str and _is_json(data)

    def __len__(self) -> int:
        return len(self._blobs)

    def get(self, key: ObjectKey) -> KubeObject | None:
        data = self._blobs.get(key)
        return None if data is None else decode(data)

    def objects(self, namespace: str | None = None) -> list[KubeObject]:
        """The objects (of one namespace, when given), in the order they were stored."""
        return decode_all(self._select(namespace))

    def _select(self, namespace: str | None) -> list[bytes]:
        if namespace is None:
            return list(self._blobs.values())
        return [data for (ns, _), data in self._blobs.items() if ns == namespace]

    def listing_blobs(self) -> list[bytes] | None:
        """The JSON text of each object, sorted by namespace and name as ``list_objects`` sorts them
        (the bytes held, not copies); None when a stored object is not JSON, or a name not a string
        (decode instead). Joined (``bracketed``), they are the JSON text of the type's list."""
        if not self._plain:
            return None
        return [self._blobs[k] for k in sorted(self._blobs)]


def total_bytes(types: Iterable[TypeObjects]) -> int:
    """The stored size (for the bench and tests)."""
    return sum(len(data) for t in types for data in t._blobs.values())


def served(obj: KubeObject, secret: bool) -> KubeObject:
    """What the backend serves of an object: a Secret's metadata only, anything else without bookkeeping."""
    return secret_metadata_only(obj) if secret else without_bookkeeping(obj)


def _own(value: Any) -> Any:
    """A string as a new object, not the one the dump's parse made (other values as they are).

    What outlives a dump's parse (an object's key, its type's names) must not be strings of that
    parse: the parse's objects fill whole pymalloc arenas, and an arena holding one string that
    lives on is never given back. Copies made while the parse is alive are packed together instead."""
    return (
        value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
        if type(value) is str
        else value
    )


@dataclass(frozen=True, slots=True)
class Staged:
    """One object of a dump, between its file and the type it is filed under: what ``_add`` reads,
    and the object as stored (``data``), reduced already; or, for an object without a kind (its
    type is told by the dump's name once every CRD is known), the parsed object itself."""

    api_version: str
    kind: Any
    name: Any
    namespace: Any
    plural_hint: str | None
    as_json: bool
    data: bytes | None
    obj: KubeObject | None

    @classmethod
    def of(cls, obj: KubeObject, as_json: bool, finite: bool = False, text: bytes | None = None) -> Staged:
        """``text``: the object's compact JSON as ``encode`` writes it of an object read from a dump
        with no NaN (``loading.load_json_finite``'s, written for the depth check): stored as it is when
        the backend serves the object unchanged (no bookkeeping, not a Secret), not written again."""
        plural_hint = obj.pop("__plural_hint", None)
        api_version = str(obj.get("apiVersion") or "")
        kind = obj.get("kind")
        meta = obj.get("metadata") or {}
        name, namespace = _own(meta.get("name")), _own(meta.get("namespace"))
        api_version, kind = _own(api_version), _own(kind)
        if not kind:
            return cls(api_version, kind, name, namespace, plural_hint, as_json, None, obj)
        # a core Secret: no CRD can declare the core group, so its kind alone tells it
        secret = api_version.rpartition("/")[0] == "" and kind == "Secret"
        shown = served(obj, secret)
        reuse = text is not None and as_json and finite and shown is obj
        data = text if reuse and text is not None else encode(shown, as_json, finite)
        return cls(api_version, kind, name, namespace, plural_hint, as_json, data, None)
