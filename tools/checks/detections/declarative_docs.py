"""DEC-IMPERATIVE-DOCS and DEC-IMPERATIVE-NOTES: steps in docs and scripts that change state by hand.

Counting rule: lines of docs and scripts (``*.md``, ``*.rst``, ``*.txt``, ``*.sh``, Makefiles,
anything under ``scripts/`` or ``runbooks/`` except YAML/HCL/JSON; never Terraform, manifests or CI
files) with a command that changes state: ``kubectl`` scale, patch, set, edit, apply, annotate,
label, rollout restart/undo, delete, exec, create, replace or taint (global flags such as ``-n ns``
may come first), ``helm`` upgrade/install/rollback, ``ssh``, ``scp`` or ``exportfs``; case-sensitive,
one location per line, subject = the first such command on it that changes state. Cluster snapshot
dirs are skipped.

Not a step (each command of a line is judged in its own pipeline segment):

* a prohibition or warning: ``never``, ``don't``, ``do not``, ``must not``, ``avoid``... before the
  command on its line ("Never run `kubectl apply` by hand");
* a dry run (``--dry-run``, ``--dry-run=server``);
* ``kubectl exec`` or ``ssh`` of a read-only command (``cat``, ``ls``, ``env``, ``vault status``,
  ``systemctl status``...), ``exportfs`` without ``-r``/``-a``/``-u``/``-o`` (it lists), ``scp`` to a
  local destination (a copy from a host changes nothing there). An interactive ``exec -it`` or
  ``ssh host`` with no command counts: what is typed there is not in the repo.

Plans, changelogs, archived docs and prompts for coding agents (``NOTES``) are not runbooks: their
steps are DEC-IMPERATIVE-NOTES, reported apart and scored lower.
"""

from __future__ import annotations

import re
import shlex

from domain.findings import Location
from tools.checks.detections.repo_evidence import Hit, Search, problems, search, snapshot_dirs, trim
from tools.checks.spec import CheckContext, Detection, detector

AGENT = "declarative"

IMPERATIVE_PATTERN = (
    r"\bkubectl(?:\s+(?:-n|--namespace|--context|--kubeconfig)\s+\S+|\s+--?[\w-]+(?:=\S+)?)*\s+"
    r"(?:scale|patch|set|edit|apply|annotate|label|rollout\s+(?:restart|undo)|delete|exec|create|replace|taint)\b"
    r"|\bhelm\s+(?:upgrade|install|rollback)\b|\bssh\s|\bscp\s|\bexportfs\b"
)
"""Commands that change a cluster or a host by hand. Global kubectl flags may sit before the verb
(``kubectl -n vault exec``); read verbs (get, logs, describe, top, diff) never match."""

DOC_AND_SCRIPT_GLOB = (
    "{**/*.md,**/*.markdown,**/*.rst,**/*.txt,**/*.adoc,**/*.sh,**/*.bash,**/Makefile,**/makefile,"
    "**/GNUmakefile,**/*.mk,**/scripts/**,**/runbooks/**,**/.cursorrules}"
)
"""Docs and scripts only: Terraform, YAML and CI files applying manifests are the declarative path.
Files under ``scripts/`` and ``runbooks/`` count whatever their extension (scripts often have none),
except YAML, Terraform and JSON, which are filtered out afterwards. Every alternative starts with
``**/``: in a brace list with one path glob, ripgrep anchors all of them to the root."""

_NOT_DOCS = (".yaml", ".yml", ".tf", ".hcl", ".json")
_VERB = re.compile(IMPERATIVE_PATTERN)
NOTES = re.compile(
    r"(?:^|/)(?:plans?|archive[sd]?|deprecated|attic|old|\.claude|\.cursor|prompts)/"
    r"|(?:^|/)(?:CHANGELOG|CHANGES|HISTORY|RELEASE[-_ ]?NOTES|NEWS|PLAN|ROADMAP|TODO|AGENTS|CLAUDE|GEMINI"
    r"|copilot-instructions)[^/]*$|(?:^|/)\.cursorrules$|(?:^|/)[^/]*[-_.]plan\.md$",
    re.IGNORECASE,
)
"""Plans, changelogs, archived docs, prompts for coding agents: their commands are not runbook steps."""

_PROHIBITION = re.compile(
    r"\b(?:never|don'?t|do\s+not|must\s+not|mustn'?t|should\s+not|shouldn'?t|avoid|not\s+to|no\s+need\s+to|"
    r"instead\s+of|rather\s+than|forbidden|prohibited|stop\s+using)\b[^,;:.!?]*$",
    re.IGNORECASE,
)
"""A prohibition that governs the command: no clause break (``,;:.!?``) between it and the command
("Never run `kubectl apply`"), so "To avoid downtime, run `kubectl scale`" is still a step."""
_LIST_GAP = re.compile(r"[\s`*_]*(?:(?:,|\bor\b|\band\b|\bnor\b)[\s`*_]*)*")
"""What may stand between two commands of one list ("`a`**, `b` or `c`"): no clause break."""
_OPEN_PROHIBITION = re.compile(_PROHIBITION.pattern.replace("[^,;:.!?]*$", "[^;:.!?]*$"), re.IGNORECASE)
"""A line that ends inside a prohibition's list (commas allowed): the next line may continue it."""
_SEGMENT_END = re.compile(r"\|\|?|&&|;|`|\)")
_READ_ONLY = frozenset(
    {
        *("cat", "ls", "ll", "env", "printenv", "ps", "df", "du", "id", "whoami", "date", "hostname"),
        *("uname", "uptime", "nslookup", "dig", "host", "ping", "head", "tail", "less", "more", "grep"),
        *("find", "stat", "top", "free", "netstat", "ss", "lsblk", "blkid", "journalctl", "dmesg", "echo"),
        *(
            "true",
            "pwd",
            "which",
            "wc",
            "getent",
            "nproc",
            "lscpu",
            "showmount",
            "exportfs -v",
            "exportfs -s",
        ),
        *("systemctl status", "systemctl is-active", "systemctl show", "systemctl list-units"),
        *("vault status", "vault read", "vault list", "zpool status", "zpool list", "zfs list"),
        *("pvecm status", "pvesm status", "etcdctl get", "etcdctl endpoint", "kubectl get"),
    }
)
_SSH_ARG_FLAGS = set("bcDEeFIiJLlmOopQRSWw")


