"""SnapshotBackend: the infra-audit format, plain kubectl dumps under any name, and broken files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from domain.errors import SnapshotError
from tools.kube.backend import InvalidQueryError, KubeQueryError, NotFoundError, UnavailableError
from tools.kube.resources import ResourceTable
from tools.kube.snapshot import SnapshotBackend

pytestmark = pytest.mark.unit

MINI = Path(__file__).resolve().parent.parent / "fixtures" / "snapshot-mini"
T = ResourceTable()


def names(objects: list[dict]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


@pytest.fixture(scope="module")
def mini() -> SnapshotBackend:
    return SnapshotBackend(MINI)


def test_metadata_and_types(mini: SnapshotBackend) -> None:
    assert mini.info.model_dump() == {
        "name": "mini",
        "context": "mini-admin",
        "server_version": "v1.30.4+k3s1",
        "captured_at": "2025-06-01T12:00:00Z",
        "backend": "snapshot",
    }
    assert mini.warnings == []
    assert mini.snapshot_dir == MINI
    assert mini.default_namespace == "default"
    assert len(mini.api_resources()) == 23
    counts = {t.qualified: len(mini.list_objects(t)) for t in mini.api_resources()}
    assert counts["pods"] == 8
    assert counts["deployments.apps"] == 4
    assert counts["nodes"] == 2
    assert counts["events"] == 5
    assert counts["nodes.metrics.k8s.io"] == 2
    assert counts["clusterpolicies.kyverno.io"] == 1


def test_crd_in_snapshot_declares_its_type(mini: SnapshotBackend) -> None:
    cpol = next(t for t in mini.api_resources() if t.plural == "clusterpolicies")
    assert (cpol.group, cpol.version, cpol.kind, cpol.namespaced, cpol.short_names) == (
        "kyverno.io",
        "v1",
        "ClusterPolicy",
        False,
        ("cpol",),
    )


def test_namespace_selector_and_sorting(mini: SnapshotBackend) -> None:
    pods = T.resolve("pods")
    assert names(mini.list_objects(pods, "immich")) == [
        "immich-ml-7f8d9c6b4-xyz12",
        "immich-server-6d9f7c8b5-abcde",
        "immich-server-6d9f7c8b5-fghij",
    ]
    assert names(mini.list_objects(pods, None, "app=immich-server")) == [
        "immich-server-6d9f7c8b5-abcde",
        "immich-server-6d9f7c8b5-fghij",
    ]
    assert names(mini.list_objects(pods, None, None, "status.phase=Failed")) == ["backup-29123456-zzzzz"]
    assert names(mini.list_objects(pods, "nowhere")) == []
    # a cluster-scoped type ignores the namespace, like the API server
    assert names(mini.list_objects(T.resolve("nodes"), "immich")) == ["node-a", "node-b"]
    with pytest.raises(
        NotFoundError, match=re.escape('this snapshot holds no "ingresses.networking.k8s.io"')
    ):
        mini.list_objects(T.resolve("ing"))
    with pytest.raises(InvalidQueryError, match="cannot parse label selector term"):
        mini.list_objects(pods, None, "a b")


def test_get_object(mini: SnapshotBackend) -> None:
    assert mini.get_object(T.resolve("no"), "node-b")["metadata"]["name"] == "node-b"
    assert mini.get_object(T.resolve("deploy"), "jellyfin", "media")["spec"]["replicas"] == 1
    expected = "deployments.apps \"jellyfin\" not found in namespace 'immich'"
    with pytest.raises(NotFoundError, match=re.escape(expected)):
        mini.get_object(T.resolve("deploy"), "jellyfin", "immich")


def test_secret_data_is_stripped_on_load(mini: SnapshotBackend) -> None:
    [secret] = mini.list_objects(T.resolve("secrets"))
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "creationTimestamp": "2025-05-20T08:00:00Z",
            "name": "immich-db",
            "namespace": "immich",
            "uid": "uid-immich-immich-db",
        },
    }
    raw = (MINI / "core.v1.secrets.json").read_text()
    assert "c3VwZXJzZWNyZXQ=" in raw  # the fixture does hold data: the stripping is what is tested
    assert mini.get_object(T.resolve("secret"), "immich-db", "immich") == secret


def test_metrics(mini: SnapshotBackend) -> None:
    assert names(mini.metrics("nodes")) == ["node-a", "node-b"]
    assert names(mini.metrics("pods", "immich")) == [
        "immich-ml-7f8d9c6b4-xyz12",
        "immich-server-6d9f7c8b5-abcde",
    ]


# ------------------------------------------------------------------------------ kubectl dumps


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def dumps(tmp_path: Path) -> SnapshotBackend:
    root = tmp_path / "prod-eu"
    # a raw API answer: a typed list whose items carry no kind/apiVersion
    _write(
        root / "my pods (Tuesday).json",
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "PodList",
                "items": [
                    {
                        "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
                        "status": {"phase": "Running"},
                    },
                    {
                        "metadata": {"name": "web-2", "namespace": "shop", "labels": {"app": "web"}},
                        "status": {"phase": "Running"},
                    },
                ],
            }
        ),
    )
    # kubectl get -o yaml of two things, plus an empty document
    _write(
        root / "stuff.YAML.yaml",
        """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec: {replicas: 2}
