"""Run a check's standard-tool commands (``reproduce.py``) without a shell, as the numbers challenger does.

Nothing here parses the estate the way the checks do: ripgrep runs from the pinned wheel with an
argv list at the estate root (the same jail and flags as the repo tools), its output is reduced the
way ``wc -l``, ``awk`` and ``sort -u`` would; a jq filter runs through the ``jq`` library (no jq
binary is assumed), in a child process (``JQ_CHILD``), over the objects the cluster backend lists,
which for a snapshot are its files; ``python3 -c`` and a ``reproduce_scripts/`` file run as a child
process with an argv list. A failure is data: the value is None and ``error`` says why, never with
the estate's text (a traceback or a jq error quotes the value it choked on).

The objects of a type go to jq as JSON text, written once per type for all the commands of a
recount (``Listings``): at 10k pods, writing them, reading them back and writing them again for
``input_value`` took 3x the time of jq's own reading, for each of the 9 commands over pods.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.checks.listing import JsonList, listing_of, written
from tools.checks.reproduce import (
    MAIN,
    SCRIPTS,
    ReproSpec,
    Where,
    merge_filter,
    renders_helm,
    rg_argv,
    script_args,
)
from tools.kube.backend import KubeBackend
from tools.piped import run_piped
from tools.ripgrep import rg_binary, run_rg
from tools.sandbox import Jail

PY_TIMEOUT_S = 60


class Listings:
    """The JSON text of each type's objects, as ``kubectl get TYPE -A -o json`` prints its items; each
    type is listed and written once, for every command of one recount that reads it (UTF-8 bytes)."""

    def __init__(self) -> None:
        self._texts: dict[str, bytes] = {}
        self._listed: dict[str, JsonList] = {}
        self._renders: str | None = None
        self.outputs: dict[Job, _Output] = {}
        """What each script command printed, run ahead in one child (``reproduce_batch.prefetch``)."""
        self.jq: dict[tuple[tuple[str, ...], str | None, str], Printed] = {}
        """What each jq filter printed over its types and ``$code``, run ahead with the filters of other
        checks over the same input (``reproduce_batch.prefetch``)."""

    def renders(self) -> str:
        """A directory for this recount's Helm renders (``REPRODUCE_HELM_CACHE``): every command over
        the same releases reads the first one's render, as helm would print it again. Removed with
        the listings (or at exit)."""
        if self._renders is None:
            self._renders = tempfile.mkdtemp(prefix="infra-audit-renders-")
            weakref.finalize(self, shutil.rmtree, self._renders, True)
        return self._renders

    def text(self, backend: KubeBackend, name: str) -> bytes:
        """The type's JSON text joined (for a command run alone); ``listing`` writes it in pieces."""
        found = self._texts.get(name)
        if found is None:
            self._texts[name] = found = self.listing(backend, name).joined()
        return found

    def listing(self, backend: KubeBackend, name: str) -> JsonList:
        """The type's objects as a JSON list, listed once per recount (``tools/checks/listing.py``)."""
        found = self._listed.get(name)
        if found is None:
            self._listed[name] = found = listing_of(backend, name)
        return found


@dataclass(frozen=True)
class Printed:
    """What one command printed: its number (None on failure) and why not."""

    value: float | None
    error: str | None = None


def run_spec(
    spec: ReproSpec,
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings | None = None,
) -> Printed:
    """The number one command prints; ``listings``: the types already written for this recount."""
    try:
        if spec.sum is not None:
            parts = [run_spec(part, jail, where, backend, listings) for part in spec.sum]
            failed = next((p for p in parts if p.value is None), None)
            return failed or Printed(sum(p.value or 0.0 for p in parts))
        if spec.rg is not None:
            return _rg(spec, jail, where)
        if spec.jq is not None:
            return _jq(spec, jail, where, backend, listings or Listings())
        if spec.script is not None and spec.resources:
            return _joined(spec, jail, where, backend, listings or Listings())
        return _python(spec, jail, where, listings or Listings())
    except Exception as exc:  # a failing command is a recount that did not happen, not a crash
        # the type only: a jq or parse error quotes the data it choked on, which may be a secret
        return Printed(None, f"{type(exc).__name__} (its message may quote the estate's data: not shown)")


