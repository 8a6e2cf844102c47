"""Detections of the security concern (see catalog.yaml for the metadata).

Workloads and containers come from ``common.workloads``: one defined in code and seen live counts once.
Counting rules, one per check:

* SEC-NO-NETPOL: workload namespaces (holding >= 1 workload with a known namespace, code or live, or
  the target of a Helm release in code, whose chart runs workloads there; kube-system, kube-public
  and kube-node-lease excluded) with no namespaced network policy in code or live: a Kubernetes,
  Calico or Cilium ``NetworkPolicy``/``CiliumNetworkPolicy``. An object without ``metadata.namespace``
  takes the namespace its kustomization sets (``kustomize_scope``). Cluster-wide policies
  (CiliumClusterwide, Calico Global, AdminNetworkPolicy) cover no namespace here: what they select is
  for the solved-elsewhere challenger, which reframes. total = those namespaces. ref = the Namespace
  record (code first), else the first workload or release there.
* SEC-NO-PSS: namespaces (code Namespace records and live namespaces, one per name, the code record
  winning; system namespaces excluded) whose ``pod-security.kubernetes.io/enforce`` label is missing
  or ``privileged``. total = namespaces considered. ref = the line of the Kustomize patch or
  transformer that set the label (a JSON 6902 op's ``value:``), else the Namespace's own source.
* SEC-PRIVILEGED: containers (init included) with ``privileged: true``, ``allowPrivilegeEscalation:
  true``, or an added capability in ``DANGEROUS_CAPABILITIES`` (``CAP_`` prefix and case ignored).
  ref = the first offending field's line (``privileged: true``), else the image line.
* SEC-HOST-ACCESS: workloads with hostNetwork, hostPID, hostIPC or a hostPath volume. ref = the first
  of those lines (``hostNetwork: true``, then the hostPath volume's entry), else the object.
* SEC-RUN-AS-ROOT: containers (init included) that do not run as non-root: the effective
  runAsNonRoot (container over pod) is not true and the effective runAsUser is not > 0. A container
  that explicitly sets runAsNonRoot false or runAsUser 0 over a pod-level setting counts, since it
  overrides the pod. total = containers. ref = the ``runAsUser: 0`` / ``runAsNonRoot: false`` line
  when one is written, else the image line (nothing is written to point at).
* SEC-POLICY-AUDIT-ONLY: admission policies (code and live, one per engine/kind/namespace/name) that
  enforce nothing: Kyverno with mode Audit (or unset) and no rule in Enforce; Gatekeeper
  dryrun/warn (or scoped without deny); a ValidatingAdmissionPolicyBinding (or a Kyverno
  ImageValidatingPolicy) without Deny; a sigstore ClusterImagePolicy in ``mode: warn``. total =
  policies; measure ``failure_ignore`` = Kyverno policies with failurePolicy Ignore. Not applicable
  without policies. ref = the line setting the mode (``validationFailureAction``, a rule's
  ``failureAction``, ``enforcementAction``, ``validationActions``), else the object (mode unset).

RBAC checks live in ``security_rbac.py``; the ones that search the repo in ``security_repo.py``.
"""

from __future__ import annotations

from domain.findings import Location
from tools.checks.detections.common import SYSTEM_NAMESPACES, field_location, line_location, workloads
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.kustomize_scope import kustomize_namespaces, namespaces_of
from tools.inventory.models import CodeRef, Container, Namespace, Policy, SecurityContext, Workload

