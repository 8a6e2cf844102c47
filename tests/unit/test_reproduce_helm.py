"""Counts over Helm-rendered objects, recounted through ``helm template`` (``rendered_count.py``).

The reader's script finds the releases itself (``helm_releases.py``), as Flux's helm-controller and
Argo CD would, and runs ``helm template`` for each; in the sandbox its ``helm`` is infra-audit's Helm
engine over the run's chart cache (``tools/helm/template_cli.py``). Here: which command is exact where,
the releases and ``helm template`` arguments the script derives, the same number through the sandbox
and through a shell with a ``helm`` on PATH, and a render that fails being a failure, never a number.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helm_estates import import_charts

from agents.offline.render_facts import kustomize_facts
from tests.reader_scripts import script_module
from tools.checks.reproduce import (
    BUILT,
    GITOPS_NAMESPACED,
    HELM_ELSEWHERE,
    KUSTOMIZED,
    RENDERED,
    ReproSpec,
    Where,
    chosen,
    shell,
)
from tools.checks.reproduce_run import Listings, run_spec
from tools.helm import template_cli
from tools.inventory.inventory import Records
from tools.inventory.models import Kustomization, Namespace, Workload
from tools.inventory.sources import CodeRef
from tools.sandbox import Jail

REPO = Path(__file__).resolve().parents[2]
COUNT = ReproSpec(script="objects_count.py", args=("REL-PROBE-ANY",), namespace_free=True)


def test_a_script_with_a_rendering_twin_is_exact_through_it_on_a_rendered_estate() -> None:
    assert chosen(COUNT, {RENDERED: 0}, cluster=False, helm=True) == COUNT  # nothing rendered: as written
    assert chosen(COUNT, {RENDERED: 5}, cluster=False, helm=False) is None  # no engine: listed
    twin = chosen(COUNT, {RENDERED: 5}, cluster=False, helm=True)
    assert twin is not None and twin.script == "rendered_count.py" and twin.args == COUNT.args
    # a Terraform or Kustomize render: the twin does not find those releases
    assert chosen(COUNT, {RENDERED: 5, HELM_ELSEWHERE: 1}, cluster=False, helm=True) is None
    # a kustomization's namespaces: exact only for a count that reads no namespace
    assert chosen(COUNT, {RENDERED: 5, KUSTOMIZED: 2}, cluster=False, helm=True) == twin
    namespaced = COUNT.model_copy(update={"namespace_free": False})
    assert chosen(namespaced, {RENDERED: 5, KUSTOMIZED: 2}, cluster=False, helm=True) is None
    assert chosen(namespaced, {KUSTOMIZED: 2}, cluster=False, helm=True) is None
    python = ReproSpec(python="print(1)", namespace_free=True)
    assert chosen(python, {RENDERED: 5}, cluster=False, helm=True) is None  # no twin for python -c


def test_a_kustomize_build_blocks_a_file_command_only_where_a_count_reads_what_it_made() -> None:
    """flux-homelab: its kustomizations namespace only Flux Kustomizations (no count reads their
    namespace) and make the Namespaces from a component (only the Pod Security counts read those)."""

    def at(path: str) -> CodeRef:
        return CodeRef(path=path, line=1)

    code = Records(
        kustomizations=[
            Kustomization(
                path="apps/kustomization.yaml",
                namespace="home",
                resources=["ks.yaml", "deploy.yaml"],
                source=at("apps/kustomization.yaml"),
            )
        ],
        namespaces=[Namespace(name="home", origin="manifest", source=at("apps/kustomization.yaml"))],
    )
    facts = kustomize_facts(code)
    assert facts == {"kustomized_files": 0, BUILT: 0, "built_namespaces": 1, GITOPS_NAMESPACED: 0}
    code.workloads.append(
        Workload(kind="Deployment", name="w", origin="manifest", source=at("apps/deploy.yaml"))
    )
    assert kustomize_facts(code)["kustomized_files"] == 1  # a workload's namespace is the kustomization's
    pss = ReproSpec(script="objects_count.py", args=("SEC-NO-PSS",), when=("no-code:built_namespaces",))
    assert chosen(pss, {RENDERED: 3, **facts}, cluster=False, helm=True) is None
    assert chosen(COUNT, {RENDERED: 3, **facts}, cluster=False, helm=True) is not None
    assert chosen(COUNT, {RENDERED: 3, **facts, BUILT: 1}, cluster=False, helm=True) is None


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


FLUX_KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: web, namespace: flux-system}
spec:
  path: ./apps/web
  targetNamespace: media
  postBuild:
    substitute: {APP: web}
    substituteFrom: [{kind: ConfigMap, name: settings}, {kind: Secret, name: secrets}]
"""
FLUX_APP = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: flux-system}
data: {TAG: "1.25"}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: web}
spec: {url: oci://ghcr.io/example-org/charts/podkit, ref: {tag: 4.0.1}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: web}
spec:
  chartRef: {kind: OCIRepository, name: web}
  values:
    controllers:
      main:
        replicas: 2
        containers:
          app:
            image: {repository: "nginx-${APP}", tag: "${TAG}"}
            env: {TOKEN: "${FROM_SECRET}"}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: side, namespace: tools}
