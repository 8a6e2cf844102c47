"""A child process whose standard output a thread gathers as it comes, so the child never waits on a
full pipe and the audit reads what it printed when it needs it. Standard library only: the snapshot's
staging child (``tools/kube/snapshot_farm.py``) and the early parse's (``tools/inventory/parse_early.py``)
are two, and ``infra-audit run`` starts both before anything heavy is imported."""

from __future__ import annotations

import atexit
import contextlib
import os
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Generic, TypeVar

TOOLS_ROOT = str(Path(__file__).resolve().parents[1])
"""Where ``tools`` is, as this process imports it: the child's ``PYTHONPATH``."""


class GatheredChild:
    """``argv`` started at once (no shell; an environment of its ``PYTHONPATH`` only: nothing of the
    run's environment, its keys, reaches it), what it prints kept in ``_out``."""

    def __init__(self, argv: Sequence[str], stdin: int = subprocess.DEVNULL) -> None:
        self._out = bytearray()
        self._proc = subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PYTHONPATH": TOOLS_ROOT},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            while chunk := self._proc.stdout.read(1 << 20):
                self._out += chunk

    def _kill(self) -> None:
        """Kill it and close its input, if it has one; not waited for (a run's exit does not wait)."""
        with contextlib.suppress(OSError):
            self._proc.kill()
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()

    def _ended(self) -> None:
        """Wait for the reader (the child has ended or was killed) and the child; close the pipes."""
        self._reader.join()
        self._proc.wait()
        assert self._proc.stdout is not None
        self._proc.stdout.close()
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()

    def stop(self) -> None:
        """Kill it and let what it printed go."""
        self._kill()
        self._ended()
        self._out = bytearray()


def cores() -> int:
    """The CPUs this process may run on (its affinity: a container's cpuset), else the machine's: a
    child started to use a second core needs one."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


Child = TypeVar("Child", bound=GatheredChild)


class Early(Generic[Child]):
    """Children started before the run needs them, each under the real path of the directory it reads,
    for the run to take once; one never taken (the run failed first) is killed at exit."""

    def __init__(self) -> None:
        self._held: dict[str, Child] = {}
        self._lock = threading.Lock()
        atexit.register(self.kill_unclaimed)

    def put(self, directory: Path, child: Child) -> None:
        with self._lock:
            before = self._held.pop(os.path.realpath(directory), None)
            self._held[os.path.realpath(directory)] = child
        if before is not None:
            before.stop()  # an earlier run's, never claimed (one process, several runs)

    def get(self, directory: Path) -> Child | None:
        with self._lock:
            return self._held.get(os.path.realpath(directory))

    def take(self, directory: Path) -> Child | None:
        with self._lock:
            return self._held.pop(os.path.realpath(directory), None)

    def values(self) -> list[Child]:
        with self._lock:
            return list(self._held.values())

    def __bool__(self) -> bool:
        return bool(self._held)

    def kill_unclaimed(self) -> None:
        """Kill, not wait for, every child still held."""
        with self._lock:
            left = list(self._held.values())
            self._held.clear()
        for child in left:
            child._kill()
