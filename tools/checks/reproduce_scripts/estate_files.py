"""The files of an estate as ripgrep and git see them: hidden ones too, not ``.git``, not what a
``.gitignore`` of the estate ignores, not the directories named to skip nor a cluster snapshot (a
directory holding ``_snapshot.json``: live state, not code), no symlink followed.

A reader's module (the standard library only) for the other scripts here. The ``.gitignore`` rules are
git's in the part estates use: blank lines and ``#`` comments skipped; ``!`` re-includes; a trailing
``/`` matches a directory only; a pattern with another ``/`` is anchored to its ``.gitignore``'s
directory, one without matches a name at any depth; ``*`` and ``?`` stay within a segment, ``**``
crosses them; the last matching rule wins, and an ignored directory's files are all ignored.
Files over ``max_bytes`` are left out, as the audit's searches leave them (2 MiB, its default
``--file-cap``; its manifest reader's is 10 MiB).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SNAPSHOT_MARKER = "_snapshot.json"
SEARCH_CAP = 2 * 1024 * 1024
"""ripgrep's ``--max-filesize`` in the audit's searches (the default file cap)."""
MANIFEST_CAP = 10 * 1024 * 1024
"""The audit's manifest reader reads no larger file."""
Rule = tuple[str, re.Pattern[str], bool, bool]  # (base dir, pattern, directory only, negated)


def _regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            c = pattern[i]
            out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
            i += 1
    return "".join(out)


def rules_of(base: str, text: str) -> list[Rule]:
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        line = line[1:] if negated else line
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        body = _regex(line.lstrip("/"))
        pattern = re.compile(body if anchored else f"(?:.*/)?{body}")
        rules.append((base, pattern, dir_only, negated))
    return rules


def ignored(rel: str, is_dir: bool, rules: list[Rule]) -> bool:
    verdict = False
    for base, pattern, dir_only, negated in rules:
        if base and not rel.startswith(base + "/"):
            continue
        if dir_only and not is_dir:
            continue
        if pattern.fullmatch(rel[len(base) + 1 :] if base else rel):
            verdict = not negated
    return verdict


def files(
    root: Path, skip_dirs: set[str] | frozenset[str] = frozenset(), max_bytes: int = SEARCH_CAP
) -> list[str]:
    """Root-relative paths (``/``-separated) of the estate's files, sorted by directory."""
    out: list[str] = []
    rules: list[Rule] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir
        if rel_dir and SNAPSHOT_MARKER in filenames:
            dirnames[:] = []
            continue
        if ".gitignore" in filenames:
            text = (Path(dirpath) / ".gitignore").read_text(encoding="utf-8", errors="replace")
            rules += rules_of(rel_dir, text)
        keep = []
        for d in sorted(dirnames):
            rel = f"{rel_dir}/{d}" if rel_dir else d
            if d == ".git" or rel in skip_dirs or os.path.islink(Path(dirpath, d)):
                continue
            if ignored(rel, True, rules):
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            rel = f"{rel_dir}/{f}" if rel_dir else f
            path = Path(dirpath, f)
            if os.path.islink(path) or ignored(rel, False, rules):
                continue
            try:
                if path.stat().st_size > max_bytes:
                    continue
            except OSError:
                continue
            out.append(rel)
    return out
