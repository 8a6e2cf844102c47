"""The run's checkpointer: LangGraph's SQLite saver, each channel value written once, the last step kept.

LangGraph's ``SqliteSaver`` writes the whole state into every checkpoint: the five concerns' results
(every finding with every location, and its evidence) again at each of the 8 steps of a run, and the
report twice. At 10k pods that was a run store of 478 MiB and, in the checkpoint writer's threads,
more time than the checks themselves. What the saver does instead, all under its own interface:

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
  value (the report: 21.9 MiB at 10k pods, both at once until the older step's writes were pruned, which
  set the file's size) go once into ``stored_values``, keyed by their sha256; the write and the blob
  hold the key (type ``ref:`` + the serializer's type). A value no kept write or blob names is deleted
  with the pruning; reading one back takes it from that table.

* **Models stored once across steps.** The research results are a task's write, the ``results``
  channel's value (a dict of all five) and the report's ``concerns``: three serializations and copies
  of the same ``ConcernResult`` objects (9.1 MiB at 10k pods). A dict of models, and a model's fields
  that are dicts of models, are written item by item into ``stored_values`` (each model serialized
  once by identity: ``Digests``), and the row (type ``items:``) holds their digests and, for a model,
  the digest of the rest of it.

* **A model serialized once per step.** A task's result is serialized as a pending write, then, once
  the step has applied it, as the channel's new value: the same object twice (the report: 0.28 s of
  CPU each time at 10k pods). LangGraph writes both in background threads, at once: the first to
  serialize a model (by identity) does it, the second waits for its bytes and takes them, and the
  bytes are then forgotten (``Once``).

* **No computed fields.** A model is written as ``JsonPlusSerializer`` writes it (its module, name
  and ``model_dump``, rebuilt with ``cls(**fields)``), less its computed fields: they are derived, and
  a model rebuilt from its fields works them out again (the findings' occurrence keys, 0.1 s and 2.4
  MiB of the 10k report; ``Finding`` dropped them on the way back in anyway).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import threading
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.jsonplus import EXT_PYDANTIC_V2, JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from pipeline.checkpoint_values import ITEMS, REF, Digests, Dumped, Once, Stored, model_dict, msgpack_ext

EMPTY = "empty"
"""The type of a blob whose channel had no value at that version (LangGraph's Postgres saver's word)."""
STORED_MIN = 64 * 1024
"""Bytes from which a value is stored once by its digest rather than inline."""


class LatestSaver(SqliteSaver):
    """``SqliteSaver`` with channel values in their own table, each version once, and the last step kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._once = Once()
        self._digests = Digests()
        self.lock = threading.RLock()  # type: ignore[assignment]  # reading a stored value, inside a read
        self.serde = Stored(self.serde, self._stored_bytes)

    def with_allowlist(self, extra_allowlist: Collection[tuple[str, ...]]) -> LatestSaver:
        """LangGraph's ``with_allowlist`` (a compiled graph adds its state's types), through ``Stored``."""
        inner = self.serde.inner if isinstance(self.serde, Stored) else self.serde
        if not isinstance(inner, JsonPlusSerializer):
            return self
        derived = inner.with_msgpack_allowlist(extra_allowlist)
        if derived is inner:
            return self
        clone = copy.copy(self)
        clone.serde = Stored(derived, clone._stored_bytes)
        return clone

    def _stored_bytes(self, digest: str) -> bytes:
        with self.lock:
            row = self.conn.execute(
                "SELECT blob FROM stored_values WHERE digest = ? LIMIT 1", (digest,)
            ).fetchone()
        if row is None:
            raise KeyError(f"checkpoint value {digest} is missing from stored_values")
        return bytes(row[0])

    def _jsonplus(self) -> JsonPlusSerializer | None:
        """The stock serializer whose format the saver writes, or None for any other (written as it is)."""
        inner = self.serde.inner if isinstance(self.serde, Stored) else self.serde
        return inner if type(inner) is JsonPlusSerializer else None

    def _store(self, cur: Any, thread: str, namespace: str, dumped: Dumped) -> tuple[str, bytes | None]:
        """A dumped value as its row holds it: inline, or from ``STORED_MIN`` bytes a reference to its
        one copy; the models it names stored first."""
        (type_, data), extras = dumped
        for digest, item in extras.items():
            self._put_value(cur, thread, namespace, digest, item)
        if data is None or len(data) < STORED_MIN or type_.startswith(ITEMS):
            return type_, data
        digest = hashlib.sha256(data).hexdigest()
        self._put_value(cur, thread, namespace, digest, data)
        return REF + type_, digest.encode()

    def _put_value(self, cur: Any, thread: str, namespace: str, digest: str, item: bytes | BaseModel) -> None:
        if isinstance(item, BaseModel):  # serialized earlier: still stored unless it was pruned since
            stored = "SELECT 1 FROM stored_values WHERE thread_id = ? AND checkpoint_ns = ? AND digest = ?"
            if cur.execute(stored, (thread, namespace, digest)).fetchone():
                return
            item = self._model_typed(item)[0][1] or b""
        cur.execute(
            "INSERT OR IGNORE INTO stored_values (thread_id, checkpoint_ns, digest, blob) "
            "VALUES (?, ?, ?, ?)",
            (thread, namespace, digest, item),
        )

    def _dumps(self, value: Any) -> Dumped:
        """``serde.dumps_typed``, and the values to store once; a pydantic model serialized once for its
        pending write and checkpoint, its dicts of models item by item, as a dict of models is."""
        if isinstance(value, BaseModel):
            return self._once.dumps(value, self._model_dumped)
        if self._jsonplus() is not None and model_dict(value):
            return self._items(None, {"": value})
        return self.serde.dumps_typed(value), {}

    def _model_dumped(self, value: BaseModel) -> Dumped:
        fields = {name: v for name in type(value).model_fields if model_dict(v := getattr(value, name))}
        if self._jsonplus() is None or not fields:
            return self._model_typed(value)
        return self._items(value, fields)

    def _model_typed(self, value: BaseModel, empty: Collection[str] = ()) -> Dumped:
        """``JsonPlusSerializer``'s bytes for a pydantic model, less its computed fields, with the fields
        ``empty`` empty (any other serializer's own bytes)."""
        inner = self._jsonplus()
        if inner is None:
            return self.serde.dumps_typed(value), {}
        cls = type(value)
        fields = value.model_dump(exclude_computed_fields=True, exclude=set(empty))
        fields.update({name: {} for name in empty})
        _, payload = inner.dumps_typed((cls.__module__, cls.__name__, fields, "model_validate_json"))
        return ("msgpack", msgpack_ext(EXT_PYDANTIC_V2, payload)), {}

    def _items(self, model: BaseModel | None, dicts: dict[str, dict[str, BaseModel]]) -> Dumped:
        """A row naming each model of ``dicts`` (and, for ``model``, the rest of it) by its digest."""
        extras: dict[str, bytes | BaseModel] = {}
        refs: dict[str, dict[str, str]] = {}
        for field, items in dicts.items():
            refs[field] = {}
            for key, item in items.items():
                digest, data = self._digests.of(item, lambda m: self._model_typed(m)[0][1] or b"")
                extras[digest] = data if data is not None else item
                refs[field][key] = digest
        spec: dict[str, Any] = {"items": refs}
        if model is not None:
            (head_type, head), _ = self._model_typed(model, empty=list(dicts))
            head = head or b""
            spec["head"], spec["head_type"] = hashlib.sha256(head).hexdigest(), head_type
            extras[spec["head"]] = head
        type_, data = self.serde.dumps_typed(spec)
        return (ITEMS + type_, data), extras

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

    def _typed(self, values: dict[str, Any], channel: str) -> Dumped:
        return self._dumps(values[channel]) if channel in values else ((EMPTY, None), {})

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
            named = cur.execute(
                "SELECT type, value FROM writes WHERE thread_id = ?1 AND checkpoint_ns = ?2 AND (type LIKE "
                "'ref:%' OR type LIKE 'items:%') UNION ALL SELECT type, blob FROM blobs WHERE thread_id = ?1 "
                "AND checkpoint_ns = ?2 AND (type LIKE 'ref:%' OR type LIKE 'items:%')",
                (thread, namespace),
            ).fetchall()
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS kept_values (digest TEXT NOT NULL)")
            cur.execute("DELETE FROM kept_values")
            cur.executemany("INSERT INTO kept_values VALUES (?)", [(d,) for d in self._named(named)])
            cur.execute(
                "DELETE FROM stored_values WHERE thread_id = ? AND checkpoint_ns = ? AND digest NOT IN "
                "(SELECT digest FROM kept_values)",
                (thread, namespace),
            )

    def _named(self, rows: list[tuple[str, bytes]]) -> set[str]:
        """The digests of ``stored_values`` that these rows (types ``ref:`` and ``items:``) name."""
        named: set[str] = set()
        for type_, value in rows:
            if type_.startswith(REF):
                named.add(bytes(value).decode())
            else:
                spec = self.serde.loads_typed((type_[len(ITEMS) :], bytes(value)))
                named.update(d for refs in spec["items"].values() for d in refs.values())
                if spec.get("head"):
                    named.add(spec["head"])
        return named

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
        with self._reading():
            found = super().get_tuple(config)
            return self._filled(found) if found is not None else None

    def _reading(self) -> contextlib.AbstractContextManager[None]:
        return self.serde.reading() if isinstance(self.serde, Stored) else contextlib.nullcontext()

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        for found in list(super().list(config, filter=filter, before=before, limit=limit)):
            with self._reading():
                filled = self._filled(found)
            yield filled

    def delete_thread(self, thread_id: str) -> None:
        super().delete_thread(thread_id)
        with self.cursor() as cur:
            cur.execute("DELETE FROM blobs WHERE thread_id = ?", (str(thread_id),))
            cur.execute("DELETE FROM stored_values WHERE thread_id = ?", (str(thread_id),))
