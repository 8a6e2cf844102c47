"""Print one docs check's number over an estate: imperative steps in runbooks, or stale paths they cite.

A reader's script (the standard library only), apart from infra-audit's detector. Files are the
estate's as ripgrep sees them (``estate_files.py``: hidden ones too, not ``.git``, not gitignored,
not the SKIP directories).

* DEC-IMPERATIVE-DOCS: lines of docs and scripts (``*.md``, ``*.markdown``, ``*.rst``, ``*.txt``,
  ``*.adoc``, ``*.sh``, ``*.bash``, Makefiles, ``*.mk``, ``.cursorrules``, anything under ``scripts/``
  or ``runbooks/`` but YAML, Terraform, HCL and JSON) that run a command changing state: ``kubectl``
  (global flags first allowed) scale, patch, set, edit, apply, annotate, label, rollout restart/undo,
  delete, exec, create, replace, taint; ``helm`` upgrade/install/rollback; ``ssh``; ``scp``;
  ``exportfs``. Plans, changelogs, archived docs and coding agents' prompts are not runbooks (another
  check). Not a step: a command a prohibition governs (never, don't, do not, must not, avoid... before
  it with no ``,;:.!?`` between, or a list of commands it opened, on the line or the line before); a
  ``--dry-run``; ``kubectl exec ... -- CMD`` and ``ssh HOST CMD`` of a reading command (cat, ls, env,
  grep, status...); ``exportfs`` without ``-r``/``-a``/``-u``/``-o``; ``scp`` to a local destination.
  One per line.
* MNT-RUNBOOK-STALE-PATH: in docs (``*.md`` under ``docs/`` or ``runbooks/``, ``README*``,
  ``CLAUDE.md``, ``AGENTS.md``), each path in backticks or a markdown link target (a ``/`` in it,
  no whitespace; a file extension or a first segment that is a top-level directory) that exists
  neither beside the doc nor from the root. Not paths: URLs, ``mailto:``, anchors, absolute and ``~``
  paths, globs and placeholders (``* ? [ ] { } < > $ | = @``, quotes), API versions (``apps/v1``);
  template segments (``...``, ``my-x``, ``your-x``, ``some-x``, foo, bar, baz, example, ``NNN-``,
  ``xxx``, ``path/to/``); other repositories (a host first, ``org/repo:path``, a line naming another
  repo); a ``../`` path leaving the estate; a gitignored path. One per (line, path).

    python3 tools/checks/reproduce_scripts/docs_count.py ROOT CHECK [SKIP ...]
"""

from __future__ import annotations

import posixpath
import re
import shlex
import sys
from pathlib import Path

from estate_files import files, ignored, rules_of

COMMAND = re.compile(
    r"\bkubectl(?:\s+(?:-n|--namespace|--context|--kubeconfig)\s+\S+|\s+--?[\w-]+(?:=\S+)?)*\s+"
    r"(?P<kubectl>scale|patch|set|edit|apply|annotate|label|rollout\s+(?:restart|undo)|delete|exec|create"
    r"|replace|taint)\b|\bhelm\s+(?:upgrade|install|rollback)\b|\b(?P<ssh>ssh)\s|\b(?P<scp>scp)\s"
    r"|\b(?P<exportfs>exportfs)\b"
)
DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc", ".sh", ".bash", ".mk")
NOT_DOCS = (".yaml", ".yml", ".tf", ".hcl", ".json")
NOTES = re.compile(
    r"(?:^|/)(?:plans?|archive[sd]?|deprecated|attic|old|\.claude|\.cursor|prompts)/"
    r"|(?:^|/)(?:CHANGELOG|CHANGES|HISTORY|RELEASE[-_ ]?NOTES|NEWS|PLAN|ROADMAP|TODO|AGENTS|CLAUDE|GEMINI"
    r"|copilot-instructions)[^/]*$|(?:^|/)\.cursorrules$|(?:^|/)[^/]*[-_.]plan\.md$",
    re.IGNORECASE,
)
NEVER = (
    r"\b(?:never|don'?t|do\s+not|must\s+not|mustn'?t|should\s+not|shouldn'?t|avoid|not\s+to|no\s+need\s+to"
    r"|instead\s+of|rather\s+than|forbidden|prohibited|stop\s+using)\b"
)
GOVERNS = re.compile(NEVER + r"[^,;:.!?]*$", re.IGNORECASE)
OPEN_LIST = re.compile(NEVER + r"[^;:.!?]*$", re.IGNORECASE)
BETWEEN = re.compile(r"[\s`*_]*(?:(?:,|\bor\b|\band\b|\bnor\b)[\s`*_]*)*")
SEGMENT_END = re.compile(r"\|\|?|&&|;|`|\)")
READING = {
    "cat", "ls", "ll", "env", "printenv", "ps", "df", "du", "id", "whoami", "date", "hostname", "uname",
    "uptime", "nslookup", "dig", "host", "ping", "head", "tail", "less", "more", "grep", "find", "stat",
    "top", "free", "netstat", "ss", "lsblk", "blkid", "journalctl", "dmesg", "echo", "true", "pwd", "which",
    "wc", "getent", "nproc", "lscpu", "showmount", "systemctl status", "systemctl is-active",
    "systemctl show", "systemctl list-units", "vault status", "vault read", "vault list", "zpool status",
    "zpool list", "zfs list", "pvecm status", "pvesm status", "etcdctl get", "etcdctl endpoint",
    "kubectl get",
}  # fmt: skip
SSH_FLAGS_WITH_VALUE = set("bcDEeFIiJLlmOopQRSWw")


