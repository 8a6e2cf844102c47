"""A child process fed its standard input in pieces, through the pipe only.

``subprocess.run(input=...)`` needs the whole input as one bytes object: for the recount's jq at 10k
pods, the JSON of every type a command reads joined and encoded once more, beside the listings it was
joined from. Here the pieces are written one after the other by a thread, while two more drain the
child's output, so nothing is joined in memory and nothing goes through a file: the listings can
hold what a live cluster served, which must not land on disk.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterable, Sequence
from typing import IO


def run_piped(
    argv: Sequence[str],
    pieces: Iterable[bytes],
    timeout: float,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` with ``pieces`` as its standard input (iterated as they are written: a generator
    makes each when the pipe takes it); its output as ``subprocess.run`` gives it.
    ``env``: the child's whole environment (None: this process's).

    Raises ``subprocess.TimeoutExpired`` (the child killed) as ``subprocess.run`` does. A child that
    stops reading (it failed) is not an error here: its exit code and standard error say why."""
    with subprocess.Popen(  # an argv list, no shell
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        read: dict[str, bytes] = {}

        def drain(name: str, stream: IO[bytes]) -> None:
            read[name] = stream.read()

        def feed(stream: IO[bytes]) -> None:
            try:
                for piece in pieces:
                    stream.write(piece)
                stream.close()
            except (BrokenPipeError, ValueError):  # the child exited (or was killed) before reading it all
                pass

        threads = [
            threading.Thread(target=drain, args=("out", proc.stdout), daemon=True),
            threading.Thread(target=drain, args=("err", proc.stderr), daemon=True),
            threading.Thread(target=feed, args=(proc.stdin,), daemon=True),
        ]
        for thread in threads:
            thread.start()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            for thread in threads:
                thread.join()
            raise
        for thread in threads:
            thread.join()
        return subprocess.CompletedProcess(
            list(argv), proc.returncode, read.get("out", b""), read.get("err", b"")
        )
