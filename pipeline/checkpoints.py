"""The run's checkpointer: LangGraph's SQLite saver, each channel value written once, the last step kept.

LangGraph's ``SqliteSaver`` writes the whole state into every checkpoint: the five concerns' results
(every finding with every location, and its evidence) again at each of the 8 steps of a run, and the
report twice. At 10k pods that was a run store of 478 MiB and, in the checkpoint writer's threads,
more time than the checks themselves. Two changes, both under the saver's own interface:

* **A value once per version.** A channel's value is written to ``blobs`` when its version changes
  (LangGraph says which in ``new_versions``, as its Postgres saver uses it), and a checkpoint holds
  only the versions; reading one fills its values back from ``blobs``. A checkpoint written inline
  by an earlier infra-audit still reads (its inline values are kept, blobs add to them).
* **The last step only.** A run is resumed from its latest checkpoint and the writes its tasks made
  since (``pipeline/audit.py``); nothing reads an older one. After each checkpoint the older ones
  of the run, their pending writes and the values no kept checkpoint names are deleted, so the store
  holds one state and the current step's writes; SQLite reuses the freed pages.

Only the thread and namespace of the new checkpoint are pruned, so a file shared by several runs (the
store's old layout) loses nothing of another run.

* **Large bytes stored once.** The same bytes written as a pending write and then as the channel's
  value (the report: 23 MB at 10k pods, both at once until the older step's writes were pruned, which
  set the file's size) go once into ``stored_values``, keyed by their sha256; the write and the blob
  hold the key (type ``ref:`` + the serializer's type). A value no kept write or blob names is deleted
  with the pruning; reading one back takes it from that table.

* **A model serialized once per step.** A task's result is serialized as a pending write, then, once
  the step has applied it, as the channel's new value: the same object twice (the report: 0.28 s of
  CPU each time at 10k pods). LangGraph writes both in background threads, at once: the first to
  serialize a model (by identity) does it, the second waits for its bytes and takes them, and the
  bytes are then forgotten (``_Once``).

* **No computed fields.** A model is written as ``JsonPlusSerializer`` writes it (its module, name
  and ``model_dump``, rebuilt with ``cls(**fields)``), less its computed fields: they are derived, and
  a model rebuilt from its fields works them out again (the findings' occurrence keys, 0.1 s and 2.7
  MB of the 10k report; ``Finding`` dropped them on the way back in anyway).
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph.checkpoint.serde.jsonplus import EXT_PYDANTIC_V2, JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

EMPTY = "empty"
"""The type of a blob whose channel had no value at that version (LangGraph's Postgres saver's word)."""
REF = "ref:"
"""The type of a write or blob whose bytes are in ``stored_values``, before the serializer's type."""
STORED_MIN = 64 * 1024
"""Bytes from which a value is stored once by its digest rather than inline."""


