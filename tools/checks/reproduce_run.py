"""Run a check's standard-tool commands (``reproduce.py``) without a shell, as the numbers challenger does.

Nothing here parses the estate the way the checks do: ripgrep runs from the pinned wheel with an
argv list at the estate root (the same jail and flags as the repo tools), its output is reduced the
way ``wc -l``, ``awk`` and ``sort -u`` would; a jq filter runs through the ``jq`` library (no jq
binary is assumed) over the objects the cluster backend lists, which for a snapshot are its files;
``python3 -c`` and a ``reproduce_scripts/`` file run as a child process with an argv list. A failure is
data: the value is None and ``error`` says why.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from tools.checks.reproduce import MAIN, SCRIPTS, ReproSpec, Where, merge_filter, rg_argv, script_args
from tools.kube.backend import KubeBackend
from tools.redact import redact_text
from tools.ripgrep import rg_binary, run_rg
from tools.sandbox import Jail

PY_TIMEOUT_S = 60


@dataclass(frozen=True)
class Printed:
    """What one command printed: its number (None on failure) and why not."""

    value: float | None
    error: str | None = None


def run_spec(spec: ReproSpec, jail: Jail, where: Where, backend: KubeBackend | None) -> Printed:
    try:
        if spec.sum is not None:
            parts = [run_spec(part, jail, where, backend) for part in spec.sum]
            failed = next((p for p in parts if p.value is None), None)
            return failed or Printed(sum(p.value or 0.0 for p in parts))
        if spec.rg is not None:
            return _rg(spec, jail, where)
        if spec.jq is not None:
            return _jq(spec, where, backend)
        return _python(spec, jail, where)
    except Exception as exc:  # a failing command is a recount that did not happen, not a crash
        # the type only: a jq or parse error quotes the data it choked on, which may be a secret
        return Printed(None, f"{type(exc).__name__} (its message may quote the estate's data: not shown)")


def _rg(spec: ReproSpec, jail: Jail, where: Where) -> Printed:
    rg = rg_binary()
    if rg is None:
        return Printed(None, "ripgrep is not installed")
    chunks: list[bytes] = []
    code, stderr, timed_out = run_rg([rg, "--color=never", *rg_argv(spec, where)], jail.root, chunks.append)
    if timed_out or code == 2:
        return Printed(None, redact_text(stderr or "rg timed out"))
    lines = b"".join(chunks).splitlines()
    if spec.count == "matches":
        return Printed(float(sum(int(line.rsplit(b":", 1)[-1]) for line in lines if line)))
    if spec.count == "unique":
        return Printed(float(len(set(lines))))
    return Printed(float(len(lines)))


def _jq(spec: ReproSpec, where: Where, backend: KubeBackend | None) -> Printed:
    import jq  # the library of jq's semantics; imported only when a recount needs it

    if backend is None:
        return Printed(None, "no cluster to read")
    known = {r.qualified: r for r in backend.api_resources()}
    slurped: list[dict[str, Any]] = []
    for name in spec.resources:
        rtype = known.get(name)
        # a type the cluster does not serve lists nothing, as kubectl would fail or print none
        items = backend.list_objects(rtype) if rtype is not None else []
        slurped.append({"items": json.loads(json.dumps(items, default=str))})
    args = {"now": where.now} if where.now else {}
    out = jq.compile(merge_filter(spec.jq or "."), args=args).input_value(slurped).first()
    return _number(out)


def _python(spec: ReproSpec, jail: Jail, where: Where) -> Printed:
    if spec.script is not None:
        argv = [sys.executable, str(SCRIPTS / spec.script), str(jail.root), *script_args(spec, where)]
    else:
        argv = [sys.executable, "-c", spec.python or "", str(jail.root)]
    done = subprocess.run(  # an argv list, no shell; the code is ours, from the catalog
        argv, cwd=jail.root, capture_output=True, timeout=PY_TIMEOUT_S, stdin=subprocess.DEVNULL, check=False
    )
    if done.returncode != 0:
        return Printed(None, failure(done.returncode, done.stderr.decode("utf-8", "replace")))
    return _number(done.stdout.decode("utf-8", "replace").strip())


def failure(code: int, stderr: str) -> str:
    """Why a python command failed: its exit code and the exception's type only. A traceback quotes
    the values it choked on (``int('<a password>')`` of a ``!!int`` tag), which redaction cannot
    know to hide; no text of the estate may reach the report this way."""
    last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "")
    kind = last.split(":", 1)[0].strip()
    named = kind if kind.isidentifier() or kind.replace(".", "").isidentifier() else "an error"
    return f"the command exited {code} ({named})"


def _number(out: object) -> Printed:
    try:
        return Printed(float(str(out).strip()))
    except ValueError:
        return Printed(None, f"the command printed {str(out)[:80]!r}, not a number")


def run_all(
    specs: dict[str, ReproSpec], jail: Jail, where: Where, backend: KubeBackend | None
) -> dict[str, Printed]:
    """Every command of one check, by key (``count`` or a measure name)."""
    return {key: run_spec(spec, jail, where, backend) for key, spec in specs.items()}


__all__ = ["MAIN", "Printed", "run_all", "run_spec"]
