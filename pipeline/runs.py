"""Where runs live between processes: one SQLite file holding LangGraph checkpoints and run settings.

``infra-audit resume RUN_ID`` finds a run here, rebuilds its settings and continues the graph from its
last checkpoint: research branches that finished are not run again. The default location is
``$INFRA_AUDIT_HOME`` or ``~/.local/state/infra-audit``; ``--state-dir`` overrides it.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from pipeline.graph import checkpointer
from pipeline.settings import RunSettings
from tools.errors import SettingsError

DB_NAME = "runs.sqlite"


def default_state_dir() -> Path:
    home = os.environ.get("INFRA_AUDIT_HOME")
    if home:
        return Path(home)
    return Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state")) / "infra-audit"


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


class RunStore:
    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / DB_NAME
        with sqlite3.connect(self.path) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS infra_audit_runs "
                "(run_id TEXT PRIMARY KEY, settings TEXT NOT NULL, created TEXT NOT NULL)"
            )

    def save(self, run_id: str, settings: RunSettings) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO infra_audit_runs VALUES (?, ?, ?)",
                # ASCII JSON: a path that is not UTF-8 keeps its bytes as \udcXX escapes and round-trips
                (run_id, json.dumps(settings.model_dump(mode="json")), datetime.now(UTC).isoformat()),
            )

    def load(self, run_id: str) -> RunSettings:
        with sqlite3.connect(self.path) as conn:
            row = conn.execute("SELECT settings FROM infra_audit_runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise SettingsError(
                f"no run {run_id!r} in {self.path}; 'infra-audit run' printed the id of each run"
            )
        return RunSettings.model_validate(json.loads(row[0]))

    def list(self) -> list[tuple[str, str]]:
        with sqlite3.connect(self.path) as conn:
            return [
                (r[0], r[1])
                for r in conn.execute("SELECT run_id, created FROM infra_audit_runs ORDER BY created")
            ]

    def checkpointer(self) -> SqliteSaver:
        return checkpointer(self.path)
