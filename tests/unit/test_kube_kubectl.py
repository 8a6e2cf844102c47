"""The kubectl-shaped tools on the mini snapshot: exact output, data, commands and error texts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain.results import ToolResult, ToolStatus
from tools.inventory.models import ClusterInfo
from tools.kube import kubectl as k
from tools.kube.backend import ForbiddenError, KubeObject, MetricsKind, UnavailableError
from tools.kube.resources import ResourceType
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"
CTX = "--context mini-admin"


@pytest.fixture(scope="module")
def mini() -> SnapshotBackend:
    return SnapshotBackend(MINI)


def test_get_all_namespaces_table(mini: SnapshotBackend) -> None:
    r = k.kube_get(mini, "po", all_namespaces=True)
    assert r.status == ToolStatus.OK
    assert r.command == f"kubectl get po -A -o json {CTX}"
    assert r.args == {"resource": "po", "all_namespaces": True, "snapshot": str(MINI)}
    assert r.value == 8
    assert (
        r.output
        == """\
NAMESPACE     NAME                            READY   STATUS             RESTARTS   NODE     CREATED
default       debug                           0/1     Pending            0          <none>   2025-05-20T08:00:00Z
immich        immich-ml-7f8d9c6b4-xyz12       1/1     Running            3          node-a   2025-05-20T08:00:00Z
immich        immich-server-6d9f7c8b5-abcde   1/1     Running            0          node-a   2025-05-20T08:00:00Z
immich        immich-server-6d9f7c8b5-fghij   0/1     CrashLoopBackOff   42         node-b   2025-05-20T08:00:00Z
kube-system   coredns-7b98449c4-p2xkq         1/1     Running            0          node-a   2025-05-20T08:00:00Z
media         backup-29123456-zzzzz           0/1     Error              0          node-a   2025-05-20T08:00:00Z
media         jellyfin-5c4b3a2d1-qwert        1/1     Running            1          node-a   2025-05-20T08:00:00Z
monitoring    prometheus-0                    1/1     Running            0          node-a   2025-05-20T08:00:00Z"""  # noqa: E501
    )
    assert [p["metadata"]["name"] for p in r.data][:2] == ["debug", "immich-ml-7f8d9c6b4-xyz12"]
    assert all(p["kind"] == "Pod" and p["apiVersion"] == "v1" for p in r.data)


def test_get_with_fields_is_custom_columns(mini: SnapshotBackend) -> None:
    fields = [
        "metadata.name",
        "status.containerStatuses[*].restartCount",
        "status.containerStatuses[*].lastState.terminated.reason",
    ]
    r = k.kube_get(
        mini, "pods", all_namespaces=True, selector="app.kubernetes.io/part-of=immich", fields=fields
    )
    assert r.command == (
        "kubectl get pods -A -l app.kubernetes.io/part-of=immich -o 'custom-columns=NAME:.metadata.name,"
        "RESTARTCOUNT:.status.containerStatuses[*].restartCount,"
        f"REASON:.status.containerStatuses[*].lastState.terminated.reason' {CTX}"
    )
    assert r.data == [
        {fields[0]: "immich-ml-7f8d9c6b4-xyz12", fields[1]: [3], fields[2]: ["OOMKilled"]},
        {fields[0]: "immich-server-6d9f7c8b5-abcde", fields[1]: [0], fields[2]: []},
        {fields[0]: "immich-server-6d9f7c8b5-fghij", fields[1]: [42], fields[2]: ["Error"]},
    ]
    assert r.output.splitlines() == [
        "NAME                            RESTARTCOUNT   REASON",
        "immich-ml-7f8d9c6b4-xyz12       3              OOMKilled",
        "immich-server-6d9f7c8b5-abcde   0              <none>",
        "immich-server-6d9f7c8b5-fghij   42             Error",
    ]
    assert r.value == 3


def test_get_fields_with_colliding_and_escaped_keys(mini: SnapshotBackend) -> None:
    fields = [
        "metadata.name",
        "spec.template.metadata.labels.app",
        "metadata.labels.app\\.kubernetes\\.io/part-of",
    ]
    r = k.kube_get(mini, "deploy", namespace="immich", fields=fields)
    assert r.output.splitlines()[0].split() == ["NAME", "APP", "APP.KUBERNETES.IO/PART-OF"]
    assert r.data[1] == {fields[0]: "immich-server", fields[1]: "immich-server", fields[2]: "immich"}
    assert "APP:.spec.template.metadata.labels.app" in r.command
    assert "APP.KUBERNETES.IO/PART-OF:.metadata.labels.app\\.kubernetes\\.io/part-of" in r.command


@pytest.mark.parametrize(
    ("resource", "namespace", "first_line", "rows"),
    [
        (
            "no",
            None,
            "NAME     STATUS     ROLES                  VERSION        CREATED",
            [
                "node-a   Ready      control-plane,master   v1.30.4+k3s1   2025-05-20T08:00:00Z",
                "node-b   NotReady   worker                 v1.29.9+k3s1   2025-05-20T08:00:00Z",
            ],
        ),
        (
            "jobs",
            "media",
            "NAME              STATUS     COMPLETIONS   CREATED",
            [
                "backup-29123400   Complete   1/1           2025-05-20T08:00:00Z",
                "backup-29123456   Failed     0/1           2025-05-20T08:00:00Z",
            ],
        ),
        (
            "cj",
            "media",
            "NAME     SCHEDULE    SUSPEND   ACTIVE   LAST-SCHEDULE          CREATED",
            ["backup   0 3 * * *   false     0        2025-06-01T03:00:00Z   2025-05-20T08:00:00Z"],
        ),
        (
            "deploy",
            "immich",
            "NAME            READY   UP-TO-DATE   AVAILABLE   CREATED",
            [
                "immich-ml       1/1     1            1           2025-05-20T08:00:00Z",
                "immich-server   1/2     2            1           2025-05-20T08:00:00Z",
            ],
        ),
        (
            "pvc",
            "immich",
            "NAME      STATUS   VOLUME     CAPACITY   STORAGECLASS   CREATED",
            ["library   Bound    pvc-1234   100Gi      local-path     2025-05-20T08:00:00Z"],
        ),
        (
            "svc",
            "immich",
            "NAME            TYPE        CLUSTER-IP   PORTS      CREATED",
            ["immich-server   ClusterIP   10.43.12.7   2283/TCP   2025-05-20T08:00:00Z"],
        ),
        ("cpol", None, "NAME               CREATED", ["require-requests   2025-05-20T08:00:00Z"]),
    ],
)
def test_get_tables_per_kind(
    mini: SnapshotBackend, resource: str, namespace: str | None, first_line: str, rows: list[str]
) -> None:
    r = k.kube_get(mini, resource, namespace=namespace)
    assert r.output.splitlines() == [first_line, *rows]
    assert r.value == len(rows)


def test_get_one_by_name_and_across_namespaces(mini: SnapshotBackend) -> None:
    one = k.kube_get(mini, "deployment", "immich-server", namespace="immich")
    assert one.command == f"kubectl get deployment immich-server -n immich -o json {CTX}"
    assert one.value == 1 and one.data[0]["spec"]["replicas"] == 2
    anywhere = k.kube_get(mini, "deploy", "jellyfin", all_namespaces=True)
    assert anywhere.command == f"kubectl get deploy -A --field-selector metadata.name=jellyfin -o json {CTX}"
    assert [d["metadata"]["namespace"] for d in anywhere.data] == ["media"]


def test_get_no_data(mini: SnapshotBackend) -> None:
    r = k.kube_get(mini, "pods", namespace="kube-system", selector="app=nothing")
    assert (r.status, r.output, r.value, r.data) == (
        ToolStatus.NO_DATA,
        "No resources found in kube-system namespace.",
        0,
        [],
    )
    # a type the snapshot never captured is not "no ingresses": it is a question it cannot answer
    ingress = k.kube_get(mini, "ingress")
    assert ingress.status == ToolStatus.ERROR
    assert ingress.command == f"kubectl get ingress -n default -o json {CTX}"
    assert ingress.error == (
        'the server doesn\'t have a resource type "ingresses.networking.k8s.io": this cluster does not serve '
        "it (or this snapshot does not hold it); kube_api_resources lists the types there are"
    )
    assert k.kube_describe(mini, "ing", "x", namespace="immich").error == ingress.error


def test_get_errors_say_what_to_change(mini: SnapshotBackend) -> None:
    unknown = k.kube_get(mini, "deploymnt")
    assert unknown.status == ToolStatus.ERROR
    assert unknown.error == (
        'unknown resource type "deploymnt"; did you mean deployments.apps? kube_api_resources lists the '
        "types this cluster serves (names, short names like 'deploy' and 'plural.group' all work)"
    )
    missing = k.kube_get(mini, "deploy", "immich-sever", namespace="immich")
    assert missing.error == (
        'deployments.apps "immich-sever" not found in namespace "immich"; similar names: immich-server, '
        'immich-ml. List them with kube_get(resource="deployments.apps", namespace="immich"), or search '
        "every namespace with all_namespaces=True and name"
    )
    no_ns = k.kube_get(mini, "pods", namespace="imich")
    assert no_ns.error == (
        'namespace "imich" not found; did you mean immich? existing namespaces: default, immich, '
        "kube-system, media, monitoring"
    )
    no_ns_by_name = k.kube_get(mini, "pods", "x", namespace="nope")
    assert no_ns_by_name.error is not None and no_ns_by_name.error.startswith('namespace "nope" not found;')
    node = k.kube_get(mini, "no", "node-c")
    assert node.error == (
        'nodes "node-c" not found cluster-wide; similar names: node-b, node-a. '
        'List them with kube_get(resource="nodes")'
    )
    bad = k.kube_get(mini, "pods", all_namespaces=True, selector="app in")
    assert bad.error is not None and bad.error.startswith("invalid query: list pods in all namespaces: ")


def test_describe(mini: SnapshotBackend) -> None:
    r = k.kube_describe(mini, "no", "node-b")
    assert r.command == f"kubectl describe no node-b {CTX}"
    lines = r.output.splitlines()
    assert lines[:8] == [
        "Name:         node-b",
        "Kind:         Node",
        "API Version:  v1",
        "Labels:       kubernetes.io/hostname=node-b",
        "              kubernetes.io/os=linux",
        "              node-role.kubernetes.io/worker=true",
        "Annotations:  <none>",
        "Created:      2025-05-20T08:00:00Z",
    ]
    assert "  conditions:" in lines and "    type: Ready" in lines
    assert lines[-2:] == [
        "  LAST-SEEN              TYPE      REASON         OBJECT        COUNT   MESSAGE",
        "  2025-06-01T10:15:00Z   Warning   NodeNotReady   node/node-b   1       "
        "Node node-b status is now: NodeNotReady",
    ]
    assert r.data["object"]["metadata"]["name"] == "node-b"
    assert [e["reason"] for e in r.data["events"]] == ["NodeNotReady"]
    pod = k.kube_describe(mini, "po", "immich-ml-7f8d9c6b4-xyz12", namespace="immich")
    assert "ControlledBy:ReplicaSet/immich-ml-7f8d9c6b4" in pod.output.replace(" ", "")
    assert "        reason: OOMKilled" in pod.output.splitlines()
    quiet = k.kube_describe(mini, "cm", "immich-config", namespace="immich")
    assert quiet.output.splitlines()[-1] == "Events:       <none>"
    assert k.kube_describe(mini, "po", "nope", namespace="immich").error is not None


def test_top_nodes(mini: SnapshotBackend) -> None:
    r = k.kube_top(mini, "nodes")
    assert r.command == f"kubectl top nodes {CTX}"
    assert (
        r.output
        == """\
