"""Resource names, selectors and quantities: the small grammars the kube tools share."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tools.kube.quantity import cpu_millicores, format_bytes, memory_bytes, parse_quantity
from tools.kube.resources import ResourceTable, ResourceType, UnknownResourceError, plural_of, split_file_stem
from tools.kube.selectors import SelectorError, field_matcher, label_matcher, object_matcher

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "qualified"),
    [
        ("po", "pods"),
        ("pod", "pods"),
        ("Pod", "pods"),
        ("pods.v1", "pods"),
        ("deploy", "deployments.apps"),
        ("deployment.apps", "deployments.apps"),
        ("deployments.v1.apps", "deployments.apps"),
        ("sts", "statefulsets.apps"),
        ("ds", "daemonsets.apps"),
        ("cj", "cronjobs.batch"),
        ("job", "jobs.batch"),
        ("pvc", "persistentvolumeclaims"),
        ("pdb", "poddisruptionbudgets.policy"),
        ("hpa", "horizontalpodautoscalers.autoscaling"),
        ("netpol", "networkpolicies.networking.k8s.io"),
        ("ns", "namespaces"),
        ("no", "nodes"),
        ("ev", "events"),
        ("secret", "secrets"),
        ("cm", "configmaps"),
        ("svc", "services"),
        ("ing", "ingresses.networking.k8s.io"),
        ("sa", "serviceaccounts"),
        ("role", "roles.rbac.authorization.k8s.io"),
        ("clusterrole", "clusterroles.rbac.authorization.k8s.io"),
        ("rolebinding", "rolebindings.rbac.authorization.k8s.io"),
        ("clusterrolebinding", "clusterrolebindings.rbac.authorization.k8s.io"),
        ("crd", "customresourcedefinitions.apiextensions.k8s.io"),
        ("quota", "resourcequotas"),
        ("limits", "limitranges"),
        ("cpol", "clusterpolicies.kyverno.io"),
        ("clusterpolicies.kyverno.io", "clusterpolicies.kyverno.io"),
        ("applications.argoproj.io", "applications.argoproj.io"),
        ("app", "applications.argoproj.io"),
        ("helmreleases.helm.toolkit.fluxcd.io", "helmreleases.helm.toolkit.fluxcd.io"),
        ("hr", "helmreleases.helm.toolkit.fluxcd.io"),
        ("kustomizations.kustomize.toolkit.fluxcd.io", "kustomizations.kustomize.toolkit.fluxcd.io"),
        ("prometheusrules.monitoring.coreos.com", "prometheusrules.monitoring.coreos.com"),
    ],
)
def test_kubectl_names_resolve(name: str, qualified: str) -> None:
    assert ResourceTable().resolve(name).qualified == qualified


def test_core_wins_over_metrics_for_bare_names() -> None:
    table = ResourceTable()
    assert table.resolve("nodes").group == ""
    assert table.resolve("nodes.metrics.k8s.io").kind == "NodeMetrics"
    assert table.resolve("events").group == ""


def test_discovery_replaces_the_builtin_version_in_place() -> None:
    v1_hpa = ResourceType(
        group="autoscaling",
        version="v1",
        plural="horizontalpodautoscalers",
        kind="HorizontalPodAutoscaler",
        namespaced=True,
        short_names=("hpa",),
    )
    table = ResourceTable([v1_hpa])
    assert table.resolve("hpa").version == "v1"
    assert table.resolve("hpa").path("x") == "/apis/autoscaling/v1/namespaces/x/horizontalpodautoscalers"


def test_discovered_crd_resolves_by_every_name() -> None:
    crd = ResourceType(
        group="cert-manager.io",
        version="v1",
        plural="certificates",
        kind="Certificate",
        namespaced=True,
        short_names=("certs", "cert"),
        singular="certificate",
    )
    table = ResourceTable([crd])
    for name in ("cert", "certs", "certificate", "Certificate", "certificates.cert-manager.io"):
        assert table.resolve(name) == crd
    assert crd.short_names == ("cert", "certs")  # sorted: servers promise no order


class _CountedTypes(list[ResourceType]):
    """A table's ``types`` that counts how often it is walked."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        type(self).walks += 1
        return super().__iter__()


def test_a_type_is_found_by_kind_or_plural_as_the_first_of_the_table_without_walking_it() -> None:
    """A snapshot asks the table for every object's type (44k times at 10k pods): a lookup, not a walk
    of ``types`` per object (issue 13); the answer is still the first type of that group and kind."""
    crd = ResourceType(group="example.io", version="v1", plural="widgets", kind="Widget", namespaced=True)
    clash = ResourceType(group="example.io", version="v1", plural="widgetz", kind="Widget", namespaced=True)
    table = ResourceTable([crd, clash])

    def group_of(api_version: str) -> str:
        return api_version.rpartition("/")[0]

    asked = [
        ("v1", "Pod"),
        ("apps/v1", "Deployment"),
        ("example.io/v1", "Widget"),
        ("example.io/v2", "Widget"),
        ("v1", "Widget"),
        ("metrics.k8s.io/v1beta1", "NodeMetrics"),
    ]
    expected = {
        (api, kind): next((t for t in table.types if (t.group, t.kind) == (group_of(api), kind)), None)
        for api, kind in asked
    }
    plurals = {
        (t.group, t.plural): next(u for u in table.types if (u.group, u.plural) == (t.group, t.plural))
        for t in table.types
    }
    table.types = _CountedTypes(table.types)
    for _ in range(100):
        assert {key: table.by_kind(*key) for key in expected} == expected
        assert {key: table.by_plural(*key) for key in plurals} == plurals
    assert table.by_kind("example.io/v1", "Widget") == crd
    assert table.by_plural("example.io", "gadgets") is None
    assert _CountedTypes.walks == 0