def _rg(spec: ReproSpec, jail: Jail, where: Where) -> Printed:
    rg = rg_binary()
    if rg is None:
        return Printed(None, "ripgrep is not installed")
    chunks: list[bytes] = []
    code, _, timed_out = run_rg([rg, "--color=never", *rg_argv(spec, where)], jail.root, chunks.append)
    if code == 2 and not timed_out and not chunks and not _searched(rg, spec, jail, where):
        return Printed(0.0)  # no file matches the globs: rg exits 2, and `| wc -l` prints 0
    if timed_out:
        return Printed(None, "rg timed out")
    if code == 2:  # its message may name the estate's files or quote a pattern error: the code only
        return Printed(None, "rg exited 2 (an error)")
    lines = b"".join(chunks).splitlines()
    if spec.count == "matches":
        return Printed(float(sum(int(line.rsplit(b":", 1)[-1]) for line in lines if line)))
    if spec.count == "unique":
        return Printed(float(len(set(lines))))
    return Printed(float(len(lines)))


def _searched(rg: str, spec: ReproSpec, jail: Jail, where: Where) -> bool:
    """Whether the globs of an rg command select any file at all (``rg --files`` with its filters)."""
    # its file filters only: a counting mode (-l, --count-matches, -o, -r) is refused beside --files
    listing = spec.model_copy(update={"count": "lines", "replace": None})
    filters = rg_argv(listing, where)[:-2]  # without "--" and the pattern
    files: list[bytes] = []
    code, _, timed_out = run_rg([rg, "--files", *filters], jail.root, files.append)
    return timed_out or code != 1 or bool(files)


JQ_CHILD = """import json, sys
import jq
program, args = sys.argv[1], json.loads(sys.stdin.readline())
print(json.dumps(jq.compile(program, args=args).input_text(sys.stdin.read()).first()))
"""
"""What a jq command runs in: a child process of this interpreter with the library (no jq binary is
assumed). Its first line of input is the ``--arg``/``--argjson`` values as one JSON object (``$code``
may be larger than an argv string may be), the rest the slurped objects. jq holds what it reads
as its own values, about 8x the text (129 MiB for the 16 MiB of 5k pods) and gives it back to the
allocator, not to the system: in the audit's process that set the run's peak; a child's memory ends
with it."""


def _jq(
    spec: ReproSpec, jail: Jail, where: Where, backend: KubeBackend | None, listings: Listings
) -> Printed:
    ahead = listings.jq.get((spec.resources, spec.code, spec.jq or "."))
    return ahead or _jq_over(spec, [spec.jq or "."], jail, where, backend, listings)[0]


def _jq_over(
    spec: ReproSpec,
    filters: list[str],
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings,
) -> list[Printed]:
    """What each of ``filters`` prints over ``spec``'s types and ``$code``: one child, one read of
    the input (``together`` runs several filters in one program)."""
    if backend is None:
        return [Printed(None, "no cluster to read")] * len(filters)
    args: dict[str, Any] = {k: v for k, v in (("now", where.now), ("server", where.server)) if v}
    if spec.code is not None:
        facts = run_job(code_job(spec.code, jail), jail, backend, listings)
        if facts.error is not None:
            return [Printed(None, f"$code: {facts.error}")] * len(filters)
        args["code"] = json.loads(facts.text)
    # the slurped files, [{"items": [...]}, ...], as text: jq reads it once, nothing is decoded here;
    # written to the child piece by piece (``run_piped``), never joined in memory
    pieces: list[bytes | JsonList] = [json.dumps(args).encode("utf-8", "surrogatepass") + b"\n", b"["]
    for n, name in enumerate(spec.resources):
        pieces += [b',{"items":' if n else b'{"items":', listings.listing(backend, name), b"}"]
    program = merge_filter(filters[0]) if len(filters) == 1 else together(filters)
    done = run_piped(  # an argv list, no shell; the filters are ours, from the catalog
        [sys.executable, "-P", "-c", JQ_CHILD, program],  # -P: nothing imports from the estate
        written([*pieces, b"]"]),
        PY_TIMEOUT_S * len(filters),
        env=_with_rg(),
    )
    if done.returncode != 0 and len(filters) > 1:  # each filter's errors are caught: the program failed
        raise ChildFailed(done.returncode)
    if done.returncode != 0:
        return [Printed(None, failure(done.returncode, done.stderr.decode("utf-8", "replace")))]
    out = json.loads(done.stdout)
    if len(filters) == 1:
        return [_number(out)]
    return each_alone(out)


def each_alone(out: list[dict[str, Any]]) -> list[Printed]:
    """What each filter of a ``together`` program printed, as its own child would have."""
    # as the child of one filter fails: no output (``first()``), or a jq error
    alone = {"none": failure(1, "StopIteration"), "error": failure(1, "ValueError")}
    return [_number(o["value"]) if "value" in o else Printed(None, alone[next(iter(o))]) for o in out]