def _words(segment: str) -> list[str]:
    try:
        return shlex.split(segment, comments=False)
    except ValueError:
        return segment.split()


def _read_only_command(words: list[str]) -> bool:
    """A remote command that only reads: its first word (or first two) is in ``_READ_ONLY``."""
    if not words:
        return False
    if words[0] == "exportfs":
        return _exportfs_reads(words[1:])
    return words[0] in _READ_ONLY or " ".join(words[:2]) in _READ_ONLY


def _exportfs_reads(args: list[str]) -> bool:
    return not any(a.startswith("-") and set(a[1:]) & set("rauo") for a in args)


def _ssh_command(words: list[str]) -> list[str]:
    """The remote command of ``ssh [options] host command...`` (empty: an interactive login)."""
    i = 1
    while i < len(words) and words[i].startswith("-"):
        flag = words[i]
        i += 2 if len(flag) == 2 and flag[1] in _SSH_ARG_FLAGS else 1
    return words[i + 1 :]


def _changes_state(verb: str, segment: str) -> bool:
    """Whether one matched command, read to the end of its pipeline segment, changes state."""
    if re.search(r"--dry-run\b|--server-dry-run\b", segment):
        return False
    words = _words(segment)
    if verb == "kubectl exec":
        if "--" not in words:
            return True  # interactive, or a command we cannot see
        return not _read_only_command(words[words.index("--") + 1 :])
    if verb == "ssh":
        return not _read_only_command(_ssh_command(words))
    if verb == "exportfs":
        return not _exportfs_reads(words[1:])
    if verb == "scp":
        args = [w for w in words[1:] if not w.startswith("-")]
        return bool(args) and ":" in args[-1]
    return True


def _verb_name(command: str) -> str:
    """'kubectl -n x scale' -> 'kubectl scale'; 'ssh ' -> 'ssh'."""
    words = command.split()
    if words[0] == "kubectl":
        verb = words[-2:] if len(words) >= 3 and words[-2] == "rollout" else words[-1:]
        return " ".join(["kubectl", *verb])
    return " ".join(words[:2]) if words[0] == "helm" else words[0]


def first_step(text: str, continued: bool = False) -> str | None:
    """The first command on a line that changes state (its name), or None when the line has none.

    ``continued``: the line goes on a sentence whose prohibition the line before left open ("do not
    run `kubectl edit`," / "`kubectl apply` or `helm upgrade`"). A command listed right after a
    governed one (", `x`", " or `y`") is governed by the same prohibition."""
    governed_to: int | None = 0 if continued else None
    for m in _VERB.finditer(text):
        listed = governed_to is not None and _LIST_GAP.fullmatch(text[governed_to : m.start()])
        if listed or _PROHIBITION.search(text[: m.start()]):
            tick = text.find("`", m.end())
            governed_to = tick + 1 if tick >= 0 else m.end()
            continue
        governed_to = None
        end = _SEGMENT_END.search(text, m.end())
        segment = text[m.start() : end.start() if end else len(text)]
        verb = _verb_name(m.group(0))
        if _changes_state(verb, segment):
            return verb
    return None


def _continues(before: str, text: str) -> bool:
    """``text`` goes on the prohibition ``before`` left open: it starts with a command of the list."""
    gap = _LIST_GAP.match(text)
    return (
        _OPEN_PROHIBITION.search(before) is not None
        and gap is not None
        and bool(_VERB.match(text, gap.end()))
    )


def _steps(ctx: CheckContext) -> tuple[list[tuple[Hit, str]], Search, str]:
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    found = search(ctx, AGENT, IMPERATIVE_PATTERN, glob=DOC_AND_SCRIPT_GLOB, exclude_dirs=snapshots)
    lines = {(hit.path, hit.line): hit.text for hit in found.hits}
    steps = []
    for hit in found.hits:
        if hit.path.lower().endswith(_NOT_DOCS):
            continue
        before = lines.get((hit.path, hit.line - 1))
        verb = first_step(hit.text, continued=before is not None and _continues(before, hit.text))
        if verb is not None:
            steps.append((hit, verb))
    return steps, found, listing_ev


def _detection(ctx: CheckContext, notes: bool) -> Detection:
    steps, found, listing_ev = _steps(ctx)
    locations = [
        Location(ref=hit.ref, subject=verb, detail=trim(hit.text))
        for hit, verb in steps
        if (NOTES.search(hit.path) is not None) == notes
    ]
    return Detection(
        count=len(locations),
        locations=locations,
        evidence=[found.evidence, listing_ev],
        note=problems(found),
    )


@detector("DEC-IMPERATIVE-DOCS")
def imperative_docs(ctx: CheckContext) -> Detection:
    """Lines of runbooks, docs and scripts with a command that changes state by hand (not a prohibition,
    a read-only command or a dry run); one location per line, subject = the first such command."""
    return _detection(ctx, notes=False)


@detector("DEC-IMPERATIVE-NOTES")
def imperative_notes(ctx: CheckContext) -> Detection:
    """The same steps in plans, changelogs, archived docs and prompts for coding agents; reported apart."""
    return _detection(ctx, notes=True)
