"""The recount's jq engine: one child (``jq_child.py``) that parses the cluster's listings while the
inventory and the research run, then runs the recount's jq programs over them as they become known
(issue 13).

Run as one program at the challenge, the recount's jq read and parsed every type it needed before
running a filter: at 10k pods 58 MiB of JSON, 1.9-2.7 s of the 6.6-8.0 s the challenge waited on it. The
engine starts before the live inventory is read (``Recounter.warm_early``), is sent every type a
catalog jq command reads through an in-memory file, and parses each once; a research branch's
filters run as that branch ends (``Recounter.early``), the rest when the challenge starts. Each
program is the one the challenge ran before (``reproduce_batch.jq_ahead``) over the same values, so
what each filter prints is the same.

An engine that cannot run (no libjq in the jq module's shared object, a child that died or ran past
its time) answers None, and the program runs as before, in a child of its own that parses its input.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tools.checks.fed_child import FedChild
from tools.checks.reproduce import ReproSpec, Where
from tools.checks.reproduce_batch import jq_ahead
from tools.checks.reproduce_run import Listings, _with_rg
from tools.checks.spec import catalog_types
from tools.kube.backend import KubeBackend
from tools.sandbox import Jail

CHILD = Path(__file__).with_name("jq_child.py")


class JqEngine:
    """The child holding the cluster's listings as jq values; ``run`` one program at a time."""

    def __init__(self, backend: KubeBackend, listings: Listings, names: Iterable[str]) -> None:
        self.backend, self.listings = backend, listings
        self._held: set[str] = set()
        self._asked = 0
        self._lock = threading.Lock()
        names = list(dict.fromkeys(names))
        memory = _in_memory(backend, listings, names)
        argv = [sys.executable, "-P", str(CHILD)]
        if memory is None:  # no memfd here: each type through the pipe
            self._child: FedChild | None = FedChild(argv, _with_rg())
            for name in names:
                self._send(name)
            return
        fd, index = memory
        try:
            self._child = FedChild([*argv, str(fd)], _with_rg(), pass_fds=[fd])
        finally:
            os.close(fd)  # the child's copy of it is what keeps the text
        self._child.send(json.dumps({"memory": index}).encode() + b"\n")
        self._held.update(names)

    def _send(self, name: str) -> None:
        assert self._child is not None
        listing = self.listings.listing(self.backend, name)
        self._child.send(json.dumps({"listing": name, "length": len(listing)}).encode() + b"\n", listing)
        self._held.add(name)

    def run(self, program: str, types: list[str], args: dict[str, Any], timeout: float) -> Any | None:
        """The first output of ``program`` over the list of ``types``' listings (``.``, as a jq child
        given their JSON reads it), with ``args`` as its named arguments: as the jq module's
        ``first()`` returns it. None where it gave none: the engine could not run it (it is then
        closed), or the program did not compile, failed or printed nothing (a ``together`` program
        catches each filter's errors: that is a program failing as a whole)."""
        with self._lock:
            child = self._child
            if child is None:
                return None
            for name in types:
                if name not in self._held:
                    self._send(name)
            request = {"run": program, "types": types, "args": args}
            child.send(json.dumps(request).encode("utf-8", "surrogatepass") + b"\n")
            line = child.line(self._asked, timeout)
            self._asked += 1
            try:
                answer = json.loads(line) if line is not None else None
            except ValueError:
                answer = None
            if not isinstance(answer, dict):
                self._close()  # dead, stuck or garbled: nothing more goes to it
                return None
            return answer.get("value") if "value" in answer else None

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            child.stop()


def _in_memory(
    backend: KubeBackend, listings: Listings, names: list[str]
) -> tuple[int, list[tuple[str, int, int]]] | None:
    """The types' JSON texts one after the other in an anonymous in-memory file (``memfd_create``:
    nothing lands on disk), and where each is in it; None where the system has none. One write per
    type: through a pipe, the writer thread took the GIL back after every 64 KiB the child read,
    and the research branches held it (the 11 MiB of Deployments took 0.78 s to arrive at 10k pods,
    load 3)."""
    if not hasattr(os, "memfd_create"):
        return None
    fd = os.memfd_create("infra-audit-listings", os.MFD_CLOEXEC)
    index: list[tuple[str, int, int]] = []
    at = 0
    try:
        for name in names:
            text = memoryview(listings.listing(backend, name).joined())
            index.append((name, at, len(text)))
            while text:
                written = os.write(fd, text)
                text, at = text[written:], at + written
    except BaseException:
        os.close(fd)
        raise
    return fd, index


class JqWork:
    """The run's jq engine and the one thread sending it programs: a research branch's filters as it
    ends, the challenge's after them (``submit``, ``wait``), each filter once."""

    def __init__(self) -> None:
        self._engine: JqEngine | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._sent: list[Future[None]] = []
        self._started = False
        self._lock = threading.Lock()  # research branches send from their threads

    def start(self, backend: KubeBackend, listings: Listings) -> None:
        """Start the engine, sent every type a catalog jq command reads (in the thread: listing a
        live cluster's types is not the caller's wait)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        self._send(lambda: self._open(backend, listings))

    def _open(self, backend: KubeBackend, listings: Listings) -> None:
        self._engine = JqEngine(backend, listings, catalog_types(jq_only=True))

    def submit(
        self,
        specs: list[ReproSpec],
        jail: Jail,
        where: Where,
        backend: KubeBackend | None,
        listings: Listings,
        *,
        early: bool = False,
    ) -> None:
        """Run the jq filters of ``specs`` not run yet, after those sent before: by the engine where
        the run started one, else in a child of their own (``reproduce_batch.jq_ahead``). ``early``
        (a research branch's, as it ends): only where the run started an engine; without one each
        program would parse its listings anew, and the challenge's one program reads each once."""
        if early and not self._started:
            return
        run = functools.partial(jq_ahead, specs, jail, where, backend, listings)
        self._send(lambda: run(engine=self._engine))

    def _send(self, task: Callable[[], None]) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recount-jq")
            self._sent.append(self._pool.submit(task))

    def wait(self) -> None:
        """Until everything sent has run (what failed runs alone later)."""
        with self._lock:
            sent = list(self._sent)
        for each in sent:
            with contextlib.suppress(Exception):
                each.result()

    def close(self) -> None:
        """End the engine (its memory ends with it) and the thread; what is queued does not run."""
        with self._lock:
            pool, self._pool, self._sent = self._pool, None, []
            self._started = False  # a later branch's filters wait for the challenge's one program
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()


__all__ = ["JqEngine", "JqWork"]
