"""Read-only repo tools: search, count, read and list files of one estate.

Each tool takes the estate's ``Jail`` first and returns a ``ToolResult``; its docstring is the tool
description a model reads. Why they are built this way:

* **No shell, ever.** ripgrep runs from an argv list with ``shell=False``, stdin closed, a timeout,
  ``--no-config`` (a user's RIPGREPRC must not change results) and ``--`` before the pattern and the
  path, so model text can never become a flag. Listing is plain ``os.scandir``.
* **Paths go through the jail.** A symlink out of the estate, a device or a FIFO is refused before
  anything runs; ripgrep never follows symlinks (its default) and listing never descends into one.
* **Redaction sees whole files.** A search hit is shown from the redacted text of its whole file,
  not from ripgrep's raw line, because a line inside a PEM block or a Secret's ``data:`` is only
  recognisably secret in context. Read ranges are cut from the redacted file for the same reason.
* **Every result says how to reproduce it** (``command``, pasteable from the estate root) and, when
  capped, how to narrow the query.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field

from domain.errors import SandboxViolation
from domain.results import ToolResult, ToolStatus
from tools import pathnames
from tools.redact import redact_object, redact_text
from tools.ripgrep import (
    RG_MISSING,
    decode_path,
    decode_text,
    in_hidden_snapshot,
    over_cap,
    over_cap_note,
    rg_error,
    rg_flags,
    run_rg,
)
from tools.ripgrep import rg_binary as _rg_binary  # kept as repo._rg_binary: tests patch it
from tools.sandbox import Jail

MAX_LINE_CHARS = 400  # per search hit
MAX_READ_LINE_CHARS = 2000  # per line of repo_read (minified JSON can be one huge line)
RANGE_READ_FACTOR = 8  # a line range may come from a file up to 8x the read cap
WALK_LIMIT = 200_000


def shell_path(rel: str) -> str:
    return pathnames.shell_quote("./" + rel if rel.startswith("-") else rel)


def tool_result(
    tool: str,
    args: dict[str, Any],
    command: str,
    output: str,
    *,
    data: Any = None,
    value: float | None = None,
    truncated: bool = False,
    status: ToolStatus = ToolStatus.OK,
    measures: dict[str, float] | None = None,
) -> ToolResult:
    """``output`` is already redacted piecewise (with whole-file context); data is redacted here."""
    return ToolResult(
        tool=tool,
        args=args,
        status=status,
        command=command,
        output=output,
        data=redact_object(data),
        value=value,
        truncated=truncated,
        measures=measures or {},
    )


def tool_failure(tool: str, args: dict[str, Any], command: str, error: str) -> ToolResult:
    return ToolResult.fail(tool, args, command, redact_text(error))


def _rg_setup(
    jail: Jail,
    tool: str,
    args: dict[str, Any],
    pattern: str,
    path: str,
    glob: str | None,
    command: Callable[[str], str],
) -> tuple[str, str, str] | ToolResult:
    """(estate-relative path, rg binary, display command), or the error result to return."""
    try:
        rel = jail.rel(jail.resolve(path))
    except SandboxViolation as exc:
        return tool_failure(tool, args, command(path), str(exc))
    if not pattern or "\x00" in pattern + (glob or ""):
        return tool_failure(
            tool, args, command(rel), "the pattern is empty or has a NUL byte; pass text to find"
        )
    rg = _rg_binary()
    return (rel, rg, command(rel)) if rg else tool_failure(tool, args, command(rel), RG_MISSING)


class _RedactedFiles:
    """Redacted lines of the files that have hits, read once each through the jail."""

    def __init__(self, jail: Jail) -> None:
        self.jail = jail
        self._cache: dict[str, list[str] | str] = {}

    def line(self, path: str, number: int, raw: str) -> str:
        if path not in self._cache:
            try:
                text = self.jail.read_text(path, size_limit=self.jail.file_cap * RANGE_READ_FACTOR)
                self._cache[path] = redact_text(text).split("\n")
            except SandboxViolation as exc:
                self._cache[path] = "[line not shown: binary file]" if "binary" in str(exc) else ""
        lines = self._cache[path]
        if isinstance(lines, str):  # unreadable now: fall back to rg's line, redacted on its own
            return lines or redact_text(raw.rstrip("\r\n"))
        text = lines[number - 1] if 0 < number <= len(lines) else redact_text(raw.rstrip("\r\n"))
        text = text.rstrip("\r")
        return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + " …[line cut]"


def repo_search(
    jail: Jail,
    pattern: str,
    path: str = ".",
    glob: str | None = None,
    fixed: bool = False,
    ignore_case: bool = False,
    context: Annotated[int, Field(ge=0, le=10, description="Lines shown around each hit.")] = 0,
    max_results: Annotated[
        int, Field(ge=1, le=1000, description="Matching lines returned; value is always the full count.")
    ] = 200,
) -> ToolResult:
    """Search file contents in the estate with ripgrep and return the matching lines as path:line:text.

    pattern: a Rust regex (no look-around or backreferences); set fixed=True to match literal text
      such as ':latest' or 'image = "' without escaping. A pattern starting with '-' is fine.
    path: a file or directory relative to the estate root (default: the whole estate).
    glob: only search files matching this glob, e.g. '*.tf', '*.{yaml,yml}', '!**/test/**'.
    ignore_case: case-insensitive match. context: lines shown around each hit.
    max_results: matching lines returned; value is always the full number of matching lines.
    Hidden files and dirs (.github/, .infra-audit.yaml) are searched; .git, files ignored by
    .gitignore/.ignore, binary files and files over the size cap are not; symlinks are not followed.
    Secrets in the output are redacted (<redacted:sha256:...>). Zero matches returns no_data.
    """
    tool = "repo.search"
    args = {
        "pattern": pattern,
        "path": path,
        "glob": glob,
        "fixed": fixed,
        "ignore_case": ignore_case,
        "context": context,
        "max_results": max_results,
    }
    flags, shown = rg_flags(jail, fixed, ignore_case, glob, path)
    flags.append("--sort=path")  # one thread, stable order: the same call gives the same evidence
    shown.append("--sort path")
    if context:
        flags.append(f"--context={context}")
        shown += ["-C", str(context)]
    ready = _rg_setup(
        jail,
        tool,
        args,
        pattern,
        path,
        glob,
        lambda at: " ".join(["rg", "-n", *shown, "-e", shlex.quote(pattern), shell_path(at)]),
    )
    if isinstance(ready, ToolResult):
        return ready
    rel, rg, display = ready

    hits: list[tuple[str, int, str, bool]] = []  # (path, line, raw text, is_match)
    total = 0
    hidden = in_hidden_snapshot(jail, path)

    def on_line(raw: bytes) -> None:
        nonlocal total
        is_match = raw.startswith(b'{"type":"match"')
        if not is_match and not raw.startswith(b'{"type":"context"'):
            return
        if hidden is None and (total > max_results or (is_match and total == max_results)):
            total += is_match  # past the cap: counted, not parsed
            return
        msg = json.loads(raw)["data"]
        name = decode_path(msg["path"]).removeprefix("./")
        if hidden is not None and hidden(name):
            return
        total += is_match
        if total <= max_results:
            hits.append((name, int(msg["line_number"]), decode_text(msg["lines"]), is_match))

    argv = [rg, "--json", *flags, "--", pattern, pathnames.on_disk(rel)]
    code, stderr, timed_out = run_rg(argv, jail.root, on_line)
    if timed_out or (code == 2 and total == 0):
        return tool_failure(tool, args, display, rg_error(pattern, rel, stderr, timed_out))
    skipped = over_cap(jail, rg, flags, rel, hidden)
    note = over_cap_note(skipped, jail.file_cap)
    measures = {"files_not_searched": float(len(skipped))} if skipped else {}
    if total == 0:
        # the pattern is in ``command``; not echoing it keeps a searched-for secret out of the output
        text = "\n".join(line for line in (f"no matches in '{rel}'", note) if line)
        return tool_result(
            tool, args, display, text, data=[], value=0, status=ToolStatus.NO_DATA, measures=measures
        )
    if total > max_results:  # drop the leading context of the first match not shown
        cut = max(i for i, hit in enumerate(hits) if hit[3])
        after = [h for h in hits[cut + 1 :] if h[0] == hits[cut][0] and h[1] <= hits[cut][1] + context]
        hits = hits[: cut + 1] + after
    files = _RedactedFiles(jail)
    data: list[dict[str, Any]] = []
    lines: list[str] = []
    last: tuple[str, int] | None = None
    for name, number, raw, is_match in hits:
        text = files.line(name, number, raw)
        if context and last is not None and (last[0] != name or number > last[1] + 1):
            lines.append("--")
        last = (name, number)
        lines.append(f"{redact_text(name)}{':' if is_match else '-'}{number}{':' if is_match else '-'}{text}")
        if is_match:
            data.append({"path": name, "line": number, "text": text})
    truncated = total > max_results
    if truncated:
        lines.append(
            f"[showing the first {max_results} of {total} matching lines; narrow the search with "
            "path= or glob= (e.g. glob='*.tf'), or count them with repo_count]"
        )
    if note:
        lines.append(note)
    if code == 2 and stderr:
        lines.append(f"[rg reported errors: {' '.join(stderr.split())[:500]}]")
    return tool_result(
        tool, args, display, "\n".join(lines), data=data, value=total, truncated=truncated, measures=measures
    )


def repo_count(
    jail: Jail,
    pattern: str,
    path: str = ".",
    glob: str | None = None,
    fixed: bool = False,
    ignore_case: bool = False,
) -> ToolResult:
    """Count matches of a pattern in the estate: the total (value) and the count per file.

    Same pattern, path and glob rules as repo_search (Rust regex, or fixed=True for literal text).
    Counts every match, so a line with two hits counts twice; use this for numbers you will cite
    ("84 ':latest' tags"), and repo_search to see the lines. Zero matches returns no_data.
    """
    tool = "repo.count"
    args = {"pattern": pattern, "path": path, "glob": glob, "fixed": fixed, "ignore_case": ignore_case}
    flags, shown = rg_flags(jail, fixed, ignore_case, glob, path)

    def command(where: str) -> str:
        head = ["rg", "--count-matches", *shown, "-e", shlex.quote(pattern), shell_path(where)]
        return " ".join([*head, "|", "awk -F: '{s+=$NF} END {print s+0}'"])

    ready = _rg_setup(jail, tool, args, pattern, path, glob, command)
    if isinstance(ready, ToolResult):
        return ready
    rel, rg, display = ready
    chunks: list[bytes] = []
    argv = [rg, "--count-matches", "--with-filename", "--no-heading", "--null", "--color=never", *flags]
    argv += ["--", pattern, pathnames.on_disk(rel)]
    code, stderr, timed_out = run_rg(argv, jail.root, chunks.append)
    hidden = in_hidden_snapshot(jail, path)
    counts = [c for c in _counts(b"".join(chunks)) if hidden is None or not hidden(c["path"])]
    if timed_out or (code == 2 and not counts):
        return tool_failure(tool, args, display, rg_error(pattern, rel, stderr, timed_out))
    skipped = over_cap(jail, rg, flags, rel, hidden)
    note = [over_cap_note(skipped, jail.file_cap)] if skipped else []
    measures = {"files_not_searched": float(len(skipped))} if skipped else {}
    not_searched = {"not_searched": [p for p, _ in skipped]} if skipped else {}
    if not counts:
        return tool_result(
            tool,
            args,
            display,
            "\n".join([f"0 matches in '{rel}'", *note]),
            data={"total": 0, "files": [], **not_searched},
            value=0,
            status=ToolStatus.NO_DATA,
            measures=measures,
        )
    counts.sort(key=lambda c: c["path"])
    total = sum(c["count"] for c in counts)
    lines = [f"{total} matches in {len(counts)} files"]
    lines += [f"{redact_text(c['path'])}:{c['count']}" for c in counts[:500]]
    if len(counts) > 500:
        lines.append(f"[showing 500 of {len(counts)} files; narrow with path= or glob=]")
    return tool_result(
        tool,
        args,
        display,
        "\n".join(lines + note),
        data={"total": total, "files": counts, **not_searched},
        value=total,
        truncated=len(counts) > 500,
        measures=measures,
    )


def _counts(out: bytes) -> list[dict[str, Any]]:
    """Parse ``rg --count-matches --null``: ``path NUL count LF`` per file (a path may hold ':' or LF)."""
    parts = out.split(b"\0")
    counts: list[dict[str, Any]] = []
    name = parts[0]
    for tail in parts[1:]:
        number, _, following = tail.partition(b"\n")
        if number.strip().isdigit():
            counts.append({"path": pathnames.shown(name).removeprefix("./"), "count": int(number)})
        name = following
    return counts
