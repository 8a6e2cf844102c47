"""The GitOps indirection that is not Helm: Flux Kustomizations (path, targetNamespace, postBuild
substitution, dependsOn) and Argo CD ApplicationSets expanded into Applications; and the reach this
gives (``Records.deployed_paths``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_manifests import write
from tools.inventory.kustomize.substitute import Variables, fingerprint, substitute
from tools.inventory.manifests import parse_manifests
from tools.inventory.models import CodeRef, ParseIssue

pytestmark = pytest.mark.unit

_DEPLOY = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      replicas: ${REPLICAS:=1}
      template:
        spec:
          containers:
            - name: web
              image: ghcr.io/example/web:${TAG}
              env:
                - {name: DOMAIN, value: "${DOMAIN:=example.org}"}
                - {name: TOKEN, value: "${API_TOKEN}"}
                - {name: ESCAPED, value: "$${NOT_A_VAR}"}
"""


def test_substitution_forms() -> None:
    variables = Variables()
    variables.add("A", "1", secret=False)
    variables.add("S", "hunter2-CANARY", secret=True)
    obj = {"n": "${A}", "d": "${B:=x}", "e": "${B:-y}", "t": "pre-${A}-${S}", "esc": "$${A}", "u": "${NONE}"}
    substitute(obj, variables)
    assert obj == {
        "n": 1,
        "d": "x",
        "e": "y",
        "t": f"pre-1-{fingerprint('hunter2-CANARY')}",
        "esc": "${A}",
        "u": "",
    }
    assert "hunter2" not in fingerprint("hunter2-CANARY")
    disabled = {
        "metadata": {"annotations": {"kustomize.toolkit.fluxcd.io/substitute": "disabled"}},
        "v": "${A}",
    }
    assert substitute(disabled, variables)["v"] == "${A}"


def test_flux_kustomization_builds_its_path_with_target_namespace_and_substitution(tmp_path: Path) -> None:
    secret_value = "CANARY-flux-substitute-secret"
    paths = write(
        tmp_path,
        {
            "clusters/prod/apps.yaml": """
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: apps, namespace: flux-system}
                spec:
                  interval: 10m
                  path: ./apps
                  prune: true
                  suspend: false
                  targetNamespace: shop
                  dependsOn: [{name: infrastructure}]
                  sourceRef: {kind: GitRepository, name: flux-system}
                  postBuild:
                    substitute: {TAG: "2.1.0"}
                    substituteFrom:
                      - {kind: ConfigMap, name: cluster-settings}
                      - {kind: Secret, name: cluster-secrets}
                      - {kind: ConfigMap, name: not-here}
                      - {kind: ConfigMap, name: optional-one, optional: true}
            """,
            "clusters/prod/settings/kustomization.yaml": """
                configMapGenerator:
                  - name: cluster-settings
                    namespace: flux-system
                    literals: [REPLICAS=3, TAG=ignored]
                generatorOptions: {disableNameSuffixHash: true}
            """,
            "clusters/prod/settings/secret.yaml": f"""
                apiVersion: v1
                kind: Secret
                metadata: {{name: cluster-secrets, namespace: flux-system}}
                stringData: {{API_TOKEN: {secret_value}}}
            """,
            "apps/kustomization.yaml": "resources: [deploy.yaml]\n",
            "apps/deploy.yaml": _DEPLOY,
            "apps/unlisted.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: stray}\n",
        },
    )
    records = parse_manifests(tmp_path, paths)
    [web] = records.workloads
    assert (web.namespace, web.replicas, web.containers[0].image) == ("shop", 3, "ghcr.io/example/web:2.1.0")
    assert secret_value not in records.model_dump_json()
    [flux] = records.flux_kustomizations
    assert (flux.target_namespace, flux.depends_on, flux.prune, flux.suspend) == (
        "shop",
        ["infrastructure"],
        True,
        False,
    )
    assert (flux.substitute_keys, flux.substitute_from) == (
        ["TAG"],
        [
            "ConfigMap/cluster-settings",
            "Secret/cluster-secrets",
            "ConfigMap/not-here",
            "ConfigMap/optional-one",
        ],
    )
    assert records.issues == [
        ParseIssue(
            path="clusters/prod/apps.yaml",
            line=17,
            message="postBuild substituteFrom ConfigMap 'not-here' is not in the repo; "
            "its variables are unset",
            reason="note",
        )
    ]
    [deployed] = records.deployed_paths
    assert deployed.suspended is False
    assert (deployed.path, deployed.via, deployed.name, deployed.built, deployed.files) == (
        "apps",
        "flux",
        "apps",
        True,
        ["apps/deploy.yaml", "apps/kustomization.yaml"],
    )
    assert deployed.source == CodeRef(path="clusters/prod/apps.yaml", line=1)
    assert records.is_deployed("apps/deploy.yaml") is True
    assert records.is_deployed("apps/unlisted.yaml") is False  # in the directory, not in its build


