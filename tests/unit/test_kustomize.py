"""Kustomize builds in Python against goldens of ``kubectl kustomize`` (kubectl 1.32.4, kustomize 5.5.0).

The goldens in tests/fixtures/kustomize/golden/ were generated once with Debian's kubectl
(``kubectl kustomize tests/fixtures/kustomize/<case> > golden/<case with / as ->.yaml``) and are
committed; the comparison is of parsed objects (order of objects aside), so the generators' name hash
suffixes are compared too. Then what the goldens cannot show: where each built value was written,
what a build leaves out (noted, never guessed) and how it fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_manifests import write
from tools.inventory.kustomize.engine import Kustomizer
from tools.inventory.kustomize.generators import content_hash
from tools.inventory.kustomize.model import BuildNote, HelmChartRequest, KustomizeError
from tools.inventory.manifests import parse_manifests
from tools.inventory.models import CodeRef, ParseIssue
from tools.inventory.provenance import Provenance

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "kustomize"
CASES = ["transforms/overlay", "patches", "generators", "images", "components/app", "merge/overlay", "smp"]


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return (obj["kind"], meta.get("namespace") or "", meta.get("name") or "")


@pytest.mark.parametrize("case", CASES)
def test_build_equals_kubectl_kustomize(case: str) -> None:
    result = Kustomizer(FIXTURES).build(case)
    ours = sorted((r.obj for r in result.resources), key=_key)
    golden = (FIXTURES / "golden" / f"{case.replace('/', '-')}.yaml").read_text()
    assert ours == sorted(yaml.safe_load_all(golden), key=_key)
    assert result.notes == []


def test_content_hash_is_kustomizes() -> None:
    # measured with kubectl: a ConfigMap of K=v is a-276ch85d82, an empty one b-6ct58987ht
    assert content_hash({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"K": "v"}}) == "276ch85d82"
    assert content_hash({"kind": "ConfigMap", "metadata": {"name": "b"}}) == "6ct58987ht"


def test_values_cite_the_file_that_wrote_them() -> None:
    k = Kustomizer(FIXTURES)
    result = k.build("patches")
    [deployment] = [r for r in result.resources if r.kind == "Deployment"]
    where = Provenance(k.origins, deployment.obj, deployment.path)
    containers = ("spec", "template", "spec", "containers")
    assert deployment.path == "base/deployment.yaml" and deployment.line == 1
    # the web container is the base's; the metrics container was added by the strategic-merge patch
    assert where.ref((*containers, 0)) == CodeRef(path="base/deployment.yaml", line=19)
    assert where.ref((*containers, 1)) == CodeRef(path="patches/resources.yaml", line=19)
    assert where.ref((*containers, 0, "resources")) == CodeRef(path="patches/resources.yaml", line=10)
    assert where.ref((*containers, 0, "livenessProbe")) == CodeRef(path="patches/probe.yaml", line=10)
    # the image replaced by the JSON 6902 file: its operation's value line (op: is line 5)
    assert where.ref((*containers, 0, "image")) == CodeRef(path="patches/json-patch.yaml", line=7)
    # a key inside a mapping a 6902 op adds: its own line in the patch (the op's value: is line 3)
    pod_security = ("spec", "template", "spec", "securityContext")
    assert where.ref(pod_security) == CodeRef(path="patches/json-patch.yaml", line=3)
    assert where.ref((*pod_security, "runAsNonRoot")) == CodeRef(path="patches/json-patch.yaml", line=4)
    # replicas from the inline JSON 6902 patch: its value line inside the block scalar (op: is line 13)
    assert where.ref(("spec", "replicas")) == CodeRef(path="patches/kustomization.yaml", line=15)
    # the mapper's line_of answers only for the object's own file
    assert where((*containers, 0, "readinessProbe")) == 26
    assert where((*containers, 1, "image")) is None


def test_transformer_values_cite_the_kustomization() -> None:
    k = Kustomizer(FIXTURES)
    result = k.build("images")
    [front] = [r for r in result.resources if r.kind == "Deployment"]
    where = Provenance(k.origins, front.obj, front.path)
    assert where.ref(("spec", "template", "spec", "containers", 0, "image")) == CodeRef(
        path="images/kustomization.yaml", line=6
    )
    assert where(("spec", "template", "spec", "containers", 0, "image")) is None


def test_json6902_values_cite_their_value_line_whatever_the_key_order(tmp_path: Path) -> None:
    """An op with a value cites its ``value:`` line (written before ``op:`` too, or in flow style); a
    copy or move, which has none, its ``op:`` line; a label the kustomization's ``labels`` or
    ``commonLabels`` set, its own pair's line."""
    write(
        tmp_path,
        {
            "k/kustomization.yaml": """
                resources:
                  - cm.yaml
                labels:
                  - pairs:
                      team: home
                      tier: web
                commonLabels:
                  env: prod
                patches:
                  - path: ops.yaml
                    target:
                      kind: ConfigMap
            """,
            "k/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: '1'}\n",
            "k/ops.yaml": """
                - value: "2"
                  path: /data/b
                  op: add
                - op: copy
                  from: /data/a
                  path: /data/c
                - {op: replace, path: /data/a, value: "3"}
            """,
        },
    )
    k = Kustomizer(tmp_path)
    [cm] = k.build("k").resources
    assert cm.obj["data"] == {"a": "3", "b": "2", "c": "1"}
    where = Provenance(k.origins, cm.obj, cm.path)
    assert where.ref(("data", "b")) == CodeRef(path="k/ops.yaml", line=1)
    assert where.ref(("data", "c")) == CodeRef(path="k/ops.yaml", line=4)
    assert where.ref(("data", "a")) == CodeRef(path="k/ops.yaml", line=7)
    labels = ("metadata", "labels")
    assert where.ref((*labels, "team")) == CodeRef(path="k/kustomization.yaml", line=5)
    assert where.ref((*labels, "tier")) == CodeRef(path="k/kustomization.yaml", line=6)
    assert where.ref((*labels, "env")) == CodeRef(path="k/kustomization.yaml", line=8)


