"""Run many of these scripts' commands in one interpreter, each as if started alone, and print what each
printed: how the numbers challenger runs one recount's commands (infra-audit's side:
``tools/checks/reproduce_batch.py``). Not a command of the appendix: a reader runs each command there
by itself, and prints the same (``tests/unit/test_reproduce_batch.py`` holds the two to that).

Why: each command alone starts a Python and reads the whole estate again (1,600 files: 0.7-1.2 s each,
about 30 of them per audit). Here the scripts' own memos (``k8s_objects``: the walk, each YAML and HCL
text, the objects of an estate; ``joined_count``: its Terraform releases; ``secret_count``: each file's
credentials, for its four measures; ``Types``: each cluster type's JSON; ``run_script``: each script's
compiled code) are shared, so each is read once.

Each job runs as ``python3 SCRIPT ARGS`` (or ``python3 -c CODE ARGS``) would: ``__main__``, its
``sys.argv``, its standard input (a cluster listing, joined as the audit joins it for one command), its
environment, its exit code (``sys.exit``, an exception: 1 and the exception's last traceback line), and
a time limit of its own. What a job, and a program it starts, writes to descriptors 1 and 2 goes to two
files of its own in memory (as a child's pipes); nothing of it reaches this output but the job's result.

Input (standard input), one message per line of JSON, read as they come (the audit sends each command
as soon as it knows it, while its own checks still run): ``{"timeout": S}`` first; ``{"listing": NAME,
"length": N}`` followed by N bytes, a type's items as a JSON list; ``{"job": {"argv": [...], "listed":
[NAME, ...] | null, "env": {...}}}``; ``{"warm": {"root": ROOT, "skip": [...]}}``, sent while the
audit's research still runs: read the estate's objects (``k8s_objects.objects``) before any job asks
for them, with no output. Output: one line of JSON per job, in order, as soon as it is done:
``{"rc": N, "out": TEXT, "err": LAST_LINE}``, or ``{"rc": null}`` for a job that ran out of time. It
ends at the end of its input.

    python3 tools/checks/reproduce_scripts/batch.py < JOBS
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import signal
import sys
import tempfile
import traceback
import types
from pathlib import Path
from typing import Any


class OutOfTime(BaseException):
    """A job's time limit (a BaseException: a script's own ``except Exception`` cannot swallow it)."""


def listed(texts: list[bytes]) -> bytes:
    """One command's standard input: the types' items in one List, as ``kubectl get A,B -A -o json``."""
    stripped = [t.strip() for t in texts]
    items = b",".join(t[1:-1] for t in stripped if t not in (b"", b"[]"))
    return b'{"kind":"List","items":[' + items + b"]}"


class _Lazy(io.RawIOBase):
    """A job's standard input made when it is first read: most jobs take the parsed listing
    (``sys.stdin.parsed``) and never read the text, which at 10k pods is 35 MiB joined per job."""

    def __init__(self, make: Any) -> None:
        super().__init__()
        self._make = make
        self._data: io.BytesIO | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._data is None:
            self._data = io.BytesIO(self._make())
            self._make = None
        return self._data.readinto(buffer)


def _on_alarm(signum: int, frame: Any) -> None:
    raise OutOfTime


class Types:
    """The listings of the batch, by type: their bytes, and their items parsed once when first asked."""

    def __init__(self, texts: dict[str, bytes], freeze: bool = False) -> None:
        self.texts = texts
        self._items: dict[str, list[Any] | None] = {}
        self._freeze = freeze  # this process is the batch (not a test importing it): file them as old

    def items(self, name: str) -> list[Any] | None:
        """The type's items as ``json.loads`` reads its listing; None where it does not read (not
        UTF-8, not a list): the job then reads its standard input itself, as alone."""
        if name not in self._items:
            collecting = gc.isenabled()
            if self._freeze:
                gc.collect()  # what earlier jobs left in cycles, before the freeze would keep it for good
            gc.disable()  # millions of dicts at 10k pods: the collector would scan them again and again
            try:
                found = json.loads(self.texts[name].decode("utf-8")) if self.texts[name].strip() else []
            except ValueError:
                found = None
            finally:
                if self._freeze:
                    gc.freeze()  # they live as long as the batch: filed where no collection looks
                if collecting:
                    gc.enable()
            self._items[name] = found if isinstance(found, list) else None
        return self._items[name]

    def parsed(self, names: list[str]) -> dict[str, Any] | None:
        """What ``json.loads`` makes of the job's standard input (``listed``), from the parsed types: a
        new List and list of items each time, the items themselves shared (the scripts only read them)."""
        parts = [self.items(n) for n in names]
        if any(p is None for p in parts):
            return None
        return {"kind": "List", "items": [item for part in parts for item in part or ()]}


def run(
    argv: list[str],
    stdin: bytes | Any,
    env: dict[str, str],
    timeout: int,
    parsed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one job; ``stdin`` its bytes, or a function making them when the job first reads them."""
    while argv[0] == "-P":  # nothing is imported from the working directory here anyway
        argv = argv[1:]
    saved = (sys.argv, sys.stdin, sys.stdout, sys.stderr, dict(os.environ), list(sys.path))
    sys.argv = argv if argv[0] != "-c" else ["-c", *argv[2:]]
    # the import path as for the command alone: a script's own directory first; ``python3 -P -c``
    # nothing, so a one-liner cannot import these scripts (nor find those imported before it)
    hidden = {} if argv[0] != "-c" else _scripts_modules()
    sys.path[0:1] = [os.path.dirname(os.path.abspath(argv[0]))] if argv[0] != "-c" else []
    raw = io.BytesIO(stdin) if isinstance(stdin, bytes) else io.BufferedReader(_Lazy(stdin))
    sys.stdin = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape")
    sys.stdin.parsed = parsed  # type: ignore[attr-defined]  # joined_count.read_live takes it as its JSON
    os.environ.update(env)
    shared = sys.modules.get("k8s_objects")  # what it warned of, the command alone would warn of again
    if shared is not None:
        shared.WARNED.clear()
    # descriptors 1 and 2 are the job's own files, as a child's pipes: what a program it starts
    # writes there is its output too, in the order the two write it
    captured = [_capture(), _capture()]
    for fd, file in zip((1, 2), captured, strict=True):
        os.dup2(file.fileno(), fd)
    sys.stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    rc: int | None = 0
    signal.alarm(timeout)
    try:
        try:
            if argv[0] == "-c":
                # dont_inherit: this module's ``from __future__`` is not the program's
                exec(compile(argv[1], "<string>", "exec", dont_inherit=True), {"__name__": "__main__"})
            else:
                run_script(argv[0])
        except SystemExit as done:  # as the interpreter exits: None 0, an int itself, else 1
            code = done.code
            if code is not None and not isinstance(code, int):
                print(code, file=sys.stderr)
            rc = code % 256 if isinstance(code, int) else (0 if code is None else 1)
        except OutOfTime:
            rc = None
        except Exception as exc:
            traceback.print_exception(exc)
            rc = 1
    except OutOfTime:  # in the job's own handler of its failure
        rc = None
    finally:
        signal.alarm(0)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(_DEVNULL, 1)  # this process's own output is its results only
        os.dup2(_STDERR, 2)
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved[:4]
        os.environ.clear()
        os.environ.update(saved[4])
        sys.path[:] = saved[5]
        sys.modules.update(hidden)
    out, err = (_read(file) for file in captured)
    if rc is None:
        return {"rc": None}
    last = next((line for line in reversed(err.splitlines()) if line.strip()), "")
    return {"rc": rc, "out": out, "err": last if rc else ""}