NAME     CPU(cores)   CPU%   MEMORY(bytes)   MEMORY%
node-a   1535m        38%    6144Mi          39%
node-b   250m         7%     2048Mi          25%"""
    )
    assert r.data[0] == {
        "name": "node-a",
        "cpu_m": 1535,
        "cpu_allocatable_m": 4000,
        "cpu_percent": 38,
        "memory_b": 6_442_450_944,
        "memory_allocatable_b": 16_710_352_896,
        "memory_percent": 39,
    }
    assert r.value == 2


def test_top_pods(mini: SnapshotBackend) -> None:
    r = k.kube_top(mini, "pods", namespace="immich")
    assert r.command == f"kubectl top pods -n immich {CTX}"
    assert r.output.splitlines() == [
        "NAME                            CPU(cores)   MEMORY(bytes)",
        "immich-ml-7f8d9c6b4-xyz12       1200m        1980Mi",
        "immich-server-6d9f7c8b5-abcde   312m         700Mi",
    ]
    everywhere = k.kube_top(mini, "pods", all_namespaces=True)
    assert everywhere.command == f"kubectl top pods -A {CTX}" and everywhere.value == 4
    assert k.kube_top(mini, "pods", namespace="nope").error is not None
    wrong = k.kube_top(mini, "deployments")  # type: ignore[arg-type]
    assert wrong.error == "cannot top 'deployments': use what='nodes' or what='pods'"


def test_api_resources(mini: SnapshotBackend) -> None:
    r = k.kube_api_resources(mini)
    assert r.command == f"kubectl api-resources {CTX}"
    assert r.value == 23
    lines = r.output.splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert (
        "customresourcedefinitions   crd,crds     apiextensions.k8s.io/v1        false        "
        "CustomResourceDefinition" in lines
    )
    assert {
        "name": "clusterpolicies",
        "shortNames": ["cpol"],
        "apiVersion": "kyverno.io/v1",
        "namespaced": False,
        "kind": "ClusterPolicy",
    } in r.data


def test_events(mini: SnapshotBackend) -> None:
    warnings = k.kube_events(mini, all_namespaces=True, types=["Warning"])
    assert (
        warnings.command
        == f"kubectl get events -A --field-selector type=Warning --sort-by=.lastTimestamp {CTX}"
    )
    assert [(e["metadata"]["namespace"], e["reason"]) for e in warnings.data] == [
        ("media", "BackoffLimitExceeded"),
        ("default", "NodeNotReady"),
        ("immich", "BackOff"),
    ]
    assert warnings.output.splitlines()[0].split() == [
        "NAMESPACE",
        "LAST-SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "COUNT",
        "MESSAGE",
    ]
    immich = k.kube_events(mini, namespace="immich", field_selector="involvedObject.kind=Pod")
    assert immich.value == 2
    assert immich.command == (
        f"kubectl get events -n immich --field-selector involvedObject.kind=Pod "
        f"--sort-by=.lastTimestamp {CTX}"
    )
    both = k.kube_events(mini, namespace="immich", types=["Normal", "Warning"])
    assert both.value == 3 and "--field-selector" not in both.command
    none = k.kube_events(mini, namespace="monitoring")
    assert (none.status, none.output) == (ToolStatus.NO_DATA, "No events found in monitoring namespace.")
    assert k.kube_events(mini, namespace="nope").error is not None
    bad = k.kube_events(mini, types=["Error"])  # type: ignore[list-item]
    assert bad.error == "unknown event type(s) ['Error']; use 'Normal' and/or 'Warning'"


def test_no_secret_value_in_any_output(mini: SnapshotBackend) -> None:
    results = [
        k.kube_get(mini, "secrets", all_namespaces=True),
        k.kube_get(mini, "secret", "immich-db", namespace="immich"),
        k.kube_describe(mini, "secret", "immich-db", namespace="immich"),
        k.kube_get(mini, "cm", all_namespaces=True),
        k.kube_get(
            mini, "secrets", all_namespaces=True, fields=["data", "stringData", "metadata.annotations"]
        ),
    ]
    for r in results:
        text = r.model_dump_json()
        assert "c3VwZXJzZWNyZXQ" not in text and "supersecret" not in text, r.command


# ------------------------------------------------------------------------------ refusals


class Refusing:
    """The mini snapshot behind an RBAC that refuses some types, and without metrics-server."""

    def __init__(self, inner: SnapshotBackend, refused: set[str]) -> None:
        self.inner, self.refused = inner, refused

    @property
    def info(self) -> ClusterInfo:
        return self.inner.info

    @property
    def warnings(self) -> list[str]:
        return []

    @property
    def snapshot_dir(self) -> Path | None:
        return None

    @property
    def default_namespace(self) -> str:
        return "default"

    def api_resources(self) -> list[ResourceType]:
        return self.inner.api_resources()

    def _check(self, rtype: ResourceType) -> None:
        if rtype.plural in self.refused:
            raise ForbiddenError(
                f'{rtype.plural} is forbidden: User "auditor" cannot list resource '
                f'"{rtype.plural}" in API group "{rtype.group}"',
                verb="list",
                what=rtype.qualified,
            )

    def list_objects(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        self._check(rtype)
        return self.inner.list_objects(rtype, namespace, label_selector, field_selector)

    def get_object(self, rtype: ResourceType, name: str, namespace: str | None = None) -> KubeObject:
        self._check(rtype)
        return self.inner.get_object(rtype, name, namespace)

    def metrics(self, what: MetricsKind, namespace: str | None = None) -> list[KubeObject]:
        raise UnavailableError(
            "the metrics API (metrics.k8s.io) is not available: metrics-server is not installed"
        )


def test_forbidden_names_verb_and_resource(mini: SnapshotBackend) -> None:
    r = k.kube_get(Refusing(mini, {"clusterroles"}), "clusterroles")
    assert r.status == ToolStatus.ERROR
    assert r.command == f"kubectl get clusterroles -o json {CTX}"  # no snapshot dir: looks live
    assert r.args == {"resource": "clusterroles"}
    assert r.error == (
        "forbidden: cannot list clusterroles.rbac.authorization.k8s.io cluster-wide (clusterroles is "
        'forbidden: User "auditor" cannot list resource "clusterroles" in API group '
        '"rbac.authorization.k8s.io"). The credentials of context "mini-admin" lack RBAC verb "list" on '
        'resource "clusterroles" in API group "rbac.authorization.k8s.io"; grant it in the audit ClusterRole '
        "or query a resource you can read"
    )
    one = k.kube_describe(Refusing(mini, {"pods"}), "po", "x", namespace="immich")
    assert one.error is not None and one.error.startswith('forbidden: cannot get pods in namespace "immich"')


def test_describe_without_events_permission_still_works(mini: SnapshotBackend) -> None:
    r = k.kube_describe(Refusing(mini, {"events"}), "deploy", "immich-server", namespace="immich")
    assert r.status == ToolStatus.OK and r.data["events"] == []


def test_top_without_metrics_server_is_no_data(mini: SnapshotBackend) -> None:
    r = k.kube_top(Refusing(mini, set()), "nodes")
    assert (r.status, r.error) == (ToolStatus.NO_DATA, None)
    assert r.output == "the metrics API (metrics.k8s.io) is not available: metrics-server is not installed"
    nodes_refused = k.kube_top(mini, "nodes")
    assert nodes_refused.status == ToolStatus.OK


def test_top_nodes_without_node_permission_has_no_percentages(mini: SnapshotBackend) -> None:
    class NoNodes(Refusing):
        def metrics(self, what: MetricsKind, namespace: str | None = None) -> list[KubeObject]:
            return self.inner.metrics(what, namespace)

    r = k.kube_top(NoNodes(mini, {"nodes"}), "nodes")
    assert r.output.splitlines()[1] == "node-a   1535m        <none>   6144Mi          <none>"


def test_output_and_data_are_redacted(tmp_path: Path) -> None:
    root = tmp_path / "leaky"
    root.mkdir()
    deploy: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "api",
            "namespace": "default",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"spec":{"env":"DB_PASSWORD=hunter2"}}'
            },
        },
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "api",
                            "image": "api:1",
                            "env": [
                                {"name": "DB_PASSWORD", "value": "hunter2"},
                                {"name": "DATABASE_URL", "value": "postgres://app:hunter2@db:5432/app"},
                            ],
                        }
                    ]
                }
            }
        },
    }
    (root / "deploy.json").write_text(json.dumps(deploy))
    backend = SnapshotBackend(root)
    results: list[ToolResult] = [
        k.kube_get(backend, "deploy", "api"),
        k.kube_describe(backend, "deploy", "api"),
        k.kube_get(backend, "deploy", fields=["spec.template.spec.containers[0].env"]),
    ]
    for r in results:
        assert r.status == ToolStatus.OK
        text = r.model_dump_json()
        assert "hunter2" not in text, r.command
        assert "<redacted:sha256:" in text