spec:
  targetNamespace: other
  chart: {spec: {chart: side, version: 0.1.0, sourceRef: {kind: HelmRepository, name: charts}}}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts}
spec: {url: https://charts.example.org}
"""
APPSET = """apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {name: platform, namespace: argocd}
spec:
  goTemplate: true
  generators:
    - git:
        directories: [{path: "charts/*"}, {path: charts/skipped, exclude: true}]
  template:
    metadata: {name: "{{ .path.basename }}"}
    spec:
      source:
        path: "{{ .path.path }}"
        helm:
          releaseName: "rel-{{ .path.basename }}"
          valueFiles: [values.yaml, missing.yaml]
          ignoreMissingValueFiles: true
      destination: {namespace: "ns-{{ index .path.segments 1 }}"}
"""
ARGO_APP = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: remote, namespace: argocd}
spec:
  source:
    repoURL: https://charts.example.org
    chart: remote
    targetRevision: 2.0.0
    helm:
      valuesObject: {replicas: 3}
      values: "replicas: 9"
      parameters: [{name: image.tag, value: "7"}, {name: label, value: "007", forceString: true}]
  destination: {namespace: far}
"""


@pytest.fixture
def gitops(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    _write(root, "flux/web-ks.yaml", FLUX_KS)
    _write(root, "apps/web/release.yaml", FLUX_APP)
    _write(root, "argo/appset.yaml", APPSET)
    _write(root, "argo/remote.yaml", ARGO_APP)
    for name in ("one", "skipped"):
        _write(root, f"charts/{name}/Chart.yaml", f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n")
        _write(root, f"charts/{name}/values.yaml", "x: 1\n")
        _write(
            root,
            f"charts/{name}/templates/cm.yaml",
            "kind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\n",
        )
    return root


def _reader() -> object:
    return script_module("helm_releases")


def test_the_reader_finds_each_release_as_its_controller_would(gitops: Path, tmp_path: Path) -> None:
    reader = _reader()
    found = {r.key: r for r in reader.releases(gitops)}  # type: ignore[attr-defined]
    assert sorted(found) == ["far/remote", "media/web", "ns-one/rel-one", "other/other-side"]
    web = found["media/web"]  # the Flux Kustomization's targetNamespace and postBuild substitution
    assert web.chart == ["oci://ghcr.io/example-org/charts/podkit", "--version", "4.0.1"]
    app = web.values[0]["controllers"]["main"]["containers"]["app"]
    assert app["image"] == {"repository": "nginx-web", "tag": "1.25"}
    assert app["env"] == {"TOKEN": "${FROM_SECRET}"}  # a Secret's variable is never read: as written
    # spec.targetNamespace names the release [targetNamespace-]name (helm-controller's GetReleaseName)
    assert found["other/other-side"].chart == [
        "side", "--repo", "https://charts.example.org", "--version", "0.1.0"
    ]  # fmt: skip
    one = found["ns-one/rel-one"]  # an ApplicationSet's git directory, charts/skipped excluded
    assert one.chart == [str(gitops / "charts/one")] and one.value_files == [
        gitops / "charts/one/values.yaml"
    ]
    placed = reader.placed(gitops, reader.documents(gitops, ()))  # type: ignore[attr-defined]
    objs = {(o["kind"], o["metadata"].get("namespace")) for o in placed}
    assert ("HelmRelease", "media") in objs  # what the Flux Kustomization deploys is in its targetNamespace
    assert ("ConfigMap", "media") in objs and ("Kustomization", "flux-system") in objs  # outside: as written
    remote = found["far/remote"]  # valuesObject wins over values; parameters are --set, last
    argv = reader.command(remote, tmp_path)  # type: ignore[attr-defined]
    assert argv[:9] == [
        "template", "remote", "remote", "--repo", "https://charts.example.org", "--version", "2.0.0",
        "--namespace", "far",
    ]  # fmt: skip
    assert argv[11:] == ["--set", "image.tag=7", "--set-string", "label=007"]
    assert Path(argv[10]).read_text(encoding="utf-8") == '{"replicas": 3}'


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_charts(tmp_path_factory.mktemp("chart-cache"))


@pytest.fixture
def flux_estate(tmp_path: Path) -> Path:
    root = tmp_path / "flux"
    _write(root, "flux/web-ks.yaml", FLUX_KS)
    _write(root, "apps/web/release.yaml", FLUX_APP)
    _write(root, "plain/deploy.yaml", PLAIN)
    return root


PLAIN = """apiVersion: apps/v1
kind: Deployment
metadata: {name: plain, namespace: media}
spec:
  template:
    spec:
      containers: [{name: c, image: busybox:1}]
"""


def test_the_twin_counts_the_files_and_the_renders_in_the_sandbox_and_the_shell(
    flux_estate: Path, cache: Path, tmp_path: Path
) -> None:
    """The HelmRelease ``side``'s chart is not in the cache: the audit did not render it, the command
    says so (``--not-rendered``) and leaves it out; the plain Deployment and ``web``'s render count."""
    twin = ReproSpec(script="rendered_count.py", args=("REL-PROBE-ANY", "--not-rendered=other/other-side"))
    where = Where(estate=str(flux_estate), charts=str(cache))
    printed = run_spec(twin, Jail(flux_estate), where, None, Listings())
    assert printed.value == 2.0 and printed.error is None  # plain (no probes) + web's Deployment
    shim = tmp_path / "bin" / "helm"
    engine = f"{sys.executable} -m tools.helm.template_cli --chart-cache {cache}"
    _write(shim.parent, "helm", f'#!/bin/sh\nPYTHONPATH={REPO} exec {engine} "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": os.pathsep.join([str(shim.parent), os.environ["PATH"]])}
    env.pop("REPRODUCE_HELM", None)
    command = shell(twin, Where(estate=str(flux_estate)))
    assert command.startswith("python3 tools/checks/reproduce_scripts/rendered_count.py ")
    done = subprocess.run(
        ["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "2")


def test_a_release_the_command_cannot_render_is_a_failure_not_a_number(
    flux_estate: Path, cache: Path
) -> None:
    """Not told that ``side`` was not rendered, the script's helm fails on it (offline, not in the
    cache): no number, and the reason shows no text of the estate."""
    twin = ReproSpec(script="rendered_count.py", args=("REL-PROBE-ANY",))
    printed = run_spec(
        twin, Jail(flux_estate), Where(estate=str(flux_estate), charts=str(cache)), None, Listings()
    )
    assert printed.value is None
    assert printed.error == "the command exited 1 (an error)"


def test_values_files_merge_as_helm_merges_them_a_null_kept_for_the_engine() -> None:
    merged = template_cli.merge_values({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"c": None}, "d": [2]})
    assert merged == {"a": {"b": 1, "c": None}, "d": [2]}


def test_a_chart_not_in_the_cache_is_one_line_and_exit_1(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = "oci://ghcr.io/example-org/charts/absent"
    argv = ["--chart-cache", str(cache), "template", "x", chart, "--version", "1.0.0"]
    assert template_cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: chart ") and "\n" not in err and "not in the chart cache" in err


POLICY_RELEASE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: raw, namespace: kyverno}
spec: {url: oci://ghcr.io/example-org/charts/raw, ref: {tag: 2.0.0}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: policies, namespace: kyverno}
spec:
  chartRef: {kind: OCIRepository, name: raw}
  values:
    resources:
      - apiVersion: kyverno.io/v1
        kind: ClusterPolicy
        metadata: {name: verify}
        spec:
          rules: [{name: sig, verifyImages: [{imageReferences: ["*"]}]}]
"""


def test_a_policy_a_chart_renders_verifies_images_as_one_written_would(tmp_path: Path, cache: Path) -> None:
    """SEC-NO-IMAGE-VERIFY: the Kyverno verifyImages policy is in no file, only in the raw chart's
    render; the files-only command counts verification missing, the rendering twin does not."""
    root = tmp_path / "policies"
    _write(root, "kyverno/release.yaml", POLICY_RELEASE)
    where = Where(estate=str(root), charts=str(cache))
    files = ReproSpec(script="ci_count.py", args=("SEC-NO-IMAGE-VERIFY",))
    twin = chosen(files, {RENDERED: 1}, cluster=False, helm=True)
    assert twin is not None and twin.script == "rendered_ci_count.py"
    assert run_spec(files, Jail(root), where, None, Listings()).value == 2.0  # verification, scanning
    assert run_spec(twin, Jail(root), where, None, Listings()).value == 1.0  # scanning only


def _backup_rule() -> object:
    """objects_count.py's files-only REL-PVC-NO-BACKUP (backup_count.py's rule, no cluster)."""
    script_module("backup_count")  # objects_count imports it when the rule runs
    return script_module("objects_count")


def _obj(kind: str, name: str, ns: str | None = "db", **spec: object) -> dict[str, object]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _job(name: str, ns: str = "db", claim: str | None = None, args: list[str] | None = None, **spec: object):  # type: ignore[no-untyped-def]
    volumes = [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}] if claim else []
    pod = {"containers": [{"name": "c", "args": args or []}], "volumes": volumes}
    return _obj("CronJob", name, ns, jobTemplate={"spec": {"template": {"spec": pod}}}, **spec)


PVC = _obj("PersistentVolumeClaim", "data")
MYSQL = _obj("StatefulSet", "mysql", replicas=2, volumeClaimTemplates=[{"metadata": {"name": "vol"}}])


@pytest.mark.parametrize(
    ("jobs", "expected"),
    [
        ([], 3),  # data, vol-mysql-0, vol-mysql-1
        ([_job("nightly-backup", claim="data")], 2),  # mounts it
        ([_job("nightly-backup", suspend=True, claim="data")], 3),  # suspended: covers nothing
        ([_job("nightly", claim="data")], 3),  # not a backup job by its name
        ([_job("mysql-dump")], 1),  # names the StatefulSet: both of its claims
        ([_job("dump", ns="ops", args=["-h", "mysql"])], 3),  # another namespace's mysql
        ([_job("dump", ns="ops", args=["-h", "mysql.db"])], 1),  # the service form
        ([_job("dump", args=["mysqldump"])], 3),  # not a whole word
        ([{**_obj("Schedule", "all", "velero"), "apiVersion": "velero.io/v1"}], 0),
        (
            [
                {
                    **_obj("Schedule", "x", "velero", template={"excludedNamespaces": ["db"]}),
                    "apiVersion": "velero.io/v1",
                }
            ],
            3,
        ),
    ],
)
def test_the_backup_rule_reads_as_the_check_defines_it(jobs: list[dict[str, object]], expected: int) -> None:
    rule = _backup_rule()
    assert rule.pvc_no_backup([PVC, MYSQL, *jobs]) == expected  # type: ignore[attr-defined]