def run_script(path: str) -> dict[str, Any]:
    """What ``runpy.run_path(path, run_name="__main__")`` does with a script file (a new ``__main__``
    module while it runs, its globals as ``runpy`` sets them), its code compiled once per path and
    text: most jobs run a script that an earlier job ran (``joined_count.py`` 18 times at the bench's
    10k pods), and compiling it again took 2-5 ms each time. Returns the script's globals."""
    with io.open_code(os.path.abspath(path)) as file:
        key = (path, file.read())
    if key not in _COMPILED:
        _COMPILED[key] = compile(key[1], path, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=path, __cached__=None, __package__="")
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        exec(_COMPILED[key], module.__dict__)
        return module.__dict__
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved
        else:
            del sys.modules["__main__"]


_COMPILED: dict[tuple[str, bytes], Any] = {}


def _scripts_modules() -> dict[str, Any]:
    """The modules of this directory imported so far, taken out of ``sys.modules`` (put back after)."""
    here = os.path.dirname(os.path.abspath(__file__))
    names = [
        name
        for name, module in sys.modules.items()
        if os.path.dirname(os.path.abspath(getattr(module, "__file__", None) or "/")) == here
        and name != "__main__"
    ]
    return {name: sys.modules.pop(name) for name in names}


def _capture() -> Any:
    """A file for a job's descriptor 1 or 2 (closed in ``_read``): in memory where Linux has
    ``memfd_create``, so what a failing job writes (a traceback may quote the estate) never touches a
    disk; else an unnamed temporary file."""
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("batch-job"), "w+b")
    return tempfile.TemporaryFile()