def together(filters: list[str]) -> str:
    """One jq program printing, as a list, what each filter prints first over the same input, so that
    jq reads (parses) the input once: ``{value: V}``, ``{none: true}`` where a filter prints nothing,
    ``{error: true}`` where it fails (each alone, a child of its own would have exited 1). The
    filters, not the program, are the commands the appendix shows."""
    each = (
        "(try ([limit(1; ({}))] | if length == 0 then {{none: true}} else {{value: .[0]}} end)"
        " catch {{error: true}})"
    )
    return merge_filter("[" + ", ".join(each.format(f) for f in filters) + "]")


def _shared(
    specs: dict[str, ReproSpec],
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings,
) -> dict[str, Printed]:
    """The numbers of the jq commands of one check that read the same types with the same ``$code``
    (a count and its measures), each group in one child: the pods' JSON parsed once, not once per
    number. A group whose child fails as a whole is left to run command by command (not in here)."""
    groups: dict[tuple[tuple[str, ...], str | None], list[str]] = {}
    for key, spec in specs.items():
        if spec.jq is not None:
            groups.setdefault((spec.resources, spec.code), []).append(key)
    found: dict[str, Printed] = {}
    for keys in groups.values():
        ahead = all((specs[k].resources, specs[k].code, specs[k].jq) in listings.jq for k in keys)
        if len(keys) < 2 or ahead:
            continue
        try:
            printed = _jq_over(
                specs[keys[0]], [specs[k].jq or "." for k in keys], jail, where, backend, listings
            )
        except Exception:  # the child failed as a whole (a timeout, a filter that does not compile)
            continue  # each command on its own, as if never grouped
        found.update(zip(keys, printed, strict=True))
    return found


class ChildFailed(Exception):
    """A jq child running several filters together exited non-zero: not any one filter's failure."""


@dataclass(frozen=True)
class _Output:
    text: str
    error: str | None = None
    timed_out: bool = False


@dataclass(frozen=True)
class Job:
    """One python command as a child runs it: its argv, the cluster types on its standard input (a
    script joining the code with the cluster), what its environment adds (a rendering twin's Helm)."""

    argv: tuple[str, ...]
    listed: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()


def python_job(spec: ReproSpec, jail: Jail, where: Where, listings: Listings) -> Job:
    """A ``python:`` command, or a script's (a rendering twin with infra-audit's Helm on its PATH)."""
    if spec.script is not None and spec.resources:
        argv = [sys.executable, str(SCRIPTS / spec.script), str(jail.root)]
        return Job((*argv, *script_args(spec, where, ["-"])), spec.resources)
    if spec.script is not None:
        argv = [sys.executable, str(SCRIPTS / spec.script), str(jail.root), *script_args(spec, where)]
    else:  # -P: a module at the estate's root (yaml.py) is not imported in its place
        argv = [sys.executable, "-P", "-c", spec.python or "", str(jail.root)]
    env = helm_env(where, listings.renders()) if renders_helm(spec) else {}
    return Job(tuple(argv), None, tuple(sorted(env.items())))


def code_job(code: str, jail: Jail) -> Job:
    """The ``$code`` a jq command reads: a ``python3 -c`` over the estate, printing JSON."""
    return Job((sys.executable, "-P", "-c", code, str(jail.root)))


def run_job(job: Job, jail: Jail, backend: KubeBackend | None, listings: Listings) -> _Output:
    """What the job printed: as run ahead with the recount's other commands, else in a child of its own."""
    ahead = listings.outputs.get(job)
    if ahead is not None and ahead.timed_out:
        raise subprocess.TimeoutExpired(list(job.argv), PY_TIMEOUT_S)
    if ahead is not None:
        return ahead
    stdin = None
    if job.listed is not None:
        assert backend is not None
        texts = [listings.text(backend, name).strip() for name in job.listed]
        items = b",".join(t[1:-1] for t in texts if t not in (b"", b"[]"))
        stdin = b'{"kind":"List","items":[' + items + b"]}"
    return _child(list(job.argv), jail, stdin, dict(job.env) or None)