def test_fields_outside_the_subset_are_noted_and_remote_resources_not_fetched(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": """
                resources:
                  - cm.yaml
                  - https://github.com/example/repo//deploy?ref=v1
                replacements:
                  - source: {kind: ConfigMap, name: x}
                vars: []
                helmCharts:
                  - name: podinfo
                    repo: https://stefanprodan.github.io/podinfo
                    version: 6.7.0
            """,
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        },
    )
    result = Kustomizer(tmp_path).build("app")
    assert [r.name for r in result.resources] == ["x"]
    assert result.notes == [
        BuildNote("app/kustomization.yaml", 4, "replacements: not applied by this build (not supported)"),
        BuildNote("app/kustomization.yaml", 6, "vars: not applied by this build (not supported)"),
        BuildNote(
            "app/kustomization.yaml",
            3,
            "remote resource 'https://github.com/example/repo//deploy?ref=v1' not fetched",
        ),
        BuildNote("app/kustomization.yaml", 8, "helmCharts 'podinfo' not rendered (no Helm engine here)"),
    ]


def test_helm_charts_go_through_the_renderer_seam(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": """
                namespace: web
                helmCharts:
                  - name: podinfo
                    version: 6.7.0
                    releaseName: pi
                    valuesInline: {replicaCount: 2}
                    valuesFile: values.yaml
            """,
            "app/values.yaml": "a: 1\n",
        },
    )
    seen: list[HelmChartRequest] = []

    def render(request: HelmChartRequest) -> list[dict[str, Any]] | None:
        seen.append(request)
        return [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "pi"}}]

    result = Kustomizer(tmp_path, helm=render).build("app")
    assert [(s.name, s.release_name, s.version, s.values, s.values_files) for s in seen] == [
        ("podinfo", "pi", "6.7.0", {"replicaCount": 2}, ["app/values.yaml"])
    ]
    assert [(r.kind, r.namespace, r.path, r.line) for r in result.resources] == [
        ("Service", "web", "app/kustomization.yaml", 3)
    ]
    assert result.notes == []


@pytest.mark.parametrize(
    ("files", "path", "line", "message"),
    [
        (
            {"k/kustomization.yaml": "resources: [missing.yaml]\n"},
            "k/kustomization.yaml",
            1,
            "resource 'missing.yaml' does not exist",
        ),
        (
            {"k/kustomization.yaml": "resources: [../../outside]\n"},
            "k/kustomization.yaml",
            1,
            "'../../outside' is outside the estate; not read",
        ),
        (
            {
                "k/kustomization.yaml": "resources: [d.yaml]\npatches: [{path: p.yaml}]\n",
                "k/d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                "k/p.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: y}\n",
            },
            "k/kustomization.yaml",
            2,
            "patch k/p.yaml: no ConfigMap named 'b' to patch",
        ),
        (
            {
                "k/kustomization.yaml": """
                    resources: [d.yaml]
                    patches:
                      - target: {kind: ConfigMap}
                        patch: '[{"op": "replace", "path": "/data/nope", "value": 1}]'
                """,
                "k/d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            },
            "k/kustomization.yaml",
            3,
            "JSON 6902 replace on ConfigMap/a: /data/nope does not exist",
        ),
        (
            {"k/kustomization.yaml": "resources: [../j]\n", "j/kustomization.yaml": "resources: [../k]\n"},
            "k/kustomization.yaml",
            None,
            "a cycle of kustomizations: k -> j -> k",
        ),
        (
            {"k/kustomization.yaml": "resources: [d.yaml]\n", "k/d.yaml": "metadata: {name: a}\n"},
            "k/d.yaml",
            1,
            "a document without kind",
        ),
    ],
    ids=["missing", "outside", "patch-without-target", "json-replace-missing", "cycle", "no-kind"],
)
def test_a_build_that_cannot_go_on_says_where(
    tmp_path: Path, files: dict[str, str], path: str, line: int | None, message: str
) -> None:
    write(tmp_path, files)
    with pytest.raises(KustomizeError) as caught:
        Kustomizer(tmp_path).build("k")
    assert (caught.value.path, caught.value.line, caught.value.message) == (path, line, message)


# ------------------------------------------------------------------------------ in the inventory


def test_inventory_objects_come_from_the_build_not_from_each_file(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "base/deploy.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  template:
                    spec:
                      containers:
                        - name: web
                          image: web:1
            """,
            "prod/kustomization.yaml": """
                namespace: prod
                resources: [../base]
                patches:
                  - path: probes.yaml
            """,
            "prod/probes.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  template:
                    spec:
                      containers:
                        - name: web
                          readinessProbe: {httpGet: {path: /, port: 80}}
                        - name: proxy
                          image: envoy:1
            """,
        },
    )
    records = parse_manifests(tmp_path, paths)
    # one Deployment (not the base's raw one too, and the patch file is not an object)
    [web] = records.workloads
    assert (web.namespace, web.name, str(web.source)) == ("prod", "web", "base/deploy.yaml:1")
    assert [(c.name, c.probes, str(c.source), c.image_line) for c in web.containers] == [
        ("web", ["readiness"], "base/deploy.yaml:8", 9),
        ("proxy", [], "prod/probes.yaml:10", 11),  # added by the patch: its image line in the patch
    ]
    assert records.issues == []


def test_a_broken_kustomization_is_noted_and_its_files_read_one_by_one(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "app/kustomization.yaml": "namespace: app\nresources: [deploy.yaml, gone.yaml]\n",
            "app/deploy.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
            """,
        },
    )
    records = parse_manifests(tmp_path, paths)
    [web] = records.workloads
    assert (web.namespace, web.name) == (None, "web")  # raw: the namespace was not applied
    assert records.issues == [
        ParseIssue(
            path="app/kustomization.yaml",
            line=2,
            message="does not build: resource 'gone.yaml' does not exist; "
            "the objects it would build are read file by file",
            reason="note",
        )
    ]
    assert [k.missing for k in records.kustomizations] == [["gone.yaml"]]


