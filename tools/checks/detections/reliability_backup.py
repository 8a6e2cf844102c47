"""Backup coverage: which persistent volumes a backup job covers, and whether restores are drilled.

What counts as a PVC (each once):

- every PersistentVolumeClaim defined in code;
- every volumeClaimTemplate of a StatefulSet in code, expanded to the claims the controller creates,
  ``<template>-<statefulset>-<ordinal>`` for each replica (ordinal 0 alone when replicas is an
  unresolved expression or 0: the first claim exists, or existed, either way);
- every live claim that no code claim matches by namespace and name (a live-only app, or the claims
  of replicas scaled up by hand), but one bound to no volume (phase Pending or Lost: a claim waiting
  for its first consumer, or whose volume is gone, holds no data to back up).

Claims whose name did not resolve are skipped and named in the note.

What counts as a backup job: a CronJob or Job (code, or live and not in code) whose name matches
``backup|dump|snapshot|restic|velero|borg|rsync`` (any case), or a Velero ``Schedule`` (``velero.io``
group) in code (a YAML manifest, a Terraform ``kubernetes_manifest``/``kubectl_manifest``, a chart's
render) or live and not in code (same namespace and name).

A backup job covers a claim when:

- it mounts the claim (same namespace); or
- its name, or its containers' command or args, mention the claim's name or the name of a workload
  that mounts it (for a volumeClaimTemplate, its StatefulSet), as a whole word (``mysql`` matches
  ``mysql-backup`` and ``-h mysql``, not ``mysqldump``). A job in another namespace must name the
  service form ``<workload>.<namespace>``: a bare ``mysql`` in another namespace's job is a
  different mysql.
- it is a Velero Schedule whose namespaces include the claim's (Velero's default is every
  namespace; a Schedule's ``includedNamespaces``/``excludedNamespaces`` are read, live through ``kube_get``).

A suspended CronJob covers nothing (it does not run) but is still a backup job for the restore
drill check. A backup job that runs and fails still covers its claims: the failures are
REL-LIVE-JOB-FAILED's and REL-LIVE-CRONJOB-STALE's findings, not a gap in coverage.

Command and args are read through the sandboxed tools (``repo_read`` of the job's lines in code,
``kube_get`` for a live-only job), so the evidence ids land in ``Detection.evidence``. When a read
fails the job is still judged by its name and mounts, and the note says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from domain.concerns import agent_label
from domain.findings import Location
from domain.results import ToolStatus
from tools.checks.detections import common
from tools.checks.detections.backup_coverage import BackupJob, Claim, askable, covers
from tools.checks.detections.facts import claim_names, replicas
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import CodeRef, Workload

BACKUP_NAME = re.compile(r"backup|dump|snapshot|restic|velero|borg|rsync", re.IGNORECASE)
RESTORE_NAME = re.compile(r"restore", re.IGNORECASE)
JOB_KINDS = ("CronJob", "Job")
NO_VOLUME = ("Pending", "Lost")
"""The phases of a live claim bound to no volume."""
_COMMAND_KEY = re.compile(r"^(?P<indent>\s*(?:-\s+)?)(?P<key>command|args)\s*(?P<sep>[:=])\s*(?P<rest>.*)$")
_YAML_BLOCK_STARTS = frozenset({"", "|", ">", "|-", ">-", "|+", ">+"})
_READ_LINE = re.compile(r"^\s*\d+: ?(?P<text>.*)$")
_POD_SPEC = {
    "CronJob": "spec.jobTemplate.spec.template.spec",
    "Job": "spec.template.spec",
}


# ------------------------------------------------------------------------------------- claims


def _claim_users(workloads: Iterable[Workload]) -> dict[tuple[str | None, str], tuple[str, ...]]:
    """(namespace, claim) -> names of the long-running workloads that mount it (jobs are not users)."""
    users: dict[tuple[str | None, str], set[str]] = {}
    for workload in workloads:
        if workload.name and workload.kind not in JOB_KINDS:
            for claim in claim_names(workload):
                users.setdefault((workload.namespace, claim), set()).add(workload.name)
    return {key: tuple(sorted(names)) for key, names in users.items()}


def _template_owner(statefulsets: Iterable[Workload], name: str) -> tuple[str, ...]:
    """The StatefulSet whose volumeClaimTemplate created claim ``name`` (``<template>-<sts>-<ordinal>``)."""
    return tuple(
        sts.name
        for sts in statefulsets
        if sts.name
        and any(
            re.fullmatch(rf"{re.escape(t.name or '')}-{re.escape(sts.name)}-\d+", name)
            for t in sts.volume_claim_templates
        )
    )


def collect_claims(ctx: CheckContext) -> tuple[list[Claim], list[str]]:
    """Every claim considered (see the module docstring) and the refs of the ones skipped."""
    inventory = ctx.inventory
    workloads = common.workloads(inventory)
    users = _claim_users(workloads)
    claims: list[Claim] = []
    skipped: list[str] = []
    for pvc in inventory.code.pvcs:
        if pvc.name is None:
            skipped.append(str(pvc.source))
            continue
        used_by = users.get((pvc.namespace, pvc.name), ())
        claims.append(Claim(pvc.namespace, pvc.name, str(pvc.source), used_by, "PersistentVolumeClaim"))
    for sts in inventory.code.workloads:
        if sts.kind != "StatefulSet" or not sts.volume_claim_templates:
            continue
        if sts.name is None:
            skipped.append(str(sts.source))
            continue
        for template in sts.volume_claim_templates:
            if template.name is None:
                skipped.append(str(template.source))
                continue
            origin = f"volumeClaimTemplate {template.name} of StatefulSet {sts.name}"
            for ordinal in range(replicas(sts) or 1):
                name = f"{template.name}-{sts.name}-{ordinal}"
                claims.append(Claim(sts.namespace, name, str(template.source), (sts.name,), origin))
    known = {(c.namespace, c.name) for c in claims}
    statefulsets: dict[str | None, list[Workload]] = {}
    for workload in workloads:
        if workload.kind == "StatefulSet" and workload.volume_claim_templates:
            statefulsets.setdefault(workload.namespace, []).append(workload)
    for pvc in inventory.live.pvcs if inventory.live is not None else []:
        if pvc.name is None or (pvc.namespace, pvc.name) in known or pvc.phase in NO_VOLUME:
            continue
        used_by = users.get((pvc.namespace, pvc.name), ()) + _template_owner(
            statefulsets.get(pvc.namespace, []), pvc.name
        )
        claims.append(Claim(pvc.namespace, pvc.name, str(pvc.source), used_by, "live PersistentVolumeClaim"))
    return claims, skipped


# ---------------------------------------------------------------------------------- backup jobs


def _job_workloads(ctx: CheckContext) -> list[Workload]:
    """CronJobs and Jobs from code, plus live ones no code defines (standalone live Jobs included)."""
    inventory = ctx.inventory
    code = [w for w in inventory.code.workloads if w.kind in JOB_KINDS]
    if inventory.live is None:
        return code
    code_keys = {w.key for w in inventory.code.workloads}
    return code + [w for w in inventory.live.workloads if w.kind in JOB_KINDS and w.key not in code_keys]


def _in_yaml_block(line: str, key_indent: int) -> bool:
    """Whether ``line`` still belongs to the block value of a YAML key indented by ``key_indent``."""
    stripped = line.strip()
    if not stripped:
        return True
    indent = len(line) - len(line.lstrip())
    is_item = stripped == "-" or stripped.startswith("- ")
    return indent > key_indent or (indent == key_indent and is_item)


def _command_lines(lines: list[str]) -> list[str]:
    """The ``command``/``args`` values in YAML or HCL text: inline, or the block that follows the key.

    An HCL list or YAML flow list runs until its brackets balance; a YAML block (a list or a
    ``|`` scalar) runs while lines are indented deeper than the key (or are items at its level).
    """
    found: list[str] = []
    index = 0
    while index < len(lines):
        m = _COMMAND_KEY.match(lines[index])
        index += 1
        if m is None:
            continue
        rest = m.group("rest").strip()
        found.append(rest)
        depth = rest.count("[") - rest.count("]")
        yaml_block = m.group("sep") == ":" and rest in _YAML_BLOCK_STARTS
        key_indent = len(m.group("indent"))
        while index < len(lines) and (depth > 0 or (yaml_block and _in_yaml_block(lines[index], key_indent))):
            line = lines[index]
            if depth > 0:
                depth += line.count("[") - line.count("]")
            found.append(line.strip())
            index += 1
    return found


def _read_code_text(ctx: CheckContext, source: CodeRef, evidence: list[str]) -> str | None:
    """Command/args of a job in code, read with repo_read from its first line to its last."""
    args: dict[str, Any] = {"path": source.path, "start": source.line}
    if source.end_line is not None:
        args["end"] = source.end_line
    ev = ctx.toolbox.call("repo_read", args, agent=agent_label("research", "reliability"))
    evidence.append(ev.id)
    if ev.status == ToolStatus.ERROR:
        return None
    lines: list[str] = []
    for raw in ev.output.splitlines():
        m = _READ_LINE.match(raw)
        if m is None:
            continue
        text = m.group("text")
        if lines and source.end_line is None and text.strip() == "---":
            break  # the next YAML document
        lines.append(text)
    return "\n".join(_command_lines(lines))


def _flatten(value: Any) -> list[str]:
    """Every scalar inside a kube_get ``fields`` payload (lists of rows of lists), as text."""
    if isinstance(value, dict):
        return [s for item in value.values() for s in _flatten(item)]
    if isinstance(value, list):
        return [s for item in value for s in _flatten(item)]
    return [] if value is None else [str(value)]


def _read_live_text(ctx: CheckContext, job: Workload, evidence: list[str]) -> str | None:
    """Command/args of a live job, read with kube_get (fields only)."""
    pod_spec = _POD_SPEC[job.kind]
    fields = [f"{pod_spec}.containers[*].command", f"{pod_spec}.containers[*].args"]
    resource = "cronjobs" if job.kind == "CronJob" else "jobs"
    args = {"resource": resource, "name": job.name, "namespace": job.namespace, "fields": fields}
    ev = ctx.toolbox.call("kube_get", args, agent=agent_label("research", "reliability"))
    evidence.append(ev.id)
    if ev.status == ToolStatus.ERROR:
        return None
    return "\n".join(_flatten(ctx.toolbox.ledger.data(ev.id)))


def _velero_scope(
    ctx: CheckContext, namespace: str | None, name: str, evidence: list[str]
) -> tuple[frozenset[str], frozenset[str]]:
    fields = ["spec.template.includedNamespaces", "spec.template.excludedNamespaces"]
    args = {"resource": "schedules.velero.io", "name": name, "namespace": namespace, "fields": fields}
    ev = ctx.toolbox.call("kube_get", args, agent=agent_label("research", "reliability"))
    evidence.append(ev.id)
    data = ctx.toolbox.ledger.data(ev.id) if ev.status != ToolStatus.ERROR else None
    row = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    included = frozenset(_flatten(row.get(fields[0]))) or frozenset({"*"})
    return included, frozenset(_flatten(row.get(fields[1])))


def collect_backup_jobs(ctx: CheckContext, read_commands: bool = True) -> tuple[list[BackupJob], list[str]]:
    """Backup jobs and Velero Schedules (see the module docstring), and the evidence ids of the reads."""
    evidence: list[str] = []
    jobs: list[BackupJob] = []
    live = ctx.inventory.live
    suspended_live = {("CronJob", c.namespace, c.name) for c in live.cronjobs if c.suspend} if live else set()
    for workload in _job_workloads(ctx):
        if not workload.name or not BACKUP_NAME.search(workload.name):
            continue
        job = BackupJob(
            workload.kind,
            workload.namespace,
            workload.name,
            str(workload.source),
            frozenset(claim_names(workload)),
            suspended=workload.suspend is True or workload.key in suspended_live,
        )
        if read_commands:
            if isinstance(workload.source, CodeRef):
                text = _read_code_text(ctx, workload.source, evidence)
            else:
                text = _read_live_text(ctx, workload, evidence)
            if text is None:
                job.notes.append(
                    f"command/args of {job.subject} could not be read; judged by name and mounts"
                )
            job.text = text or ""
        jobs.append(job)
    inventory = ctx.inventory
    in_code = set()
    for schedule in inventory.code.backup_schedules:  # YAML, Terraform manifests, chart renders
        if schedule.name is None:
            continue  # a Schedule without a name is refused by the API server: it never runs
        in_code.add((schedule.namespace, schedule.name))
        scope = (
            frozenset(schedule.included_namespaces) or frozenset({"*"}),
            frozenset(schedule.excluded_namespaces),
        )
        jobs.append(
            BackupJob(
                "Schedule", schedule.namespace, schedule.name, str(schedule.source), velero_namespaces=scope
            )
        )
    for obj in inventory.live.objects if inventory.live is not None else []:
        if (
            obj.kind == "Schedule"
            and obj.api_version.startswith("velero.io/")
            and (obj.namespace, obj.name) not in in_code  # the code's Schedule, deployed: one
        ):
            scope = (
                _velero_scope(ctx, obj.namespace, obj.name, evidence)
                if read_commands
                else (frozenset({"*"}), frozenset())
            )
            jobs.append(
                BackupJob("Schedule", obj.namespace, obj.name, str(obj.source), velero_namespaces=scope)
            )
    return jobs, evidence


@detector("REL-PVC-NO-BACKUP")
def pvc_no_backup(ctx: CheckContext) -> Detection:
    """PVCs that no backup job covers (the module docstring defines claims, backup jobs and coverage).
    total = claims considered."""
    claims, skipped = collect_claims(ctx)
    jobs, evidence = collect_backup_jobs(ctx) if claims else ([], [])
    locations = []
    candidates = askable(jobs)
    for claim in claims:
        if any(covers(job, claim) for job in candidates(claim)):
            continue
        users = f"; used by {', '.join(claim.users)}" if claim.users else ""
        locations.append(Location(ref=claim.ref, subject=claim.subject, detail=f"{claim.origin}{users}"))
    notes = [n for job in jobs for n in job.notes]
    if skipped:
        notes.append(f"claims with unresolved names skipped: {', '.join(skipped)}")
    return Detection(
        count=len(locations),
        total=len(claims),
        locations=locations,
        evidence=evidence,
        note="; ".join(notes) or None,
    )


@detector("REL-NO-RESTORE-DRILL")
def no_restore_drill(ctx: CheckContext) -> Detection:
    """When at least one backup job exists and no CronJob or Job name mentions a restore
    (restore-drill, restore-test, verify-restore, ...): count = backup jobs, one location each.
    With no backup job, or with a restore job, nothing is reported."""
    jobs, _ = collect_backup_jobs(ctx, read_commands=False)
    if not jobs or any(w.name and RESTORE_NAME.search(w.name) for w in _job_workloads(ctx)):
        return Detection(count=0)
    locations = [
        Location(ref=j.ref, subject=j.subject, detail="backup job; no restore drill job") for j in jobs
    ]
    return Detection(count=len(locations), locations=locations)
