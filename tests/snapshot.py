"""File snapshots for big outputs (rendered reports, graph diagrams): reviewed in diffs when they change.

``assert_snapshot("name.md", text)`` compares ``text`` with ``tests/snapshots/name.md``. With
``UPDATE_SNAPSHOTS=1`` in the environment it writes the file instead (and still passes), so the
workflow is: change the code, run ``UPDATE_SNAPSHOTS=1 pytest``, review the diff, commit it. A
missing snapshot fails rather than being created silently, so CI never blesses its own output.

Import it as ``from snapshot import assert_snapshot``: ``tests/`` is on ``sys.path`` because it
holds ``conftest.py`` (pytest's default ``prepend`` import mode).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE_ENV = "UPDATE_SNAPSHOTS"


def assert_snapshot(name: str, text: str, path: Path | None = None) -> None:
    """Compare with ``tests/snapshots/<name>``, or with ``path`` when a snapshot is kept elsewhere."""
    path = path or SNAPSHOTS / name
    if os.environ.get(UPDATE_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        raise AssertionError(f"no snapshot {path}; run with {UPDATE_ENV}=1 to create it, then review it")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"snapshots/{name}",
                tofile="rendered",
                n=2,
            )
        )
        raise AssertionError(f"snapshot {name} differs (re-run with {UPDATE_ENV}=1 if intended):\n{diff}")
