"""MNT-RUNBOOK-STALE-PATH: paths cited by the estate's docs that do not exist in the estate.

Counting rule: in docs (``*.md`` under ``docs/`` or ``runbooks/``, ``README*``, ``CLAUDE.md``,
``AGENTS.md``, at any depth), every path-like reference written inside backticks or as a markdown
link target that does not exist. One location per (doc line, path).

A reference is path-like when it contains a ``/``, has no whitespace, and either its last segment has
a file extension or its first segment is a top-level directory of the estate. Not paths: URLs
(``scheme://``, ``mailto:``, ``#anchors``), absolute system paths (``/etc/exports``, ``~/.kube``),
globs and placeholders (``*``, ``?``, ``[``, ``{``, ``<name>``, ``$VAR``), ``key=value`` selectors and
Kubernetes API versions (``apps/v1``). A ``:line`` suffix and a ``#fragment`` are dropped.

Where a path is looked up: relative to the doc's directory and relative to the estate root (``./``
and ``../`` forms too: ``./scripts/x.sh`` is often written from the root); it is stale only when it
exists in neither place. A ``../`` path that leaves the estate is skipped: it cannot be checked.

Not stale either (deliberately not counted):

* template placeholders: a segment ``...``/``…``, ``my-service``, ``your-app``, ``some-dir``,
  ``foo``/``bar``/``baz``, ``example``, ``NNNN-title.md``, ``XXX``; ``path/to/...``;
* paths in other repositories: a first segment that is a host (``github.com/org/repo/...``), an
  ``org/repo:path`` form, or a line that says where the path lives ("in the infra repo",
  "from the charts repository");
* gitignored paths (generated files: ``terraform.tfstate``, ``kubeconfig``, ``.env``), by the
  estate's ``.gitignore`` files (each read with ``repo_read``; ``*``, ``**``, ``?``, anchored and
  directory patterns, ``!`` negation).

Candidates come from one ``repo_search``; existence from one ``repo_list`` of the estate (the jail
answers when the listing was capped).
"""

from __future__ import annotations

import posixpath
import re

from domain.findings import Location
from tools.checks.detections.gitignore import Ignored, gitignored
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
_PLACEHOLDER_SEGMENT = re.compile(
    r"^(?:\.{3,}|…|(?:my|your|some)[-_]\w[\w-]*|foo|bar|baz|example[-\w]*|x{3,}|n{3,}[-_.].*|path)$",
    re.IGNORECASE,
)
_HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|dev|sh|cloud|co|ai|app)$", re.IGNORECASE)
_OTHER_REPO_LINE = re.compile(
    r"\b(?:in|from|of|see)\s+(?:the\s+)?`?(?!this\b|our\b|same\b|main\b)[\w./-]+`?\s+"
    r"(?:repo|repository|monorepo)\b",
    re.IGNORECASE,
)


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


def placeholder(ref: str) -> bool:
    """A template path (``my-service/...``, ``path/to/file``), not one that should exist."""
    segments = ref.rstrip("/").split("/")
    return any(_PLACEHOLDER_SEGMENT.match(seg) for seg in segments) or ref.startswith("path/to/")


def elsewhere(ref: str, line: str) -> bool:
    """A path of another repository: a host first (``github.com/...``), ``org/repo:path``, or a line
    that says which repository it is in."""
    first = ref.split("/", 1)[0]
    return bool(_HOST.match(first) or ":" in ref or _OTHER_REPO_LINE.search(line))


def is_stale(
    ctx: CheckContext, listing: Listing, doc: str, ref: str, ignored: Ignored | None = None
) -> bool | None:
    """True when the reference names a path the estate does not have; None when it is not a path
    (or cannot be checked)."""
    here = posixpath.dirname(doc)
    clean = posixpath.normpath(ref.rstrip("/"))
    beside = posixpath.normpath(posixpath.join(here, clean))
    if ref.startswith(("./", "../")):
        if beside == ".." or beside.startswith("../"):
            return None  # leaves the estate: cannot be checked
    else:
        last = clean.rsplit("/", 1)[-1]
        if not (_EXTENSION.search(last) or clean.split("/", 1)[0] in _top_level(listing)):
            return None
    places = [p for p in (beside, clean) if p != ".." and not p.startswith("../")]
    if any(exists(ctx, listing, p) for p in places):
        return False
    if ignored is not None and any(ignored.matches(p) for p in places):
        return None  # generated, never committed
    return True


@detector("MNT-RUNBOOK-STALE-PATH")
def runbook_stale_path(ctx: CheckContext) -> Detection:
    """Backticked or linked paths in docs/runbooks/READMEs/CLAUDE.md/AGENTS.md that do not exist."""
    found = search(ctx, AGENT, CANDIDATE_PATTERN, glob=DOC_GLOB)
    listing = list_estate(ctx, AGENT)
    ignored = gitignored(ctx, listing, AGENT)
    locations: list[Location] = []
    for hit in found.hits:
        for ref in candidates(hit.text):
            if placeholder(ref) or elsewhere(ref, hit.text):
                continue
            if is_stale(ctx, listing, hit.path, ref, ignored):
                locations.append(
                    Location(ref=hit.ref, subject=ref, detail=f"cited in {hit.path}; not found in the estate")
                )
    return Detection(
        count=len(locations),
        locations=locations,
        evidence=[found.evidence, listing.evidence, *ignored.evidence],
        note=problems(found),
    )