def _read(file: Any) -> str:
    file.seek(0)
    text = file.read().decode("utf-8", "replace")
    file.close()
    return str(text)


_DEVNULL = os.open(os.devnull, os.O_WRONLY)
_STDERR = os.dup(2)


def warm(root: str, skip: list[str], timeout: int) -> None:
    """What the first script reading the estate's objects would do, done before it asks: the objects
    memo of ``k8s_objects`` filled for ``root`` and ``skip`` (as a script's arguments give them).
    Nothing is printed; a failure, or the time limit, leaves the reading to the jobs. A later warm
    (the audit's inventory has found what its commands skip) lets the earlier one's list go."""
    signal.alarm(timeout)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            import k8s_objects  # this directory (sys.path[0]), as a script imports it

            k8s_objects.objects(Path(root), tuple(skip))
            for earlier in _WARMED:  # an earlier warm's objects: its texts stay read, its list goes
                k8s_objects._OBJECTS.pop(earlier, None)
            _WARMED[:] = [(root, tuple(skip))]
    except (Exception, OutOfTime):
        pass
    finally:
        signal.alarm(0)


_WARMED: list[tuple[str, tuple[str, ...]]] = []


def main() -> int:
    result = os.fdopen(os.dup(1), "w", encoding="utf-8")
    signal.signal(signal.SIGALRM, _on_alarm)
    sys.path[0] = os.path.dirname(os.path.abspath(__file__))  # as for a script here: its own directory
    types, timeout = Types({}, freeze=True), 60
    for line in iter(sys.stdin.buffer.readline, b""):
        message = json.loads(line)
        if "timeout" in message:
            timeout = int(message["timeout"])
        elif "listing" in message:
            types.texts[message["listing"]] = sys.stdin.buffer.read(int(message["length"]))
        elif "warm" in message:
            warm(str(message["warm"]["root"]), list(message["warm"]["skip"]), timeout)
        else:
            job = message["job"]
            names = job.get("listed")
            texts = [types.texts[n] for n in names] if names is not None else None
            stdin = (lambda t=texts: listed(t)) if texts is not None else b""
            parsed = types.parsed(names) if names is not None else None
            result.write(json.dumps(run(job["argv"], stdin, job.get("env") or {}, timeout, parsed)) + "\n")
            result.flush()
    result.close()
    return 0


if __name__ == "__main__":
    code = main()
    # everything is answered and written: the audit waits for this exit, and the interpreter's own
    # teardown (freeing every memo of the estate: about 0.1 s on the bench's 1,600-file estate) has
    # nothing left to do for anyone
    sys.stderr.flush()
    os._exit(code)
