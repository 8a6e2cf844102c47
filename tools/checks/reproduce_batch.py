"""One recount's commands run ahead, together: what each prints, the same as run alone, for less work.

Run one by one, a recount started a Python child per script command, and each read the whole estate
again: on the 1,600-file estate of ``bench/`` that was 33 children and 40 s of the audit's 46 s. Here
the numbers challenger first gathers every command of every claim it will recount, then:

* every python command (the reader's scripts, ``python3 -c`` programs) runs in one child,
  ``reproduce_scripts/batch.py``: each as if started alone (its argv, stdin,
  environment, exit code and time limit), with the scripts' own memos shared, so the estate is read
  once;
* every jq filter runs in one jq program: each type's objects are parsed once, and each filter reads
  its own types and ``$code`` as its command does (``reproduce_run.together``). The two children run
  side by side, on two cores where there are two.

What each command printed is kept on the recount's ``Listings``; running it later takes that. A batch
that fails as a whole (a crash, the total time limit, output that is not its JSON) leaves nothing
kept: each command then runs alone, as before. The appendix shows each command by itself, and a reader
running it gets the same number (``tests/unit/test_reproduce_batch.py``).
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
import weakref
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.checks.listing import JsonList, written
from tools.checks.reproduce import SCRIPTS, ReproSpec, Where
from tools.checks.reproduce_run import (
    JQ_CHILD,
    PY_TIMEOUT_S,
    Job,
    Listings,
    _Output,
    _with_rg,
    code_job,
    each_alone,
    failure,
    python_job,
    run_job,
    together,
)
from tools.kube.backend import KubeBackend
from tools.piped import run_piped
from tools.sandbox import Jail

BATCH = SCRIPTS / "batch.py"
STUCK_GRACE_S = 10
"""A job's time limit is its own (``SIGALRM`` in the child); past it by this much, the child is stuck."""


def parts(specs: Iterable[ReproSpec]) -> Iterator[ReproSpec]:
    """Each command the recount runs for ``specs``: a ``sum:``'s parts, not the sum."""
    for spec in specs:
        if spec.sum is not None:
            yield from parts(spec.sum)
        else:
            yield spec


def python_jobs(
    specs: Iterable[ReproSpec], jail: Jail, where: Where, listings: Listings, cluster: bool
) -> list[Job]:
    """The python commands among ``specs`` (a script joining the cluster only with one), once each."""
    jobs: dict[Job, None] = {}
    for spec in parts(specs):
        if spec.rg is None and spec.jq is None and not (spec.resources and not cluster):
            jobs[python_job(spec, jail, where, listings)] = None
    return list(jobs)


def early(specs: Iterable[ReproSpec], where: Where, scripts: Scripts) -> None:
    """Start the python commands among ``specs`` in ``scripts``' child; ``prefetch`` reads them."""
    scripts.submit(python_jobs(specs, scripts.jail, where, scripts.listings, scripts.backend is not None))


def prefetch(specs: Iterable[ReproSpec], where: Where, scripts: Scripts) -> None:
    """Run ``specs``' python commands in ``scripts``' child (where some may run already) and their jq
    filters in another; keep what each printed on ``scripts.listings``. Nothing here fails the
    recount: what did not run ahead runs alone."""
    try:
        _prefetch(list(parts(specs)), scripts.jail, where, scripts.backend, scripts.listings, scripts)
    except Exception:  # a listing the cluster refused: each command reports it alone
        with contextlib.suppress(Exception):  # the child ends here, not with the run
            scripts.listings.outputs.update(scripts.collect())


def _prefetch(
    chosen: list[ReproSpec],
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings,
    scripts: Scripts,
) -> None:
    scripts.submit(python_jobs(chosen, jail, where, listings, backend is not None))
    if backend is not None:  # each type listed once, before the two children read them
        for spec in chosen:
            for name in spec.resources if spec.rg is None else ():
                listings.listing(backend, name)
    # the two children side by side: the scripts' reading of the estate, jq's of the cluster
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recount") as pool:
        jq = pool.submit(_jq_ahead, chosen, jail, where, backend, listings)
        listings.outputs.update(scripts.collect())
        jq.result()