def _child(
    argv: list[str], jail: Jail, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> _Output:
    """A python child at the estate root: what it printed, or why it failed (exit code and type);
    ``stdin``: what it reads as ``--live -`` (else nothing); ``env``: added to its PATH (a rendering
    twin's Helm seam), nothing else of the run's environment."""
    done = subprocess.run(  # an argv list, no shell; the code is ours, from the catalog
        argv,
        cwd=jail.root,
        capture_output=True,
        timeout=PY_TIMEOUT_S,
        input=stdin if stdin is not None else b"",
        env={**_with_rg(), **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        return _Output("", failure(done.returncode, done.stderr.decode("utf-8", "replace")))
    return _Output(done.stdout.decode("utf-8", "replace").strip())


def _with_rg() -> dict[str, str]:
    """The child's environment: a PATH only, the pinned wheel's rg first (a script that searches with
    ``rg``, as a reader's shell finds it), then the system's default; nothing of ours (the run's
    environment, its keys) reaches a command."""
    rg = rg_binary()
    return {"PATH": os.pathsep.join([*([os.path.dirname(rg)] if rg else []), os.defpath])}


def _python(spec: ReproSpec, jail: Jail, where: Where, listings: Listings) -> Printed:
    out = run_job(python_job(spec, jail, where, listings), jail, None, listings)
    return Printed(None, out.error) if out.error is not None else _number(out.text)


SOURCE_ROOT = Path(__file__).resolve().parents[2]
HELM_SEAM = (
    "renders: the script runs `helm template` for each release it finds (with Helm on your PATH); "
    "at audit time that was infra-audit's Helm engine (helm-python-sdk, Helm's Go SDK: "
    "tools/helm/template_cli.py), offline, charts from the run's chart cache; --not-rendered: releases "
    "whose chart was not in the cache, in none of the audit's numbers"
)
"""What renders a rendering twin's ``helm template`` in the recount: the appendix says so."""


def helm_env(where: Where, renders: str) -> dict[str, str]:
    """The whole environment of a rendering twin in the sandbox: its ``helm`` is infra-audit's Helm
    engine (``tools/helm/template_cli.py``, the chart cache only, no network; there is no helm binary).
    Nothing of the audit's own environment is passed on."""
    helm = [sys.executable, "-m", "tools.helm.template_cli"]
    if where.charts is not None:
        helm += ["--chart-cache", where.charts]
    return {
        "REPRODUCE_HELM": shlex.join(helm),
        "REPRODUCE_HELM_CACHE": renders,
        "PYTHONPATH": str(SOURCE_ROOT),
    }


def _joined(
    spec: ReproSpec, jail: Jail, where: Where, backend: KubeBackend | None, listings: Listings
) -> Printed:
    """A script joining the code with the cluster: the types' objects on its stdin, as one List (what
    ``kubectl get TYPES -A -o json`` prints), read with ``--live -``."""
    if backend is None:
        return Printed(None, "no cluster to read")
    out = run_job(python_job(spec, jail, where, listings), jail, backend, listings)
    return Printed(None, out.error) if out.error is not None else _number(out.text)


def failure(code: int, stderr: str) -> str:
    """Why a python command failed: its exit code and the exception's type only. A traceback quotes
    the values it choked on (``int('<a password>')`` of a ``!!int`` tag), which redaction cannot
    know to hide; no text of the estate may reach the report this way."""
    last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
    kind = last.split(":", 1)[0].strip()
    named = kind if _EXCEPTION.fullmatch(kind) else "an error"
    return f"the command exited {code} ({named})"


_EXCEPTION = re.compile(
    r"(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Iteration|Warning)"
)
"""An exception's (dotted) type name: anything else on the last line (a script's own message naming a
file, a multi-line message) is not shown."""


def _number(out: object) -> Printed:
    """The number a command printed, or why not: the output's shape only, never its text (a command
    that goes wrong may print what it read, a password included, and the error reaches the report)."""
    if isinstance(out, bool) or not isinstance(out, int | float | str):
        return Printed(
            None, f"the command exited 0 and printed {_JSON_SHAPE.get(type(out), 'a value')}, not a number"
        )
    try:
        return Printed(float(str(out).strip()))
    except ValueError:
        return Printed(None, f"the command exited 0 and printed {_shape(str(out))}, not a number")


_JSON_SHAPE = {bool: "true or false", type(None): "null", list: "a list", dict: "an object"}
"""What a jq filter printed instead of a number, by its JSON type."""


def _shape(text: str) -> str:
    """The shape of a command's output: its lines and characters, no word of it."""
    lines = text.strip().splitlines()
    if not lines:
        return "nothing"
    chars = sum(len(line) for line in lines)
    return f"{len(lines)} line{'s' if len(lines) != 1 else ''} ({chars} characters)"


def run_all(
    specs: dict[str, ReproSpec],
    jail: Jail,
    where: Where,
    backend: KubeBackend | None,
    listings: Listings | None = None,
) -> dict[str, Printed]:
    """Every command of one check, by key (``count`` or a measure name)."""
    listings = listings or Listings()
    shared = _shared(specs, jail, where, backend, listings)
    return {
        key: shared[key] if key in shared else run_spec(spec, jail, where, backend, listings)
        for key, spec in specs.items()
    }


__all__ = ["MAIN", "Listings", "Printed", "run_all", "run_spec"]
