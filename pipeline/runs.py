"""Where runs live between processes: an index of runs, and one SQLite file of checkpoints per run.

    $INFRA_AUDIT_HOME/            (else $XDG_STATE_HOME/infra-audit or ~/.local/state/infra-audit;
      runs.sqlite                  --state-dir overrides) the index: id, settings, start, status
      runs/<run id>.sqlite         the LangGraph checkpoints of that run

``infra-audit resume RUN_ID`` finds a run here, rebuilds its settings and continues the graph from its
last checkpoint: research branches that finished are not run again. A run's file keeps its last
step only, each value written once (``pipeline/checkpoints.py``): one state and the current step's
writes. The store is pruned too: after each run the newest ``keep_runs`` runs of the same estate
are kept (``--keep-runs``, ``$INFRA_AUDIT_KEEP_RUNS``, default 10), and ``infra-audit runs`` lists
and deletes. One file per run gives a deleted run's space back at once, with no VACUUM of a shared file.

A store written before this layout kept every run's checkpoints inside ``runs.sqlite``: such runs
are still listed, resumed and deleted; deleting them VACUUMs that file to give the space back.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel, ConfigDict

from domain.errors import SettingsError
from pipeline.graph import checkpointer
from pipeline.settings import RunSettings

DB_NAME = "runs.sqlite"
RUNS_DIR = "runs"
INCOMPLETE = "incomplete"
FINISHED = "finished"
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SIDECARS = ("", "-wal", "-shm", "-journal")


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    """A run id names a file: letters, digits, '.', '_' and '-', starting with a letter or digit."""
    if not RUN_ID.fullmatch(run_id):
        raise SettingsError(
            f"run id {run_id!r}: use up to 100 letters, digits, '.', '_' or '-', "
            "starting with a letter or a digit"
        )
    return run_id


class RunInfo(BaseModel):
    """One run of the store, as ``infra-audit runs`` lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    estate: str
    estate_path: str
    created: str
    status: str
    size: int


