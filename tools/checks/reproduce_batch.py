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

import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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


def parts(specs: Iterable[ReproSpec]) -> Iterator[ReproSpec]:
    """Each command the recount runs for ``specs``: a ``sum:``'s parts, not the sum."""
    for spec in specs:
        if spec.sum is not None:
            yield from parts(spec.sum)
        else:
            yield spec


def prefetch(
    specs: Iterable[ReproSpec],
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings,
) -> None:
    """Run ``specs``' python commands in one child and their jq filters in another; keep what each
    printed on ``listings``. Nothing here fails the recount: what did not run ahead runs alone."""
    try:
        _prefetch(specs, jail, where, backend, listings)
    except Exception:  # a listing the cluster refused: each command reports it alone
        return


def _prefetch(
    specs: Iterable[ReproSpec],
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings,
) -> None:
    chosen = list(parts(specs))
    jobs: dict[Job, None] = {}
    for spec in chosen:
        if spec.rg is None and spec.jq is None and not (spec.resources and backend is None):
            jobs[python_job(spec, jail, where, listings)] = None
    if backend is not None:  # each type listed once, before the two children read them
        for spec in chosen:
            for name in spec.resources if spec.rg is None else ():
                listings.text(backend, name)
    # the two children side by side: the scripts' reading of the estate, jq's of the cluster
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="recount") as pool:
        scripts = pool.submit(_batch, list(jobs), jail, backend, listings)
        pool.submit(_jq_ahead, chosen, jail, where, backend, listings).result()
        listings.outputs.update(scripts.result())


def _batch(
    jobs: list[Job], jail: Jail, backend: KubeBackend | None, listings: Listings
) -> dict[Job, _Output]:
    """What each job printed, run in one child; nothing where the child failed as a whole."""
    if not jobs:
        return {}
    names = list(dict.fromkeys(n for job in jobs for n in job.listed or ()))
    texts = [listings.text(backend, n) for n in names] if backend is not None else []
    header = {
        "timeout": PY_TIMEOUT_S,
        "listings": [[n, len(t)] for n, t in zip(names, texts, strict=True)],
        "jobs": [{"argv": list(job.argv[1:]), "listed": job.listed, "env": dict(job.env)} for job in jobs],
    }
    head = json.dumps(header).encode("utf-8", "surrogatepass") + b"\n"
    try:
        done = run_piped(
            [sys.executable, str(BATCH)],
            [head, *texts],
            PY_TIMEOUT_S * len(jobs) + 10,
            env=_with_rg(),
            cwd=jail.root,
        )
        printed = json.loads(done.stdout) if done.returncode == 0 else None
    except (subprocess.SubprocessError, OSError, ValueError):
        printed = None
    if not isinstance(printed, list) or len(printed) != len(jobs):
        return {}
    return {job: _output(p) for job, p in zip(jobs, printed, strict=True)}


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
    pieces = [json.dumps(args).encode("utf-8", "surrogatepass") + b"\n", b"["]
    for n, name in enumerate(types):
        pieces += [b"," if n else b"", listings.text(backend, name)]
    try:
        done = run_piped(
            [sys.executable, "-P", "-c", JQ_CHILD, program],
            [*pieces, b"]"],
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