def test_the_substituted_object_carries_the_secret_only_as_a_fingerprint(tmp_path: Path) -> None:
    from tools.inventory.kustomize.estate import RawObject, resolve
    from tools.inventory.yaml_lines import load_documents

    files = {
        "flux.yaml": """
            apiVersion: kustomize.toolkit.fluxcd.io/v1
            kind: Kustomization
            metadata: {name: apps}
            spec:
              path: ./apps
              sourceRef: {kind: GitRepository, name: repo}
              postBuild:
                substituteFrom: [{kind: Secret, name: s}]
        """,
        "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {API_TOKEN: aHVudGVyMg==}\n",
        "apps/kustomization.yaml": "resources: [deploy.yaml]\n",
        "apps/deploy.yaml": _DEPLOY,
    }
    write(tmp_path, files)
    raw = [
        RawObject(p, doc)
        for p in ("flux.yaml", "secret.yaml", "apps/deploy.yaml")
        for doc in load_documents((tmp_path / p).read_bytes())
    ]
    gitops = resolve(tmp_path, ["apps/kustomization.yaml"], raw, {})
    [build] = gitops.builds
    [deploy] = [r.obj for r in build.resources]
    env = deploy["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [
        {"name": "DOMAIN", "value": "example.org"},
        {"name": "TOKEN", "value": fingerprint("hunter2")},
        {"name": "ESCAPED", "value": "${NOT_A_VAR}"},
    ]
    assert deploy["spec"]["replicas"] == 1


def test_flux_path_without_kustomization_applies_every_manifest_under_it(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "clusters/prod/flux.yaml": """
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: everything}
                spec:
                  path: ./apps
                  suspend: true
                  sourceRef: {kind: GitRepository, name: flux-system}
                  targetNamespace: apps
                  commonMetadata:
                    labels: {owner: platform}
                  patches:
                    - target: {kind: Deployment, name: a}
                      patch: |
                        - op: add
                          path: /spec/replicas
                          value: 2
            """,
            "apps/a/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {}\n",
            "apps/a/values.yaml": "replicaCount: 2\n",  # not an object: left out of the generated build
            "apps/b/kustomization.yaml": "namePrefix: b-\nresources: [deploy.yaml]\n",
            "apps/b/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert sorted((w.namespace, w.name, str(w.source)) for w in records.workloads) == [
        ("apps", "a", "apps/a/deploy.yaml:1"),
        ("apps", "b-web", "apps/b/deploy.yaml:1"),
    ]
    [deployed] = records.deployed_paths
    assert deployed.files == ["apps/a/deploy.yaml", "apps/b/deploy.yaml", "apps/b/kustomization.yaml"]
    assert (deployed.built, deployed.suspended) == (True, True)  # suspended: deployed, not reconciled
    # the Flux Kustomization's own patch and commonMetadata are laid over the build
    assert sorted((w.name, w.replicas, w.labels) for w in records.workloads) == [
        ("a", 2, {"owner": "platform"}),
        ("b-web", None, {"owner": "platform"}),
    ]
    assert records.issues == []


def test_no_gitops_object_means_reach_unknown(tmp_path: Path) -> None:
    paths = write(tmp_path, {"deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n"})
    records = parse_manifests(tmp_path, paths)
    assert records.deployed_paths == []
    assert records.is_deployed("deploy.yaml") is None


# ------------------------------------------------------------------------------ ApplicationSets

_APPSET = """
    apiVersion: argoproj.io/v1alpha1
    kind: ApplicationSet
    metadata: {name: apps, namespace: argocd}
    spec:
      generators:
        - git:
            repoURL: https://github.com/example/homelab
            revision: HEAD
            directories:
              - path: apps/*
              - path: apps/bench
                exclude: true
        - clusters: {}
      template:
        metadata:
          name: '{{path.basename}}'
        spec:
          project: default
          source:
            repoURL: https://github.com/example/homelab
            targetRevision: HEAD
            path: '{{path}}'
          destination:
            server: https://kubernetes.default.svc
            namespace: '{{path.basename}}'
          syncPolicy: {automated: {prune: true}}
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: listed}
spec:
  goTemplate: true
  generators:
    - list:
        elements:
          - {app: extra, dir: system/extra}
    - git:
        repoURL: https://github.com/example/homelab
        revision: HEAD
        files:
          - path: envs/*/config.yaml
  template:
    metadata:
      name: '{{ .app }}'
    spec:
      project: '{{ .app | upper }}'
      source: {repoURL: https://github.com/example/homelab, path: '{{.dir}}'}
      destination: {namespace: '{{.app}}'}
"""