def test_unknown_resource_lists_close_matches() -> None:
    with pytest.raises(UnknownResourceError) as info:
        ResourceTable().resolve("deploymnt")
    assert info.value.suggestions == ["deployments.apps"]
    assert (
        str(info.value)
        == 'the server doesn\'t have a resource type "deploymnt"; did you mean deployments.apps?'
    )
    with pytest.raises(UnknownResourceError) as none:
        ResourceTable().resolve("zzzzqqq")
    assert none.value.suggestions == []


def test_paths_and_file_stems() -> None:
    table = ResourceTable()
    assert table.resolve("po").path() == "/api/v1/pods"
    assert table.resolve("po").path("immich", "x") == "/api/v1/namespaces/immich/pods/x"
    assert table.resolve("deploy").path("immich") == "/apis/apps/v1/namespaces/immich/deployments"
    assert table.resolve("no").path("ignored", "node-a") == "/api/v1/nodes/node-a"
    assert table.resolve("po").file_stem == "core.v1.pods"
    assert table.resolve("hr").file_stem == "helm.toolkit.fluxcd.io.v2.helmreleases"
    assert split_file_stem("helm.toolkit.fluxcd.io.v2.helmreleases") == (
        "helm.toolkit.fluxcd.io",
        "v2",
        "helmreleases",
    )
    assert split_file_stem("core.v1.pods") == ("", "v1", "pods")
    assert split_file_stem("metrics.k8s.io.v1beta1.nodes") == ("metrics.k8s.io", "v1beta1", "nodes")
    assert split_file_stem("pods-dump") is None
    assert split_file_stem("my.pods") is None


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("NetworkPolicy", "networkpolicies"),
        ("Ingress", "ingresses"),
        ("Gateway", "gateways"),
        ("Proxy", "proxies"),
        ("Box", "boxes"),
    ],
)
def test_plural_of(kind: str, plural: str) -> None:
    assert plural_of(kind) == plural


# ------------------------------------------------------------------------------ selectors

LABELS = {"app": "immich", "tier": "web", "canary": ""}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, True),
        ("", True),
        ("app=immich", True),
        ("app==immich", True),
        ("app!=immich", False),
        ("app=immich,tier=db", False),
        ("tier in (web,api)", True),
        ("tier notin (web,api)", False),
        ("tier in (db)", False),
        ("canary", True),
        ("!canary", False),
        ("!missing", True),
        ("missing", False),
        ("app=immich, tier in (web, api), !missing", True),
        ("missing!=x", True),
    ],
)
def test_label_selector(selector: str | None, expected: bool) -> None:
    assert label_matcher(selector)(LABELS) is expected


@pytest.mark.parametrize("bad", ["a b c", "=x", "!", "app in"])
def test_bad_label_selectors_are_rejected(bad: str) -> None:
    with pytest.raises(SelectorError):
        label_matcher(bad)


def test_field_selector() -> None:
    event = {
        "type": "Warning",
        "involvedObject": {"kind": "Pod", "name": "p"},
        "metadata": {"namespace": "x"},
    }
    assert field_matcher("type=Warning,involvedObject.kind=Pod")(event)
    assert not field_matcher("type!=Warning")(event)
    assert field_matcher("involvedObject.namespace=")(event)  # a missing field compares as ""
    assert not field_matcher("metadata.namespace==y")(event)
    with pytest.raises(SelectorError, match="needs '=', '==' or '!='"):
        field_matcher("type")
    with pytest.raises(SelectorError, match="invalid field path"):
        field_matcher("=Warning")


def test_object_matcher_combines_both() -> None:
    pod = {"metadata": {"labels": {"app": "a"}}, "status": {"phase": "Running"}}
    assert object_matcher("app=a", "status.phase=Running")(pod)
    assert not object_matcher("app=a", "status.phase=Failed")(pod)
    assert object_matcher(None, None)({})


# ------------------------------------------------------------------------------ quantities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("250m", Decimal("0.250")),
        ("1.5", Decimal("1.5")),
        ("2", Decimal(2)),
        ("1e3", Decimal(1000)),
        ("1E-3", Decimal("0.001")),
        ("16318704Ki", Decimal(16318704 * 1024)),
        ("2Gi", Decimal(2**31)),
        ("1Ti", Decimal(2**40)),
        ("5k", Decimal(5000)),
        ("3M", Decimal(3_000_000)),
        ("1G", Decimal(10**9)),
        ("1534289123n", Decimal("1.534289123")),
        ("100u", Decimal("0.0001")),
        (".5", Decimal("0.5")),
    ],
)
def test_parse_quantity(text: str, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("bad", ["", "abc", "1Xi", "1.2.3", "--1", None])
def test_parse_quantity_rejects(bad: str | None) -> None:
    assert parse_quantity(bad) is None


def test_cpu_and_memory_units() -> None:
    assert cpu_millicores("4") == 4000
    assert cpu_millicores("3800m") == 3800
    assert cpu_millicores("0.1") == 100
    assert cpu_millicores("1534289123n") == 1535  # rounded up, like the API server
    assert cpu_millicores(2) == 2000
    assert memory_bytes("16318704Ki") == 16_710_352_896
    assert memory_bytes("8Gi") == 8_589_934_592
    assert memory_bytes("734003200") == 734_003_200
    assert memory_bytes("1.5Ki") == 1536
    assert memory_bytes("garbage") is None
    assert format_bytes(734_003_200) == "700Mi"
