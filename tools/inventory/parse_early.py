"""The estate parsed by a child while ``infra-audit run`` imports the graph (issue 13). Standard library
only: ``start`` runs before anything heavy is imported.

Why: a run spends its first 0.6-0.7 s importing LangGraph, pydantic and the checks on one core, and
only then parses the estate on that same core (0.7 s for the 1,600 files of ``bench/``'s large
estate), while the second core has nothing to do until the recount's children start. Started as soon
as the arguments are parsed, ``python -P -m tools.inventory.parse_child ROOT`` parses the estate
with the same code (``build.parse_estate``: the walk, every parser, the Helm renders) and prints the
records pickled; ``build_inventory`` takes them (``take``) in place of its own parse, and parses in
process whatever the child did not give: it failed, printed something that does not unpickle, ran
past ``WAIT_S``, or was told other chart options than the run settled on (``choose`` tells it the
cache once the run has read its environment; it asks only when a render needs it).

Only where it pays: two CPUs or more, and an estate of ``MIN_FILES`` files or more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tools.gathered_child import Early, GatheredChild, cores

MIN_FILES = 400
"""Files an estate must hold for the child to start. Measured on the machine of docs/performance.md: at
569 files (a parse of 0.32 s in process) the run took 1.44 s median with the child against 1.72 s
without; on the bundled 52- and 68-file estates (parses of 0.12 s) the medians were within 0.1 s
either way (six runs each), so a small run stays one process."""
WAIT_S = 600.0
"""The longest ``take`` waits for the child; past it the estate is parsed in process."""
SKIP_DIRS = frozenset(
    {".git", ".terraform", ".terragrunt-cache", "node_modules", ".venv", "__pycache__", ".mypy_cache"}
)
"""Directories the estate's walk never enters (``build.discover``)."""

_early: Early[EarlyParse] = Early()


def holds_files(root: Path, count: int) -> bool:
    """Whether the walk ``build.discover`` makes of ``root`` would meet ``count`` files or more (stops
    there). Snapshot directories are counted too: this only decides whether to start the child."""
    stack, seen = [str(root)], 0
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in SKIP_DIRS:
                            stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        seen += 1
                        if seen >= count:
                            return True
        except OSError:
            continue
    return False


class EarlyParse(GatheredChild):
    """The child parsing ``root``; told its chart cache by ``choose``; its output gathered by a thread."""

    def __init__(self, root: Path) -> None:
        self.cache_dir: Path | None = None
        self.chosen = False
        super().__init__(self.argv(root), stdin=subprocess.PIPE)

    @staticmethod
    def argv(root: Path) -> list[str]:
        """The child's command (-P: nothing imported from the working directory)."""
        return [sys.executable, "-P", "-m", "tools.inventory.parse_child", str(root)]

    @classmethod
    def start(cls, root: Path) -> None:
        """Start the child for ``root`` now, for ``take`` to claim (nothing on one core, for a small
        estate, or where the directory cannot be read). Never raises. The child imports what parsing
        needs and parses; when a render first needs the chart cache it waits for ``choose`` to tell it
        (the run reads its environment after this)."""
        try:
            if cores() < 2 or not root.is_dir() or not holds_files(root, MIN_FILES):
                return
            early = cls(root)
        except OSError:
            return
        _early.put(root, early)

    @classmethod
    def choose(cls, root: Path, cache_dir: Path | None) -> None:
        """Tell the child started for ``root`` (if any) the chart cache to parse with, and let it go."""
        early = _early.get(root)
        if early is None or early.chosen:
            return
        early.cache_dir, early.chosen = cache_dir, True
        line = json.dumps({"cache": None if cache_dir is None else str(cache_dir)}) + "\n"
        try:
            assert early._proc.stdin is not None
            early._proc.stdin.write(line.encode())  # json.dumps escapes every non-ASCII character
            early._proc.stdin.close()
        except OSError:
            early.chosen = False  # it died: ``take`` finds nothing to take

    @classmethod
    def take(cls, root: Path, cache_dir: Path | None, fetch: bool) -> memoryview | None:
        """The pickled ``(files, records)`` the child made of ``root``, if one was started for it with
        these chart options and ended well; else None (the child, if any, is killed)."""
        early = _early.take(root)
        if early is None:
            return None
        if fetch or not early.chosen or early.cache_dir != cache_dir:  # fetching is the run's to do
            early.stop()
            return None
        try:
            return early._result()
        except BaseException:  # interrupted while waiting: out of the registry, so killed here
            early.stop()
            raise

    def _result(self) -> memoryview | None:
        self._reader.join(WAIT_S)
        if self._reader.is_alive():
            self.stop()
            return None
        self._ended()
        out, self._out = self._out, bytearray()
        size = int.from_bytes(out[:8], "big")
        if self._proc.returncode != 0 or len(out) != 8 + size or size == 0:
            return None
        return memoryview(out)[8:]  # not copied (0.87 MB for the 1,600 files of bench/, more for more)