DANGEROUS_CAPABILITIES = frozenset({"SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "NET_RAW", "ALL"})
ENFORCE_LABEL = "enforce"


def _containers(ctx: CheckContext) -> list[tuple[Workload, Container]]:
    return [(w, c) for w in workloads(ctx.inventory) for c in w.containers]


# ------------------------------------------------------------------------------------ namespaces


def _namespace_records(ctx: CheckContext) -> dict[str, Namespace]:
    """Namespaces by name, code records first (what a fix edits), then live ones."""
    inventory = ctx.inventory
    found: dict[str, Namespace] = {}
    live = inventory.live.namespaces if inventory.live is not None else []
    for ns in inventory.code.namespaces + live:
        if ns.name and ns.name not in found:
            found[ns.name] = ns
    return found


def _path(source: object) -> str | None:
    return source.path if isinstance(source, CodeRef) else None


@detector("SEC-NO-NETPOL")
def no_network_policy(ctx: CheckContext) -> Detection:
    """Workload namespaces (system ones excluded) without any namespaced network policy, code or live."""
    scope = kustomize_namespaces(ctx.inventory.code)
    by_namespace: dict[str, list[str]] = {}
    for workload in workloads(ctx.inventory):
        for name in namespaces_of(workload.namespace, _path(workload.source), scope):
            if name not in SYSTEM_NAMESPACES:
                by_namespace.setdefault(name, []).append(str(workload.source))
    for release in ctx.inventory.code.helm_releases:
        if release.namespace and release.namespace not in SYSTEM_NAMESPACES:
            by_namespace.setdefault(release.namespace, []).append(str(release.source))
    if not by_namespace:
        return Detection(count=0, applicable=False, note="no workload with a known namespace")
    live = ctx.inventory.live
    policies = ctx.inventory.code.network_policies + (live.network_policies if live is not None else [])
    covered = {
        name
        for p in policies
        if not p.cluster_wide
        for name in namespaces_of(p.namespace, _path(p.source), scope)
    }
    records = _namespace_records(ctx)
    locations = []
    for name in sorted(by_namespace):
        if name in covered:
            continue
        members = by_namespace[name]
        ref = str(records[name].source) if name in records else members[0]
        detail = f"{len(members)} workloads or Helm releases, no NetworkPolicy"
        locations.append(Location(ref=ref, subject=f"Namespace/{name}", detail=detail))
    return Detection(count=len(locations), total=len(by_namespace), locations=locations)


@detector("SEC-NO-PSS")
def no_pod_security(ctx: CheckContext) -> Detection:
    """Namespaces (code + live, by name, system excluded) with enforce missing or privileged."""
    records = {n: ns for n, ns in _namespace_records(ctx).items() if n not in SYSTEM_NAMESPACES}
    if not records:
        return Detection(count=0, applicable=False, note="no namespaces in the estate or cluster")
    locations = []
    missing = privileged = 0
    for name in sorted(records):
        ns = records[name]
        level = ns.pod_security.get(ENFORCE_LABEL)
        if level is None:
            missing += 1
            detail = "no pod-security.kubernetes.io/enforce label"
        elif level == "privileged":
            privileged += 1
            detail = "enforce=privileged"
        else:
            continue
        ref = ns.pod_security_refs.get(ENFORCE_LABEL) if level is not None else None
        locations.append(Location(ref=str(ref or ns.source), subject=f"Namespace/{name}", detail=detail))
    return Detection(
        count=len(locations),
        total=len(records),
        locations=locations,
        measures={"missing": missing, "privileged": privileged},
    )


# ------------------------------------------------------------------------------------ containers


def privilege_fields(security: SecurityContext) -> list[tuple[str, str]]:
    """(field, reason) of each way a container is privileged, in the order a reader meets them."""
    found = []
    if security.privileged:
        found.append(("privileged", "privileged"))
    if security.allow_privilege_escalation:
        found.append(("allow_privilege_escalation", "allowPrivilegeEscalation"))
    added = sorted(
        {c.upper().removeprefix("CAP_") for c in security.capabilities_add} & DANGEROUS_CAPABILITIES
    )
    if added:
        found.append(("capabilities_add", "adds " + ", ".join(added)))
    return found


def privilege_reasons(security: SecurityContext) -> list[str]:
    return [reason for _, reason in privilege_fields(security)]


@detector("SEC-PRIVILEGED")
def privileged(ctx: CheckContext) -> Detection:
    """Containers privileged, allowing privilege escalation, or adding a dangerous capability."""
    pairs = _containers(ctx)
    locations = [
        field_location(w, c, [f for f, _ in found], "; ".join(r for _, r in found))
        for w, c in pairs
        if (found := privilege_fields(c.security))
    ]
    return Detection(count=len(locations), total=len(pairs), locations=locations)


_HOST_FIELDS = ("host_network", "host_pid", "host_ipc")


@detector("SEC-HOST-ACCESS")
def host_access(ctx: CheckContext) -> Detection:
    """Workloads with hostNetwork, hostPID, hostIPC or a hostPath volume."""
    chosen = workloads(ctx.inventory)
    locations = []
    for w in chosen:
        reasons = [name for flag, name in ((w.host_network, "hostNetwork"), (w.host_pid, "hostPID"),
                                           (w.host_ipc, "hostIPC")) if flag]  # fmt: skip
        host_paths = [v for v in w.volumes if v.type == "host_path"]
        reasons += [f"hostPath {v.host_path or v.name}" for v in host_paths]
        if reasons:
            fields = [*_HOST_FIELDS, *(f"volume:{v.name}" for v in host_paths)]
            flagged = [f for f in fields if f.startswith("volume:") or getattr(w, f)]
            locations.append(line_location(w, flagged, ", ".join(reasons)))
    return Detection(count=len(locations), total=len(chosen), locations=locations)


def root_reason(pod: SecurityContext, container: SecurityContext) -> str | None:
    """Why a container may run as root, or None when it is guaranteed not to."""
    non_root = container.run_as_non_root if container.run_as_non_root is not None else pod.run_as_non_root
    user = container.run_as_user if container.run_as_user is not None else pod.run_as_user
    if non_root is True or (user is not None and user > 0):
        return None
    if user == 0:
        return "runAsUser 0"
    if non_root is False:
        return "runAsNonRoot false"
    return "no runAsNonRoot or runAsUser"


_ROOT_FIELDS = {"runAsUser 0": ("run_as_user",), "runAsNonRoot false": ("run_as_non_root",)}


@detector("SEC-RUN-AS-ROOT")
def run_as_root(ctx: CheckContext) -> Detection:
    """Containers where neither the container nor the pod makes runAsNonRoot true or runAsUser > 0."""
    pairs = _containers(ctx)
    locations = [
        field_location(w, c, _ROOT_FIELDS.get(reason, ()), reason)
        for w, c in pairs
        if (reason := root_reason(w.pod_security, c.security)) is not None
    ]
    return Detection(count=len(locations), total=len(pairs), locations=locations)


# -------------------------------------------------------------------------------------- policies


def enforces(policy: Policy) -> bool:
    mode = (policy.mode or "").lower()
    rule_modes = {m.lower() for m in policy.rule_modes}
    if policy.engine == "kyverno":
        return mode == "enforce" or "enforce" in rule_modes
    if policy.engine == "gatekeeper":
        return mode in ("deny", "") or (mode == "scoped" and "deny" in rule_modes)
    if policy.engine == "sigstore":
        return mode != "warn"
    return "deny" in {part.strip() for part in mode.split(",")}


@detector("SEC-POLICY-AUDIT-ONLY")
def policy_audit_only(ctx: CheckContext) -> Detection:
    """Policies that enforce nothing (Kyverno Audit, Gatekeeper dryrun/warn, VAP without Deny)."""
    live = ctx.inventory.live
    chosen: dict[tuple[str, str, str | None, str | None], Policy] = {}
    for policy in ctx.inventory.code.policies + (live.policies if live is not None else []):
        chosen.setdefault((policy.engine, policy.kind, policy.namespace, policy.name), policy)
    policies = list(chosen.values())
    if not policies:
        return Detection(count=0, applicable=False, note="no admission policies in the estate or cluster")
    locations = [
        Location(
            ref=f"{p.source.path}:{p.mode_line}"
            if isinstance(p.source, CodeRef) and p.mode_line
            else str(p.source),
            subject=f"{p.kind}/{p.namespace or '-'}/{p.name or '?'}",
            detail=f"{p.engine} mode {p.mode or 'unset'}"
            + (f", rules {', '.join(p.rule_modes)}" if p.rule_modes else ""),
        )
        for p in policies
        if not enforces(p)
    ]
    ignore = sum(p.engine == "kyverno" and (p.failure_policy or "").lower() == "ignore" for p in policies)
    return Detection(
        count=len(locations), total=len(policies), locations=locations, measures={"failure_ignore": ignore}
    )
