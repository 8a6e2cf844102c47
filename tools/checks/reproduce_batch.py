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
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from tools.checks.fed_child import FedChild, kill
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

if TYPE_CHECKING:
    from tools.checks.reproduce_jq import JqEngine

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


def prefetch(
    specs: Iterable[ReproSpec],
    where: Where,
    scripts: Scripts,
    jq: Callable[[list[ReproSpec]], None] | None = None,
) -> None:
    """Run ``specs``' python commands in ``scripts``' child (where some may run already) and their jq
    filters in another (by ``jq`` where given: the run's engine); keep what each printed on
    ``scripts.listings``. Nothing here fails the recount: what did not run ahead runs alone."""
    try:
        chosen = list(parts(specs))
        _prefetch(chosen, scripts.jail, where, scripts.backend, scripts.listings, scripts, jq)
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
    jq: Callable[[list[ReproSpec]], None] | None,
) -> None:
    scripts.submit(python_jobs(chosen, jail, where, listings, backend is not None))
    if backend is not None:  # each type listed once, before the two children read them
        for spec in chosen:
            for name in spec.resources if spec.rg is None else ():
                listings.listing(backend, name)
    # the two children side by side: the scripts' reading of the estate, jq's of the cluster
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recount") as pool:
        if jq is None:
            filters = pool.submit(jq_ahead, chosen, jail, where, backend, listings)
        else:
            filters = pool.submit(jq, chosen)
        listings.outputs.update(scripts.collect())
        filters.result()


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
        first job asks. Once per child and ``skip``: a run warms it as its inventory starts, with
        only the snapshots skipped, and again once the inventory knows what else its commands skip
        (every text read then is read already; the child keeps the last warm's objects only)."""
        with self._lock:
            if self._child is None:
                self._child = _Child(self.jail)
            if tuple(skip) not in self._child.warmed:
                message = {"warm": {"root": str(self.jail.root), "skip": skip}}
                self._child.send(json.dumps(message).encode("utf-8", "surrogatepass") + b"\n")
                self._child.warmed.add(tuple(skip))

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


class _Child(FedChild):
    """The batch child, what was sent to it, and the threads feeding and reading it."""

    def __init__(self, jail: Jail) -> None:
        super().__init__([sys.executable, str(BATCH)], _with_rg(), jail.root)
        self.jobs: list[Job] = []
        self.known: set[Job] = set()
        self.listed: set[str] = set()
        self.warmed: set[tuple[str, ...]] = set()
        self.send(json.dumps({"timeout": PY_TIMEOUT_S}).encode() + b"\n")

    def finish(self, per_job: float) -> list[bytes]:
        """Its answers, once its input has ended and it has exited; killed where no job ends within
        ``per_job`` seconds (a job stuck where its own time limit cannot fire, in a C call that does not
        return): that job and those after it are left to run alone, each with its own limit."""
        self.end_input()
        while True:
            answered = len(self.lines)
            try:
                self.proc.wait(timeout=per_job)
                break
            except subprocess.TimeoutExpired:
                if len(self.lines) == answered:
                    kill(self.proc)
                    break
        self.reap()
        return list(self.lines)


def _output(printed: dict[str, object]) -> _Output:
    rc = printed.get("rc")
    if rc is None:
        return _Output("", None, timed_out=True)
    if rc != 0:
        return _Output("", failure(int(str(rc)), str(printed.get("err", ""))))
    return _Output(str(printed.get("out", "")).strip())


def jq_ahead(
    specs: Iterable[ReproSpec],
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings,
    engine: JqEngine | None = None,
) -> None:
    """Every jq filter of ``specs`` not run yet, in one program: each type's objects parsed once,
    each set of types and ``$code`` given to its filters as their own command reads it
    (``together``); run by ``engine`` (the listings parsed already) where it can, else in a child of
    its own. A program that fails as a whole (a filter that does not compile) leaves each command to
    run alone."""
    if backend is None:
        return
    groups: dict[tuple[tuple[str, ...], str | None], list[str]] = {}
    for spec in parts(specs):
        if spec.jq is None or (spec.resources, spec.code, spec.jq) in listings.jq:
            continue
        if spec.jq not in groups.setdefault((spec.resources, spec.code), []):
            groups[(spec.resources, spec.code)].append(spec.jq)
    groups = {key: filters for key, filters in groups.items() if filters}
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
    timeout = PY_TIMEOUT_S * sum(len(f) for f in groups.values())
    out = engine.run(program, types, args, timeout) if engine is not None else None
    if out is None:
        out = _jq_alone(program, types, args, timeout, backend, listings)
    if not isinstance(out, list) or len(out) != len(groups):
        return
    for (key, filters), printed in zip(groups.items(), out, strict=True):
        for jq, p in zip(filters, each_alone(printed), strict=True):
            listings.jq[(*key, jq)] = p


def _jq_alone(
    program: str,
    types: list[str],
    args: dict[str, Any],
    timeout: float,
    backend: KubeBackend,
    listings: Listings,
) -> Any:
    """What ``program`` printed first over ``types``' listings, in a child of its own that reads them;
    None where it failed."""
    pieces: list[bytes | JsonList] = [json.dumps(args).encode("utf-8", "surrogatepass") + b"\n", b"["]
    for n, name in enumerate(types):
        pieces += [b"," if n else b"", listings.listing(backend, name)]
    try:
        done = run_piped(
            [sys.executable, "-P", "-c", JQ_CHILD, program], written([*pieces, b"]"]), timeout, env=_with_rg()
        )
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (subprocess.SubprocessError, OSError, ValueError):
        return None


__all__ = ["jq_ahead", "parts", "prefetch"]
