"""REL-PVC-NO-BACKUP over an estate's objects, without a cluster: claims no backup job covers.

A reader's rule (the standard library only), written again from the check's definition
(``tools/checks/detections/reliability_backup.py``'s docstring), for ``objects_count.py``:

* claims: every PersistentVolumeClaim, and every StatefulSet volumeClaimTemplate as the claims the
  controller makes, ``<template>-<statefulset>-<ordinal>`` for each replica (ordinal 0 alone when
  replicas is not a number or 0); a claim's users are the long-running workloads that mount it (for a
  template, its StatefulSet);
* backup jobs: CronJobs and Jobs named backup, dump, snapshot, restic, velero, borg or rsync (any
  case), and Velero Schedules (velero.io); a suspended CronJob covers nothing;
* a job covers a claim when it mounts it (same namespace), or its name, command or args mention the
  claim or a user as a whole word (``<word>.<namespace>`` from another namespace); a Schedule covers
  the namespaces it includes (all by default) and does not exclude.
"""

from __future__ import annotations

import re
from typing import Any

Obj = dict[str, Any]
BACKUP = re.compile(r"backup|dump|snapshot|restic|velero|borg|rsync", re.IGNORECASE)


def _d(obj: Any, key: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, dict) else {}


def _seq(obj: Any, key: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, list) else []


def _pod(w: Obj) -> Obj:
    spec = _d(w, "spec")
    return (
        _d(_d(_d(spec, "jobTemplate"), "spec") if "jobTemplate" in spec else spec, "template").get("spec")
        or {}
    )


def _mounts(w: Obj) -> set[str]:
    return {
        str(_d(v, "persistentVolumeClaim").get("claimName"))
        for v in _seq(_pod(w), "volumes")
        if _d(v, "persistentVolumeClaim").get("claimName")
    }


def _ns(o: Obj) -> Any:
    return _d(o, "metadata").get("namespace")


def _name(o: Obj) -> Any:
    return _d(o, "metadata").get("name")


def _mentions(text: str, word: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def claims(objs: list[Obj]) -> list[tuple[Any, str, tuple[str, ...]]]:
    """(namespace, claim, users) of every claim."""
    users: dict[tuple[Any, str], set[str]] = {}
    for w in objs:
        if w.get("kind") in ("Deployment", "StatefulSet", "DaemonSet") and _name(w):
            for claim in _mounts(w):
                users.setdefault((_ns(w), claim), set()).add(str(_name(w)))
    out = [
        (_ns(p), str(_name(p)), tuple(sorted(users.get((_ns(p), str(_name(p))), ()))))
        for p in objs
        if p.get("kind") == "PersistentVolumeClaim" and _name(p)
    ]
    for sts in objs:
        if sts.get("kind") != "StatefulSet" or not _name(sts):
            continue
        count = _d(sts, "spec").get("replicas", 1)
        ordinals = range(count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1)
        for template in _seq(_d(sts, "spec"), "volumeClaimTemplates"):
            if _name(template):
                out += [
                    (_ns(sts), f"{_name(template)}-{_name(sts)}-{i}", (str(_name(sts)),)) for i in ordinals
                ]
    return out


def covered(job: Obj, namespace: Any, claim: str, users: tuple[str, ...]) -> bool:
    if job.get("kind") == "Schedule":
        spec = _d(job, "spec").get("template") or {}
        included = {str(n) for n in _seq(spec, "includedNamespaces")} or {"*"}
        excluded = {str(n) for n in _seq(spec, "excludedNamespaces")}
        return ("*" in included or namespace in included) and namespace not in excluded
    if _d(job, "spec").get("suspend") is True:
        return False
    if _ns(job) == namespace and claim in _mounts(job):
        return True
    containers = _seq(_pod(job), "initContainers") + _seq(_pod(job), "containers")
    words = [str(x) for c in containers for k in ("command", "args") for x in _seq(c, k)]
    text = "\n".join([str(_name(job)), *words])
    return any(_mentions(text, w if _ns(job) == namespace else f"{w}.{namespace}") for w in (claim, *users))


def pvc_no_backup(objs: list[Obj]) -> int:
    jobs = [o for o in objs if o.get("kind") in ("CronJob", "Job") and BACKUP.search(str(_name(o) or ""))]
    jobs += [
        o
        for o in objs
        if o.get("kind") == "Schedule" and str(o.get("apiVersion", "")).startswith("velero.io/")
    ]
    return sum(not any(covered(j, ns, claim, users) for j in jobs) for ns, claim, users in claims(objs))
