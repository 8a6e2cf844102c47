"""A strategic-merge patch matched by name never becomes the source of the object it patches.

The overlay the community writes most (``patches: - path: deployment-patch.yaml``, the patch repeating
``apiVersion``, ``kind`` and ``metadata.name``/``namespace`` to say which object it patches) built by
the product: each object keeps citing its base's document (a finding about the object as a whole, "no
PodDisruptionBudget", "no NetworkPolicy in namespace X", cites where it is defined), while a value the
patch sets (an image, ``replicas``, ``privileged: true``, a container it adds, a Pod Security label) cites the
patch, where a finding about that value cites it. A Namespace renamed by a
kustomization's ``namespace:`` keeps citing that line even when a patch repeats its new name, and a
patch that names an object by its name before a ``namePrefix`` leaves the prefixed name as it is
(kustomize keeps an object's name, namespace and kind through a strategic-merge patch).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inventory_builder import refs, subjects

from tests.unit.test_checks_security import ctx, write
from tools.checks.detections import maintenance, reliability, scalability, security
from tools.inventory.build import build_inventory
from tools.inventory.kustomize.engine import Kustomizer
from tools.inventory.kustomize.model import Resource
from tools.inventory.models import CodeRef
from tools.inventory.provenance import Provenance

pytestmark = pytest.mark.unit

BASE = {
    "apps/base/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - namespace.yaml
          - deployment.yaml
        """,
    "apps/base/namespace.yaml": """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: podinfo
        """,
    # line 1 apiVersion, 8 type: Recreate, 18 the container
    "apps/base/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: podinfo
          namespace: podinfo
        spec:
          strategy:
            type: Recreate
          selector:
            matchLabels:
              app: podinfo
          template:
            metadata:
              labels:
                app: podinfo
            spec:
              containers:
                - name: podinfo
                  image: ghcr.io/stefanprodan/podinfo:6.5.0
        """,
}

# line 7 replicas, 10 hostNetwork, 13 the base container's image, 15 privileged: true there, 16 a sidecar
DEPLOYMENT_PATCH = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: podinfo
      namespace: podinfo
    spec:
      replicas: 1
      template:
        spec:
          hostNetwork: true
          containers:
            - name: podinfo
              image: ghcr.io/stefanprodan/podinfo:latest
              securityContext:
                privileged: true
            - name: proxy
              image: envoyproxy/envoy
    """

NAMESPACE_PATCH = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: podinfo
      labels:
        pod-security.kubernetes.io/enforce: privileged
    """


def _production(tmp_path: Path, kustomization: str, **files: str) -> None:
    write(tmp_path, {**BASE, "apps/production/kustomization.yaml": kustomization, **files})


def _built(tmp_path: Path, kind: str) -> tuple[Resource, Provenance]:
    """The production overlay's one object of ``kind``, and where each of its values was written."""
    k = Kustomizer(tmp_path)
    [resource] = [r for r in k.build("apps/production").resources if r.kind == kind]
    return resource, Provenance(k.origins, resource.obj, resource.path)


def _sources(tmp_path: Path) -> dict[str, str]:
    inv = build_inventory(tmp_path)
    found = {f"Namespace/{n.name}": str(n.source) for n in inv.code.namespaces}
    for w in inv.code.workloads:
        found[f"{w.kind}/{w.name}"] = str(w.source)
        found |= {f"{w.kind}/{w.name}/{c.name}": str(c.source) for c in w.containers}
    return found


