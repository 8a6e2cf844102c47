"""What the run's checkpointer (``pipeline/checkpoints.py``) serializes with: values serialized once,
models by identity, and the serializer that reads a stored value back.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

from langgraph.checkpoint.serde.base import SerializerProtocol
from pydantic import BaseModel

REF = "ref:"
"""The type of a write or blob whose bytes are in ``stored_values``, before the serializer's type."""
ITEMS = "items:"
"""The type of a write or blob whose models are each in ``stored_values``: its bytes name their digests."""

Dumped = tuple[tuple[str, bytes | None], dict[str, "bytes | BaseModel"]]
"""A value serialized (type, bytes), and what it names to store once: digest -> bytes, or the model
already stored under that digest."""


def model_dict(value: Any) -> bool:
    """A non-empty dict of pydantic models, keyed by strings (the research results)."""
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(k, str) and isinstance(v, BaseModel) for k, v in value.items())
    )


class Digests:
    """The digest of each model's bytes, by identity, for the next write that holds it; the model is
    kept so that its id is not reused (the newest ``KEPT``)."""

    KEPT = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[int, tuple[BaseModel, str]] = {}

    def of(self, model: BaseModel, dumps: Callable[[BaseModel], bytes]) -> tuple[str, bytes | None]:
        """(digest, bytes), or (digest, None) for a model whose bytes were made before."""
        with self._lock:
            known = self._known.get(id(model))
            if known is not None and known[0] is model:
                return known[1], None
        data = dumps(model)
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            self._known[id(model)] = (model, digest)
            while len(self._known) > self.KEPT:
                del self._known[next(iter(self._known))]
        return digest, data


def msgpack_ext(code: int, payload: bytes) -> bytes:
    """A msgpack extension object (ext 8/16/32 with its length, then the type code): ``payload``."""
    n = len(payload)
    if n < 1 << 8:
        head = b"\xc7" + n.to_bytes(1, "big")
    elif n < 1 << 16:
        head = b"\xc8" + n.to_bytes(2, "big")
    else:
        head = b"\xc9" + n.to_bytes(4, "big")
    return head + code.to_bytes(1, "big") + payload


class Stored:
    """The saver's serializer, reading a value stored once (type ``ref:`` + its type) from the saver."""

    def __init__(self, inner: SerializerProtocol, stored: Callable[[str], bytes]) -> None:
        self.inner = inner
        self._stored = stored
        self._read = threading.local()

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """One read of a checkpoint: a model stored once is read once in it (the results and the
        report's concerns share it), and not kept after it (a later read gets its own objects)."""
        self._read.items = {}
        try:
            yield
        finally:
            self._read.items = None

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return self.inner.dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        type_, value = data
        if type_.startswith(REF):
            digest = value.decode() if isinstance(value, bytes | bytearray) else str(value)
            return self.inner.loads_typed((type_[len(REF) :], self._stored(digest)))
        if type_.startswith(ITEMS):
            spec = self.inner.loads_typed((type_[len(ITEMS) :], value))
            items = {f: {k: self._item(d) for k, d in refs.items()} for f, refs in spec["items"].items()}
            if spec.get("head") is None:
                return items[""]
            head = self.inner.loads_typed((spec["head_type"], self._stored(spec["head"])))
            if not isinstance(head, BaseModel):  # a type the allowlist refused: its raw fields, as stock
                return {**head, **items}
            return head.model_copy(update=items)
        return self.inner.loads_typed(data)

    def _item(self, digest: str) -> Any:
        """A stored model, read once per digest within a read (``reading``)."""
        items: dict[str, Any] | None = getattr(self._read, "items", None)
        if items is None:
            return self.inner.loads_typed(("msgpack", self._stored(digest)))
        if digest not in items:
            items[digest] = self.inner.loads_typed(("msgpack", self._stored(digest)))
        return items[digest]


class Once:
    """Each object serialized once for its two uses (a pending write and a checkpoint), which may come
    from two threads at once: the second waits for the first's bytes, takes them and forgets them.

    An object only ever serialized once stays remembered until ``KEPT`` newer ones push it out (a
    pydantic model a step writes and no checkpoint holds; none in the audit's graph)."""

    KEPT = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id -> (the object, kept alive so that its id is not reused; done; its bytes, once done)
        self._entries: dict[int, tuple[Any, threading.Event, list[Any]]] = {}

    def dumps(self, value: Any, dumps: Callable[[Any], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(id(value))
            if entry is not None and entry[0] is value:
                del self._entries[id(value)]  # the second use: nothing else asks for it
            else:
                entry = None
                done, out = threading.Event(), list[Any]()
                self._entries[id(value)] = (value, done, out)
                while len(self._entries) > self.KEPT:
                    del self._entries[next(iter(self._entries))]
        if entry is not None:
            entry[1].wait()
            if entry[2]:
                return entry[2][0]
            return dumps(value)  # the first use failed (and raised there): try again here
        try:
            out.append(dumps(value))
        finally:
            done.set()
        return out[0]
