"""REL-PVC-NO-BACKUP over the code joined with a cluster: the claims no backup job covers.

Part of ``joined_count.py`` and, without a cluster, of ``objects_count.py`` (run them, not this file):
the standard library only, the rules of the check's catalog row written again.

* Claims: every PersistentVolumeClaim of the code; every volumeClaimTemplate of a code StatefulSet,
  as the claims its controller makes, ``<template>-<statefulset>-<ordinal>`` per replica (ordinal 0
  alone when replicas is not a number, or 0); every live claim the code does not name, but one bound
  to no volume (phase Pending or Lost: no data to back up).
* A claim's users: the workloads (not Jobs or CronJobs) that mount it; for a live claim also the
  StatefulSet whose template made it.
* Backup jobs: CronJobs and Jobs of the code, and live ones the code does not define (a live Job a
  CronJob owns is not one of its own), named backup, dump, snapshot, restic, velero, borg or rsync;
  a Velero Schedule (``velero.io``, named): in the code (YAML, a Terraform ``kubernetes_manifest``), and
  live ones the code does not define.
* A job covers a claim when it mounts it (same namespace), or its name, command or args mention the
  claim or one of its users as a whole word (from another namespace: ``<word>.<namespace>``); a
  Schedule covers its namespaces (every one by default); a suspended CronJob covers nothing.

Each claim asks only the jobs that can cover it (``askable``: the jobs by mount and by word, made
once), and each StatefulSet's claim names are patterns made once: asking every job about every claim
took more than a minute at 10k pods.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from k8s_objects import meta
from objects_count import Obj, d, kinds, pod, seq

BACKUP = re.compile(r"backup|dump|snapshot|restic|velero|borg|rsync", re.IGNORECASE)
JOBS = ("CronJob", "Job")
NO_VOLUME = ("Pending", "Lost")  # a live claim bound to no volume holds no data to back up
Claim = tuple[Any, str, tuple[str, ...]]


def key(o: Obj) -> tuple[Any, Any, Any]:
    return (o.get("kind"), meta(o).get("namespace"), meta(o).get("name"))


def mounts(w: Obj) -> list[str]:
    return [
        str(d(v, "persistentVolumeClaim").get("claimName"))
        for v in seq(pod(w), "volumes")
        if d(v, "persistentVolumeClaim").get("claimName")
    ]


def claims(code: list[Obj], live: list[Obj], workloads: list[Obj]) -> list[Claim]:
    users: dict[tuple[Any, str], set[str]] = {}
    for w in workloads:
        if meta(w).get("name") and w.get("kind") not in JOBS:
            for name in mounts(w):
                users.setdefault((meta(w).get("namespace"), name), set()).add(str(meta(w)["name"]))

    def used(ns: Any, name: str) -> tuple[str, ...]:
        return tuple(sorted(users.get((ns, name), ())))

    found: list[Claim] = [
        (meta(c).get("namespace"), str(meta(c)["name"]), used(meta(c).get("namespace"), str(meta(c)["name"])))
        for c in kinds(code, "PersistentVolumeClaim")
        if meta(c).get("name")
    ]
    for sts in kinds(code, "StatefulSet"):
        name, ns, count = meta(sts).get("name"), meta(sts).get("namespace"), d(sts, "spec").get("replicas", 1)
        for template in seq(d(sts, "spec"), "volumeClaimTemplates") if name else []:
            if meta(template).get("name"):
                ordinals = count if isinstance(count, int) and count > 0 else 1
                found += [(ns, f"{meta(template)['name']}-{name}-{i}", (str(name),)) for i in range(ordinals)]
    known = {(ns, name) for ns, name, _ in found}
    # each StatefulSet's claim names as patterns, by namespace: made once, not once per live claim
    makers: dict[Any, list[tuple[str, list[re.Pattern[str]]]]] = {}
    for s in kinds(workloads, "StatefulSet"):
        if meta(s).get("name"):
            sts = str(meta(s)["name"])
            patterns = [
                re.compile(rf"{re.escape(str(meta(t).get('name') or ''))}-{re.escape(sts)}-\d+")
                for t in seq(d(s, "spec"), "volumeClaimTemplates")
            ]
            makers.setdefault(meta(s).get("namespace"), []).append((sts, patterns))
    for c in kinds(live, "PersistentVolumeClaim"):
        ns, name = meta(c).get("namespace"), str(meta(c).get("name") or "")
        if not name or (ns, name) in known or d(c, "status").get("phase") in NO_VOLUME:
            continue
        owners = tuple(
            sts for sts, patterns in makers.get(ns, ()) if any(p.fullmatch(name) for p in patterns)
        )
        found.append((ns, name, used(ns, name) + owners))
    return found


def words(value: Any) -> list[str]:
    if isinstance(value, list):
        return [w for item in value for w in words(item)]
    return [] if value is None or isinstance(value, dict) else [str(value)]


def jobs(code: list[Obj], live: list[Obj], manifests: list[Obj]) -> list[dict[str, Any]]:
    """Each backup job as {ns, name, mounts, text, suspended} or a Schedule as {scope: (in, out)}."""
    defined = {key(o) for o in code if o.get("kind") in ("Deployment", "StatefulSet", "DaemonSet", *JOBS)}
    suspended_live = {key(c) for c in kinds(live, "CronJob") if d(c, "spec").get("suspend") is True}
    chosen = [(j, True) for j in kinds(code, *JOBS)] + [
        (j, False)
        for j in kinds(live, *JOBS)
        if key(j) not in defined and not (j["kind"] == "Job" and seq(meta(j), "ownerReferences"))
    ]
    found: list[dict[str, Any]] = []
    for job, in_code in chosen:
        name = str(meta(job).get("name") or "")
        if not name or not BACKUP.search(name):
            continue
        containers = seq(pod(job), "containers") + (seq(pod(job), "initContainers") if in_code else [])
        text = "\n".join(w for c in containers for k in ("command", "args") for w in words(c.get(k)))
        suspended = d(job, "spec").get("suspend") is True or key(job) in suspended_live
        namespace = meta(job).get("namespace")
        found.append(
            {"ns": namespace, "name": name, "mounts": set(mounts(job)), "text": text, "suspended": suspended}
        )
    written = [s for s in kinds(code, "Schedule") + kinds(manifests, "Schedule") if velero(s)]
    defined_here = {key(s)[1:] for s in written}
    found += [scope(s) for s in written]
    found += [scope(s) for s in kinds(live, "Schedule") if velero(s) and key(s)[1:] not in defined_here]
    return found


def velero(schedule: Obj) -> bool:
    """A Velero Schedule with a name (the API server refuses one without: it never runs)."""
    return str(schedule.get("apiVersion", "")).startswith("velero.io/") and bool(meta(schedule).get("name"))


def scope(schedule: Obj) -> dict[str, Any]:
    template = d(d(schedule, "spec"), "template")
    included = {str(n) for n in seq(template, "includedNamespaces")} or {"*"}
    return {"scope": (included, {str(n) for n in seq(template, "excludedNamespaces")})}


def mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def covers(job: dict[str, Any], claim: Claim) -> bool:
    ns, name, users = claim
    if "scope" in job:
        included, excluded = job["scope"]
        return ("*" in included or ns in included) and ns not in excluded
    if job["suspended"]:
        return False
    if job["ns"] == ns and name in job["mounts"]:
        return True
    text = f"{job['name']}\n{job['text']}"
    return any(mentions(text, w if job["ns"] == ns else f"{w}.{ns}") for w in (name, *users))


WORD = re.compile(r"[A-Za-z0-9_]+")


def askable(found: list[dict[str, Any]]) -> Callable[[Claim], list[dict[str, Any]]]:
    """For a claim, the jobs that can cover it (``covers`` decides), so not every job is asked: a
    Schedule always; a job that mounts the claim's name in its namespace; one of its namespace whose
    name or text has, as a whole word, the first word of the claim's name or of a user's (a whole-word
    mention of ``mysql-data`` starts with the whole word ``mysql``); one of another namespace whose
    text has the first and the last word of ``<name>.<namespace>`` as whole words. A name that does
    not start with a letter, digit or ``_`` asks every job."""
    scoped = [j for j in found if "scope" in j]
    by_mount: dict[tuple[Any, str], set[int]] = {}
    here: dict[tuple[Any, str], set[int]] = {}
    anywhere: dict[str, set[int]] = {}
    for i, job in enumerate(found):
        if "scope" in job or job["suspended"]:
            continue
        for mount in job["mounts"]:
            by_mount.setdefault((job["ns"], mount), set()).add(i)
        for word in set(WORD.findall(f"{job['name']}\n{job['text']}")):
            here.setdefault((job["ns"], word), set()).add(i)
            anywhere.setdefault(word, set()).add(i)

    def of(claim: Claim) -> list[dict[str, Any]]:
        ns, name, users = claim
        asked = set(by_mount.get((ns, name), ()))
        for word in (name, *users):
            if WORD.match(word) is None:
                return found
            runs = WORD.findall(f"{word}.{ns}")  # every run is a whole word where the text mentions it
            asked |= here.get((ns, runs[0]), set())
            asked |= anywhere.get(runs[0], set()) & anywhere.get(runs[-1], set())
        return scoped + [found[i] for i in sorted(asked)]

    return of


def pvc_no_backup(code: list[Obj], live: list[Obj], workloads: list[Obj], manifests: list[Obj]) -> int:
    """Claims no backup job covers; without a cluster: ``pvc_no_backup(objs, [], objs, [])``."""
    found = jobs(code, live, manifests)
    ask = askable(found)
    return sum(not any(covers(j, c) for j in ask(c)) for c in claims(code, live, workloads))