def test_an_overlay_patch_file_leaves_each_object_at_its_base_document(tmp_path: Path) -> None:
    _production(
        tmp_path,
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ../base
        patches:
          - path: deployment-patch.yaml
          - path: namespace-patch.yaml
        """,
        **{
            "apps/production/deployment-patch.yaml": DEPLOYMENT_PATCH,
            "apps/production/namespace-patch.yaml": NAMESPACE_PATCH,
        },
    )
    assert _sources(tmp_path) == {
        "Namespace/podinfo": "apps/base/namespace.yaml:1",  # not the patch's name: line (4)
        "Deployment/podinfo": "apps/base/deployment.yaml:1",
        "Deployment/podinfo/podinfo": "apps/base/deployment.yaml:18",  # merged into the base's container
        "Deployment/podinfo/proxy": "apps/production/deployment-patch.yaml:16",  # added by the patch
    }
    c = ctx(build_inventory(tmp_path))
    d = security.no_network_policy(c)
    assert (subjects(d), refs(d)) == (["Namespace/podinfo"], ["apps/base/namespace.yaml:1"])
    d = reliability.probe_any(c)
    assert (subjects(d), refs(d)) == (["Deployment/podinfo/podinfo"], ["apps/base/deployment.yaml:1"])
    d = security.no_pod_security(c)  # the label the patch set cites the patch
    assert refs(d) == ["apps/production/namespace-patch.yaml:6"]
    # the values the patch set cite the patch: the base container's privileged: true and image...
    d = security.privileged(c)
    assert list(zip(subjects(d), refs(d), strict=True)) == [
        ("Deployment/podinfo/podinfo/podinfo", "apps/production/deployment-patch.yaml:15")
    ]
    d = maintenance.image_latest(c)
    assert list(zip(subjects(d), refs(d), strict=True)) == [
        ("Deployment/podinfo/podinfo/podinfo", "apps/production/deployment-patch.yaml:13"),
        ("Deployment/podinfo/podinfo/proxy", "apps/production/deployment-patch.yaml:17"),  # its image line
    ]
    d = reliability.single_replica(c)  # replicas: 1 in the patch, before the base's Recreate
    assert refs(d) == ["apps/production/deployment-patch.yaml:7"]
    d = security.host_access(c)
    assert refs(d) == ["apps/production/deployment-patch.yaml:10"]
    d = reliability.recreate_no_grace(c)  # the strategy the base wrote
    assert refs(d) == ["apps/base/deployment.yaml:8"]
    # ... while what the container lacks cites the container where the base defines it
    d = scalability.no_memory_limit(c)
    assert list(zip(subjects(d), refs(d), strict=True)) == [
        ("Deployment/podinfo/podinfo/podinfo", "apps/base/deployment.yaml:18"),
        ("Deployment/podinfo/podinfo/proxy", "apps/production/deployment-patch.yaml:17"),
    ]


def test_the_patched_values_keep_the_patch_lines_and_the_name_its_document(tmp_path: Path) -> None:
    """Provenance of the built Deployment: what the patch set cites it, what it only repeated does not."""
    _production(
        tmp_path,
        "resources: [../base]\npatches:\n  - path: deployment-patch.yaml\n",
        **{"apps/production/deployment-patch.yaml": DEPLOYMENT_PATCH},
    )
    _, where = _built(tmp_path, "Deployment")
    patch, base = "apps/production/deployment-patch.yaml", "apps/base/deployment.yaml"
    container = ("spec", "template", "spec", "containers", 0)
    assert where.ref(("spec", "replicas")) == CodeRef(path=patch, line=7)
    assert where.ref((*container, "image")) == CodeRef(path=patch, line=13)
    assert where.ref((*container, "securityContext", "privileged")) == CodeRef(path=patch, line=15)
    assert where.ref(("apiVersion",)) == CodeRef(path=patch, line=1)  # merged, as kustomize merges it
    assert where.ref(("kind",)) == CodeRef(path=base, line=2)  # kind, name, namespace: put back
    assert where.ref(("metadata", "name")) == CodeRef(path=base, line=4)
    assert where.ref(("metadata", "namespace")) == CodeRef(path=base, line=5)
    assert where.set_by_build(("metadata", "name")) is None
    assert where.set_by_build(("kind",)) is None


def test_an_inline_patch_leaves_each_object_at_its_base_document(tmp_path: Path) -> None:
    _production(
        tmp_path,
        """
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources:
          - ../base
        patches:
          - patch: |-
              apiVersion: v1
              kind: Namespace
              metadata:
                name: podinfo
                labels:
                  pod-security.kubernetes.io/enforce: privileged
          - patch: |-
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: podinfo
              spec:
                replicas: 3
        """,
    )
    assert _sources(tmp_path) == {
        "Namespace/podinfo": "apps/base/namespace.yaml:1",
        "Deployment/podinfo": "apps/base/deployment.yaml:1",
        "Deployment/podinfo/podinfo": "apps/base/deployment.yaml:18",
    }
    c = ctx(build_inventory(tmp_path))
    d = security.no_pod_security(c)
    assert refs(d) == ["apps/production/kustomization.yaml:12"]  # the label in the inline patch
    d = reliability.no_pdb(c)  # 3 replicas from the patch; the Deployment as a whole: its document
    assert (subjects(d), refs(d)) == (["Deployment/podinfo/podinfo"], ["apps/base/deployment.yaml:1"])
    d = security.no_network_policy(c)
    assert (subjects(d), refs(d)) == (["Namespace/podinfo"], ["apps/base/namespace.yaml:1"])


def test_an_image_an_overlay_sets_cites_its_images_entry(tmp_path: Path) -> None:
    _production(
        tmp_path,
        """
        resources:
          - ../base
        images:
          - name: ghcr.io/stefanprodan/podinfo
            newTag: latest
        """,
    )
    c = ctx(build_inventory(tmp_path))
    d = maintenance.image_latest(c)
    assert (subjects(d), refs(d)) == (
        ["Deployment/podinfo/podinfo/podinfo"],
        ["apps/production/kustomization.yaml:4"],  # the entry's - name: line
    )
    d = scalability.no_memory_limit(c)  # the container as a whole: where the base defines it
    assert refs(d) == ["apps/base/deployment.yaml:18"]


def test_a_prefixed_object_patched_by_its_old_name_keeps_its_name_and_source(tmp_path: Path) -> None:
    """namePrefix renames without a line of its own: the object cites its document, as before; a patch
    further up naming it by its name before the prefix does not undo the prefix (kustomize keeps it)."""
    write(
        tmp_path,
        {
            **BASE,
            "apps/staging/kustomization.yaml": "namePrefix: staging-\nresources: [../base]\n",
            "apps/cluster/kustomization.yaml": "resources: [../staging]\npatches:\n  - path: patch.yaml\n",
            "apps/cluster/patch.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: podinfo
                spec:
                  replicas: 2
                """,
        },
    )
    inv = build_inventory(tmp_path)
    assert [(w.name, w.replicas, str(w.source)) for w in inv.code.workloads] == [
        ("staging-podinfo", 2, "apps/base/deployment.yaml:1")
    ]
    assert [(n.name, str(n.source)) for n in inv.code.namespaces] == [
        ("podinfo", "apps/base/namespace.yaml:1")
    ]