def is_runbook(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    parts = rel.split("/")[:-1]
    if rel.lower().endswith(NOT_DOCS) or NOTES.search(rel):
        return False
    return (
        rel.endswith(DOC_SUFFIXES)
        or name in ("Makefile", "makefile", "GNUmakefile", ".cursorrules")
        or "scripts" in parts
        or "runbooks" in parts
    )


def words(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:
        return segment.split()


def reads_only(command: list[str]) -> bool:
    if not command:
        return False
    if command[0] == "exportfs":
        return not any(w.startswith("-") and set(w[1:]) & set("rauo") for w in command[1:])
    return command[0] in READING or " ".join(command[:2]) in READING


def changes_state(m: re.Match[str], segment: str) -> bool:
    if re.search(r"--dry-run\b|--server-dry-run\b", segment):
        return False
    w = words(segment)
    if m.group("kubectl") == "exec":
        return "--" not in w or not reads_only(w[w.index("--") + 1 :])
    if m.group("ssh"):
        i = 1
        while i < len(w) and w[i].startswith("-"):
            i += 2 if len(w[i]) == 2 and w[i][1] in SSH_FLAGS_WITH_VALUE else 1
        return not reads_only(w[i + 1 :])
    if m.group("exportfs"):
        return not reads_only(w)
    if m.group("scp"):
        targets = [x for x in w[1:] if not x.startswith("-")]
        return bool(targets) and ":" in targets[-1]
    return True


def step(line: str, continued: bool) -> bool:
    """Whether the line holds a command that changes state and no prohibition governs."""
    governed_to = 0 if continued else None
    for m in COMMAND.finditer(line):
        in_list = governed_to is not None and BETWEEN.fullmatch(line[governed_to : m.start()])
        if in_list or GOVERNS.search(line[: m.start()]):
            tick = line.find("`", m.end())
            governed_to = tick + 1 if tick >= 0 else m.end()
            continue
        governed_to = None
        end = SEGMENT_END.search(line, m.end())
        if changes_state(m, line[m.start() : end.start() if end else len(line)]):
            return True
    return False


def imperative_steps(root: Path, rels: list[str]) -> int:
    count = 0
    for rel in rels:
        if not is_runbook(rel):
            continue
        lines = (root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
        for i, line in enumerate(lines):
            if not COMMAND.search(line):
                continue
            before = lines[i - 1] if i else ""
            gap = BETWEEN.match(line)
            continued = bool(
                COMMAND.search(before) and OPEN_LIST.search(before) and gap and COMMAND.match(line, gap.end())
            )
            count += step(line, continued)
    return count


INLINE = re.compile(r"`([^`\s]+)`")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
API_VERSION = re.compile(r"^[a-z0-9.-]*/v\d+(?:(?:alpha|beta)\d+)?$")
TEMPLATE = re.compile(
    r"^(?:\.{3,}|…|(?:my|your|some)[-_]\w[\w-]*|foo|bar|baz|example[-\w]*|x{3,}|n{3,}[-_.].*|path)$", re.I
)
HOST = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|dev|sh|cloud|co|ai|app)$", re.I)
OTHER_REPO = re.compile(
    r"\b(?:in|from|of|see)\s+(?:the\s+)?`?(?!this\b|our\b|same\b|main\b)[\w./-]+`?\s+"
    r"(?:repo|repository|monorepo)\b",
    re.I,
)


def is_doc(rel: str) -> bool:
    name, parts = rel.rsplit("/", 1)[-1], rel.split("/")[:-1]
    markdown = name.endswith(".md")
    return (
        (markdown and ("docs" in parts or "runbooks" in parts))
        or name.startswith("README")
        or name in ("CLAUDE.md", "AGENTS.md")
    )


def cited(line: str) -> list[str]:
    out: list[str] = []
    if not re.search(r"`[^`\s]*/[^`\s]*`|\]\([^)\s]*/[^)\s]*\)", line):
        return out
    for raw in INLINE.findall(line) + LINK.findall(line):
        ref = re.sub(r":\d+(?:[-:]\d+)?$", "", raw.split("#", 1)[0].rstrip(".,;:)"))
        if (
            "/" not in ref
            or "://" in ref
            or ref.startswith(("/", "~", "mailto:", "#", "www."))
            or set(ref) & set("*?[]{}<>$|=@'\"")
            or API_VERSION.match(ref)
        ):
            continue
        if ref not in out:
            out.append(ref)
    return out


def stale_paths(root: Path, docs: list[str], rels: list[str]) -> int:
    """``docs``: the files read for citations; ``rels``: every file, to tell what exists."""
    present = set(rels)
    dirs = {posixpath.dirname(r) for r in rels}
    dirs |= {"/".join(d.split("/")[:i]) for d in dirs for i in range(1, d.count("/") + 2)}
    top = {d for d in dirs if d and "/" not in d}
    rules = [
        rule
        for rel in rels
        if rel.rsplit("/", 1)[-1] == ".gitignore"
        for rule in rules_of(
            posixpath.dirname(rel), (root / rel).read_text(encoding="utf-8", errors="replace")
        )
    ]
    count = 0
    for rel in (r for r in docs if is_doc(r)):
        for line in (root / rel).read_text(encoding="utf-8", errors="replace").splitlines():
            for ref in cited(line):
                segments = ref.rstrip("/").split("/")
                if any(TEMPLATE.match(s) for s in segments) or ref.startswith("path/to/"):
                    continue
                if HOST.match(segments[0]) or ":" in ref or OTHER_REPO.search(line):
                    continue
                clean = posixpath.normpath(ref.rstrip("/"))
                beside = posixpath.normpath(posixpath.join(posixpath.dirname(rel), clean))
                if ref.startswith(("./", "../")):
                    if beside == ".." or beside.startswith("../"):
                        continue
                elif not (EXTENSION.search(clean.rsplit("/", 1)[-1]) or clean.split("/", 1)[0] in top):
                    continue
                places = [p for p in (beside, clean) if p != ".." and not p.startswith("../")]
                if any(p in present or p in dirs for p in places):
                    continue
                if any(ignored(p, False, rules) or ignored(p, True, rules) for p in places):
                    continue
                count += 1
    return count


def main(root: Path, check: str, skip: list[str]) -> int:
    # SKIP: snapshot directories (live state, not docs); files the audit left out as not deployed
    # are manifests, and a doc is read wherever it is
    rels = files(root, {s.strip("/") for s in skip if (root / s).is_dir()})
    if check == "DEC-IMPERATIVE-DOCS":
        print(imperative_steps(root, rels))
    elif check == "MNT-RUNBOOK-STALE-PATH":
        print(stale_paths(root, rels, files(root)))
    else:
        sys.exit(f"docs_count.py: no check {check}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:]))
