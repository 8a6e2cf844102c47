"""A child process staging a big snapshot's biggest dumps while the audit's process stages the rest
(issue 13). Standard library only: ``infra-audit run`` starts it before anything heavy is imported.

Why: staging a dump (``snapshot_files.stage_file``: the parse, the depth check, each object reduced
and kept as compact bytes) holds the interpreter lock, and opening a 10k-pod snapshot took 1.1-1.2 s
of the audit's own core while the second core had nothing to do yet (the recount's children start
once the cluster is open); the pods' dump alone, half of the snapshot's bytes, was 0.49-0.50 s of it.

``Farm.start`` hands the biggest JSON dumps, up to ``FARM_SHARE`` of the snapshot's bytes, to
``python -P -m tools.kube.snapshot_files PATH...``; a thread reads what the child prints as it comes,
so the child never waits on the pipe. ``Farm.early``, called by ``infra-audit run`` as it starts
(``pipeline/commands/run.py``'s ``start_early``, which ``cli.main`` runs once the arguments are parsed),
gives the child ``EARLY_SHARE`` (it works while the audit imports the graph) and keeps it for the
snapshot's backend to claim; one never claimed is killed at exit. ``SnapshotBackend`` applies the
stages in the order of the files' names, whichever process made them, so what it stores and reports
does not depend on where a file was read; what the child does not give (it failed, was cut short,
stalled past ``FARM_WAIT_S``) is staged in process. Small snapshots (under ``FARM_MIN_BYTES`` of JSON)
and one-core machines never start one.
"""

from __future__ import annotations

import contextlib
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tools.gathered_child import Early, GatheredChild, cores

if TYPE_CHECKING:
    from tools.kube.snapshot_files import FileStage

META_FILE = "_snapshot.json"
SUFFIXES = (".json", ".yaml", ".yml")
MAX_FILE_BYTES = 512 << 20
"""The biggest dump a snapshot reads (a List of 100,000 pods is about 350 MiB): a bigger one is refused,
not handed to the child."""
FARM_MIN_BYTES = 32 << 20
"""A snapshot's dumps must hold this much JSON in all before a child stages some of them: below it
(about 5,000 pods) the child's start (0.15-0.2 s to import what staging needs) buys nothing."""
FARM_SHARE = 0.4
"""The most of the snapshot's bytes the child stages when started with the backend: less than half,
since the child first imports what staging needs (0.15-0.2 s); the two then end about together."""
EARLY_SHARE = 0.6
"""The same when ``infra-audit run`` starts it, as soon as its arguments are parsed (``cli.main``
runs the command's ``early``): the child's head start (0.6 s of the audit's imports) pays for its own
imports and more. Both shares were tuned on the 2-core machine of docs/performance.md at 10k pods (the
child's staging there is slower than alone: the two processes parse side by side): early, 0.5 left
the audit more of its own to parse and 0.7 had it wait on the child."""
FARM_WAIT_S = 300.0
"""The longest wait for the child's output to end once this process has staged its own files."""

_early: Early[Farm] = Early()


def dump_files(root: Path) -> list[Path]:
    """The dumps of a snapshot directory, by their path under it (hidden ones and the metadata left out)."""
    found = [
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in SUFFIXES
        and p.name != META_FILE
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


class Farm(GatheredChild):
    """A child staging ``paths`` (the biggest JSON dumps), started at once; ``results`` gathers them."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        self.root: Path | None = None
        """The snapshot directory, for a child started early (``early``): its paths are under it."""
        # -P: nothing imported from the working directory
        super().__init__([sys.executable, "-P", "-m", "tools.kube.snapshot_files", *map(str, paths)])

    @classmethod
    def start(cls, files: list[Path], root: Path | None = None) -> Farm | None:
        """The child staging some of ``files`` (``root``'s dumps): the one started early for ``root``
        if it chose among the same files, else a new one for the biggest JSON dumps up to
        ``FARM_SHARE`` of the bytes; None where it buys nothing."""
        if root is not None:
            early = _early.take(root)
            if early is not None:
                ours = {p.relative_to(root).as_posix(): p for p in files}  # root given another way too
                theirs = [p.relative_to(early.root).as_posix() for p in early.paths] if early.root else []
                if theirs and all(name in ours for name in theirs):
                    early.paths = [ours[name] for name in theirs]  # named as the backend names them
                    return early
                early.stop()  # the directory changed since: choose again
        return cls._started(_chosen(files, FARM_SHARE))

    @classmethod
    def early(cls, root: Path) -> None:
        """Start the child for ``root``'s biggest dumps now, for ``start`` to claim (nothing where the
        directory cannot be read or the snapshot is small). Never raises."""
        try:
            if not root.is_dir():
                return
            farm = cls._started(_chosen(dump_files(root), EARLY_SHARE))
        except OSError:
            return
        if farm is not None:
            farm.root = root
            _early.put(root, farm)

    @classmethod
    def _started(cls, chosen: list[Path]) -> Farm | None:
        if not chosen:
            return None
        try:
            return cls(chosen)
        except OSError:
            return None

    def results(self) -> dict[Path, FileStage]:
        """Each path's stage: the child's, else (it failed or stalled) staged in this process."""
        from tools.kube import snapshot_files
        from tools.kube.snapshot_store import Staged

        self._reader.join(FARM_WAIT_S)
        if self._reader.is_alive() or self._proc.poll() is None:
            self._kill()
        self._ended()
        staged: dict[Path, FileStage] = {}
        with memoryview(self._out) as view:
            at = 0
            for path in self.paths:
                size = int.from_bytes(view[at : at + 8], "big")
                if size == 0 or at + 8 + size > len(view):
                    break  # cut short: the child ended early, the rest is staged here
                try:
                    failed, items, skipped = pickle.loads(view[at + 8 : at + 8 + size])  # its own bytes
                except Exception:  # garbled: the rest is staged here
                    break
                at += 8 + size
                staged[path] = snapshot_files.FileStage(
                    failed, [(crd, Staged(*fields)) for crd, fields in items], skipped
                )
        self._out = bytearray()
        return {path: staged.get(path) or snapshot_files.stage_file(path) for path in self.paths}


def _chosen(files: list[Path], share: float) -> list[Path]:
    """The biggest JSON dumps of ``files`` up to ``share`` of their bytes, in the files' order; none on
    one core, or where the JSON is under ``FARM_MIN_BYTES``."""
    if cores() < 2:
        return []
    sizes: dict[Path, int] = {}
    for path in files:
        with contextlib.suppress(OSError):
            sizes[path] = path.stat().st_size
    if sum(n for p, n in sizes.items() if p.suffix == ".json") < FARM_MIN_BYTES:
        return []
    total, farmed, chosen = sum(sizes.values()), 0, []
    for path in sorted((p for p in sizes if p.suffix == ".json"), key=lambda p: -sizes[p]):
        if sizes[path] <= MAX_FILE_BYTES and farmed + sizes[path] <= total * share:
            chosen.append(path)
            farmed += sizes[path]
    order = {path: i for i, path in enumerate(files)}
    return sorted(chosen, key=order.__getitem__)