---
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {name: web, namespace: shop}
""",
    )
    _write(
        root / "secrets.yml",
        """\
apiVersion: v1
kind: SecretList
items:
- metadata:
    name: db
    namespace: shop
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: '{"data":{"pw":"aHVudGVyMg=="}}'
      team: payments
  data: {pw: aHVudGVyMg==}
  stringData: {url: "postgres://u:hunter2@db/x"}
""",
    )
    _write(
        root / "nested" / "deeper" / "ns.json",
        json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
    )
    # a generic List without kinds, typed by its canonical file name
    _write(
        root / "core.v1.configmaps.json",
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [{"metadata": {"name": "cfg", "namespace": "shop"}}],
            }
        ),
    )
    _write(
        root / "widgets.json",
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [
                    {
                        "apiVersion": "example.com/v1alpha1",
                        "kind": "Widget",
                        "metadata": {"name": "w", "namespace": "shop"},
                    },
                    {"apiVersion": "example.com/v1alpha1", "kind": "Widget", "metadata": {}},
                    "not an object",
                ],
            }
        ),
    )
    _write(root / "broken.json", '{"apiVersion": "v1", "kind": "List", "items": [')
    _write(root / "bad.yaml", "kind: [unclosed\n  - : :\n")
    _write(root / "weird.json", "[1, 2]")
    _write(root / "README.txt", "not a dump")
    _write(root / ".git" / "config.json", "{not json")
    return SnapshotBackend(root)


def test_plain_kubectl_dumps_with_any_names(dumps: SnapshotBackend) -> None:
    assert dumps.info.name == "prod-eu"  # no _snapshot.json: the directory names the cluster
    assert dumps.info.context is None
    assert names(dumps.list_objects(T.resolve("po"), None, "app=web")) == ["web-1", "web-2"]
    assert dumps.get_object(T.resolve("po"), "web-1", "shop")["kind"] == "Pod"
    assert dumps.get_object(T.resolve("po"), "web-1", "shop")["apiVersion"] == "v1"
    assert names(dumps.list_objects(T.resolve("deploy"))) == ["web"]
    assert names(dumps.list_objects(T.resolve("svc"))) == ["web"]
    assert names(dumps.list_objects(T.resolve("ns"))) == ["shop"]
    assert dumps.list_objects(T.resolve("cm")) == [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}}
    ]
    widget = next(t for t in dumps.api_resources() if t.kind == "Widget")
    assert (widget.group, widget.version, widget.plural, widget.namespaced) == (
        "example.com",
        "v1alpha1",
        "widgets",
        True,
    )
    assert names(dumps.list_objects(widget)) == ["w"]
    with pytest.raises(UnavailableError, match="no nodes metrics"):
        dumps.metrics("nodes")


def test_secret_dumps_lose_data_and_last_applied(dumps: SnapshotBackend) -> None:
    [secret] = dumps.list_objects(T.resolve("secrets"))
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "db", "namespace": "shop", "annotations": {"team": "payments"}},
    }
    assert "aHVudGVyMg" not in json.dumps(secret) and "hunter2" not in json.dumps(secret)


def test_malformed_files_are_reported_and_skipped(dumps: SnapshotBackend) -> None:
    at = str(dumps.root) + "/"
    assert dumps.warnings == []
    assert [(i.path.removeprefix(at), i.line, i.reason) for i in dumps.issues] == [
        ("bad.yaml", 2, "syntax"),
        ("broken.json", 1, "syntax"),  # a List cut short: truncated
        ("weird.json", None, "skipped_object"),
        ("widgets.json", None, "skipped_object"),
        ("widgets.json", None, "skipped_object"),
    ]
    assert dumps.issues[1].message == "truncated JSON (the text ends inside a value)"
    # their names do not say what they held: any type may be lost; objects skipped lose no type
    assert [(u.resource, u.kind, u.reason) for u in dumps.unread] == [
        ("unknown type", "*", str(dumps.issues[0])),
        ("unknown type", "*", str(dumps.issues[1])),
    ]
    assert [i.message for i in dumps.issues[2:]] == [
        "skipped a document that is not a Kubernetes object or List",
        "skipped a List item that is not an object",
        "skipped an item whose type or name cannot be told (name=None)",
    ]


def test_an_item_whose_name_or_namespace_is_not_text_is_reported_and_skipped(tmp_path: Path) -> None:
    """An API server names everything with text; a hand-made dump may not (a number, a list, YAML's
    unquoted 2024). Such an item is skipped with an issue; before, sorting the type's listing mixed
    numbers with text and the audit stopped with a traceback."""
    pods = [
        {"metadata": {"name": "web", "namespace": "shop"}},
        {"metadata": {"name": "a", "namespace": 5}},
        {"metadata": {"name": 7, "namespace": "shop"}},
        {"metadata": {"name": "b", "namespace": ["shop"]}},
        {"metadata": {"name": "node-local"}},  # no namespace: a cluster-scoped view of it, still listed
    ]
    _write(tmp_path / "core.v1.pods.json", json.dumps({"apiVersion": "v1", "kind": "PodList", "items": pods}))
    _write(
        tmp_path / "core.v1.services.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: 2024, namespace: shop}\n",
    )
    backend = SnapshotBackend(tmp_path)
    assert names(backend.list_objects(T.resolve("po"))) == ["node-local", "web"]
    assert backend.list_objects(T.resolve("svc")) == []
    assert [(Path(i.path).name, i.reason, i.message) for i in backend.issues] == [
        ("core.v1.pods.json", "skipped_object", f"skipped an item whose name or namespace is not text ({w})")
        for w in ("name='a', namespace=5", "name=7, namespace='shop'", "name='b', namespace=['shop']")
    ] + [
        (
            "core.v1.services.yaml",
            "skipped_object",
            "skipped an item whose name or namespace is not text (name=2024, namespace='shop')",
        )
    ]


def test_missing_or_non_directory_path(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError) as missing:
        SnapshotBackend(tmp_path / "nope")
    assert str(missing.value) == f"snapshot {str(tmp_path / 'nope')!r} does not exist"
    (tmp_path / "file.json").write_text("{}")
    with pytest.raises(SnapshotError, match="is not a directory"):
        SnapshotBackend(tmp_path / "file.json")
    assert "\n" not in str(missing.value)


def test_malformed_snapshot_metadata_falls_back_to_dir_name(tmp_path: Path) -> None:
    root = tmp_path / "edge"
    _write(root / "_snapshot.json", "{oops")
    backend = SnapshotBackend(root)
    assert backend.info.name == "edge"
    [issue] = backend.issues
    assert (issue.path, issue.line, issue.reason) == (str(root / "_snapshot.json"), 1, "syntax")
    assert issue.message.startswith("snapshot metadata not read (")
    assert backend.api_resources() == []


# ------------------------------------------------------------------ hostile and broken dumps


def _billion_laughs(indent: str) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "".join(f"{indent}{line}\n" for line in lines)


@pytest.fixture
def hostile(tmp_path: Path) -> SnapshotBackend:
    """The mini snapshot with a truncated pods dump, an alias bomb and a dump nested 1,000 deep."""
    root = tmp_path / "mini"
    root.mkdir()
    for source in MINI.iterdir():
        (root / source.name).write_bytes(source.read_bytes())
    pods = root / "core.v1.pods.json"
    pods.write_bytes(pods.read_bytes()[:1500])
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: shop}\ndata:\n"
    (root / "bomb.yaml").write_text(head + _billion_laughs("  "))
    (root / "apps.v1.replicasets.json").write_text(
        '{"kind": "List", "items": ' + "[" * 1000 + "]" * 1000 + "}"
    )
    return SnapshotBackend(root)


def test_hostile_dumps_are_typed_issues_naming_what_each_lost(hostile: SnapshotBackend) -> None:
    at = str(hostile.root) + "/"
    assert [(i.path.removeprefix(at), i.reason) for i in hostile.issues] == [
        ("apps.v1.replicasets.json", "too_deep"),
        ("bomb.yaml", "alias_bomb"),
        ("core.v1.pods.json", "syntax"),
    ]
    replicasets, bomb, pods = hostile.issues
    assert pods.message == "truncated JSON (the text ends inside a value)" and pods.line == 58
    assert [(u.resource, u.kind, u.reason) for u in hostile.unread] == [
        ("replicasets.apps", "ReplicaSet", str(replicasets)),
        ("pods", "Pod", str(pods)),
        ("unknown type", "*", str(bomb)),  # a name that does not say its type: any type may be lost
    ]
    # the rest of the cluster is read as before
    assert names(hostile.list_objects(T.resolve("deploy"))) == names(
        SnapshotBackend(MINI).list_objects(T.resolve("deploy"))
    )
    with pytest.raises(KubeQueryError) as lost:  # not "0 pods"
        hostile.list_objects(T.resolve("pods"))
    assert lost.value.message.startswith(f"not read from this snapshot: {pods}; ")
    assert {t.qualified for t in hostile.api_resources()} >= {"pods", "replicasets.apps"}  # served, unread


def test_kube_get_over_a_snapshot_holding_an_alias_bomb_answers(tmp_path: Path) -> None:
    """Before the loader bounded alias expansion, the redactor walked the expanded bomb: a hang."""
    from tools.kube.kubectl import kube_get

    (tmp_path / "_snapshot.json").write_text("{}")
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: shop}\ndata:\n"
    (tmp_path / "core.v1.configmaps.yaml").write_text(head + _billion_laughs("  "))
    (tmp_path / "core.v1.namespaces.json").write_text(
        '{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}]}'
    )
    backend = SnapshotBackend(tmp_path)
    assert [i.reason for i in backend.issues] == ["alias_bomb"]
    assert [(u.resource, u.kind) for u in backend.unread] == [("configmaps", "ConfigMap")]
    assert kube_get(backend, "namespaces").output.splitlines()[1].startswith("shop")
    result = kube_get(backend, "configmaps", all_namespaces=True)
    assert result.status == "error" and "lol" not in (result.error or "")
    assert (result.error or "").startswith(
        "list configmaps in all namespaces: not read from this snapshot: "
        f"{tmp_path}/core.v1.configmaps.yaml:1: YAML aliases expand this file by more than 1,000,000 "
        "values (an alias bomb); not read"
    )


def test_managed_fields_and_last_applied_are_dropped_on_load(tmp_path: Path) -> None:
    """Copies of the object kept for the server and kubectl apply: no check reads them, and a big
    cluster held them beside everything else (issue 13). Other annotations stay."""
    applied = "kubectl.kubernetes.io/last-applied-configuration"
    managed = [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    items = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": "a",
                "managedFields": managed,
                "annotations": {applied: '{"spec":{}}', "team": "web"},
            },
            "spec": {"replicas": 2},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "a", "annotations": {applied: "{}"}},
        },
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "db", "namespace": "a"}},
    ]
    (tmp_path / "apps.v1.deployments.json").write_text(json.dumps({"kind": "List", "items": items}))
    backend = SnapshotBackend(tmp_path)
    rtype = next(t for t in backend.api_resources() if t.plural == "deployments")
    assert [o["metadata"] for o in backend.list_objects(rtype)] == [
        {"name": "api", "namespace": "a"},
        {"name": "db", "namespace": "a"},
        {"name": "web", "namespace": "a", "annotations": {"team": "web"}},
    ]
    assert backend.get_object(rtype, "web", "a")["spec"] == {"replicas": 2}


def test_a_released_snapshot_lets_its_objects_go_and_reading_one_fails() -> None:
    """``release`` (once the report is made): the objects' texts are let go, and a list, a get or a
    listing's bytes afterwards is an error, never an empty type; what the snapshot says of itself
    (its types, its cluster) stays."""
    snapshot = SnapshotBackend(MINI)
    deploy = T.resolve("deploy")
    assert snapshot.list_objects(deploy) and snapshot.listing_blobs(deploy)
    snapshot.release()
    assert snapshot._objects == {}
    for read in (
        lambda: snapshot.list_objects(deploy),
        lambda: snapshot.get_object(deploy, "jellyfin", "media"),
        lambda: snapshot.listing_blobs(deploy),
    ):
        with pytest.raises(KubeQueryError) as raised:
            read()
        assert not isinstance(raised.value, NotFoundError)  # not "no such object": let go
    assert deploy.qualified in {r.qualified for r in snapshot.api_resources()}
    assert snapshot.info.name
