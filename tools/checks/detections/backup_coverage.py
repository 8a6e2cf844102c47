"""Which backup job covers which claim: the rules of ``reliability_backup.py`` (its docstring has
them), and ``askable``, which finds the few jobs that can cover a claim without asking every job
(issue 13: claims and jobs both grow with the cluster)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Claim:
    """A persistent volume claim as backups see it: where it lives and who writes to it."""

    namespace: str | None
    name: str
    ref: str
    users: tuple[str, ...]
    origin: str

    @property
    def subject(self) -> str:
        return f"PersistentVolumeClaim/{self.namespace or '-'}/{self.name}"


@dataclass
class BackupJob:
    """A backup job (or Velero Schedule) and what it is known to touch."""

    kind: str
    namespace: str | None
    name: str
    ref: str
    mounts: frozenset[str] = frozenset()
    text: str = ""
    suspended: bool = False
    velero_namespaces: tuple[frozenset[str], frozenset[str]] | None = None
    """For a Velero Schedule: (included, excluded) namespaces; '*' in included means all."""
    notes: list[str] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return f"{self.kind}/{self.namespace or '-'}/{self.name}"


# ----------------------------------------------------------------------------------- coverage


def _mentions(text: str, word: str) -> bool:
    """``word`` appears in ``text`` as a whole word (hyphens and dots are boundaries)."""
    if word not in text:  # the cheap test first: most claims are not mentioned by most jobs
        return False
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def covers(job: BackupJob, claim: Claim) -> str | None:
    """Why ``job`` covers ``claim`` (a short reason), or None when it does not."""
    if job.suspended:
        return None
    if job.velero_namespaces is not None:
        included, excluded = job.velero_namespaces
        in_scope = ("*" in included or claim.namespace in included) and claim.namespace not in excluded
        return f"Velero Schedule {job.name}" if in_scope else None
    if job.namespace == claim.namespace and claim.name in job.mounts:
        return f"{job.subject} mounts it"
    for word in (claim.name, *claim.users):
        wanted = word if job.namespace == claim.namespace else f"{word}.{claim.namespace}"
        if _mentions_either(job.name, job.text, wanted):
            return f"{job.subject} mentions {wanted}"
    return None


def _mentions_either(name: str, text: str, word: str) -> bool:
    """``_mentions`` of ``f"{name}\\n{text}"``, without building that text for every claim asked (95k
    times at 10k pods): a word without a line break is in one part or the other, and the break
    between them is a boundary as the start and end of a part are."""
    if "\n" in word:
        return _mentions(f"{name}\n{text}", word)
    return _mentions(name, word) or _mentions(text, word)


_WORD = re.compile(r"[A-Za-z0-9_]+")


def askable(jobs: list[BackupJob]) -> Callable[[Claim], list[BackupJob]]:
    """For a claim, the jobs that can cover it (``covers`` decides), so not every job is asked.

    A job covers by scope (Velero: one job per distinct scope is enough to ask), by a mount in the
    claim's namespace, or by a whole-word mention, each of whose words is then a whole word of the
    job's name or text: of a job in the claim's namespace, the claim's word; of another, the word
    then its namespace (``covers``). So the jobs asked are those of the claim's namespace holding the
    claim word's rarest word, and those holding the rarest word of "word.namespace". (By its first
    word only, a generated cluster's copies of one namespace asked each other's jobs: 95,266
    ``covers`` at 10k pods, four times that at 20k.) A word that starts with a separator asks every
    job."""
    scoped: dict[tuple[frozenset[str], frozenset[str]], BackupJob] = {}
    by_mount: dict[tuple[str | None, str], list[int]] = {}
    by_word: dict[str, list[int]] = {}
    by_home_word: dict[tuple[str | None, str], list[int]] = {}
    for index, job in enumerate(jobs):
        if job.velero_namespaces is not None:
            if not job.suspended:
                scoped.setdefault(job.velero_namespaces, job)
            continue
        for mount in job.mounts:
            by_mount.setdefault((job.namespace, mount), []).append(index)
        for word in set(_WORD.findall(f"{job.name}\n{job.text}")):
            by_word.setdefault(word, []).append(index)
            by_home_word.setdefault((job.namespace, word), []).append(index)

    def of(claim: Claim) -> list[BackupJob]:
        found = set(by_mount.get((claim.namespace, claim.name), ()))
        for word in (claim.name, *claim.users):
            if _WORD.match(word) is None:
                return jobs
            home = [by_home_word.get((claim.namespace, w), []) for w in _WORD.findall(word)]
            away = [by_word.get(w, []) for w in _WORD.findall(f"{word}.{claim.namespace}")]
            rarest: list[list[int]] = [min(home, key=len), min(away, key=len)]
            found.update(*rarest)
        return list(scoped.values()) + [jobs[i] for i in sorted(found)]

    return of
