"""REL-PVC-NO-BACKUP over the code joined with a cluster: the claims no backup job covers.

Part of ``joined_count.py`` and, without a cluster, of ``objects_count.py`` (run them, not this file):
the standard library only, the rules of the check's catalog row written again.

* Claims: every PersistentVolumeClaim of the code; every volumeClaimTemplate of a code StatefulSet,
  as the claims its controller makes, ``<template>-<statefulset>-<ordinal>`` per replica (ordinal 0
  alone when replicas is not a number, or 0); every live claim the code does not name.
* A claim's users: the workloads (not Jobs or CronJobs) that mount it; for a live claim also the
  StatefulSet whose template made it.
* Backup jobs: CronJobs and Jobs of the code, and live ones the code does not define (a live Job a
  CronJob owns is not one of its own), named backup, dump, snapshot, restic, velero, borg or rsync;
  a Velero Schedule (``velero.io``, named): in the code (YAML, a Terraform ``kubernetes_manifest``), and
  live ones the code does not define.
* A job covers a claim when it mounts it (same namespace), or its name, command or args mention the
  claim or one of its users as a whole word (from another namespace: ``<word>.<namespace>``); a
  Schedule covers its namespaces (every one by default); a suspended CronJob covers nothing.
"""

from __future__ import annotations

import re
from typing import Any

from k8s_objects import meta
from objects_count import Obj, d, kinds, pod, seq

BACKUP = re.compile(r"backup|dump|snapshot|restic|velero|borg|rsync", re.IGNORECASE)
JOBS = ("CronJob", "Job")
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
    for c in kinds(live, "PersistentVolumeClaim"):
        ns, name = meta(c).get("namespace"), str(meta(c).get("name") or "")
        if not name or (ns, name) in known:
            continue
        owners = tuple(
            str(meta(s)["name"])
            for s in kinds(workloads, "StatefulSet")
            if meta(s).get("namespace") == ns
            and meta(s).get("name")
            and any(
                re.fullmatch(
                    rf"{re.escape(str(meta(t).get('name') or ''))}-{re.escape(str(meta(s)['name']))}-\d+",
                    name,
                )
                for t in seq(d(s, "spec"), "volumeClaimTemplates")
            )
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
    written_keys = {key(s)[1:] for s in written}
    found += [scope(s) for s in written]
    found += [scope(s) for s in kinds(live, "Schedule") if velero(s) and key(s)[1:] not in written_keys]
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


def pvc_no_backup(code: list[Obj], live: list[Obj], workloads: list[Obj], manifests: list[Obj]) -> int:
    """Claims no backup job covers; without a cluster: ``pvc_no_backup(objs, [], objs, [])``."""
    found = jobs(code, live, manifests)
    return sum(not any(covers(j, c) for j in found) for c in claims(code, live, workloads))