class RunStore:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state_dir = state_dir
        self.path = state_dir / DB_NAME
        self.runs_dir = state_dir / RUNS_DIR
        with self._index() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS infra_audit_runs "
                "(run_id TEXT PRIMARY KEY, settings TEXT NOT NULL, created TEXT NOT NULL, status TEXT)"
            )
            columns = {row[1] for row in conn.execute("PRAGMA table_info(infra_audit_runs)")}
            if "status" not in columns:  # an index written before runs had a status
                conn.execute("ALTER TABLE infra_audit_runs ADD COLUMN status TEXT")

    @contextmanager
    def _index(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:
                yield conn
        finally:
            conn.close()

    def checkpoint_path(self, run_id: str) -> Path:
        return self.runs_dir / f"{check_run_id(run_id)}.sqlite"

    def traceback_dir(self, run_id: str) -> Path:
        """Where a crashing node of this run writes its traceback (deleted with the run)."""
        return self.runs_dir / f"{check_run_id(run_id)}.tracebacks"

    def save(self, run_id: str, settings: RunSettings) -> None:
        """Record a run that starts. A run id given again starts that run afresh."""
        self._drop_checkpoints([check_run_id(run_id)])
        with self._index() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO infra_audit_runs (run_id, settings, created, status) "
                "VALUES (?, ?, ?, ?)",
                # ASCII JSON: a path that is not UTF-8 keeps its bytes as \udcXX escapes and round-trips
                (
                    run_id,
                    json.dumps(settings.model_dump(mode="json")),
                    datetime.now(UTC).isoformat(),
                    INCOMPLETE,
                ),
            )

    def finish(self, run_id: str, status: str) -> None:
        with self._index() as conn:
            conn.execute("UPDATE infra_audit_runs SET status = ? WHERE run_id = ?", (status, run_id))

    def load(self, run_id: str) -> RunSettings:
        with self._index() as conn:
            row = conn.execute("SELECT settings FROM infra_audit_runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise SettingsError(
                f"no run {run_id!r} in {self.path}; 'infra-audit runs' lists the runs kept there"
            )
        return RunSettings.model_validate(json.loads(row[0]))

    @contextmanager
    def checkpoints(self, run_id: str) -> Iterator[SqliteSaver]:
        """The run's checkpointer; its connection is closed (and its WAL folded in) when done."""
        if self._legacy_threads({run_id}):
            raise SettingsError(
                f"run {run_id!r} was checkpointed by an earlier infra-audit, whose saved types this "
                "version cannot read; start it again with 'infra-audit run' (and 'infra-audit runs "
                f"delete {run_id}' to give its space back)"
            )
        saver = checkpointer(self.checkpoint_path(run_id))
        try:
            yield saver
        finally:
            saver.conn.close()

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first."""
        with self._index() as conn:
            rows = conn.execute(
                "SELECT run_id, settings, created, status FROM infra_audit_runs ORDER BY created, run_id"
            ).fetchall()
        legacy = self._legacy_sizes()
        return [
            RunInfo(
                run_id=run_id,
                estate=_estate(settings)[0],
                estate_path=_estate(settings)[1],
                created=created,
                status=status or "unknown",
                size=self._file_size(run_id) + legacy.get(run_id, 0),
            )
            for run_id, settings, created, status in rows
        ]

    def delete(self, run_ids: Iterable[str]) -> int:
        """Delete runs (index rows and checkpoints); returns the bytes given back to the disk."""
        wanted = list(dict.fromkeys(run_ids))
        known = {r.run_id for r in self.runs()}
        unknown = [r for r in wanted if r not in known]
        if unknown:
            raise SettingsError(
                f"no run {', '.join(map(repr, unknown))} in {self.path}; 'infra-audit runs' lists them"
            )
        before = self.disk_usage()
        self._drop_checkpoints(wanted)
        with self._index() as conn:
            conn.executemany("DELETE FROM infra_audit_runs WHERE run_id = ?", [(r,) for r in wanted])
        return before - self.disk_usage()

    def prune(self, keep: int, estate: Path | str | None = None) -> list[RunInfo]:
        """Keep the newest ``keep`` runs of each estate (or of ``estate`` only); delete the rest."""
        by_estate: dict[str, list[RunInfo]] = {}
        for run in self.runs():
            by_estate.setdefault(run.estate_path, []).append(run)
        chosen = by_estate if estate is None else {str(estate): by_estate.get(str(estate), [])}
        doomed = [run for runs in chosen.values() for run in runs[: max(0, len(runs) - keep)]]
        if doomed:
            self.delete(r.run_id for r in doomed)
        return doomed

    def disk_usage(self) -> int:
        """Bytes the store takes on disk: the index and every run's files."""
        files = [self.path.with_name(self.path.name + s) for s in SIDECARS]
        if self.runs_dir.is_dir():
            files += list(self.runs_dir.iterdir())
        return sum(f.stat().st_size for f in files if f.is_file())

    def _file_size(self, run_id: str) -> int:
        path = self.runs_dir / f"{run_id}.sqlite"
        return sum(p.stat().st_size for s in SIDECARS if (p := path.with_name(path.name + s)).is_file())

    def _drop_checkpoints(self, run_ids: list[str]) -> None:
        for run_id in run_ids:
            path = self.runs_dir / f"{run_id}.sqlite"
            for suffix in SIDECARS:
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            shutil.rmtree(self.runs_dir / f"{run_id}.tracebacks", ignore_errors=True)
        legacy = self._legacy_threads(set(run_ids))
        if legacy:
            with self._index() as conn:
                for table in ("checkpoints", "writes"):
                    conn.executemany(f"DELETE FROM {table} WHERE thread_id = ?", [(r,) for r in legacy])
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                conn.execute("VACUUM")  # the shared file of an old store: give the space back,
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # from its write-ahead log too
            finally:
                conn.close()

    def _legacy_tables(self, conn: sqlite3.Connection) -> bool:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {"checkpoints", "writes"} <= names

    def _legacy_threads(self, run_ids: set[str]) -> set[str]:
        """Which of ``run_ids`` have checkpoints inside runs.sqlite (a store of the old layout)."""
        if not run_ids:
            return set()
        with self._index() as conn:
            if not self._legacy_tables(conn):
                return set()
            found = conn.execute("SELECT DISTINCT thread_id FROM checkpoints").fetchall()
        return {r[0] for r in found} & run_ids

    def _legacy_sizes(self) -> dict[str, int]:
        with self._index() as conn:
            if not self._legacy_tables(conn):
                return {}
            sizes: dict[str, int] = {}
            for query in (
                "SELECT thread_id, SUM(LENGTH(checkpoint) + LENGTH(metadata)) FROM checkpoints "
                "GROUP BY thread_id",
                "SELECT thread_id, SUM(LENGTH(value)) FROM writes GROUP BY thread_id",
            ):
                for thread, size in conn.execute(query):
                    sizes[thread] = sizes.get(thread, 0) + int(size or 0)
        return sizes


def _estate(settings_json: str) -> tuple[str, str]:
    """(the estate as typed, its resolved path) from a run's saved settings, whatever their version."""
    try:
        data = json.loads(settings_json)
        path = str(data["estate"])
        return str(data.get("estate_label") or path), path
    except (ValueError, KeyError, TypeError):
        return "?", "?"
