"""Read-only repo tools over files: read a file or a line range, list a directory.

Built like the search tools of ``tools/repo.py`` (see its docstring): every path goes through the
jail, reads are redacted with the whole file as context, and each result says how to reproduce it.
"""

from __future__ import annotations

import os
import shlex
import stat
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from domain.errors import SandboxViolation
from domain.results import ToolResult, ToolStatus
from tools import pathnames
from tools.redact import redact_text
from tools.repo import (
    MAX_READ_LINE_CHARS,
    RANGE_READ_FACTOR,
    WALK_LIMIT,
    shell_path,
    tool_failure,
    tool_result,
)
from tools.sandbox import Jail, PathNotFound


def repo_read(
    jail: Jail,
    path: str,
    start: Annotated[int, Field(ge=1, description="First line, 1-based.")] = 1,
    end: Annotated[
        int | None, Field(ge=1, description="Last line, inclusive; null reads to the end.")
    ] = None,
    max_lines: Annotated[int, Field(ge=1, le=2000, description="Lines returned at most.")] = 400,
) -> ToolResult:
    """Read a text file of the estate, or a line range of it, with line numbers.

    path: relative to the estate root. start/end: 1-based, inclusive; end=None reads to the end.
    At most max_lines lines come back; a longer range is cut and says where to continue.
    Files over the size cap can still be read by line range (start and end). Binary files, devices,
    FIFOs and symlinks leaving the estate are refused. Secrets are redacted; line numbers stay true.
    """
    tool = "repo.read"
    args = {"path": path, "start": start, "end": end, "max_lines": max_lines}
    display = f"sed -n '{start},{end if end is not None else '$'}p' {shell_path(path)}"
    if start < 1 or (end is not None and end < start):
        problem = f"bad line range start={start} end={end}: lines are 1-based and end >= start"
        return tool_failure(tool, args, display, problem)
    try:
        rel = jail.rel(jail.resolve(path))
        limit = jail.file_cap * RANGE_READ_FACTOR if end is not None else None
        text = jail.read_text(path, size_limit=limit)
    except SandboxViolation as exc:
        return tool_failure(tool, args, display, str(exc))
    total = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    if total == 0:
        return tool_result(
            tool,
            args,
            f"cat {shell_path(rel)}",
            f"{rel} is empty",
            data={"path": rel, "start": 0, "end": 0, "total_lines": 0},
            status=ToolStatus.NO_DATA,
        )
    if start > total:
        return tool_failure(tool, args, display, f"{rel} has {total} lines; start={start} is past the end")
    stop = min(end if end is not None else total, total, start + max_lines - 1)
    truncated = stop < min(end if end is not None else total, total)
    lines = redact_text(text).split("\n")[start - 1 : stop]
    width = len(str(stop))
    out = []
    for number, line in enumerate(lines, start):
        line = line.rstrip("\r")
        cut = line if len(line) <= MAX_READ_LINE_CHARS else line[:MAX_READ_LINE_CHARS] + " …[line cut]"
        out.append(f"{number:>{width}}: {cut}")
    if truncated:
        out.append(
            f"[lines {start}-{stop} of {total} shown (max_lines={max_lines}); continue with start={stop + 1}]"
        )
    data = {"path": rel, "start": start, "end": stop, "total_lines": total}
    return tool_result(
        tool,
        args,
        f"sed -n '{start},{stop}p' {shell_path(rel)}",
        "\n".join(out),
        data=data,
        truncated=truncated,
    )


def _escapes(jail: Jail, rel: str) -> bool:
    """Whether the jail refuses to follow this link (out of the estate, a loop, a device); dangling is not."""
    try:
        jail.resolve(rel)
    except PathNotFound:
        return False
    except SandboxViolation:
        return True
    return False


