"""Releases from Terraform and Flux valuesFrom, the merge order, --fetch-charts over loopback,
`charts import`, and what is never rendered silently."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from canaries import TOKENS, leaked
from clirun import cli
from helm_charts import REPO_URL, package_charts, write

from tools.helm import engine, render
from tools.helm.cache import ChartCache, ChartRef, parse_ref
from tools.helm.options import ChartOptions
from tools.inventory.build import build_inventory

pytest.importorskip("helm_python")
SECRET = TOKENS["github"]


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return package_charts(tmp_path_factory.mktemp("packaged"))


@pytest.fixture
def cache(tmp_path: Path, packaged: dict[str, bytes]) -> ChartCache:
    cache = ChartCache(tmp_path / "cache")
    cache.put(parse_ref(f"{REPO_URL} app 2.0.0"), packaged["app"])
    return cache


def images(inv):  # type: ignore[no-untyped-def]
    return [
        (w.kind, w.name, w.replicas, [(c.image, c.probes, str(c.source)) for c in w.containers])
        for w in inv.code.workloads
    ]


TERRAFORM = {
    "stacks/apps/main.tf": f"""
        resource "helm_release" "web" {{
          name       = "web"
          namespace  = "apps"
          repository = "{REPO_URL}"
          chart      = "app"
          version    = "2.0.0"
          values = [
            file("${{path.module}}/values/web.yaml"),
            templatefile("${{path.module}}/values/web.tpl.yaml", {{ tag = "5.0.0" }}),
            yamlencode({{ controllers = {{ main = {{ replicas = 2 }} }} }}),
          ]
          set {{
            name  = "controllers.main.containers.main.probes.readiness.enabled"
            value = "true"
          }}
          set_sensitive {{
            name  = "controllers.main.containers.main.env.API_TOKEN"
            value = "{SECRET}"
          }}
        }}
    """,
    "stacks/apps/values/web.yaml": f"""
        controllers:
          main:
            containers:
              main:
                image:
                  repository: ghcr.io/example/web
                  tag: 1.0.0
                env:
                  OTHER_TOKEN: {SECRET}
    """,
    "stacks/apps/values/web.tpl.yaml": """
        controllers:
          main:
            containers:
              main:
                image:
                  tag: ${tag}
    """,
}


def test_terraform_release_values_in_order_and_set_sensitive_never_read(
    tmp_path: Path, cache: ChartCache
) -> None:
    inv = build_inventory(write(tmp_path / "estate", TERRAFORM), charts=ChartOptions(cache_dir=cache.root))
    # file < templatefile < yamlencode < set: the template's tag wins and is cited at its line
    assert images(inv) == [
        (
            "Deployment",
            "web",
            2,
            [("ghcr.io/example/web:5.0.0", ["readiness", "liveness"], "stacks/apps/values/web.tpl.yaml:6")],
        )
    ]
    (done,) = inv.code.helm_renders
    assert (done.rendered, done.defined_by, str(done.source)) == (True, "terraform", "stacks/apps/main.tf:1")
    assert done.notes == [
        "set_sensitive controllers.main.containers.main.env.API_TOKEN not applied "
        "(sensitive values are never read)"
    ]
    assert leaked(inv.model_dump_json()) == []
    assert "render_inputs" not in inv.code.helm_releases[0].model_dump()


FLUX = {
    "apps/oci.yaml": f"""
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata: {{name: charts, namespace: apps}}
        spec: {{url: "{REPO_URL}"}}
    """,
    "apps/web.yaml": """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: web, namespace: apps}
        spec:
          chart:
            spec: {chart: app, version: 2.x, sourceRef: {kind: HelmRepository, name: charts}}
          valuesFrom:
            - {kind: ConfigMap, name: web-values}
            - {kind: Secret, name: web-secret}
          values:
            controllers:
              main:
                containers:
                  main:
                    image: {tag: 9.9.9}
    """,
    "apps/kustomization.yaml": """
        resources: [oci.yaml, web.yaml]
        configMapGenerator:
          - name: web-values
            files: [values.yaml=web-values.yaml]
    """,
    "apps/web-values.yaml": """
        controllers:
          main:
            replicas: 4
            containers:
              main:
                image: {repository: ghcr.io/example/from-configmap, tag: 1.1.1}
    """,
}


def test_flux_values_from_a_generated_config_map_then_inline_values_on_top(
    tmp_path: Path, cache: ChartCache
) -> None:
    inv = build_inventory(write(tmp_path / "estate", FLUX), charts=ChartOptions(cache_dir=cache.root))
    assert images(inv) == [
        ("Deployment", "web", 4, [("ghcr.io/example/from-configmap:9.9.9", ["liveness"], "apps/web.yaml:15")])
    ]
    assert inv.code.helm_renders[0].notes == [
        "valuesFrom Secret/web-secret not read (secret values are never read)"
    ]


class _Repo(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture
def chart_repo(tmp_path: Path, packaged: dict[str, bytes]) -> Iterator[str]:
    """An HTTP chart repository on loopback: index.yaml and app-2.0.0.tgz."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "app-2.0.0.tgz").write_bytes(packaged["app"])
    index = {
        "apiVersion": "v1",
        "entries": {"app": [{"name": "app", "version": "2.0.0", "urls": ["app-2.0.0.tgz"]}]},
    }
    (site / "index.yaml").write_text(yaml.safe_dump(index))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Repo, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_charts_pulls_a_missing_chart_from_a_repository_into_the_cache(
    tmp_path: Path, chart_repo: str
) -> None:
    files = {k: v.replace(REPO_URL, chart_repo) for k, v in FLUX.items()}
    files["apps/broken.yaml"] = """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: HelmRepository
        metadata: {name: gone, namespace: apps}
        spec: {url: "URL/nowhere"}
        ---
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: gone, namespace: apps}
        spec:
          chart:
            spec: {chart: app, version: 2.0.0, sourceRef: {kind: HelmRepository, name: gone}}
    """.replace("URL", chart_repo)
    root = write(tmp_path / "estate", files)
    cache = ChartCache(tmp_path / "cache")
    offline = build_inventory(root, charts=ChartOptions(cache_dir=cache.root))
    assert [(r.name, r.rendered) for r in offline.code.helm_renders] == [("gone", False), ("web", False)]
    inv = build_inventory(root, charts=ChartOptions(cache_dir=cache.root, fetch=True, timeout=5))
    gone, web = inv.code.helm_renders
    assert (web.rendered, web.objects) == (True, 2)
    assert cache.versions(chart_repo, "app") == ["2.0.0"]
    assert (gone.rendered, gone.cause) == (False, "chart_missing")
    assert gone.reason == (
        f"chart not in the cache ({chart_repo}/nowhere app 2.0.0); --fetch-charts failed: "
        f"GET {chart_repo}/nowhere/index.yaml: HTTP 404"
    )