class LatestSaver(SqliteSaver):
    """``SqliteSaver`` with channel values in their own table, each version once, and the last step kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._once = _Once()
        self.lock = threading.RLock()  # type: ignore[assignment]  # reading a stored value, inside a read
        self.serde = _Stored(self.serde, self._stored_bytes)

    def with_allowlist(self, extra_allowlist: Collection[tuple[str, ...]]) -> LatestSaver:
        """LangGraph's ``with_allowlist`` (a compiled graph adds its state's types), through ``_Stored``."""
        inner = self.serde.inner if isinstance(self.serde, _Stored) else self.serde
        if not isinstance(inner, JsonPlusSerializer):
            return self
        derived = inner.with_msgpack_allowlist(extra_allowlist)
        if derived is inner:
            return self
        clone = copy.copy(self)
        clone.serde = _Stored(derived, clone._stored_bytes)
        return clone

    def _stored_bytes(self, digest: str) -> bytes:
        with self.lock:
            row = self.conn.execute(
                "SELECT blob FROM stored_values WHERE digest = ? LIMIT 1", (digest,)
            ).fetchone()
        if row is None:
            raise KeyError(f"checkpoint value {digest} is missing from stored_values")
        return bytes(row[0])

    def _store(
        self, cur: Any, thread: str, namespace: str, typed: tuple[str, bytes | None]
    ) -> tuple[str, bytes | None]:
        """``typed`` as a row holds it: inline, or from ``STORED_MIN`` bytes a reference to its one copy."""
        type_, data = typed
        if data is None or len(data) < STORED_MIN:
            return typed
        digest = hashlib.sha256(data).hexdigest()
        cur.execute(
            "INSERT OR IGNORE INTO stored_values (thread_id, checkpoint_ns, digest, blob) "
            "VALUES (?, ?, ?, ?)",
            (thread, namespace, digest, data),
        )
        return REF + type_, digest.encode()

    def _dumps(self, value: Any) -> tuple[str, bytes]:
        """``serde.dumps_typed``; a pydantic model serialized once for its pending write and checkpoint."""
        if not isinstance(value, BaseModel):
            return self.serde.dumps_typed(value)
        return self._once.dumps(value, self._model_typed)

    def _model_typed(self, value: BaseModel) -> tuple[str, bytes]:
        """``JsonPlusSerializer``'s bytes for a pydantic model, less its computed fields (any other
        serializer's own bytes)."""
        inner = self.serde.inner if isinstance(self.serde, _Stored) else self.serde
        if type(inner) is not JsonPlusSerializer:
            return self.serde.dumps_typed(value)
        cls = type(value)
        fields = value.model_dump(exclude_computed_fields=True)
        _, payload = inner.dumps_typed((cls.__module__, cls.__name__, fields, "model_validate_json"))
        return "msgpack", _msgpack_ext(EXT_PYDANTIC_V2, payload)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """``SqliteSaver.put_writes`` (the same rows), its values serialized through ``_dumps``."""
        verb = "REPLACE" if all(w[0] in WRITES_IDX_MAP for w in writes) else "IGNORE"
        configurable = config["configurable"]
        thread, namespace = str(configurable["thread_id"]), str(configurable["checkpoint_ns"])
        typed = [(idx, channel, self._dumps(value)) for idx, (channel, value) in enumerate(writes)]
        with self.cursor() as cur:
            cur.executemany(
                f"INSERT OR {verb} INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, task_path, "
                "idx, channel, type, value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        thread,
                        namespace,
                        str(configurable["checkpoint_id"]),
                        task_id,
                        task_path,
                        WRITES_IDX_MAP.get(channel, idx),
                        channel,
                        *self._store(cur, thread, namespace, value),
                    )
                    for idx, channel, value in typed
                ],
            )

    def setup(self) -> None:
        if self.is_setup:
            return
        super().setup()
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS blobs (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT NULL "
            "DEFAULT '', channel TEXT NOT NULL, version TEXT NOT NULL, type TEXT NOT NULL, blob BLOB, "
            "PRIMARY KEY (thread_id, checkpoint_ns, channel, version))"
        )
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS stored_values (thread_id TEXT NOT NULL, checkpoint_ns TEXT NOT "
            "NULL DEFAULT '', digest TEXT NOT NULL, blob BLOB NOT NULL, "
            "PRIMARY KEY (thread_id, checkpoint_ns, digest))"
        )
        self.conn.commit()

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        thread = str(config["configurable"]["thread_id"])
        namespace = str(config["configurable"].get("checkpoint_ns", ""))
        values = checkpoint["channel_values"]
        typed = [
            (channel, str(version), self._typed(values, channel)) for channel, version in new_versions.items()
        ]
        with self.cursor() as cur:
            cur.executemany(
                "INSERT OR REPLACE INTO blobs (thread_id, checkpoint_ns, channel, version, type, blob) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(thread, namespace, c, v, *self._store(cur, thread, namespace, t)) for c, v, t in typed],
            )
        saved = super().put(config, {**checkpoint, "channel_values": {}}, metadata, new_versions)
        self._prune(thread, namespace, checkpoint)
        return saved

    def _typed(self, values: dict[str, Any], channel: str) -> tuple[str, bytes | None]:
        return self._dumps(values[channel]) if channel in values else (EMPTY, None)

    def _prune(self, thread: str, namespace: str, kept: Checkpoint) -> None:
        """Delete the run's older checkpoints, their writes, and the values the kept one does not name."""
        versions = [(channel, str(version)) for channel, version in kept["channel_versions"].items()]
        with self.cursor() as cur:
            where = "thread_id = ? AND checkpoint_ns = ? AND checkpoint_id != ?"
            for table in ("checkpoints", "writes"):
                cur.execute(f"DELETE FROM {table} WHERE {where}", (thread, namespace, kept["id"]))
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS kept_versions (channel TEXT NOT NULL, version TEXT NOT NULL)"
            )
            cur.execute("DELETE FROM kept_versions")
            cur.executemany("INSERT INTO kept_versions VALUES (?, ?)", versions)
            cur.execute(
                "DELETE FROM blobs WHERE thread_id = ? AND checkpoint_ns = ? AND (channel, version) NOT IN "
                "(SELECT channel, version FROM kept_versions)",
                (thread, namespace),
            )
            cur.execute(
                "DELETE FROM stored_values WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND digest NOT IN ("
                "SELECT CAST(value AS TEXT) FROM writes WHERE thread_id = ?1 AND checkpoint_ns = ?2 "
                "AND type LIKE 'ref:%' UNION SELECT CAST(blob AS TEXT) FROM blobs WHERE thread_id = ?1 "
                "AND checkpoint_ns = ?2 AND type LIKE 'ref:%')",
                (thread, namespace),
            )

    def _filled(self, found: CheckpointTuple) -> CheckpointTuple:
        """The tuple with its checkpoint's channel values read back from ``blobs``."""
        checkpoint = found.checkpoint
        thread = str(found.config["configurable"]["thread_id"])
        namespace = str(found.config["configurable"].get("checkpoint_ns", ""))
        wanted = {(channel, str(version)) for channel, version in checkpoint["channel_versions"].items()}
        values = dict(checkpoint.get("channel_values") or {})  # inline: written by an earlier saver
        with self.cursor(transaction=False) as cur:
            cur.execute(
                "SELECT channel, version, type, blob FROM blobs WHERE thread_id = ? AND checkpoint_ns = ?",
                (thread, namespace),
            )
            rows = cur.fetchall()
        for channel, version, type_, blob in rows:
            if (channel, version) in wanted and type_ != EMPTY:
                values[channel] = self.serde.loads_typed((type_, blob))
        return found._replace(checkpoint={**checkpoint, "channel_values": values})

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        found = super().get_tuple(config)
        return self._filled(found) if found is not None else None

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        for found in list(super().list(config, filter=filter, before=before, limit=limit)):
            yield self._filled(found)

    def delete_thread(self, thread_id: str) -> None:
        super().delete_thread(thread_id)
        with self.cursor() as cur:
            cur.execute("DELETE FROM blobs WHERE thread_id = ?", (str(thread_id),))
            cur.execute("DELETE FROM stored_values WHERE thread_id = ?", (str(thread_id),))


