"""Print one check's number over the Kubernetes objects an estate's files declare (``k8s_objects.py``).

A reader's script (the standard library and PyYAML only): the objects come from YAML documents and
Terraform ``kubernetes_*`` resources alike, and each count below is the rule the check's catalog row
states (``counts`` / ``not_counted``), written again without infra-audit's code.

    python3 tools/checks/reproduce_scripts/objects_count.py ROOT CHECK[:MEASURE] [SKIP_DIR ...]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from k8s_objects import d, meta, objects, seq

Obj = dict[str, Any]
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")
SYSTEM = {None, "kube-system", "kube-public", "kube-node-lease"}
DANGEROUS_CAPS = {"SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_RAW", "ALL"}


def pod(w: Obj) -> Obj:
    spec = d(w, "spec")
    return d(d(d(d(spec, "jobTemplate"), "spec") if "jobTemplate" in spec else spec, "template"), "spec")


def containers(w: Obj, init: bool = False) -> list[Obj]:
    spec = pod(w)
    return (seq(spec, "initContainers") if init else []) + seq(spec, "containers")


def kinds(objs: list[Obj], *names: str) -> list[Obj]:
    return [o for o in objs if o.get("kind") in names]


def replicas(w: Obj) -> Any:
    return d(w, "spec").get("replicas", 1)


def strategy(w: Obj) -> Any:
    spec = d(w, "spec")
    return (d(spec, "strategy") or d(spec, "updateStrategy")).get("type")


def probe_any(o: list[Obj]) -> int:
    return sum(
        any(not (c.get("readinessProbe") and c.get("livenessProbe")) for c in containers(w))
        for w in kinds(o, *LONG_RUNNING)
    )


def probe_both(o: list[Obj]) -> int:
    return sum(
        all(not (c.get("readinessProbe") or c.get("livenessProbe")) for c in containers(w))
        for w in kinds(o, *LONG_RUNNING)
    )


def rwo(spec: Obj) -> bool:
    return "ReadWriteOnce" in seq(spec, "accessModes")


def single_replica(o: list[Obj]) -> int:
    claims = {
        (meta(c).get("namespace"), meta(c).get("name"))
        for c in kinds(o, "PersistentVolumeClaim")
        if rwo(d(c, "spec"))
    }

    def pinned(w: Obj) -> bool:
        ns = meta(w).get("namespace")
        mounts = any(
            (ns, d(v, "persistentVolumeClaim").get("claimName")) in claims for v in seq(pod(w), "volumes")
        )
        templates = any(rwo(d(t, "spec")) for t in seq(d(w, "spec"), "volumeClaimTemplates"))
        return strategy(w) == "Recreate" or mounts or templates

    scaled = [w for w in kinds(o, "Deployment", "StatefulSet") if isinstance(replicas(w), int)]
    return sum(replicas(w) == 1 and pinned(w) for w in scaled)


def same(value: Any) -> Any:
    """A namespace as a dict key: itself when it is a plain value, else its repr (a list in odd YAML)."""
    return value if value is None or isinstance(value, (str, int, float)) else ("repr", repr(value))


def no_pdb(o: list[Obj]) -> int:
    budgets: dict[Any, list[dict[str, Any]]] = {}  # selectors by namespace: a workload asks its own only
    for b in kinds(o, "PodDisruptionBudget"):
        selector = d(d(b, "spec"), "selector").get("matchLabels") or {}
        budgets.setdefault(same(meta(b).get("namespace")), []).append(selector)

    def labels(w: Obj) -> dict[str, Any]:
        return {**(meta(w).get("labels") or {}), **(d(d(w, "spec"), "selector").get("matchLabels") or {})}

    scaled = [w for w in kinds(o, "Deployment", "StatefulSet") if isinstance(replicas(w), int)]
    return sum(
        replicas(w) >= 2
        and not any(
            sel.items() <= labels(w).items() for sel in budgets.get(same(meta(w).get("namespace")), ())
        )
        for w in scaled
    )


def recreate_no_grace(o: list[Obj]) -> int:
    return sum(
        strategy(w) == "Recreate"
        and pod(w).get("terminationGracePeriodSeconds") is None
        and not any(d(d(c, "lifecycle"), "preStop") for c in containers(w))
        for w in kinds(o, *WORKLOADS)
    )


def rolling_no_surge(o: list[Obj]) -> int:
    plans = [d(d(w, "spec"), "strategy") for w in kinds(o, "Deployment")]
    return sum(
        s.get("type") in (None, "RollingUpdate")
        and not {"maxSurge", "maxUnavailable"} & set(d(s, "rollingUpdate"))
        for s in plans
    )


def resources(c: Obj, part: str) -> Obj:
    return d(d(c, "resources"), part)


def no_requests(o: list[Obj]) -> int:
    def has(c: Obj, key: str) -> bool:
        return bool(resources(c, "requests").get(key) or resources(c, "limits").get(key))

    return sum(not (has(c, "cpu") and has(c, "memory")) for w in kinds(o, *WORKLOADS) for c in containers(w))


def no_mem_limit(o: list[Obj]) -> int:
    return sum(not resources(c, "limits").get("memory") for w in kinds(o, *WORKLOADS) for c in containers(w))


def cpu_limit(o: list[Obj]) -> int:
    return sum(
        bool(resources(c, "requests").get("cpu")) and not resources(c, "limits").get("cpu")
        for w in kinds(o, *WORKLOADS)
        for c in containers(w)
    )


def contexts(o: list[Obj]) -> list[tuple[Obj, Obj]]:
    return [
        (d(pod(w), "securityContext"), d(c, "securityContext"))
        for w in kinds(o, *WORKLOADS)
        for c in containers(w, init=True)
    ]


def privileged(o: list[Obj]) -> int:
    def caps(s: Obj) -> set[str]:
        return {str(x).upper().removeprefix("CAP_") for x in seq(d(s, "capabilities"), "add")}

    return sum(
        bool(s.get("privileged") or s.get("allowPrivilegeEscalation") or caps(s) & DANGEROUS_CAPS)
        for _, s in contexts(o)
    )


def host_access(o: list[Obj]) -> int:
    return sum(
        any(pod(w).get(k) for k in ("hostNetwork", "hostPID", "hostIPC"))
        or any("hostPath" in v for v in seq(pod(w), "volumes"))
        for w in kinds(o, *WORKLOADS)
    )


def run_as_root(o: list[Obj]) -> int:
    def root(p: Obj, c: Obj) -> bool:
        merged = {**p, **c}
        user = merged.get("runAsUser")
        return not (merged.get("runAsNonRoot") is True or (isinstance(user, int) and user > 0))

    return sum(root(p, c) for p, c in contexts(o))


def image_latest(o: list[Obj]) -> int:
    images: list[str] = [
        c["image"]
        for w in kinds(o, *WORKLOADS)
        for c in containers(w, init=True)
        if isinstance(c.get("image"), str)
    ]

    def tag(image: str) -> str | None:
        name = image.split("@")[0].rsplit("/", 1)[-1]
        return name.split(":", 1)[1] if ":" in name else None

    return sum("@" not in i and not i.startswith("${") and tag(i) in (None, "", "latest") for i in images)


def namespaces(o: list[Obj]) -> list[Any]:
    return [
        (meta(n).get("labels") or {}).get("pod-security.kubernetes.io/enforce")
        for n in kinds(o, "Namespace")
        if meta(n).get("name") not in SYSTEM
    ]


def group(obj: Obj) -> str:
    return str(obj.get("apiVersion", "")).rpartition("/")[0]


def kyverno(o: list[Obj]) -> list[Obj]:
    return [d(p, "spec") for p in kinds(o, "ClusterPolicy", "Policy") if group(p) == "kyverno.io"]


def audit_only(o: list[Obj]) -> int:
    def audit(y: Obj) -> bool:
        enforced_rule = any(
            str(d(r, "validate").get("failureAction") or "").lower() == "enforce" for r in seq(y, "rules")
        )
        return str(y.get("validationFailureAction") or "Audit").lower() != "enforce" and not enforced_rule

    def dry(q: Obj) -> bool:
        action = str(q.get("enforcementAction") or "deny").lower()
        scoped = action == "scoped" and not any(
            str(a.get("action") or "").lower() == "deny" for a in seq(q, "scopedEnforcementActions")
        )
        return action in ("dryrun", "warn") or scoped

    gatekeeper = [d(c, "spec") for c in o if group(c).startswith("constraints.gatekeeper.sh")]
    bindings = [
        p for p in kinds(o, "ValidatingAdmissionPolicyBinding") if group(p) == "admissionregistration.k8s.io"
    ]
    images = [p for p in kinds(o, "ImageValidatingPolicy") if group(p) == "policies.kyverno.io"]
    sigstore = [p for p in kinds(o, "ClusterImagePolicy") if group(p) == "policy.sigstore.dev"]
    return (
        sum("deny" not in [str(a).lower() for a in seq(d(b, "spec"), "validationActions")] for b in bindings)
        + sum(
            bool(seq(d(p, "spec"), "validationActions"))
            and "Deny" not in seq(d(p, "spec"), "validationActions")
            for p in images
        )
        + sum(str(d(p, "spec").get("mode") or "enforce").lower() == "warn" for p in sigstore)
        + sum(audit(y) for y in kyverno(o))
        + sum(dry(q) for q in gatekeeper)
    )


def flux(o: list[Obj]) -> list[Obj]:
    return [
        d(k, "spec") for k in kinds(o, "Kustomization") if "toolkit.fluxcd.io" in str(k.get("apiVersion", ""))
    ]


def on_delete(o: list[Obj]) -> int:
    return sum(strategy(w) == "OnDelete" for w in kinds(o, "StatefulSet", "DaemonSet"))


def rules(role: Obj) -> list[Obj]:
    return [r for r in seq(role, "rules") if isinstance(r, dict)]


def roles(o: list[Obj], *names: str) -> list[Obj]:
    """Roles of the files, once per kind/namespace/name (the first one written wins)."""
    chosen: dict[tuple[Any, Any, Any], Obj] = {}
    for role in kinds(o, *names):
        chosen.setdefault((role["kind"], meta(role).get("namespace"), meta(role).get("name")), role)
    return list(chosen.values())


def rbac_wildcard(o: list[Obj]) -> int:
    return sum(
        any("*" in seq(r, "verbs") or "*" in seq(r, "resources") for r in rules(role))
        for role in roles(o, "Role", "ClusterRole")
    )


def rbac_secrets(o: list[Obj]) -> int:
    def reads(r: Obj) -> bool:
        groups = seq(r, "apiGroups")
        core = not groups or "" in groups or "*" in groups
        on_secrets = {"secrets", "*"} & set(seq(r, "resources"))
        return core and bool(on_secrets) and bool({"get", "list", "watch", "*"} & set(seq(r, "verbs")))

    return sum(any(reads(r) for r in rules(role)) for role in roles(o, "ClusterRole"))


def no_hpa(o: list[Obj]) -> int:
    def stateful(w: Obj) -> bool:
        claims = any("persistentVolumeClaim" in v for v in seq(pod(w), "volumes") if isinstance(v, dict))
        return claims or bool(seq(d(w, "spec"), "volumeClaimTemplates"))

    targeted = {
        (meta(h).get("namespace"), d(d(h, "spec"), "scaleTargetRef").get("name"))
        for h in kinds(o, "HorizontalPodAutoscaler")
        if d(d(h, "spec"), "scaleTargetRef").get("kind") in (None, "Deployment")
    }
    scaled = [
        w
        for w in kinds(o, "Deployment")
        if isinstance(replicas(w), int) and replicas(w) >= 2 and not stateful(w)
    ]
    return sum((meta(w).get("namespace"), meta(w).get("name")) not in targeted for w in scaled)


INFRA = (
    "registry|harbor|zot|distribution|haproxy|nginx-proxy|envoy|pgbouncer|mysql|mariadb|postgres|postgresql"
    "|redis|valkey|mongo|dolt|etcd|rabbitmq|nats|kafka|mosquitto|minio"
)
"""Shared infrastructure by name: registries, proxies, databases, brokers, object storage."""


def singleton_infra(o: list[Obj]) -> int:
    def named(text: str) -> bool:
        if re.search(r"(?<![a-z0-9])(?:exporter|operator)(?![a-z0-9])", text):
            return False  # postgres-exporter serves the database, it is not one
        return bool(re.search(rf"(?<![a-z0-9])(?:{INFRA})(?![a-z0-9])", text))

    def infra(w: Obj) -> bool:
        texts = [str(meta(w).get("name") or "").lower()]
        main = containers(w)[:1]
        if main and isinstance(main[0].get("image"), str):
            path = main[0]["image"].split("@", 1)[0]
            texts.append(path.rsplit("/", 1)[-1].split(":", 1)[0].lower())
        return any(t and named(t) for t in texts)

    return sum(replicas(w) == 1 and infra(w) for w in kinds(o, "Deployment", "StatefulSet"))


def no_restore_drill(o: list[Obj]) -> int:
    """Backup jobs (CronJobs and Jobs named backup, dump, snapshot, restic, velero, borg or rsync, and
    Velero Schedules, apiVersion velero.io/...), when there is one and no CronJob or Job is named for
    a restore."""
    jobs = kinds(o, "CronJob", "Job")
    named = [
        j
        for j in jobs
        if re.search(r"backup|dump|snapshot|restic|velero|borg|rsync", str(meta(j).get("name") or ""), re.I)
    ]
    schedules = [s for s in kinds(o, "Schedule") if str(s.get("apiVersion") or "").startswith("velero.io/")]
    backups = len(named) + len(schedules)
    drills = any(re.search("restore", str(meta(j).get("name") or ""), re.I) for j in jobs)
    return 0 if drills else backups


def pvc_no_backup(o: list[Obj]) -> int:
    """REL-PVC-NO-BACKUP without a cluster: ``backup_count.py``'s rule over the files' objects (imported
    here, not at the top: it imports this module)."""
    from backup_count import pvc_no_backup as rule

    return rule(o, [], o, [])


CHECKS: dict[str, Callable[[list[Obj]], int]] = {
    "REL-PROBE-ANY": probe_any,
    "REL-PROBE-BOTH": probe_both,
    "REL-SINGLE-REPLICA": single_replica,
    "REL-NO-PDB": no_pdb,
    "REL-RECREATE-NO-GRACE": recreate_no_grace,
    "REL-ROLLING-NO-SURGE": rolling_no_surge,
    "SCA-NO-REQUESTS": no_requests,
    "SCA-NO-MEM-LIMIT": no_mem_limit,
    "SCA-CPU-LIMIT": cpu_limit,
    "SEC-PRIVILEGED": privileged,
    "SEC-HOST-ACCESS": host_access,
    "SEC-RUN-AS-ROOT": run_as_root,
    "MNT-IMAGE-LATEST": image_latest,
    "SEC-NO-PSS": lambda o: sum(v in (None, "privileged") for v in namespaces(o)),
    "SEC-NO-PSS:missing": lambda o: sum(v is None for v in namespaces(o)),
    "SEC-NO-PSS:privileged": lambda o: sum(v == "privileged" for v in namespaces(o)),
    "SEC-POLICY-AUDIT-ONLY": audit_only,
    "SEC-POLICY-AUDIT-ONLY:failure_ignore": lambda o: sum(
        str(y.get("failurePolicy") or "").lower() == "ignore" for y in kyverno(o)
    ),
    "REL-STS-ONDELETE": on_delete,
    "SEC-RBAC-WILDCARD": rbac_wildcard,
    "SEC-RBAC-SECRETS": rbac_secrets,
    "SCA-NO-HPA": no_hpa,
    "SCA-SINGLETON-INFRA": singleton_infra,
    "REL-NO-RESTORE-DRILL": no_restore_drill,
    "REL-PVC-NO-BACKUP": pvc_no_backup,
    "DEC-FLUX-SUSPENDED": lambda o: sum(f.get("suspend") is True for f in flux(o)),
    "DEC-FLUX-NO-PRUNE": lambda o: sum(f.get("prune") is False for f in flux(o)),
}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in CHECKS:
        print(
            f"usage: objects_count.py ROOT CHECK[:MEASURE] [SKIP_DIR ...]; CHECK one of {sorted(CHECKS)}",
            file=sys.stderr,
        )
        return 2
    print(CHECKS[argv[1]](objects(Path(argv[0]), tuple(argv[2:]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
