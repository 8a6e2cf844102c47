"""deploy/rbac.yaml grants exactly the reads an audit makes: AUDIT_RESOURCES and metrics, get and list.

A type added to AUDIT_RESOURCES without its grant would be silently unread in every in-cluster run;
a grant the audit does not need (a wildcard, a write verb, watch) widens the credential for nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tools.kube.resources import AUDIT_RESOURCES, BUILTIN, ResourceTable

pytestmark = pytest.mark.unit

RBAC = Path(__file__).resolve().parents[2] / "deploy" / "rbac.yaml"
NOT_GRANTED = {("", "secrets"), ("", "configmaps")}
"""Read as metadata only by the audit, but RBAC cannot grant metadata without the data: left out."""
METRICS = {("metrics.k8s.io", "nodes"), ("metrics.k8s.io", "pods")}


def granted() -> tuple[set[tuple[str, str]], set[str]]:
    docs = list(yaml.safe_load_all(RBAC.read_text(encoding="utf-8")))
    role = next(d for d in docs if d and d["kind"] == "ClusterRole")
    pairs, verbs = set(), set()
    for rule in role["rules"]:
        verbs |= set(rule["verbs"])
        pairs |= {(group, resource) for group in rule["apiGroups"] for resource in rule["resources"]}
    return pairs, verbs


def test_the_role_grants_exactly_the_audited_types_read_only() -> None:
    table = ResourceTable(list(BUILTIN))
    needed = {(t.group, t.plural) for t in map(table.resolve, AUDIT_RESOURCES)} - NOT_GRANTED
    pairs, verbs = granted()
    assert pairs == needed | METRICS
    assert verbs == {"get", "list"}
    assert not any("*" in part for pair in pairs for part in pair)
