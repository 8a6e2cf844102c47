"""A child process of the recount fed through its standard input while the audit goes on: a writer
thread sends what ``send`` queued (a caller never waits on the pipe), a reader thread gathers the
lines it prints. The recount's batch child (``reproduce_batch``) and its jq engine
(``reproduce_jq``) are two of these."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

from tools.checks.listing import JsonList, written


class FedChild:
    """A child of ``argv``, its input written from a queue, its output lines kept in ``lines``."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        cwd: Path | None = None,
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.proc = subprocess.Popen(  # an argv list, no shell; the programs are ours
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            pass_fds=pass_fds,
        )
        self.lines: list[bytes] = []
        self.ended = False
        """Whether its output has ended (it exited, or closed it)."""
        self._arrived = threading.Condition()
        self._queue: queue.SimpleQueue[bytes | JsonList | None] = queue.SimpleQueue()
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._writer.start()
        self._reader.start()
        weakref.finalize(self, kill, self.proc)

    def send(self, *pieces: bytes | JsonList) -> None:
        for piece in pieces:
            self._queue.put(piece)

    def _write(self) -> None:
        assert self.proc.stdin is not None
        try:
            while (piece := self._queue.get()) is not None:
                for chunk in written([piece]):
                    self.proc.stdin.write(chunk)
                self.proc.stdin.flush()
            self.proc.stdin.close()
        except (BrokenPipeError, ValueError, OSError):  # the child ended: what it answered stands
            pass

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._arrived:
                self.lines.append(line)
                self._arrived.notify_all()
        with self._arrived:
            self.ended = True
            self._arrived.notify_all()

    def line(self, n: int, timeout: float) -> bytes | None:
        """Its ``n``-th line (from 0), waiting at most ``timeout`` seconds; None where its output ended
        before, or the time ran out."""
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.lines) > n or self.ended, timeout)
            return self.lines[n] if len(self.lines) > n else None

    def end_input(self) -> None:
        """Close its input once what was queued is written."""
        self._queue.put(None)

    def reap(self) -> None:
        """Wait for the two threads (the child has exited or was killed) and close the pipes."""
        self._reader.join()
        self._writer.join(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()

    def stop(self) -> None:
        """End it now, whatever it was doing. Its end is waited for by a thread of its own: the kernel
        gives back a process's memory before its pipes close, and the numbers challenger waited 0.17 s
        for the jq engine's (about 560 MiB at 10k pods; one run)."""
        self.end_input()
        if self.proc.poll() is None:
            self.proc.kill()
        threading.Thread(target=self._reaped, daemon=True, name="fed-child-reap").start()

    def _reaped(self) -> None:
        self.proc.wait()
        self.reap()


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()