def test_applicationset_generators_expand_into_applications(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "argocd/appset.yaml": _APPSET,
            "apps/web/kustomization.yaml": "resources: [deploy.yaml]\n",
            "apps/web/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            "apps/db/Chart.yaml": "apiVersion: v2\nname: db\nversion: 1.0.0\n",
            "apps/bench/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: bench}\n",
            "system/extra/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n",
            "envs/dev/config.yaml": "app: dev-app\ndir: envs/dev\n",
        },
    )
    records = parse_manifests(tmp_path, paths)
    apps = sorted(
        (a.name, a.path, a.destination_namespace, str(a.source), a.project) for a in records.argo_apps
    )
    # source: the directory glob's line, the list element's line, the files glob's line
    assert apps == [
        ("db", "apps/db", "db", "argocd/appset.yaml:10", "default"),
        ("dev-app", "envs/dev", "dev-app", "argocd/appset.yaml:41", "{{ .app | upper }}"),
        ("extra", "system/extra", "extra", "argocd/appset.yaml:36", "{{ .app | upper }}"),
        ("web", "apps/web", "web", "argocd/appset.yaml:10", "default"),
    ]
    by_set = {a.name: a.generated_by for a in records.argo_apps}
    assert by_set == {
        "db": CodeRef(path="argocd/appset.yaml", line=1),
        "web": CodeRef(path="argocd/appset.yaml", line=1),
        "extra": CodeRef(path="argocd/appset.yaml", line=28),
        "dev-app": CodeRef(path="argocd/appset.yaml", line=28),
    }
    assert [(a.prune, a.automated, a.namespace) for a in records.argo_apps if a.name in ("db", "web")] == [
        (True, True, "argocd")
    ] * 2
    assert sorted((i.path, i.line, i.message) for i in records.issues) == [
        ("argocd/appset.yaml", 13, "ApplicationSet apps: clusters generator not expanded"),
        ("argocd/appset.yaml", 36, "ApplicationSet listed: template '{{ .app | upper }}' not expanded"),
        ("argocd/appset.yaml", 41, "ApplicationSet listed: template '{{ .app | upper }}' not expanded"),
    ]
    # the generated app's kustomization is built with the destination namespace
    [web] = [w for w in records.workloads if w.name == "web"]
    assert web.namespace == "web"
    deployed = sorted((d.path, d.via, d.name, d.built) for d in records.deployed_paths)
    assert deployed == [
        ("apps/db", "argocd", "db", False),
        ("apps/web", "argocd", "web", True),
        ("envs/dev", "argocd", "dev-app", False),
        ("system/extra", "argocd", "extra", False),
    ]
    assert records.is_deployed("apps/bench/job.yaml") is False  # excluded from the generator: not deployed
    assert records.is_deployed("system/extra/cm.yaml") is True


def test_an_argo_application_builds_its_kustomization_and_notes_options_not_applied(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "argocd/app.yaml": """
                apiVersion: argoproj.io/v1alpha1
                kind: Application
                metadata: {name: web, namespace: argocd}
                spec:
                  project: default
                  source:
                    repoURL: https://github.com/example/homelab
                    path: apps/web
                    kustomize: {namePrefix: x-, images: [web=web:2]}
                  destination: {namespace: web}
            """,
            "apps/web/kustomization.yaml": "resources: [deploy.yaml, ns.yaml]\n",
            "apps/web/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            "apps/web/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n",
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert [(w.name, w.namespace) for w in records.workloads] == [("web", "web")]  # the destination's
    assert [(n.name, str(n.source)) for n in records.namespaces] == [("web", "apps/web/ns.yaml:1")]
    assert [(i.path, i.line, i.message) for i in records.issues] == [
        (
            "argocd/app.yaml",
            1,
            "Argo CD Application web: source.kustomize images, namePrefix not applied by this build",
        )
    ]
    [deployed] = records.deployed_paths
    assert (deployed.path, deployed.via, deployed.built) == ("apps/web", "argocd", True)


def test_a_go_template_indexes_the_path_segments(tmp_path: Path) -> None:
    """``{{ index .path.segments 0 }}`` is Argo's documented way to read a directory's parent (the
    argocd-homelab estate labels each app by it): filled, not noted as unexpanded."""
    appset = """\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: platform, namespace: argocd}
spec:
  goTemplate: true
  generators:
    - git:
        repoURL: https://github.com/example/homelab
        revision: HEAD
        directories:
          - path: apps/*
  template:
    metadata:
      name: '{{ .path.basename }}'
    spec:
      project: '{{ index .path.segments 0 }}'
      source: {repoURL: https://github.com/example/homelab, path: '{{ .path.path }}'}
      destination: {namespace: '{{ index .path.segments 1 }}-{{ index .path.segments 5 }}'}
"""
    paths = write(
        tmp_path,
        {
            "argocd/appset.yaml": appset,
            "apps/web/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert [(a.name, a.project, a.destination_namespace) for a in records.argo_apps] == [
        ("web", "apps", "web-{{ index .path.segments 5 }}")  # out of range: left as written, and noted
    ]
    assert [i.message for i in records.issues] == [
        "ApplicationSet platform: template '{{ index .path.segments 5 }}' not expanded"
    ]