def test_a_namespace_renamed_by_a_kustomization_keeps_citing_its_namespace_line(tmp_path: Path) -> None:
    """A component's placeholder Namespace renamed by ``namespace: media`` (line 2) cites that line, and
    still does when a patch of the kustomization above repeats the new name to label it."""
    namespaced = "kind: Kustomization\nnamespace: {}\ncomponents:\n  - ../../components/common\n"
    write(
        tmp_path,
        {
            "components/common/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1alpha1
                kind: Component
                resources:
                  - namespace.yaml
                """,
            "components/common/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: _\n",
            "apps/media/kustomization.yaml": namespaced.format("media"),
            "apps/tv/kustomization.yaml": namespaced.format("tv"),
            "apps/kustomization.yaml": """
                resources:
                  - ./media
                  - ./tv
                patches:
                  - path: media-pss.yaml
                """,
            "apps/media-pss.yaml": """
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: media
                  labels:
                    pod-security.kubernetes.io/enforce: privileged
                """,
        },
    )
    inv = build_inventory(tmp_path)
    assert sorted((n.name, str(n.source)) for n in inv.code.namespaces) == [
        ("media", "apps/media/kustomization.yaml:2"),  # not the patch's name: line (4)
        ("tv", "apps/tv/kustomization.yaml:2"),
    ]
    d = security.no_pod_security(ctx(inv))
    assert list(zip(subjects(d), refs(d), strict=True)) == [
        ("Namespace/media", "apps/media-pss.yaml:6"),  # the label the patch set
        ("Namespace/tv", "apps/tv/kustomization.yaml:2"),  # missing: the Namespace's source
    ]


SECRET = """
    apiVersion: v1
    kind: Secret
    metadata:
      name: tls
      namespace: podinfo
    data:
      tls.crt: ""
    """


# line 5 type, 6 immutable
TLS_PATCH = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\ntype: kubernetes.io/tls\nimmutable: true\n"


@pytest.mark.parametrize("targeted", [False, True])
def test_a_patch_keeps_its_lines_and_the_object_its_identity_whatever_it_replaces(
    tmp_path: Path, targeted: bool
) -> None:
    """The patch's own values cite the patch, top-level ones included (``type``, ``immutable``); a
    ``$patch: replace`` patch empties the object and fills it with the patch's, and the object keeps
    its kind, name and namespace (kustomize's ``ApplySmPatch`` puts them back), targeted or not."""
    target = "    target: {kind: Secret, name: tls}\n" if targeted else ""
    _production(
        tmp_path,
        f"resources: [../base, secret.yaml]\npatches:\n  - path: tls-patch.yaml\n{target}"
        f"  - path: replace-patch.yaml\n{target}",
        **{
            "apps/production/secret.yaml": SECRET,
            # the name a targeted patch gives may be anything: kustomize matches by the target
            "apps/production/tls-patch.yaml": TLS_PATCH,
            "apps/production/replace-patch.yaml": (
                "$patch: replace\napiVersion: v1\nkind: Secret\nmetadata:\n"
                f"  name: {'anything' if targeted else 'tls'}\n"
                "  labels: {app: podinfo}\ndata:\n  ca.crt: ''\n"
            ),
        },
    )
    secret, where = _built(tmp_path, "Secret")
    assert (secret.kind, secret.name, secret.namespace) == ("Secret", "tls", "podinfo")
    assert secret.obj == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "tls", "labels": {"app": "podinfo"}, "namespace": "podinfo"},
        "data": {"ca.crt": ""},
    }  # replaced: the first patch's type and immutable are gone with the base's data
    own, replace = "apps/production/secret.yaml", "apps/production/replace-patch.yaml"
    assert where.ref(("metadata", "name")) == CodeRef(path=own, line=4)
    assert where.ref(("metadata", "namespace")) == CodeRef(path=own, line=5)
    assert where.ref(("kind",)) == CodeRef(path=own, line=2)
    assert where.ref(("data", "ca.crt")) == CodeRef(path=replace, line=8)
    assert where.ref(("metadata", "labels", "app")) == CodeRef(path=replace, line=6)


def test_top_level_values_of_a_patch_cite_the_patch(tmp_path: Path) -> None:
    _production(
        tmp_path,
        "resources: [../base, secret.yaml]\npatches:\n  - path: tls-patch.yaml\n",
        **{
            "apps/production/secret.yaml": SECRET,
            "apps/production/tls-patch.yaml": TLS_PATCH,
        },
    )
    _, where = _built(tmp_path, "Secret")
    patch = "apps/production/tls-patch.yaml"
    assert (where.ref(("type",)), where.ref(("immutable",))) == (
        CodeRef(path=patch, line=5),
        CodeRef(path=patch, line=6),
    )
    assert where.ref(("data", "tls.crt")) == CodeRef(path="apps/production/secret.yaml", line=7)


@pytest.mark.parametrize(
    ("remove", "args", "lines"),
    [
        (False, ["--y", "--a", "--x", "--c"], [13, 7, 10, 7]),  # --x moved from index 1 to 2
        (True, ["--y", "--x", "--c"], [13, 10, 7]),  # then --a removed before it: back to 1
    ],
)
def test_list_items_keep_their_lines_when_an_op_inserts_or_removes_before_them(
    tmp_path: Path, remove: bool, args: list[str], lines: list[int]
) -> None:
    """A JSON 6902 op on a list item records its line by the item's index; an op inserting before it
    (or removing an item before it) moves it, and its line goes with it."""
    ops = """
              - op: add
                path: /spec/template/spec/containers/0/args
                value: ["--a", "--b", "--c"]
              - op: replace
                path: /spec/template/spec/containers/0/args/1
                value: --x
              - op: add
                path: /spec/template/spec/containers/0/args/0
                value: --y"""
    if remove:
        ops += """
              - op: remove
                path: /spec/template/spec/containers/0/args/1"""
    _production(
        tmp_path,
        "resources: [../base]\npatches:\n  - target: {kind: Deployment, name: podinfo}\n    patch: |-" + ops,
    )
    deployment, where = _built(tmp_path, "Deployment")
    assert deployment.obj["spec"]["template"]["spec"]["containers"][0]["args"] == args
    path = ("spec", "template", "spec", "containers", 0, "args")
    kustomization = "apps/production/kustomization.yaml"
    assert [where.ref((*path, i)) for i in range(len(args))] == [
        CodeRef(path=kustomization, line=line) for line in lines
    ]


def test_a_patch_naming_a_namespace_gives_none_to_an_object_without_one(tmp_path: Path) -> None:
    """kustomize sets the patched object's own namespace back: a cluster-scoped object (a Namespace)
    gets none from a patch that names one (a copied-and-edited patch file often does)."""
    _production(
        tmp_path,
        "resources: [../base]\npatches:\n  - path: namespace-patch.yaml\n    target: {kind: Namespace}\n",
        **{
            "apps/production/namespace-patch.yaml": (
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: placeholder\n  namespace: podinfo\n"
                "  labels: {team: web}\n"
            )
        },
    )
    namespace, _ = _built(tmp_path, "Namespace")
    assert namespace.obj["metadata"] == {"name": "podinfo", "labels": {"team": "web"}}
