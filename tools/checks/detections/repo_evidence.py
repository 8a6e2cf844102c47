"""Repo reads for the declarative, maintenance and security detections, through the toolbox only.

Every read is an ordinary ``repo_search`` / ``repo_list`` call made with ``ctx.toolbox.call``: it is
sandboxed, redacted and recorded in the ledger, and its evidence id goes into the detection, so a
challenger can re-run exactly what a count rests on. The structured payload comes from
``ledger.data``; the text of a hit is the *redacted* line (secret values are fingerprints), which is
all a detection ever needs: the classification that depends on raw values is done by the regex
ripgrep runs on the raw file.

A cluster snapshot kept inside the repo (a directory holding ``_snapshot.json``) is live state, not
code: hits under it are dropped, as the inventory builder skips it too.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from domain.errors import SandboxViolation
from tools.checks.spec import CheckContext

MAX_RESULTS = 1000
SNAPSHOT_MARKER = "_snapshot.json"


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    text: str

    @property
    def ref(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Search:
    """The hits of one search, its evidence id, and what went wrong (if anything)."""

    hits: list[Hit] = field(default_factory=list)
    evidence: str = ""
    error: str | None = None
    truncated: bool = False


def snapshot_dirs(ctx: CheckContext, agent: str) -> tuple[list[str], str]:
    """Directories of the estate that hold a cluster snapshot, and the evidence id of the listing."""
    ev = ctx.toolbox.call("repo_list", {"glob": SNAPSHOT_MARKER, "max_entries": 5000}, agent=agent)
    data = ctx.toolbox.ledger.data(ev.id)
    dirs: list[str] = []
    for entry in data if isinstance(data, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            parent = posixpath.dirname(entry["path"])
            if parent and parent != ".":
                dirs.append(parent)
    return sorted(set(dirs)), ev.id


def in_dirs(path: str, dirs: list[str]) -> bool:
    return any(path == d or path.startswith(d + "/") for d in dirs)


def search(
    ctx: CheckContext,
    agent: str,
    pattern: str,
    *,
    glob: str | None = None,
    ignore_case: bool = False,
    fixed: bool = False,
    exclude_dirs: list[str] | None = None,
) -> Search:
    """Run one ``repo_search`` over the whole estate; hits under ``exclude_dirs`` are dropped."""
    args: dict[str, object] = {"pattern": pattern, "max_results": MAX_RESULTS}
    if glob is not None:
        args["glob"] = glob
    if ignore_case:
        args["ignore_case"] = True
    if fixed:
        args["fixed"] = True
    ev = ctx.toolbox.call("repo_search", args, agent=agent)
    result = Search(evidence=ev.id, error=ev.error, truncated=ev.truncated)
    data = ctx.toolbox.ledger.data(ev.id)
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        path, line, text = item.get("path"), item.get("line"), item.get("text")
        if not isinstance(path, str) or not isinstance(line, int):
            continue
        if exclude_dirs and in_dirs(path, exclude_dirs):
            continue
        result.hits.append(Hit(path=path, line=line, text=text if isinstance(text, str) else ""))
    return result


@dataclass
class Listing:
    """Every file of the estate from one ``repo_list`` call, to answer "does this path exist?"."""

    files: set[str]
    dirs: set[str]
    evidence: str
    complete: bool


def list_estate(ctx: CheckContext, agent: str) -> Listing:
    ev = ctx.toolbox.call("repo_list", {"max_entries": 5000}, agent=agent)
    data = ctx.toolbox.ledger.data(ev.id)
    files = {
        e["path"] for e in (data if isinstance(data, list) else []) if isinstance(e, dict) and "path" in e
    }
    dirs = {posixpath.dirname(f) for f in files}
    for d in list(dirs):
        while d:
            d = posixpath.dirname(d)
            dirs.add(d)
    return Listing(
        files=files, dirs=dirs - {""}, evidence=ev.id, complete=not ev.truncated and ev.error is None
    )


def exists(ctx: CheckContext, listing: Listing, path: str) -> bool:
    """Whether an estate-relative path exists (file or directory).

    From the listing when it is complete; otherwise the jail resolves the path (no content is read).
    """
    clean = posixpath.normpath(path)
    if clean in (".", "") or clean in listing.files or clean in listing.dirs:
        return True
    if listing.complete:
        return False
    try:
        ctx.toolbox.jail.resolve(clean)
    except SandboxViolation:
        return False
    return True


def problems(*searches: Search) -> str | None:
    """A note for searches that failed or were capped, so a count is never silently short."""
    notes = [f"search failed: {s.error}" for s in searches if s.error]
    notes += [
        f"search capped at {MAX_RESULTS} lines; the count is a lower bound" for s in searches if s.truncated
    ]
    return "; ".join(notes) or None


def trim(text: str, limit: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
