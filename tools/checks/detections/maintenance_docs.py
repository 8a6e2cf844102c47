"""MNT-RUNBOOK-STALE-PATH: paths cited by the estate's docs that do not exist in the estate.

Counting rule: in docs (``*.md`` under ``docs/`` or ``runbooks/``, ``README*``, ``CLAUDE.md``,
``AGENTS.md``, at any depth), every path-like reference written inside backticks or as a markdown
link target that does not exist. One location per (doc line, path).

A reference is path-like when it contains a ``/``, has no whitespace, and either its last segment has
a file extension or its first segment is a top-level directory of the estate. Not paths: URLs
(``scheme://``, ``mailto:``, ``#anchors``), absolute system paths (``/etc/exports``, ``~/.kube``),
globs and placeholders (``*``, ``?``, ``[``, ``{``, ``<name>``, ``$VAR``), ``key=value`` selectors and
Kubernetes API versions (``apps/v1``). A ``:line`` suffix and a ``#fragment`` are dropped.

Where a path is looked up: ``./`` and ``../`` links relative to the doc's directory (one that leaves
the estate is skipped: it cannot be checked); anything else relative to the estate root, and, if not
there, relative to the doc's directory (markdown's own rule for links) before it is called stale.

Candidates come from one ``repo_search``; existence from one ``repo_list`` of the estate (the jail
answers when the listing was capped).
"""

from __future__ import annotations

import posixpath
import re

from domain.findings import Location
from tools.checks.detections.repo_evidence import Listing, exists, list_estate, problems, search
from tools.checks.spec import CheckContext, Detection, detector

AGENT = "maintenance"
DOC_GLOB = "{**/docs/**/*.md,**/runbooks/**/*.md,**/README*,**/CLAUDE.md,**/AGENTS.md}"
CANDIDATE_PATTERN = r"`[^`\s]*/[^`\s]*`|\]\([^)\s]*/[^)\s]*\)"

_INLINE = re.compile(r"`([^`\s]+)`")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_API_VERSION = re.compile(r"^[a-z0-9.-]*/v\d+(?:(?:alpha|beta)\d+)?$")
_LINE_SUFFIX = re.compile(r":\d+(?:[-:]\d+)?$")
_NOT_A_PATH = set("*?[]{}<>$|=@'\"")


def candidates(text: str) -> list[str]:
    """Path-like references on one line of a doc, cleaned, in order, without duplicates."""
    found: list[str] = []
    for raw in _INLINE.findall(text) + _LINK.findall(text):
        ref = _LINE_SUFFIX.sub("", raw.split("#", 1)[0].rstrip(".,;:)"))
        if (
            "/" not in ref
            or "://" in ref
            or ref.startswith(("/", "~", "mailto:", "#", "www."))
            or any(c in _NOT_A_PATH for c in ref)
            or _API_VERSION.match(ref)
        ):
            continue
        if ref not in found:
            found.append(ref)
    return found


def _top_level(listing: Listing) -> set[str]:
    return {d for d in listing.dirs if "/" not in d}


def is_stale(ctx: CheckContext, listing: Listing, doc: str, ref: str) -> bool | None:
    """True when the reference names a path the estate does not have; None when it is not a path."""
    here = posixpath.dirname(doc)
    if ref.startswith(("./", "../")):
        target = posixpath.normpath(posixpath.join(here, ref))
        if target == ".." or target.startswith("../"):
            return None  # leaves the estate: cannot be checked
        return not exists(ctx, listing, target)
    clean = posixpath.normpath(ref.rstrip("/"))
    last = clean.rsplit("/", 1)[-1]
    if not (_EXTENSION.search(last) or clean.split("/", 1)[0] in _top_level(listing)):
        return None
    if exists(ctx, listing, clean):
        return False
    beside = posixpath.normpath(posixpath.join(here, clean))
    return not (here and not beside.startswith("../") and exists(ctx, listing, beside))


@detector("MNT-RUNBOOK-STALE-PATH")
def runbook_stale_path(ctx: CheckContext) -> Detection:
    """Backticked or linked paths in docs/runbooks/READMEs/CLAUDE.md/AGENTS.md that do not exist."""
    found = search(ctx, AGENT, CANDIDATE_PATTERN, glob=DOC_GLOB)
    listing = list_estate(ctx, AGENT)
    locations: list[Location] = []
    for hit in found.hits:
        for ref in candidates(hit.text):
            if is_stale(ctx, listing, hit.path, ref):
                locations.append(
                    Location(ref=hit.ref, subject=ref, detail=f"cited in {hit.path}; not found in the estate")
                )
    return Detection(
        count=len(locations),
        locations=locations,
        evidence=[found.evidence, listing.evidence],
        note=problems(found),
    )
