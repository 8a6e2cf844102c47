"""RBAC detections of the security concern.

Roles come from code and live, one per kind/namespace/name (the code record wins: it is what a fix
edits). Live built-ins are left out: names starting ``system:`` and ``cluster-admin``, ``admin``,
``edit`` and ``view`` as seen live (a role of that name defined in code is the estate's own).

* SEC-RBAC-WILDCARD: Roles and ClusterRoles with a rule whose verbs or resources contain ``*``
  (apiGroups ``*`` with resources ``*`` is a case of the latter). total = roles considered.
* SEC-RBAC-SECRETS: ClusterRoles with a rule granting get, list, watch or ``*`` on ``secrets`` or on
  ``*`` resources, in the core API group (apiGroups containing ``""`` or ``*``; a rule with no
  apiGroups is read as core). Cluster-wide Secret read. total = ClusterRoles considered.

Both cite the first offending rule's own line in code (the ``rules:`` item, the ``rule {}`` block).
"""

from __future__ import annotations

from domain.findings import Location
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.models import CodeRef, PolicyRule, RBACRole

BUILT_IN = frozenset({"cluster-admin", "admin", "edit", "view"})
READ_VERBS = frozenset({"get", "list", "watch", "*"})


def roles(ctx: CheckContext) -> list[RBACRole]:
    """Code roles, then live roles not defined in code, without live built-ins."""
    live = ctx.inventory.live
    chosen: dict[tuple[str, str | None, str | None], RBACRole] = {}
    for role in ctx.inventory.code.roles + (live.roles if live is not None else []):
        if role.origin == "live" and role.name and (role.name.startswith("system:") or role.name in BUILT_IN):
            continue
        chosen.setdefault((role.kind, role.namespace, role.name), role)
    return list(chosen.values())


def _subject(role: RBACRole) -> str:
    scope = f"{role.namespace or '-'}/" if role.kind == "Role" else ""
    return f"{role.kind}/{scope}{role.name or '?'}"


def _rule_ref(role: RBACRole, rule: PolicyRule) -> str:
    """The offending rule's own line in code, else the role."""
    if isinstance(role.source, CodeRef) and rule.line is not None:
        return f"{role.source.path}:{rule.line}"
    return str(role.source)


def wildcard(rule: PolicyRule) -> bool:
    return "*" in rule.verbs or "*" in rule.resources


def reads_secrets(rule: PolicyRule) -> set[str]:
    """The read verbs a rule grants on Secrets (empty when it grants none)."""
    core = not rule.api_groups or "" in rule.api_groups or "*" in rule.api_groups
    if not core or not ({"secrets", "*"} & set(rule.resources)):
        return set()
    return set(READ_VERBS & set(rule.verbs))


@detector("SEC-RBAC-WILDCARD")
def rbac_wildcard(ctx: CheckContext) -> Detection:
    """Roles/ClusterRoles with '*' in verbs or resources (live built-ins excluded)."""
    considered = roles(ctx)
    if not considered:
        return Detection(count=0, applicable=False, note="no Roles or ClusterRoles in the estate or cluster")
    locations = []
    for role in considered:
        hits = [r for r in role.rules if wildcard(r)]
        if hits:
            rule = hits[0]
            detail = f"apiGroups {rule.api_groups or ['']}, resources {rule.resources}, verbs {rule.verbs}"
            locations.append(Location(ref=_rule_ref(role, rule), subject=_subject(role), detail=detail))
    return Detection(count=len(locations), total=len(considered), locations=locations)


@detector("SEC-RBAC-SECRETS")
def rbac_secrets(ctx: CheckContext) -> Detection:
    """ClusterRoles granting get/list/watch/* on Secrets (or on '*' in the core group)."""
    cluster_roles = [r for r in roles(ctx) if r.kind == "ClusterRole"]
    if not cluster_roles:
        return Detection(count=0, applicable=False, note="no ClusterRoles in the estate or cluster")
    locations = []
    for role in cluster_roles:
        verbs: set[str] = set()
        granting = [rule for rule in role.rules if reads_secrets(rule)]
        for rule in granting:
            verbs |= reads_secrets(rule)
        if verbs:
            locations.append(
                Location(
                    ref=_rule_ref(role, granting[0]),
                    subject=_subject(role),
                    detail=f"cluster-wide {', '.join(sorted(verbs))} on Secrets",
                )
            )
    return Detection(count=len(locations), total=len(cluster_roles), locations=locations)
