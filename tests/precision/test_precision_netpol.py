"""Network policies (SEC-NO-NETPOL): every engine's namespaced policy covers its namespace, a
namespace Kustomize sets counts as the object's own, cluster-wide policies cover no namespace here."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import detect, estate, subjects

from tools.inventory.kustomize_scope import kustomize_namespaces, namespaces_of
from tools.inventory.live import FIELD_KINDS
from tools.kube.resources import AUDIT_RESOURCES, ResourceTable

pytestmark = pytest.mark.unit

CHECK = "SEC-NO-NETPOL"


def app(name: str, namespace: str | None) -> str:
    ns = f", namespace: {namespace}" if namespace else ""
    return f"""
    apiVersion: apps/v1
    kind: Deployment
    metadata: {{name: {name}{ns}}}
    spec:
      template:
        spec:
          containers: [{{name: {name}, image: "{name}:1.0"}}]
    """


def policy(api_version: str, kind: str, namespace: str | None) -> str:
    ns = f", namespace: {namespace}" if namespace else ""
    return f"""
    apiVersion: {api_version}
    kind: {kind}
    metadata: {{name: p{ns}}}
    spec: {{}}
    """


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("cilium.io/v2", "CiliumNetworkPolicy"),
        ("projectcalico.org/v3", "NetworkPolicy"),
        ("crd.projectcalico.org/v1", "NetworkPolicy"),
    ],
)
def test_every_namespaced_engine_covers_its_namespace(tmp_path: Path, api_version: str, kind: str) -> None:
    files = {"a/app.yaml": app("web", "shop"), "a/policy.yaml": policy(api_version, kind, "shop")}
    d = detect(tmp_path, files, CHECK)
    assert (d.count, d.total) == (0, 1)


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("cilium.io/v2", "CiliumClusterwideNetworkPolicy"),
        ("projectcalico.org/v3", "GlobalNetworkPolicy"),
        ("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy"),
    ],
)
def test_cluster_wide_policies_are_recorded_but_cover_no_namespace(
    tmp_path: Path, api_version: str, kind: str
) -> None:
    files = {"a/app.yaml": app("web", "shop"), "a/policy.yaml": policy(api_version, kind, "shop")}
    [record] = estate(tmp_path, files).code.network_policies
    assert (record.kind, record.cluster_wide, record.namespace) == (kind, True, None)
    d = detect(tmp_path, {}, CHECK)
    assert (d.count, subjects(d)) == (1, ["Namespace/shop"])


def test_a_policy_of_another_group_named_networkpolicy_is_not_one(tmp_path: Path) -> None:
    files = {
        "a/app.yaml": app("web", "shop"),
        "a/policy.yaml": policy("example.com/v1", "NetworkPolicy", "shop"),
    }
    assert estate(tmp_path, files).code.network_policies == []


KUSTOMIZE = {
    "apps/shop/kustomization.yaml": "namespace: shop\nresources: [app.yaml, policy.yaml]\n",
    "apps/shop/app.yaml": app("web", None),
    "apps/shop/policy.yaml": policy("networking.k8s.io/v1", "NetworkPolicy", None),
    "apps/wiki/kustomization.yaml": "namespace: wiki\nresources: [app.yaml]\n",
    "apps/wiki/app.yaml": app("wiki", None),
}


def test_kustomize_namespace_places_workloads_and_policies(tmp_path: Path) -> None:
    """Before, namespace-less objects were skipped: wiki's gap was missed, shop's policy unseen."""
    d = detect(tmp_path, KUSTOMIZE, CHECK)
    assert (d.count, d.total, subjects(d)) == (1, 2, ["Namespace/wiki"])


def test_the_outermost_kustomization_namespace_wins_and_shared_bases_are_in_each(tmp_path: Path) -> None:
    files = {
        "base/kustomization.yaml": "namespace: base\nresources: [app.yaml]\n",
        "base/app.yaml": app("web", None),
        "staging/kustomization.yaml": "namespace: staging\nresources: [../base]\n",
        "prod/kustomization.yaml": "namespace: prod\nresources: [../base]\n",
        "loose/app.yaml": app("loose", None),
    }
    scope = kustomize_namespaces(estate(tmp_path, files).code)
    assert scope == {"base/app.yaml": frozenset({"prod", "staging"})}
    assert namespaces_of(None, "base/app.yaml", scope) == ["prod", "staging"]
    assert namespaces_of("own", "base/app.yaml", scope) == ["own"]  # a written namespace is kept
    assert namespaces_of(None, "loose/app.yaml", scope) == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("cnp", "CiliumNetworkPolicy"),
        ("ccnp", "CiliumClusterwideNetworkPolicy"),
        ("gnp", "GlobalNetworkPolicy"),
        ("anp", "AdminNetworkPolicy"),
        ("cip", "ClusterImagePolicy"),
        ("ivpol", "ImageValidatingPolicy"),
    ],
)
def test_a_cluster_is_read_for_every_policy_kind_the_checks_count(name: str, kind: str) -> None:
    """Before, a cluster's Cilium, Calico, admin network and image policies were never read."""
    rtype = ResourceTable().resolve(name)
    assert rtype.kind == kind
    assert rtype.qualified in AUDIT_RESOURCES
    assert kind in FIELD_KINDS["network_policies"] | FIELD_KINDS["policies"]