def _walk(jail: Jail, top: Path, notes: list[str]) -> list[dict[str, Any]]:
    """Every non-directory entry under ``top``; symlinks are listed, never followed; .git is skipped."""
    entries: list[dict[str, Any]] = []
    start = jail.rel(top)
    skipped = {d for d in jail.snapshot_dirs if not (start == d or start.startswith(d + "/"))}
    stack = [top]
    while stack and len(entries) < WALK_LIMIT:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                named = [(c, jail.rel(c.path)) for c in it if c.name != ".git"]  # once per entry
        except OSError as exc:
            notes.append(f"[{jail.rel(current)}: not listed ({exc.strerror})]")
            continue
        for child, rel in named:
            if rel in skipped:
                continue
            try:
                st = child.stat(follow_symlinks=False)
                entry: dict[str, Any] = {"path": rel, "type": "special"}
                if stat.S_ISLNK(st.st_mode):
                    entry.update(type="link", target=pathnames.shown(os.readlink(child.path)))
                    entry["escapes"] = _escapes(jail, entry["path"])
            except OSError:
                continue  # vanished while listing
            if stat.S_ISDIR(st.st_mode):
                stack.append(Path(child.path))
                continue
            if stat.S_ISREG(st.st_mode):
                entry.update(type="file", size=st.st_size)
            entries.append(entry)
    if stack:
        notes.append(f"[stopped after {WALK_LIMIT} entries; list a subdirectory]")
    return entries


def _glob_matches(pattern: str, rel: str) -> bool:
    return fnmatchcase(rel if "/" in pattern else rel.rsplit("/", 1)[-1], pattern)


def repo_list(
    jail: Jail,
    path: str = ".",
    glob: str | None = None,
    max_entries: Annotated[int, Field(ge=1, le=5000, description="Entries listed at most.")] = 500,
) -> ToolResult:
    """List the files under a directory of the estate, recursively, as sorted estate-relative paths.

    path: a directory (or a single file) relative to the estate root. glob: shell-style filter; with
    no '/' it matches the file name ('*.tf', 'values*.yaml'), with a '/' the whole relative path
    ('stacks/*/main.tf'; '*' also crosses '/'). .git is skipped; symlinks are listed as
    'path -> target' and never followed. value is the number of entries that matched; the listing
    shows at most max_entries and says how to narrow it.
    """
    tool = "repo.list"
    args = {"path": path, "glob": glob, "max_entries": max_entries}

    def command(rel: str) -> str:
        name = ""
        if glob:
            name = (
                f" -path {shlex.quote(('./' if rel == '.' else '') + glob)}"
                if "/" in glob
                else (f" -name {shlex.quote(glob)}")
            )
        return f"find {shell_path(rel)} -name .git -prune -o ! -type d{name} -print | sort"

    try:
        top = jail.resolve(path)
    except SandboxViolation as exc:
        return tool_failure(tool, args, command(path), str(exc))
    rel_top = jail.rel(top)
    notes: list[str] = []
    if top.is_dir():
        entries = _walk(jail, top, notes)
    else:
        entries = [{"path": rel_top, "type": "file", "size": top.stat().st_size}]
    if glob:
        entries = [e for e in entries if _glob_matches(glob, e["path"])]
    entries.sort(key=lambda e: e["path"])
    if not entries:
        what = f"matching {glob!r} " if glob else ""
        return tool_result(
            tool,
            args,
            command(rel_top),
            f"no files {what}under '{rel_top}'",
            data=[],
            value=0,
            status=ToolStatus.NO_DATA,
        )
    shown = entries[:max_entries]
    lines = []
    for e in shown:
        name = redact_text(e["path"])
        if e["type"] == "link":
            outside = " (not followed: it leaves the estate or loops)" if e["escapes"] else ""
            name = f"{name} -> {redact_text(e['target'])}{outside}"
        lines.append(name)
    truncated = len(entries) > max_entries
    if truncated:
        lines.append(
            f"[showing {max_entries} of {len(entries)} entries; narrow with path= or glob= (e.g. '*.tf')]"
        )
    return tool_result(
        tool,
        args,
        command(rel_top),
        "\n".join(lines + notes),
        data=shown,
        value=len(entries),
        truncated=truncated,
    )