def _msgpack_ext(code: int, payload: bytes) -> bytes:
    """A msgpack extension object (ext 8/16/32 with its length, then the type code): ``payload``."""
    n = len(payload)
    if n < 1 << 8:
        head = b"\xc7" + n.to_bytes(1, "big")
    elif n < 1 << 16:
        head = b"\xc8" + n.to_bytes(2, "big")
    else:
        head = b"\xc9" + n.to_bytes(4, "big")
    return head + code.to_bytes(1, "big") + payload


class _Stored:
    """The saver's serializer, reading a value stored once (type ``ref:`` + its type) from the saver."""

    def __init__(self, inner: SerializerProtocol, stored: Callable[[str], bytes]) -> None:
        self.inner = inner
        self._stored = stored

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        return self.inner.dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        type_, value = data
        if type_.startswith(REF):
            digest = value.decode() if isinstance(value, bytes | bytearray) else str(value)
            return self.inner.loads_typed((type_[len(REF) :], self._stored(digest)))
        return self.inner.loads_typed(data)


class _Once:
    """Each object serialized once for its two uses (a pending write and a checkpoint), which may come
    from two threads at once: the second waits for the first's bytes, takes them and forgets them.

    An object only ever serialized once stays remembered until ``KEPT`` newer ones push it out (a
    pydantic model a step writes and no checkpoint holds; none in the audit's graph)."""

    KEPT = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id -> (the object, kept alive so that its id is not reused; done; its bytes, once done)
        self._entries: dict[int, tuple[Any, threading.Event, list[tuple[str, bytes]]]] = {}

    def dumps(self, value: Any, dumps: Callable[[Any], tuple[str, bytes]]) -> tuple[str, bytes]:
        with self._lock:
            entry = self._entries.get(id(value))
            if entry is not None and entry[0] is value:
                del self._entries[id(value)]  # the second use: nothing else asks for it
            else:
                entry = None
                done, out = threading.Event(), list[tuple[str, bytes]]()
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