class Scripts:
    """One child (``reproduce_scripts/batch.py``) running a run's python commands as they become known:
    ``submit`` sends them (from any thread; a writer thread feeds the child, so a caller never waits
    for it), ``collect`` ends its input and reads what each printed. A child that fails or runs out of
    time keeps what it printed before; the jobs it did not answer are left to run alone."""

    def __init__(self, jail: Jail, backend: KubeBackend | None, listings: Listings) -> None:
        self.jail, self.backend, self.listings = jail, backend, listings
        self._lock = threading.Lock()
        self._child: _Child | None = None

    def warm(self, skip: list[str]) -> None:
        """Start the child now and have it read the estate's objects (as a script given ``skip``
        reads them) while the research still runs: the memo most scripts share, filled before the
        first job asks. Once per child."""
        with self._lock:
            if self._child is None:
                self._child = _Child(self.jail)
            if not self._child.warmed:
                message = {"warm": {"root": str(self.jail.root), "skip": skip}}
                self._child.send(json.dumps(message).encode("utf-8", "surrogatepass") + b"\n")
                self._child.warmed = True

    def submit(self, jobs: list[Job]) -> None:
        with self._lock:
            new = [j for j in jobs if j not in self.listings.outputs]
            if self._child is not None:
                new = [j for j in new if j not in self._child.known]
            if not new:
                return
            if self._child is None:
                self._child = _Child(self.jail)
            for job in new:
                for name in job.listed or ():
                    if name not in self._child.listed and self.backend is not None:
                        listing = self.listings.listing(self.backend, name)
                        self._child.send(
                            json.dumps({"listing": name, "length": len(listing)}).encode() + b"\n", listing
                        )
                        self._child.listed.add(name)
                argv = {"argv": list(job.argv[1:]), "listed": job.listed, "env": dict(job.env)}
                self._child.send(json.dumps({"job": argv}).encode("utf-8", "surrogatepass") + b"\n")
                self._child.jobs.append(job)
                self._child.known.add(job)

    def close(self) -> None:
        """End the child without reading its answers (a round whose claims read none of them)."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            child.finish(0)

    def collect(self) -> dict[Job, _Output]:
        """What each job sent so far printed (the child then ends; a later ``submit`` starts another)."""
        with self._lock:
            child, self._child = self._child, None
        if child is None:
            return {}
        lines = child.finish(PY_TIMEOUT_S + STUCK_GRACE_S)
        found: dict[Job, _Output] = {}
        for job, line in zip(child.jobs, lines, strict=False):
            try:
                found[job] = _output(json.loads(line))
            except (ValueError, TypeError):
                break  # not its JSON: this and what follows run alone
        return found


class _Child:
    """The batch child and the two threads feeding and reading it."""

    def __init__(self, jail: Jail) -> None:
        self.jobs: list[Job] = []
        self.known: set[Job] = set()
        self.listed: set[str] = set()
        self.warmed = False
        self.proc = subprocess.Popen(  # an argv list, no shell; the scripts are ours, from the catalog
            [sys.executable, str(BATCH)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_with_rg(),
            cwd=jail.root,
        )
        self._queue: queue.SimpleQueue[bytes | JsonList | None] = queue.SimpleQueue()
        self._lines: list[bytes] = []
        self._queue.put(json.dumps({"timeout": PY_TIMEOUT_S}).encode() + b"\n")
        self._writer = threading.Thread(target=self._write, daemon=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._writer.start()
        self._reader.start()
        weakref.finalize(self, _kill, self.proc)

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
        self._lines.extend(self.proc.stdout)

    def finish(self, per_job: float) -> list[bytes]:
        """Its answers, once its input has ended and it has exited; killed where no job ends within
        ``per_job`` seconds (a job stuck where its own time limit cannot fire, in a C call that does not
        return): that job and those after it are left to run alone, each with its own limit."""
        self._queue.put(None)
        while True:
            answered = len(self._lines)
            try:
                self.proc.wait(timeout=per_job)
                break
            except subprocess.TimeoutExpired:
                if len(self._lines) == answered:
                    _kill(self.proc)
                    break
        self._reader.join()
        self._writer.join(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError, ValueError):
                    stream.close()
        return list(self._lines)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _output(printed: dict[str, object]) -> _Output:
    rc = printed.get("rc")
    if rc is None:
        return _Output("", None, timed_out=True)
    if rc != 0:
        return _Output("", failure(int(str(rc)), str(printed.get("err", ""))))
    return _Output(str(printed.get("out", "")).strip())


def _jq_ahead(
    specs: list[ReproSpec], jail: Jail, where: Where, backend: KubeBackend | None, listings: Listings
) -> None:
    """Every jq filter of the recount in one child: each type's objects parsed once, each set of types
    and ``$code`` given to its filters as their own command reads it (``together``). A program that
    fails as a whole (a filter that does not compile) leaves each command to run alone."""
    if backend is None:
        return
    groups: dict[tuple[tuple[str, ...], str | None], list[str]] = {}
    for spec in specs:
        if spec.jq is not None and spec.jq not in groups.setdefault((spec.resources, spec.code), []):
            groups[(spec.resources, spec.code)].append(spec.jq)
    if not groups:
        return
    types = list(dict.fromkeys(name for resources, _ in groups for name in resources))
    codes = list(dict.fromkeys(code for _, code in groups if code is not None))
    args: dict[str, Any] = {k: v for k, v in (("now", where.now), ("server", where.server)) if v}
    for program_of_code in codes:
        job = code_job(program_of_code, jail)
        try:
            listings.outputs[job] = facts = run_job(job, jail, backend, listings)
        except (subprocess.SubprocessError, OSError):
            return  # each command says so alone
        if facts.error is not None:
            return  # each command says so alone
        args.setdefault("codes", []).append(json.loads(facts.text))
    parts_of = []
    for (resources, with_code), filters in groups.items():
        slurped = "[" + ", ".join(f"{{items: $all[{types.index(r)}]}}" for r in resources) + "]"
        bound = f"$codes[{codes.index(with_code)}] as $code | " if with_code is not None else ""
        parts_of.append(f"({bound}{slurped} | {together(filters)})")
    program = ". as $all | [" + ", ".join(parts_of) + "]"
    pieces: list[bytes | JsonList] = [json.dumps(args).encode("utf-8", "surrogatepass") + b"\n", b"["]
    for n, name in enumerate(types):
        pieces += [b"," if n else b"", listings.listing(backend, name)]
    try:
        done = run_piped(
            [sys.executable, "-P", "-c", JQ_CHILD, program],
            written([*pieces, b"]"]),
            PY_TIMEOUT_S * sum(len(f) for f in groups.values()),
            env=_with_rg(),
        )
        out = json.loads(done.stdout) if done.returncode == 0 else None
    except (subprocess.SubprocessError, OSError, ValueError):
        out = None
    if not isinstance(out, list) or len(out) != len(groups):
        return
    for (key, filters), printed in zip(groups.items(), out, strict=True):
        for jq, p in zip(filters, each_alone(printed), strict=True):
            listings.jq[(*key, jq)] = p


__all__ = ["parts", "prefetch"]