def test_generated_secret_values_reach_no_record_and_no_note(tmp_path: Path) -> None:
    canary = "CANARY-kustomize-secret-literal"
    paths = write(
        tmp_path,
        {
            "app/kustomization.yaml": f"""
                secretGenerator:
                  - name: creds
                    literals: [password={canary}]
                    files: [token.txt]
                    envs: [broken.env]
            """,
            "app/token.txt": "CANARY-kustomize-secret-file\n",
            "app/broken.env": "NO_EQUALS_CANARY-kustomize-env\n",
        },
    )
    records = parse_manifests(tmp_path, paths)
    [secret] = records.secrets
    assert secret.keys == ["password", "token.txt"]
    assert (
        secret.name is not None
        and secret.name.startswith("creds-")
        and len(secret.name) == len("creds-") + 10
    )
    dump = records.model_dump_json()
    for value in (canary, "CANARY-kustomize-secret-file", "NO_EQUALS_CANARY-kustomize-env"):
        assert value not in dump
    assert [i.message for i in records.issues] == [
        "app/broken.env: a line without '=' takes its value from the environment; left out"
    ]


def test_a_local_directory_named_like_a_host_is_local(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "k/kustomization.yaml": "resources: [app.v2/]\n",
            "k/app.v2/kustomization.yaml": "resources: [cm.yaml]\n",
            "k/app.v2/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        },
    )
    result = Kustomizer(tmp_path).build("k")
    assert [(r.kind, r.name, r.path) for r in result.resources] == [("ConfigMap", "x", "k/app.v2/cm.yaml")]
    assert result.notes == []


def test_patch_options_this_build_does_not_apply_are_noted(tmp_path: Path) -> None:
    """``allowNameChange``/``allowKindChange`` let kustomize rename the patched object to the patch's
    name; this build keeps the object's own, and says so where the option is (not when it is false)."""
    write(
        tmp_path,
        {
            "base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {}",
            "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
            "prod/kustomization.yaml": """
                resources:
                  - ../base
                patches:
                  - target: {kind: Deployment, name: web}
                    patch: |-
                      apiVersion: apps/v1
                      kind: Deployment
                      metadata: {name: web-v2}
                    options:
                      allowNameChange: true
                  - target: {kind: Deployment, name: web}
                    patch: '[{"op": "add", "path": "/spec/replicas", "value": 2}]'
                    options: {allowNameChange: false, allowKindChange: false}
            """,
        },
    )
    result = Kustomizer(tmp_path).build("prod")
    assert [(r.kind, r.name, r.obj.get("spec")) for r in result.resources] == [
        ("Deployment", "web", {"replicas": 2})
    ]
    assert result.notes == [
        BuildNote("prod/kustomization.yaml", 9, "patch options allowNameChange: not applied by this build")
    ]
