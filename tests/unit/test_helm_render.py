"""Helm releases rendered by the real engine into the one inventory (tools/helm)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helm_charts import REPO_URL, package_charts, write

from tools.helm.cache import ChartCache, ChartRef, parse_ref
from tools.helm.options import ChartOptions
from tools.helm.summary import gap_lines, render_line
from tools.inventory.build import build_inventory
from tools.inventory.models import CodeRef

pytest.importorskip("helm_python")
REPO = REPO_URL


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return package_charts(tmp_path_factory.mktemp("packaged"))


@pytest.fixture
def cache(tmp_path: Path, packaged: dict[str, bytes]) -> ChartCache:
    cache = ChartCache(tmp_path / "cache")
    cache.put(parse_ref("oci://ghcr.io/example/charts/app:2.0.0"), packaged["app"])
    cache.put(parse_ref(f"{REPO} app 2.0.0"), packaged["app"])
    return cache


FLUX = {
    "flux/oci.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: OCIRepository
        metadata: {name: app, namespace: apps}
        spec:
          url: oci://ghcr.io/example/charts/app
          ref:
            tag: 2.0.0
    """,
    "flux/web.yaml": """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: web, namespace: apps}
        spec:
          chartRef: {kind: OCIRepository, name: app}
          values:
            controllers:
              main:
                containers:
                  main:
                    image:
                      tag: 2.5.0
                    probes:
                      readiness:
                        enabled: true
    """,
    "flux/upstream.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata: {name: upstream, namespace: apps}
        spec: {url: "https://charts.upstream.test"}
        ---
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: thing, namespace: apps}
        spec:
          chart:
            spec:
              chart: thing
              version: 1.2.3
              sourceRef: {kind: HelmRepository, name: upstream}
    """,
}


def workloads(inv):  # type: ignore[no-untyped-def]
    return [
        (
            w.kind,
            w.namespace,
            w.name,
            [(c.image, c.probes, str(c.source), str(c.release)) for c in w.containers],
        )
        for w in inv.code.workloads
    ]


def test_flux_chart_ref_release_renders_with_chart_defaults_and_inline_values(
    tmp_path: Path, cache: ChartCache
) -> None:
    root = write(tmp_path / "estate", FLUX)
    inv = build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    # the image tag cites the values line that set it; liveness is on by the chart's default,
    # readiness by the release's values; the release is kept beside it
    assert workloads(inv) == [
        (
            "Deployment",
            "apps",
            "web",
            [("ghcr.io/example/app:2.5.0", ["readiness", "liveness"], "flux/web.yaml:12", "flux/web.yaml:1")],
        )
    ]
    thing, web = inv.code.helm_renders
    assert (web.name, web.rendered, web.objects, web.schema_skipped) == ("web", True, 2, True)
    assert (thing.name, thing.rendered, thing.cause) == ("thing", False, "chart_missing")
    assert thing.reason == "chart not in the cache (https://charts.upstream.test thing 1.2.3)"
    assert render_line(inv.code.helm_renders) == (
        "rendered: 1 releases, 2 objects; not rendered: 1 (1: chart not in the cache "
        "(`infra-audit charts import`, or `--fetch-charts`))"
    )
    assert gap_lines(inv.code.helm_renders)[0].startswith(
        "1 of 2 Helm releases not rendered: chart not in the cache (`infra-audit charts import`, or "
        "`--fetch-charts`): apps/thing (flux/upstream.yaml:6)"
    )


def test_without_a_cache_nothing_renders_and_every_release_is_a_gap(tmp_path: Path) -> None:
    root = write(tmp_path / "estate", FLUX)
    inv = build_inventory(root)
    assert inv.code.workloads == []
    assert [(r.name, r.rendered, r.cause) for r in inv.code.helm_renders] == [
        ("thing", False, "chart_missing"),
        ("web", False, "chart_missing"),
    ]


ARGO = {
    "argo/api.yaml": """
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: api, namespace: argocd}
        spec:
          destination: {namespace: api}
          sources:
            - repoURL: https://charts.example.test
              chart: app
              targetRevision: 2.0.0
              helm:
                valueFiles: [$values/values/api.yaml]
                parameters:
                  - {name: controllers.main.replicas, value: "3"}
            - repoURL: https://git.example.test/estate.git
              ref: values
    """,
    "values/api.yaml": """
        controllers:
          main:
            type: statefulset
            containers:
              main:
                image:
                  repository: ghcr.io/example/api
                  tag: 3.1.0
    """,
    "argo/wrapped.yaml": """
        apiVersion: argoproj.io/v1alpha1
        kind: Application
        metadata: {name: wrapped, namespace: argocd}
        spec:
          destination: {namespace: tools}
          source:
            repoURL: https://git.example.test/estate.git
            path: apps/wrapped
    """,
    "apps/wrapped/Chart.yaml": """
        apiVersion: v2
        name: wrapped
        version: 0.1.0
        dependencies:
          - name: app
            version: 2.x
            repository: https://charts.example.test
    """,
    "apps/wrapped/values.yaml": """
        app:
          controllers:
            main:
              containers:
                main:
                  image:
                    tag: 4.0.0
                  probes:
                    liveness:
                      enabled: false
    """,
}


def test_argo_multi_source_ref_values_and_a_wrapper_chart(tmp_path: Path, cache: ChartCache) -> None:
    root = write(tmp_path / "estate", ARGO)
    inv = build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    assert workloads(inv) == [
        (
            "StatefulSet",
            "api",
            "api",
            [("ghcr.io/example/api:3.1.0", ["liveness"], "values/api.yaml:8", "argo/api.yaml:7")],
        ),
        # the wrapper's values nest the app chart's under its name: tag 4.0.0, liveness turned off
        (
            "Deployment",
            "tools",
            "wrapped",
            [("ghcr.io/example/app:4.0.0", [], "apps/wrapped/values.yaml:7", "argo/wrapped.yaml:6")],
        ),
    ]
    api = inv.code.workloads[0]
    assert (api.replicas, api.origin, api.release) == (3, "helm", CodeRef(path="argo/api.yaml", line=7))
    assert [(r.name, r.rendered, r.chart) for r in inv.code.helm_renders] == [
        ("api", True, "https://charts.example.test app 2.0.0"),
        ("wrapped", True, "apps/wrapped"),
    ]


def test_a_chart_that_fails_to_render_is_a_gap_and_the_rest_goes_on(
    tmp_path: Path, cache: ChartCache
) -> None:
    files = dict(ARGO)
    files["apps/broken/Chart.yaml"] = "apiVersion: v2\nname: broken\nversion: 0.1.0\n"
    files["apps/broken/templates/bad.yaml"] = "{{ .Values.nope.deeper }}\n"
    files["argo/broken.yaml"] = ARGO["argo/wrapped.yaml"].replace("wrapped", "broken")
    inv = build_inventory(write(tmp_path / "estate", files), charts=ChartOptions(cache_dir=cache.root))
    broken = next(r for r in inv.code.helm_renders if r.name == "broken")
    assert (broken.rendered, broken.cause, broken.objects) == (False, "chart_error", 0)
    assert broken.reason is not None and broken.reason.startswith("chart does not render: ")
    assert [w.name for w in inv.code.workloads] == ["api", "wrapped"]


def test_each_chart_and_values_renders_once_per_process(tmp_path: Path, cache: ChartCache) -> None:
    from tools.helm import render

    root = write(tmp_path / "estate", FLUX)
    build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    before = render.renders_done()
    again = build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    assert render.renders_done() == before
    assert [w.name for w in again.code.workloads] == ["web"]


def test_cache_refs_and_version_ranges(tmp_path: Path, packaged: dict[str, bytes]) -> None:
    cache = ChartCache(tmp_path)
    for version in ("1.9.0", "2.0.0", "2.1.0", "3.0.0-rc.1"):
        cache.put(ChartRef(REPO, "app", version), packaged["app"])
    assert cache.resolve(REPO + "/", "app", "2.x") == ChartRef(REPO, "app", "2.1.0")
    assert cache.resolve(REPO, "app", "~2.0") == ChartRef(REPO, "app", "2.0.0")
    assert cache.resolve(REPO, "app", ">=1.0.0 <2.0.0") == ChartRef(REPO, "app", "1.9.0")
    assert cache.resolve(REPO, "app", None) == ChartRef(REPO, "app", "2.1.0")
    assert cache.resolve(REPO, "app", "4.0.0") is None
    assert parse_ref("oci://ghcr.io/a/b/app:1.2.3") == ChartRef("oci://ghcr.io/a/b", "app", "1.2.3")
    from domain.errors import ChartError

    with pytest.raises(ChartError):
        parse_ref("ghcr.io/a/app:1.2.3")


def test_a_generated_application_renders_like_a_written_one(tmp_path: Path, cache: ChartCache) -> None:
    """An ApplicationSet's Application is an object dict and the file that made it: same handling."""
    from tools.helm.render import render_releases

    files = {k: v for k, v in ARGO.items() if k != "argo/wrapped.yaml"}
    root = write(tmp_path / "estate", files)
    code = build_inventory(root).code
    generated = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "wrapped", "namespace": "argocd"},
        "spec": {"destination": {"namespace": "tools"}, "source": {"path": "apps/wrapped"}},
    }
    out = render_releases(
        root, code, ChartOptions(cache_dir=cache.root), [(generated, "argo/appset.yaml", None)]
    )
    # a generated Application of a chart directory cites that chart (one line per release, not the
    # generator's line every Application shares); the render says what generated it
    assert [(w.name, w.namespace, str(w.release)) for w in out.workloads] == [
        ("api", "api", "argo/api.yaml:7"),
        ("wrapped", "tools", "apps/wrapped/Chart.yaml:1"),
    ]
    wrapped = next(r for r in out.helm_renders if r.name == "wrapped")
    assert "generated by argo/appset.yaml:1" in wrapped.notes


