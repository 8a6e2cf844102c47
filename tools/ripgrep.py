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

from tools import pathnames
from tools.sandbox import Jail
from tools.sizes import format_size

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
    Cluster snapshots inside the estate are skipped unless the search is aimed inside one; rg takes
    only UTF-8 globs, so one whose name is not UTF-8 is dropped from the results instead
    (``in_hidden_snapshot``).
    """
    argv = ["--no-config", "--hidden", *([f"--glob={glob}"] if glob else []), "--glob=!.git"]
    shown = ["--hidden", *(["-g", shlex.quote(glob)] if glob else []), "-g", "'!.git'"]
    for snap in _skipped_snapshots(jail, path):
        if _utf8(snap):
            argv.append(f"--glob=!{pathnames.glob_literal(snap)}/**")
            shown += ["-g", shlex.quote(f"!{pathnames.glob_literal(snap)}/**")]
    argv.append(f"--max-filesize={_size_flag(jail.file_cap)}")
    shown += ["--max-filesize", _size_flag(jail.file_cap)]
    for on, flag in ((fixed, "-F"), (ignore_case, "-i")):
        if on:
            argv.append(flag)
            shown.append(flag)
    return argv, shown


def _skipped_snapshots(jail: Jail, path: str) -> list[str]:
    where = path.strip("/").removeprefix("./")
    return [s for s in jail.snapshot_dirs if not (where == s or where.startswith(s + "/"))]


def _utf8(shown_path: str) -> bool:
    return not any(0xDC80 <= ord(c) <= 0xDCFF for c in pathnames.on_disk(shown_path))


def in_hidden_snapshot(jail: Jail, path: str) -> Callable[[str], bool] | None:
    """For a search under ``path``: whether a shown result path lies in a snapshot dir that no glob
    could exclude (its name is not UTF-8); None when there is none, the common case."""
    hidden = tuple(s + "/" for s in _skipped_snapshots(jail, path) if not _utf8(s))
    return (lambda shown_path: shown_path.startswith(hidden)) if hidden else None


def rg_error(pattern: str, rel: str, stderr: str, timed_out: bool) -> str:
    if timed_out:
        limit = f"{RG_TIMEOUT_S:.0f} s"
        return f"search for {pattern!r} in {rel!r} timed out after {limit}; narrow it with path= or glob="
    message = " ".join(stderr.replace("rg: ", "").split()) or "rg failed without a message"
    hint = ""
    if "regex parse error" in stderr or "error parsing" in stderr:
        hint = (
            " Check the regex syntax (Rust regex: no look-around, no backreferences), or pass fixed=True"
            " to search for the literal text."
        )
    return f"rg could not search for {pattern!r} in {rel!r}: {message}.{hint}"


def decode_path(field: dict[str, Any]) -> str:
    """A path of rg's JSON output (``text``, or ``bytes`` in base64 when not UTF-8), as shown text."""
    if "text" in field:
        return pathnames.shown(str(field["text"]))
    return pathnames.shown(base64.b64decode(field.get("bytes", "")))


def decode_text(field: dict[str, Any]) -> str:
    """A line of rg's JSON output; bytes that are not UTF-8 become U+FFFD, as the file reader does."""
    if "text" in field:
        return str(field["text"])
    return base64.b64decode(field.get("bytes", "")).decode("utf-8", "replace")


def _selection(flags: list[str]) -> list[str]:
    """The flags of a search that choose files (globs, hidden), without the size cap or pattern flags."""
    return [f for f in flags if not f.startswith("--max-filesize") and f not in ("-F", "-i")]


def over_cap(
    jail: Jail, rg: str, flags: list[str], rel: str, hidden: Callable[[str], bool] | None = None
) -> list[tuple[str, int]]:
    """Files a search with ``flags`` under ``rel`` skipped for being over the size cap: (path, bytes).

    ripgrep skips them without a word (``--max-filesize``). The jail knows every file over the cap;
    only when one lies under ``rel`` is rg asked, with the same flags and no cap, which of them it
    would have searched, so the answer follows the same globs and ignore files as the search.
    """
    inside = rel + "/"
    candidates = {p: n for p, n in jail.oversized if rel == "." or p == rel or p.startswith(inside)}
    if not candidates:
        return []
    out: list[bytes] = []
    argv = [rg, "--files", "--null", *_selection(flags), "--", pathnames.on_disk(rel)]
    code, _, timed_out = run_rg(argv, jail.root, out.append)
    listed = {pathnames.shown(raw).removeprefix("./") for raw in b"".join(out).split(b"\0") if raw}
    if timed_out or code not in (0, 1):
        listed = set(candidates)  # cannot tell which: name every candidate rather than none
    return sorted(
        (path, size)
        for path, size in candidates.items()
        if path in listed and not (hidden is not None and hidden(path))
    )


def over_cap_note(skipped: list[tuple[str, int]], cap: int, shown_max: int = 10) -> str:
    """One line naming the files a search did not read, and how to get at them."""
    if not skipped:
        return ""
    names = ", ".join(f"{path} ({format_size(size)})" for path, size in skipped[:shown_max])
    more = f" and {len(skipped) - shown_max} more" if len(skipped) > shown_max else ""
    files = "file" if len(skipped) == 1 else "files"
    return (
        f"[{len(skipped)} {files} over the {format_size(cap)} size cap not searched: {names}{more}; "
        "read one by line range with repo_read (start=, end=), or narrow the search with path= or glob=]"
    )