def test_engine_unavailable_is_a_reported_gap(
    tmp_path: Path, cache: ChartCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "engine_problem", lambda: "the Helm engine is not available (test)")
    monkeypatch.setattr(render, "_MEMO", type(render._MEMO)())
    inv = build_inventory(write(tmp_path / "estate", FLUX), charts=ChartOptions(cache_dir=cache.root))
    assert inv.code.workloads == []
    assert [(r.rendered, r.cause, r.reason) for r in inv.code.helm_renders] == [
        (False, "engine", "the Helm engine is not available (test)")
    ]


def test_charts_import_and_its_one_line_errors(
    tmp_path: Path, packaged: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "app-2.0.0.tgz"
    archive.write_bytes(packaged["app"])
    cache_dir = tmp_path / "cache"
    code, out = cli(
        [
            "charts",
            "import",
            str(archive),
            "--as",
            "oci://ghcr.io/example/charts/app:2.0.0",
            "--chart-cache",
            str(cache_dir),
        ],
        monkeypatch,
    )
    assert code == 0, out
    assert (
        ChartCache(cache_dir).get(ChartRef("oci://ghcr.io/example/charts", "app", "2.0.0")) == packaged["app"]
    )
    for ref, why in (
        ("oci://ghcr.io/example/charts/other:2.0.0", "holds chart 'app', not 'other'"),
        ("oci://ghcr.io/example/charts/app:3.0.0", "holds version '2.0.0', not '3.0.0'"),
        ("ghcr.io/app:2.0.0", "is not oci://HOST/PATH/NAME:VERSION"),
    ):
        code, out = cli(
            ["charts", "import", str(archive), "--as", ref, "--chart-cache", str(cache_dir)], monkeypatch
        )
        assert code == 2
        assert out.startswith("infra-audit: error: ") and why in out and out.count("\n") == 1
    (tmp_path / "junk.tgz").write_bytes(b"not a tarball")
    code, out = cli(
        [
            "charts",
            "import",
            str(tmp_path / "junk.tgz"),
            "--as",
            f"{REPO_URL} app 2.0.0",
            "--chart-cache",
            str(cache_dir),
        ],
        monkeypatch,
    )
    assert (code, out.count("\n")) == (2, 1) and "not a chart archive" in out


def test_inventory_prints_what_was_rendered(
    tmp_path: Path, cache: ChartCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = dict(FLUX)
    files["apps/more.yaml"] = (
        FLUX["apps/web.yaml"].replace("name: web,", "name: more,").replace("2.x", "7.0.0")
    )
    root = write(tmp_path / "estate", files)
    code, out = cli(["inventory", str(root), "--chart-cache", str(cache.root)], monkeypatch)
    assert code == 0, out
    assert (
        "rendered: 1 releases, 2 objects; not rendered: 1 (1: chart not in the cache "
        "(`infra-audit charts import`, or `--fetch-charts`))"
    ) in out


class _Registry(http.server.BaseHTTPRequestHandler):
    """The read side of the OCI distribution API for one Helm chart artifact; records each request."""

    blobs: dict[str, bytes]
    manifest: bytes
    seen: list[str]

    def log_message(self, *args: object) -> None:
        return None

    def _send(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Docker-Content-Digest", _digest(body))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        if self.path == "/v2/":
            self._send(b"{}", "application/json")
        elif self.path == "/v2/charts/app/manifests/2.0.0":
            self._send(self.manifest, "application/vnd.oci.image.manifest.v1+json")
        elif self.path.startswith("/v2/charts/app/blobs/") and self.path.rsplit("/", 1)[1] in self.blobs:
            self._send(self.blobs[self.path.rsplit("/", 1)[1]], "application/octet-stream")
        else:
            self.send_response(404)
            self.end_headers()

    do_HEAD = do_GET


def _digest(data: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture
def registry(packaged: dict[str, bytes]) -> Iterator[tuple[str, list[str]]]:
    """An OCI registry on loopback holding oci://127.0.0.1:PORT/charts/app:2.0.0."""
    import json

    chart = packaged["app"]
    config = json.dumps({"name": "app", "version": "2.0.0", "apiVersion": "v2"}).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.cncf.helm.config.v1+json",
                "digest": _digest(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                    "digest": _digest(chart),
                    "size": len(chart),
                }
            ],
        }
    ).encode()
    seen: list[str] = []
    handler = type(
        "Registry",
        (_Registry,),
        {"blobs": {_digest(config): config, _digest(chart): chart}, "manifest": manifest, "seen": seen},
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_charts_pulls_a_chart_ref_from_an_oci_registry(
    tmp_path: Path, registry: tuple[str, list[str]]
) -> None:
    host, seen = registry
    files = {
        "flux/oci.yaml": f"""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {{name: app, namespace: apps}}
            spec:
              url: oci://{host}/charts/app
              ref: {{tag: 2.0.0}}
        """,
        "flux/web.yaml": """
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {name: web, namespace: apps}
            spec:
              chartRef: {kind: OCIRepository, name: app}
        """,
        "flux/zzz.yaml": f"""
            apiVersion: source.toolkit.fluxcd.io/v1
            kind: OCIRepository
            metadata: {{name: gone, namespace: apps}}
            spec:
              url: oci://{host}/charts/app
              ref: {{tag: 9.9.9}}
            ---
            apiVersion: helm.toolkit.fluxcd.io/v2
            kind: HelmRelease
            metadata: {{name: zzz, namespace: apps}}
            spec:
              chartRef: {{kind: OCIRepository, name: gone}}
        """,
    }
    root = write(tmp_path / "estate", files)
    cache = ChartCache(tmp_path / "cache")
    inv = build_inventory(root, charts=ChartOptions(cache_dir=cache.root, fetch=True, timeout=10))
    web, gone = inv.code.helm_renders
    assert (web.name, web.rendered, web.objects) == ("web", True, 2)
    assert (gone.name, gone.rendered, gone.cause) == ("zzz", False, "chart_missing")
    assert gone.reason is not None and gone.reason.startswith(
        f"chart not in the cache (oci://{host}/charts/app:9.9.9); --fetch-charts failed: "
        f"pull oci://{host}/charts/app:9.9.9: "
    )
    assert "\n" not in gone.reason
    assert [w.name for w in inv.code.workloads] == ["web"]
    assert cache.versions(f"oci://{host}/charts", "app") == ["2.0.0"]
    assert seen and all(line.startswith("GET ") for line in seen)  # read-only: nothing but GETs


def test_a_release_without_a_namespace_takes_its_kustomizations(tmp_path: Path, cache: ChartCache) -> None:
    files = dict(FLUX)
    files["apps/web.yaml"] = FLUX["apps/web.yaml"].replace("{name: web, namespace: apps}", "{name: web}")
    files["apps/kustomization.yaml"] = FLUX["apps/kustomization.yaml"].replace(
        "resources:", "namespace: media\n        resources:"
    )
    inv = build_inventory(write(tmp_path / "estate", files), charts=ChartOptions(cache_dir=cache.root))
    assert [(w.namespace, w.name) for w in inv.code.workloads] == [("media", "web")]
    assert [(r.namespace, r.name) for r in inv.code.helm_renders] == [("media", "web")]


def test_a_probes_block_under_one_container_is_not_its_sidecars() -> None:
    """The only probes block of the values is the ``app`` container's: the sidecar has none of its
    own (its probe finding cites the release), while a block not under any container name is shared."""
    from tools.helm.values import ValueLines

    values = {"controllers": {"main": {"containers": {"app": {"probes": {"liveness": {"enabled": True}}}}}}}
    lines = ValueLines()
    lines.add(values, "hr.yaml", lambda key_path: 7 if key_path[-1] == "probes" else None, ())
    assert str(lines.probes_of("app")) == "hr.yaml:7"
    assert lines.probes_of("code-server") is None
    shared = ValueLines()
    shared.add({"probes": {"liveness": {"enabled": True}}}, "v.yaml", lambda key_path: 3, ())
    assert str(shared.probes_of("main")) == "v.yaml:3"


def test_run_renders_from_the_chart_cache_it_is_given(
    tmp_path: Path, cache: ChartCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run --chart-cache DIR`` reads DIR (it was parsed and then ignored: the default cache was read)."""
    import json

    monkeypatch.setenv("INFRA_AUDIT_CHART_CACHE", str(tmp_path / "empty-default"))
    root = write(tmp_path / "estate", FLUX)
    out = tmp_path / "out"
    argv = ["run", str(root), "--offline", "--date", "2026-11-20", "--out", str(out)]
    argv += ["--state-dir", str(tmp_path / "s"), "--chart-cache", str(cache.root)]
    code, printed = cli(argv, monkeypatch)
    assert code == 0, printed
    report = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert not [g for g in report["gaps"] if "not rendered" in g or "not in the cache" in g]
    assert "**Scope**: 4 files, 1 workloads" in (out / "audit.md").read_text(encoding="utf-8")  # rendered


def test_rerun_reads_the_same_chart_cache_as_the_run(
    tmp_path: Path, cache: ChartCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run concern renders the releases the run rendered: the cache comes from the environment (or
    --chart-cache) as in ``run``, not nowhere (its population silently lost the rendered workloads)."""
    import json

    monkeypatch.setenv("INFRA_AUDIT_CHART_CACHE", str(cache.root))
    root = write(tmp_path / "estate", FLUX)
    out, state = tmp_path / "out", str(tmp_path / "s")
    argv = ["run", str(root), "--offline", "--date", "2026-11-20", "--out", str(out), "--state-dir", state]
    code, printed = cli(argv, monkeypatch)
    assert code == 0, printed
    rerun = ["rerun", str(out / "audit.json"), "--concern", "R3", "--offline", "--out", str(tmp_path / "rr")]
    code, printed = cli(rerun, monkeypatch)
    assert code == 0, printed
    report = json.loads((tmp_path / "rr" / "audit.json").read_text(encoding="utf-8"))
    assert not [g for g in report["gaps"] if "not rendered" in g or "not in the cache" in g]
