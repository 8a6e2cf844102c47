"""The estate's ``.gitignore`` rules, to tell a generated path (never committed) from a stale one.

Each ``.gitignore`` of the listing is read with one ``repo_read`` call (recorded evidence). The rules
are git's, in the part docs cite: blank lines and ``#`` comments skipped; ``!`` re-includes; a
trailing ``/`` matches a directory (and so everything under it); a pattern with a ``/`` other than a
trailing one is anchored to the ``.gitignore``'s directory, one without matches a name at any depth;
``*`` and ``?`` stay within a segment, ``**`` crosses them. The last matching rule wins.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from tools.checks.detections.repo_evidence import Listing
from tools.checks.spec import CheckContext

_READ_LINE = re.compile(r"^\s*\d+: ?(.*)$")
MAX_FILES = 50


def _glob(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Rule:
    base: str  # the directory of the .gitignore, "" at the root
    regex: re.Pattern[str]
    negated: bool

    @staticmethod
    def parse(base: str, line: str) -> Rule | None:
        text = line.rstrip()
        if not text or text.startswith("#"):
            return None
        negated = text.startswith("!")
        text = text[1:] if negated else text
        directory = text.endswith("/")
        text = text.strip("/") if directory else text.lstrip("/") if text.startswith("/") else text
        anchored = "/" in text or line.strip().lstrip("!").startswith("/")
        body = _glob(text)
        prefix = "" if anchored else "(?:.*/)?"
        # a match of a directory covers everything under it; a file pattern may also name a directory
        regex = re.compile(
            f"^{prefix}{body}(?:/.*)?$" if not directory else f"^{prefix}{body}/.*$|^{prefix}{body}$"
        )
        return Rule(base=base, regex=regex, negated=negated)

    def applies(self, path: str) -> bool | None:
        if self.base and not path.startswith(self.base + "/"):
            return None
        rel = path[len(self.base) + 1 :] if self.base else path
        return self.regex.match(rel) is not None or None


@dataclass
class Ignored:
    rules: list[Rule] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)

    def matches(self, path: str) -> bool:
        clean = posixpath.normpath(path).lstrip("/")
        verdict = False
        for rule in self.rules:
            if rule.applies(clean):
                verdict = not rule.negated
        return verdict


def gitignored(ctx: CheckContext, listing: Listing, agent: str) -> Ignored:
    """The rules of every ``.gitignore`` in the listing (root first, then deeper), read as evidence."""
    found = Ignored()
    files = sorted(
        (f for f in listing.files if posixpath.basename(f) == ".gitignore"), key=lambda f: (f.count("/"), f)
    )
    for path in files[:MAX_FILES]:
        ev = ctx.toolbox.call("repo_read", {"path": path, "max_lines": 2000}, agent=agent)
        found.evidence.append(ev.id)
        base = posixpath.dirname(path)
        for line in ev.output.split("\n"):
            m = _READ_LINE.match(line)
            rule = Rule.parse(base, m.group(1)) if m else None
            if rule is not None:
                found.rules.append(rule)
    return found
