"""The live backend, with the real ``kubernetes`` client, against an emulated API server on 127.0.0.1.

The emulator (``kube_emulator.py``) serves the mini snapshot, so every query can be asked of both
backends and must get the same answer: that is what makes an audit of a snapshot stand for an audit
of the cluster. Offline and deterministic, hence marked ``unit``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kube_emulator import KubeEmulator
from kubernetes import client as k8s_client
from kubernetes.stream import stream as k8s_stream

from domain.errors import KubeConfigError, ReadOnlyViolation
from domain.results import ToolResult, ToolStatus
from tools.inventory.live import load_live_state
from tools.kube import kubectl as k
from tools.kube.live import LiveBackend
from tools.kube.snapshot import SnapshotBackend
from tools.kube.snapshot_writer import write_snapshot

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"
HOMELAB = Path(__file__).resolve().parent.parent.parent / "examples" / "homelab" / "cluster"
PAGE = 3  # smaller than the 8 pods and 5 namespaces of the fixture, so lists really page


@pytest.fixture(scope="session")
def emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator(MINI)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def kubeconfig(emulator: KubeEmulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return emulator.kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="session")
def live(kubeconfig: Path) -> Iterator[LiveBackend]:
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(kubeconfig), context="mini-admin", page_size=PAGE)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def snap() -> SnapshotBackend:
    return SnapshotBackend(MINI)


def fresh(kubeconfig: Path) -> LiveBackend:
    """A backend with no discovery cache, for tests that change what the emulator serves."""
    return LiveBackend.from_kubeconfig(kubeconfig=str(kubeconfig), page_size=PAGE)


Query = Callable[[Any], ToolResult]

QUERIES: dict[str, Query] = {
    "get pods -A": lambda b: k.kube_get(b, "po", all_namespaces=True),
    "get deploy -A": lambda b: k.kube_get(b, "deploy", all_namespaces=True),
    "get pods -l": lambda b: k.kube_get(
        b, "pods", all_namespaces=True, selector="app in (immich-server,jellyfin)"
    ),
    "get pods -l !": lambda b: k.kube_get(
        b, "pods", namespace="immich", selector="app!=immich-ml,pod-template-hash"
    ),
    "get one": lambda b: k.kube_get(b, "deployment", "immich-server", namespace="immich"),
    "get one node": lambda b: k.kube_get(b, "no", "node-b"),
    "get one ns": lambda b: k.kube_get(b, "ns", "immich"),
    "get by name -A": lambda b: k.kube_get(b, "deploy", "jellyfin", all_namespaces=True),
    "get fields": lambda b: k.kube_get(
        b, "pods", all_namespaces=True, fields=["metadata.namespace", "metadata.name", "status.phase"]
    ),
    "get ns": lambda b: k.kube_get(b, "namespaces"),
    "get nodes": lambda b: k.kube_get(b, "nodes"),
    "get secrets": lambda b: k.kube_get(b, "secrets", all_namespaces=True),
    "get secret": lambda b: k.kube_get(b, "secret", "immich-db", namespace="immich"),
    "get cpol": lambda b: k.kube_get(b, "clusterpolicies.kyverno.io"),
    "get hr": lambda b: k.kube_get(b, "hr", all_namespaces=True),
    "get crd": lambda b: k.kube_get(b, "crd"),
    "get none": lambda b: k.kube_get(b, "pods", namespace="monitoring", selector="app=nothing"),
    "get missing": lambda b: k.kube_get(b, "deploy", "immich-sever", namespace="immich"),
    "get bad ns": lambda b: k.kube_get(b, "pods", namespace="imich"),
    "get unknown": lambda b: k.kube_get(b, "deploymnt"),
    "describe deploy": lambda b: k.kube_describe(b, "deploy", "immich-server", namespace="immich"),
    "describe node": lambda b: k.kube_describe(b, "node", "node-b"),
    "describe secret": lambda b: k.kube_describe(b, "secret", "immich-db", namespace="immich"),
    "top nodes": lambda b: k.kube_top(b, "nodes"),
    "top pods -A": lambda b: k.kube_top(b, "pods", all_namespaces=True),
    "top pods -n": lambda b: k.kube_top(b, "pods", namespace="immich"),
    "events -A": lambda b: k.kube_events(b, all_namespaces=True),
    "events warnings": lambda b: k.kube_events(b, all_namespaces=True, types=["Warning"]),
    "events field selector": lambda b: k.kube_events(
        b, namespace="immich", field_selector="involvedObject.kind=Pod"
    ),
    "api-resources": lambda b: k.kube_api_resources(b),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_same_query_same_answer_live_and_snapshot(
    name: str, live: LiveBackend, snap: SnapshotBackend
) -> None:
    a, b = QUERIES[name](snap), QUERIES[name](live)
    assert b.status == a.status
    assert (b.command, b.output, b.value, b.error) == (a.command, a.output, a.value, a.error)
    assert b.data == a.data
    assert b.args == {key: v for key, v in a.args.items() if key != "snapshot"}
    assert a.args["snapshot"] == str(MINI)


@pytest.fixture(scope="session")
def homelab_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SnapshotBackend, LiveBackend]]:
    """The bundled homelab snapshot, and the same served by a second emulator."""
    emu = KubeEmulator(HOMELAB)
    emu.start()
    config = emu.kubeconfig(
        tmp_path_factory.mktemp("homelab") / "config", context="homelab-admin", cluster="homelab"
    )
    live = LiveBackend.from_kubeconfig(kubeconfig=str(config), page_size=10)
    yield SnapshotBackend(HOMELAB), live
    live.close()
    emu.stop()


@pytest.mark.parametrize("name", list(QUERIES))
def test_same_answers_on_the_homelab_snapshot(
    name: str, homelab_pair: tuple[SnapshotBackend, LiveBackend]
) -> None:
    snapshot, live = homelab_pair
    a, b = QUERIES[name](snapshot), QUERIES[name](live)
    assert (b.status, b.command, b.output, b.data, b.value, b.error) == (
        a.status,
        a.command,
        a.output,
        a.data,
        a.value,
        a.error,
    )


def test_homelab_inventory_and_snapshot_round_trip(
    homelab_pair: tuple[SnapshotBackend, LiveBackend], tmp_path: Path
) -> None:
    snapshot, live = homelab_pair
    assert load_live_state(live).model_dump(exclude={"cluster"}) == load_live_state(snapshot).model_dump(
        exclude={"cluster"}
    )
    summary = write_snapshot(live, tmp_path / "copy", captured_at=snapshot.info.captured_at)
    assert summary.files["core.v1.pods.json"] == 46
    copy = SnapshotBackend(tmp_path / "copy")
    for name in ("get pods -A", "get deploy -A", "top nodes", "events -A", "get secrets"):
        assert QUERIES[name](copy).output == QUERIES[name](snapshot).output, name


def test_live_backend_identity(live: LiveBackend) -> None:
    assert live.info.model_dump() == {
        "name": "mini",
        "context": "mini-admin",
        "server_version": "v1.30.4+k3s1",
        "captured_at": None,
        "backend": "live",
    }
    assert live.snapshot_dir is None and live.default_namespace == "default" and live.warnings == []


def test_lists_are_paged_with_limit_and_continue(live: LiveBackend, emulator: KubeEmulator) -> None:
    mark = len(emulator.requests())
    result = k.kube_get(live, "pods", all_namespaces=True)
    assert result.value == 8
    pages = [r for r in emulator.requests()[mark:] if r.path == "/api/v1/pods"]
    assert [r.params for r in pages] == [
        {"limit": "3"},
        {"limit": "3", "continue": pages[1].params["continue"]},
        {"limit": "3", "continue": pages[2].params["continue"]},
    ]
    assert pages[1].params["continue"] != pages[2].params["continue"]
    assert all(r.headers["Authorization"] == "Bearer emulator-token" for r in pages)
    assert {r.method for r in emulator.requests()} == {"GET"}


def test_label_and_field_selectors_go_to_the_server(live: LiveBackend, emulator: KubeEmulator) -> None:
    mark = len(emulator.requests())
    k.kube_get(live, "pods", namespace="immich", selector="app=immich-ml")
    k.kube_events(live, all_namespaces=True, types=["Warning"], field_selector="involvedObject.kind=Pod")
    seen = [(r.path, r.params) for r in emulator.requests()[mark:]]
    assert ("/api/v1/namespaces/immich/pods", {"limit": "3", "labelSelector": "app=immich-ml"}) in seen
    assert ("/api/v1/events", {"limit": "3", "fieldSelector": "involvedObject.kind=Pod,type=Warning"}) in seen


WRITES: dict[str, Callable[[k8s_client.ApiClient, str], Any]] = {
    "delete pod": lambda api, url: k8s_client.CoreV1Api(api).delete_namespaced_pod("debug", "default"),
    "create namespace": lambda api, url: k8s_client.CoreV1Api(api).create_namespace(
        k8s_client.V1Namespace(metadata=k8s_client.V1ObjectMeta(name="evil"))
    ),
    "patch deployment": lambda api, url: k8s_client.AppsV1Api(api).patch_namespaced_deployment(
        "immich-server", "immich", {"spec": {"replicas": 0}}
    ),
    "raw call_api POST": lambda api, url: api.call_api("POST", f"{url}/api/v1/namespaces", {}, body={"x": 1}),
    "rest PUT": lambda api, url: api.rest_client.request("PUT", f"{url}/api/v1/namespaces/immich", body={}),
    "rest HEAD": lambda api, url: api.rest_client.request("HEAD", f"{url}/api/v1/namespaces"),
    "urllib3 DELETE": lambda api, url: api.rest_client.pool_manager.request(
        "DELETE", f"{url}/api/v1/nodes/node-a"
    ),
    "urllib3 urlopen POST": lambda api, url: api.rest_client.pool_manager.urlopen(
        "post", f"{url}/api/v1/pods"
    ),
    "exec over WebSocket": lambda api, url: k8s_stream(
        k8s_client.CoreV1Api(api).connect_get_namespaced_pod_exec, "debug", "default", command=["sh"]
    ),
    "swap the REST client": lambda api, url: setattr(api, "rest_client", object()),
}


@pytest.mark.parametrize("name", list(WRITES))
def test_writes_are_refused_before_leaving_the_process(
    name: str, live: LiveBackend, emulator: KubeEmulator
) -> None:
    mark = len(emulator.requests())
    with pytest.raises(ReadOnlyViolation, match=r"infra-audit only sends GET|transport is read-only"):
        WRITES[name](live.api_client, emulator.url)
    assert emulator.requests()[mark:] == []  # not one byte reached the server
    assert k.kube_get(live, "pods", all_namespaces=True).value == 8


def test_secrets_are_requested_metadata_only(live: LiveBackend, emulator: KubeEmulator) -> None:
    mark = len(emulator.requests())
    results = [
        k.kube_get(live, "secrets", all_namespaces=True),
        k.kube_get(live, "secret", "immich-db", namespace="immich"),
        k.kube_describe(live, "secret", "immich-db", namespace="immich"),
        k.kube_get(live, "secrets", namespace="immich", fields=["data", "stringData"]),
    ]
    secret_requests = [r for r in emulator.requests()[mark:] if "/secrets" in r.path]
    assert len(secret_requests) == 4
    for r in secret_requests:
        accept = r.headers["Accept"]
        expected = "PartialObjectMetadata" if r.path.endswith("/immich-db") else "PartialObjectMetadataList"
        assert accept == f"application/json;as={expected};g=meta.k8s.io;v=v1", r.path
    for result in results:
        text = result.model_dump_json()
        assert "c3VwZXJzZWNyZXQ" not in text and "supersecret" not in text
    state = load_live_state(live)
    assert "c3VwZXJzZWNyZXQ" not in state.model_dump_json()
    # not vacuous: asked without the header by a client of its own, the same server hands out the data
    response = urllib3.request("GET", f"{emulator.url}/api/v1/namespaces/immich/secrets/immich-db")
    assert json.loads(response.data)["data"] == {"password": "c3VwZXJzZWNyZXQ="}


@pytest.mark.parametrize("switch", ["unavailable", "hidden"])
def test_missing_metrics_server_is_no_data(switch: str, live: LiveBackend, emulator: KubeEmulator) -> None:
    toggles: set[tuple[str, str]] = getattr(emulator, switch)
    toggles.update({("metrics.k8s.io", "nodes"), ("metrics.k8s.io", "pods")})
    try:
        for result in (k.kube_top(live, "nodes"), k.kube_top(live, "pods", all_namespaces=True)):
            assert (result.status, result.error, result.data) == (ToolStatus.NO_DATA, None, [])
            assert result.output.startswith(
                "the metrics API (metrics.k8s.io) is not available: metrics-server is not"
            )
        assert all(n.cpu_usage_m is None for n in load_live_state(live).nodes)
    finally:
        toggles.clear()


def test_forbidden_is_an_error_naming_verb_and_resource(live: LiveBackend, emulator: KubeEmulator) -> None:
    emulator.forbidden.update({("rbac.authorization.k8s.io", "clusterroles"), ("", "secrets")})
    try:
        result = k.kube_get(live, "clusterroles")
        assert result.status == ToolStatus.ERROR
        assert result.error == (
            "forbidden: cannot list clusterroles.rbac.authorization.k8s.io cluster-wide (clusterroles is "
            'forbidden: User "system:serviceaccount:monitoring:infra-audit" cannot list resource '
            '"clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope). The credentials '
            'of context "mini-admin" lack RBAC verb "list" on resource "clusterroles" in API group '
            '"rbac.authorization.k8s.io"; grant it in the audit ClusterRole or query a resource you can read'
        )
        one = k.kube_get(live, "secret", "immich-db", namespace="immich")
        assert one.error is not None and one.error.startswith(
            'forbidden: cannot get secrets in namespace "immich"'
        )
        state = load_live_state(live)
        assert sorted(u.resource for u in state.unread) == [
            "clusterroles.rbac.authorization.k8s.io",
            "secrets",
        ]
        assert state.issues == []  # a refused list is a type not read, not a file
        assert len(state.pods) == 8
    finally:
        emulator.forbidden.clear()


def test_a_failing_api_group_is_a_warning(kubeconfig: Path, emulator: KubeEmulator) -> None:
    emulator.broken_discovery.add("/apis/kyverno.io/v1")
    try:
        backend = fresh(kubeconfig)
        assert "clusterpolicies" not in {t.plural for t in backend.api_resources()}
        assert backend.warnings == [
            "discovery of /apis/kyverno.io/v1 failed: the server is currently unable to handle the request"
        ]
        assert k.kube_get(backend, "cpol").value == 1  # kubectl's own names still resolve
        assert len(k.kube_api_resources(backend).data) == 22
    finally:
        emulator.broken_discovery.clear()


def test_a_503_from_one_api_is_an_error_that_says_retry(kubeconfig: Path, emulator: KubeEmulator) -> None:
    emulator.unavailable.add(("kyverno.io", "clusterpolicies"))
    try:
        backend = fresh(kubeconfig)
        result = k.kube_get(backend, "cpol")
        assert result.status == ToolStatus.ERROR
        assert (
            result.error is not None
            and "the server is currently unable to handle the request" in result.error
        )
        assert "Retry later, or audit a snapshot instead" in result.error
    finally:
        emulator.unavailable.clear()


def test_live_inventory_equals_snapshot_inventory(live: LiveBackend, snap: SnapshotBackend) -> None:
    a, b = load_live_state(snap), load_live_state(live)
    assert b.model_dump(exclude={"cluster"}) == a.model_dump(exclude={"cluster"})
    assert (b.cluster.backend, a.cluster.backend) == ("live", "snapshot")
    assert len(b.pods) == 8 and len(b.objects) == 37


def test_write_snapshot_from_live_round_trips(
    live: LiveBackend, snap: SnapshotBackend, tmp_path: Path
) -> None:
    out = tmp_path / "from-live"
    summary = write_snapshot(live, out, captured_at="2025-06-01T12:00:00Z")
    assert summary.objects == 48 and len(summary.files) == 23
    assert json.loads((out / "_snapshot.json").read_text()) == {
        "format": "infra-audit-snapshot/1",
        "cluster": "mini",
        "context": "mini-admin",
        "captured_at": "2025-06-01T12:00:00Z",
        "server_version": "v1.30.4+k3s1",
    }
    copy = SnapshotBackend(out)
    assert copy.warnings == []
    for name, query in QUERIES.items():
        a, b = query(snap), query(copy)
        assert (a.status, a.command, a.output, a.data, a.value, a.error) == (
            b.status,
            b.command,
            b.output,
            b.data,
            b.value,
            b.error,
        ), name
    # and the same bytes as a snapshot -> snapshot copy of the fixture
    write_snapshot(snap, tmp_path / "from-snapshot")
    for path in sorted(out.iterdir()):
        assert path.read_bytes() == (tmp_path / "from-snapshot" / path.name).read_bytes(), path.name


# ------------------------------------------------------------------------------ kubeconfig


def test_kubeconfig_errors_are_one_line(tmp_path: Path, kubeconfig: Path) -> None:
    with pytest.raises(KubeConfigError) as missing:
        LiveBackend.from_kubeconfig(kubeconfig=str(tmp_path / "nope"))
    assert (
        str(missing.value)
        == f"no kubeconfig found at {str(tmp_path / 'nope')!r}; pass --kubeconfig or set KUBECONFIG"
    )
    with pytest.raises(KubeConfigError) as context:
        LiveBackend.from_kubeconfig(kubeconfig=str(kubeconfig), context="prod")
    assert (
        str(context.value)
        == f"context 'prod' not found in kubeconfig {str(kubeconfig)!r}; available contexts: mini-admin"
    )
    broken = tmp_path / "broken"
    broken.write_text("apiVersion: v1\nclusters: [\n")
    with pytest.raises(KubeConfigError) as bad:
        LiveBackend.from_kubeconfig(kubeconfig=str(broken))
    assert str(bad.value).startswith(f"cannot read kubeconfig {str(broken)!r}: ")
    no_current = tmp_path / "no-current"
    config = json.loads(kubeconfig.read_text())
    config.pop("current-context")
    no_current.write_text(json.dumps(config))
    with pytest.raises(KubeConfigError, match="no current-context set"):
        LiveBackend.from_kubeconfig(kubeconfig=str(no_current))
    for exc in (missing, context, bad):
        assert "\n" not in str(exc.value)


def test_kubeconfig_paths_join_like_kubectl(tmp_path: Path, kubeconfig: Path) -> None:
    other = tmp_path / "other"
    other.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [],
                "users": [],
                "contexts": [{"name": "elsewhere", "context": {"cluster": "x", "user": "y"}}],
            }
        )
    )
    joined = f"{tmp_path / 'absent'}:{other}:{kubeconfig}"
    backend = LiveBackend.from_kubeconfig(kubeconfig=joined, context="mini-admin")
    assert backend.info.name == "mini" and backend.context == "mini-admin"
    assert k.kube_get(backend, "ns").value == 5


def test_unreachable_server_is_an_error_result(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "dead"
    config.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "dead",
                "clusters": [{"name": "dead", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}],
            }
        )
    )
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(config))
    result = k.kube_get(backend, "pods", all_namespaces=True)
    assert result.status == ToolStatus.ERROR
    assert result.error is not None
    assert result.error.startswith(f"cannot reach the API server at http://127.0.0.1:{port} to list pods")
    assert result.command == "kubectl get pods -A -o json --context dead"
