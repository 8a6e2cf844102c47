"""A cluster type's objects as the JSON text of one list, as ``kubectl get TYPE -A -o json`` prints
its items, written to a child in pieces (issue 13).

A snapshot holds each object as compact JSON already (``tools/kube/snapshot_store.py``): the text of
a type is those bytes between brackets, joined by commas. Joined once per type and kept for the
recount, they were a second copy of the snapshot (58 MiB at 10k pods) in the audit's process, at the
moment its memory peaked. Here a type is the list of its objects' bytes, and ``chunks`` joins them a
megabyte at a time while a writer sends them: what is held at once is one chunk. A backend that
keeps no JSON (a live cluster) gives the text itself, listed once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from tools.kube.backend import KubeBackend
from tools.kube.snapshot_store import bracketed

CHUNK = 1 << 20
"""Bytes joined at most per piece written: pipes take 64 KiB at a time; a megabyte keeps the number
of writes (and of Python calls) small without holding much."""


class JsonList:
    """The JSON text of a list: ``items`` (each an item's JSON text) or the whole ``text``."""

    __slots__ = ("_items", "_text")

    def __init__(self, *, items: list[bytes] | None = None, text: bytes | None = None) -> None:
        self._items, self._text = items, text

    def __len__(self) -> int:
        if self._items is None:
            return len(self._text or b"[]")
        return 2 + sum(len(item) for item in self._items) + max(len(self._items) - 1, 0)

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        """The text in pieces of about ``size`` bytes, made as they are asked for."""
        if self._items is None:
            yield self._text or b"[]"
            return
        yield b"["
        group: list[bytes] = []
        held, first = 0, True
        for item in self._items:
            group.append(item)
            held += len(item)
            if held >= size:
                yield b",".join(group) if first else b"," + b",".join(group)
                group, held, first = [], 0, False
        if group:
            yield b",".join(group) if first else b"," + b",".join(group)
        yield b"]"

    def joined(self) -> bytes:
        """The whole text in one bytes object (a command run alone, given it as its input)."""
        return bracketed(self._items) if self._items is not None else (self._text or b"[]")


def listing_of(backend: KubeBackend, name: str) -> JsonList:
    """The objects of type ``name`` (its qualified name) as a JSON list: a snapshot's bytes as they
    are held; else listed and written once. A type the cluster does not serve lists nothing, as
    kubectl would fail or print none."""
    rtype = next((r for r in backend.api_resources() if r.qualified == name), None)
    held = getattr(backend, "listing_blobs", None) if rtype is not None else None
    items = held(rtype) if held is not None else None
    if items is not None:
        return JsonList(items=items)
    objects = backend.list_objects(rtype) if rtype is not None else []
    return JsonList(text=json.dumps(objects, default=str).encode("utf-8", "surrogatepass"))


def written(parts: Iterable[bytes | JsonList]) -> Iterator[bytes]:
    """``parts`` as the bytes a writer sends, each list in its chunks, made as the writer gets to it."""
    for part in parts:
        if isinstance(part, JsonList):
            yield from part.chunks()
        else:
            yield part