def test_a_rendered_local_chart_replaces_its_static_templates(tmp_path: Path, cache: ChartCache) -> None:
    """A static file in a chart's templates/ was read as it is; once the chart renders it counts once."""
    files = dict(ARGO)
    files["apps/wrapped/templates/job.yaml"] = """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: migrate}
        spec:
          template:
            spec:
              containers: [{name: migrate, image: "ghcr.io/example/migrate:1.0.0"}]
    """
    root = write(tmp_path / "estate", files)
    unrendered = build_inventory(root)
    assert [(w.kind, w.name, str(w.source)) for w in unrendered.code.workloads] == [
        ("Job", "migrate", "apps/wrapped/templates/job.yaml:1")
    ]
    inv = build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    assert sorted((w.kind, w.name, w.namespace, str(w.source)) for w in inv.code.workloads) == [
        ("Deployment", "wrapped", "tools", "argo/wrapped.yaml:6"),
        ("Job", "migrate", "tools", "argo/wrapped.yaml:6"),
        ("StatefulSet", "api", "api", "argo/api.yaml:7"),
    ]


def test_checks_of_workloads_say_their_population_excludes_unrendered_releases(tmp_path: Path) -> None:
    from tools.checks.runner import check_result
    from tools.checks.spec import CheckContext, spec_by_id
    from tools.evidence import Ledger
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    files = dict(FLUX)
    files["raw/job.yaml"] = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: raw, namespace: apps}
        spec:
          template:
            spec:
              containers: [{name: raw, image: "ghcr.io/example/raw:1.0.0"}]
    """
    inv = build_inventory(write(tmp_path / "estate", files))
    ctx = CheckContext(inventory=inv, toolbox=Toolbox(Jail(inv.root), None, Ledger()))
    result, probes = check_result(spec_by_id("REL-PROBE-ANY"), ctx)
    assert (probes.count, probes.total) == (1, 1)  # the hand-written one; the two releases are not counted
    assert (
        probes.note == "its population excludes the workloads of 2 Helm releases not rendered (see the gaps)"
    )
    assert result.output.endswith(probes.note)
    _, helm = check_result(spec_by_id("MNT-HELM-UNPINNED"), ctx)  # reads releases, not workloads
    assert helm.note is None
    rendered_all = build_inventory(write(tmp_path / "other", {"raw/job.yaml": files["raw/job.yaml"]}))
    ctx = CheckContext(inventory=rendered_all, toolbox=Toolbox(Jail(rendered_all.root), None, Ledger()))
    assert check_result(spec_by_id("REL-PROBE-ANY"), ctx)[1].note is None


def test_wrapper_dependencies_from_chart_lock_and_file_paths_and_argo_inline_values(
    tmp_path: Path, cache: ChartCache, packaged: dict[str, bytes]
) -> None:
    cache.put(parse_ref(f"{REPO} app 2.1.0"), packaged["app"])  # newer than the lock: not taken
    files = {
        "apps/locked/Chart.yaml": """
            apiVersion: v2
            name: locked
            version: 0.1.0
            dependencies:
              - {name: app, version: ">=2.0.0", repository: "https://charts.example.test"}
              - {name: extra, version: 0.1.0, repository: "file://../../charts/extra"}
        """,
        "apps/locked/Chart.lock": """
            dependencies:
              - {name: app, version: 2.0.0, repository: "https://charts.example.test"}
        """,
        "charts/extra/Chart.yaml": "apiVersion: v2\nname: extra\nversion: 0.1.0\n",
        "charts/extra/templates/cm.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ .Release.Name }}-extra'}\n"
        ),
        "argo/locked.yaml": """
            apiVersion: argoproj.io/v1alpha1
            kind: Application
            metadata: {name: locked, namespace: argocd}
            spec:
              destination: {namespace: tools}
              source:
                path: apps/locked
                helm:
                  values: |
                    app:
                      controllers:
                        main:
                          containers:
                            main:
                              image: {tag: 6.0.0}
        """,
    }
    inv = build_inventory(write(tmp_path / "estate", files), charts=ChartOptions(cache_dir=cache.root))
    (render,) = inv.code.helm_renders
    assert (render.rendered, render.objects, render.reason) == (True, 3, None)
    assert workloads(inv) == [
        (
            "Deployment",
            "tools",
            "locked",
            [("ghcr.io/example/app:6.0.0", ["liveness"], "argo/locked.yaml:15", "argo/locked.yaml:6")],
        )
    ]


def test_a_wrapper_whose_dependency_is_missing_names_it(tmp_path: Path) -> None:
    root = write(tmp_path / "estate", {k: v for k, v in ARGO.items() if "wrapped" in k})
    inv = build_inventory(root, charts=ChartOptions(cache_dir=tmp_path / "empty"))
    assert [(r.rendered, r.cause, r.reason) for r in inv.code.helm_renders] == [
        (False, "chart_missing", "chart not in the cache (https://charts.example.test app 2.x)")
    ]


def test_probe_findings_on_rendered_workloads_cite_the_probes_block_of_the_values(
    tmp_path: Path, cache: ChartCache
) -> None:
    from tools.checks.runner import check_result
    from tools.checks.spec import CheckContext, spec_by_id
    from tools.evidence import Ledger
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    inv = build_inventory(write(tmp_path / "estate", ARGO), charts=ChartOptions(cache_dir=cache.root))
    api, wrapped = inv.code.workloads
    assert [str(c.probes_source) for c in wrapped.containers] == ["apps/wrapped/values.yaml:8"]
    assert [c.probes_source for c in api.containers] == [None]  # its values set no probes
    ctx = CheckContext(inventory=inv, toolbox=Toolbox(Jail(inv.root), None, Ledger()))
    _, any_probe = check_result(spec_by_id("REL-PROBE-ANY"), ctx)
    # api: readiness off by the chart's default (the release cites itself); wrapped: both off
    assert [(loc.ref, loc.subject, loc.detail) for loc in any_probe.locations] == [
        ("argo/api.yaml:7", "StatefulSet/api/api", "main: no readiness"),
        ("apps/wrapped/values.yaml:8", "Deployment/tools/wrapped", "main: no readiness or liveness"),
    ]
    _, both = check_result(spec_by_id("REL-PROBE-BOTH"), ctx)
    assert [loc.ref for loc in both.locations] == ["apps/wrapped/values.yaml:8"]


def test_a_generated_build_of_a_written_release_supersedes_it(tmp_path: Path, cache: ChartCache) -> None:
    """A Kustomize/Flux build hands back the written HelmRelease, namespaced: it renders once, as built."""
    import yaml

    from tools.helm.render import render_releases

    root = write(tmp_path / "estate", FLUX)
    code = build_inventory(root).code
    built = yaml.safe_load((root / "flux/web.yaml").read_text())
    built["metadata"]["namespace"] = "built"
    out = render_releases(
        root, code, ChartOptions(cache_dir=cache.root), [(built, "flux/kustomization.yaml", None)]
    )
    assert sorted((r.name, r.namespace, str(r.source)) for r in out.helm_renders) == [
        ("thing", "apps", "flux/upstream.yaml:6"),
        ("web", "built", "flux/kustomization.yaml:1"),
    ]


KUSTOMIZE_CHARTS = {
    "apps/kustomization.yaml": """
        namespace: tools
        commonLabels: {team: platform}
        helmCharts:
          - name: app
            repo: oci://ghcr.io/example/charts
            version: 2.0.0
            releaseName: web
            valuesInline:
              controllers:
                main:
                  containers:
                    main:
                      image: {tag: 2.6.0}
          - name: thing
            repo: https://charts.upstream.test
            version: 1.2.3
    """,
}


def test_kustomize_helm_charts_render_through_the_engine_then_the_build(
    tmp_path: Path, cache: ChartCache
) -> None:
    """A kustomization's ``helmCharts`` renders through the same engine and cache as a release; the
    build then namespaces and labels the objects; a chart not in the cache is a gap and a note."""
    root = write(tmp_path / "estate", KUSTOMIZE_CHARTS)
    inv = build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    [web] = inv.code.workloads
    assert (web.kind, web.namespace, web.name) == ("Deployment", "tools", "web")
    assert [c.image for c in web.containers] == ["ghcr.io/example/app:2.6.0"]
    assert web.source.path == "apps/kustomization.yaml"  # the build's own entry
    renders = sorted(inv.code.helm_renders, key=lambda r: r.name)
    assert [(r.defined_by, r.name, r.rendered, r.cause) for r in renders] == [
        ("kustomize", "thing", False, "chart_missing"),
        ("kustomize", "web", True, None),
    ]
    assert [i.message for i in inv.code.issues] == ["helmCharts 'thing' not rendered"]
    without = build_inventory(root, charts=ChartOptions(cache_dir=tmp_path / "empty"))
    assert without.code.workloads == []
    assert all(not r.rendered for r in without.code.helm_renders)


FLUX_BUILT = {
    "clusters/apps.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: web, namespace: flux-system}
        spec:
          path: ./apps
          targetNamespace: tools
          sourceRef: {kind: GitRepository, name: flux-system}
          postBuild:
            substitute: {TAG: 2.7.0}
    """,
    "apps/oci.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: OCIRepository
        metadata: {name: app}
        spec:
          url: oci://ghcr.io/example/charts/app
          ref: {tag: 2.0.0}
    """,
    "apps/web.yaml": """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: web}
        spec:
          chartRef: {kind: OCIRepository, name: app}
          values:
            controllers:
              main:
                containers:
                  main:
                    image: {tag: "${TAG}"}
    """,
}


def test_a_flux_kustomizations_release_renders_as_built(tmp_path: Path, cache: ChartCache) -> None:
    """The HelmRelease as its Flux Kustomization builds it: targetNamespace and the postBuild
    substitution applied before rendering, once; never the written document in ``default``."""
    root = write(tmp_path / "estate", FLUX_BUILT)
    inv = build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    assert [(r.name, r.namespace, r.rendered) for r in inv.code.helm_renders] == [("web", "tools", True)]
    assert [(w.kind, w.namespace, w.name, [c.image for c in w.containers]) for w in inv.code.workloads] == [
        ("Deployment", "tools", "web", ["ghcr.io/example/app:2.7.0"])
    ]
    assert str(inv.code.workloads[0].release) == "apps/web.yaml:1"


def test_rendered_privileged_cites_its_value_line(tmp_path: Path, cache: ChartCache) -> None:
    """SEC-PRIVILEGED on a rendered container cites the values line that set ``privileged: true``, not
    the image line (hostNetwork's line: tests/e2e/test_chart_estates.py, the test chart has none)."""
    from tools.checks.runner import check_result
    from tools.checks.spec import CheckContext, spec_by_id
    from tools.evidence import Ledger
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    files = dict(FLUX)
    files["flux/web.yaml"] = """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: web, namespace: apps}
        spec:
          chartRef: {kind: OCIRepository, name: app}
          values:
            controllers:
              main:
                containers:
                  main:
                    image: {tag: 2.5.0}
                    securityContext:
                      privileged: true
    """
    inv = build_inventory(write(tmp_path / "estate", files), charts=ChartOptions(cache_dir=cache.root))
    ctx = CheckContext(inventory=inv, toolbox=Toolbox(Jail(inv.root), None, Ledger()))
    _, priv = check_result(spec_by_id("SEC-PRIVILEGED"), ctx)
    assert [loc.ref for loc in priv.locations] == ["flux/web.yaml:13"]
