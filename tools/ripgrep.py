"""Running ripgrep for the repo tools: finding the binary, building its flags, streaming its output.

Separate from :mod:`tools.repo`, which holds the tool functions a model calls and shapes their
results: this module knows only how to run ``rg`` safely (an argv list, no shell, stdin closed, a
timeout, ``--no-config``) and how to read what it prints, including its errors.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.sandbox import Jail

RG_TIMEOUT_S = 20.0
_STDERR_CAP = 8192


def rg_binary() -> str | None:
    """The rg shipped in this environment's bin/ (the ripgrep wheel) first, then the PATH."""
    bundled = Path(sys.prefix) / "bin" / "rg"
    if bundled.is_file() and os.access(bundled, os.X_OK):
        return str(bundled)
    return shutil.which("rg")


RG_MISSING = "ripgrep (rg) is not installed: install the 'ripgrep' package (pip install 'ripgrep==14.1.0')"


def _size_flag(cap: int) -> str:
    mib = 1024 * 1024
    return f"{cap // mib}M" if cap % mib == 0 else str(cap)


def run_rg(argv: list[str], cwd: Path, on_line: Callable[[bytes], None]) -> tuple[int, str, bool]:
    """Run rg, streaming stdout lines to ``on_line``; returns (exit code, stderr, timed out)."""
    proc = subprocess.Popen(  # an argv list, no shell; user text only ever comes after "--"
        argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, shell=False
    )
    assert proc.stdout is not None and proc.stderr is not None
    err = proc.stderr
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(err.read()), daemon=True)
    reader.start()
    timer = threading.Timer(RG_TIMEOUT_S, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            on_line(line)
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:  # on_line raised: do not leave rg running
            proc.kill()
            proc.wait()
        proc.stdout.close()
        reader.join(timeout=5)
        err.close()
    stderr = b"".join(chunks)[:_STDERR_CAP].decode("utf-8", "replace").strip()
    return proc.returncode, stderr, proc.returncode < 0


def rg_flags(
    jail: Jail, fixed: bool, ignore_case: bool, glob: str | None, path: str = "."
) -> tuple[list[str], list[str]]:
    """(argv flags, display flags) shared by search and count.

    The user's glob comes before ``!.git``: in rg a later glob wins, so no glob can bring .git back.
    Cluster snapshots inside the estate are skipped unless the search is aimed inside one.
    """
    argv = ["--no-config", "--hidden", *([f"--glob={glob}"] if glob else []), "--glob=!.git"]
    shown = ["--hidden", *(["-g", shlex.quote(glob)] if glob else []), "-g", "'!.git'"]
    where = path.strip("/").removeprefix("./")
    for snap in jail.snapshot_dirs:
        if where == snap or where.startswith(snap + "/"):
            continue
        argv.append(f"--glob=!{snap}/**")
        shown += ["-g", shlex.quote(f"!{snap}/**")]
    argv.append(f"--max-filesize={_size_flag(jail.file_cap)}")
    shown += ["--max-filesize", _size_flag(jail.file_cap)]
    for on, flag in ((fixed, "-F"), (ignore_case, "-i")):
        if on:
            argv.append(flag)
            shown.append(flag)
    return argv, shown


def rg_error(pattern: str, rel: str, stderr: str, timed_out: bool) -> str:
    if timed_out:
        limit = f"{RG_TIMEOUT_S:.0f} s"
        return f"search for {pattern!r} in {rel!r} timed out after {limit}; narrow it with path= or glob="
    message = " ".join(stderr.replace("rg: ", "").split()) or "rg failed without a message"
    hint = ""
    if "regex parse error" in stderr or "error parsing" in stderr:
        hint = (" Check the regex syntax (Rust regex: no look-around, no backreferences), or pass fixed=True"
                " to search for the literal text.")
    return f"rg could not search for {pattern!r} in {rel!r}: {message}.{hint}"


def decode_field(field: dict[str, Any]) -> str:
    if "text" in field:
        return str(field["text"])
    return os.fsdecode(base64.b64decode(field.get("bytes", "")))
