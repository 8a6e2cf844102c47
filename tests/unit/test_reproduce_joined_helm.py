"""The namespace counts (SEC-NO-NETPOL, SCA-NO-QUOTA) and the Helm release pins (MNT-HELM-UNPINNED) on
an estate whose objects Helm renders: recounted through ``helm template`` (``rendered_joined_count.py``),
and the releases as written where no render can add one (``helm_free``, ``rendered_releases``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helm_estates import import_charts

from agents.offline.challenge_numbers import rendered_releases
from tools.checks.reproduce import RENDERED, RENDERED_RELEASES, SCRIPTS, ReproSpec, Where, chosen
from tools.checks.reproduce_run import Listings, run_spec
from tools.checks.spec import CheckContext, get_detector, spec_by_id
from tools.evidence import Ledger
from tools.helm.options import ChartOptions
from tools.inventory.build import build_inventory
from tools.inventory.helm_models import HelmRender
from tools.inventory.inventory import Records
from tools.inventory.models import HelmRelease
from tools.inventory.sources import CodeRef
from tools.registry import Toolbox
from tools.sandbox import Jail

REPO = Path(__file__).resolve().parents[2]

RELEASE = """apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: raw, namespace: web}
spec: {url: oci://ghcr.io/example-org/charts/raw, ref: {tag: 2.0.0}}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: apps, namespace: web}
spec:
  chartRef: {kind: OCIRepository, name: raw}
  values:
    resources:
      - apiVersion: v1
        kind: LimitRange
        metadata: {name: defaults}
        spec: {limits: [{type: Container, default: {memory: 256Mi}}]}
      - apiVersion: v1
        kind: ResourceQuota
        metadata: {name: batch, namespace: batch}
        spec: {hard: {pods: "10"}}
      - apiVersion: apps/v1
        kind: Deployment
        metadata: {name: worker, namespace: batch}
        spec:
          selector: {matchLabels: {app: worker}}
          template:
            metadata: {labels: {app: worker}}
            spec: {containers: [{name: c, image: busybox:1}]}
"""
PLAIN = """apiVersion: apps/v1
kind: Deployment
metadata: {name: plain, namespace: media}
spec:
  selector: {matchLabels: {app: plain}}
  template:
    metadata: {labels: {app: plain}}
    spec: {containers: [{name: c, image: busybox:1}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: media}
spec: {podSelector: {}}
"""


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return import_charts(tmp_path_factory.mktemp("chart-cache"))


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    for rel, text in (("web/release.yaml", RELEASE), ("media/plain.yaml", PLAIN)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("check", "written", "rendered"), [("SEC-NO-NETPOL", 1, 2), ("SCA-NO-QUOTA", 2, 1)])
def test_the_namespace_counts_take_what_a_chart_renders_as_the_check_does(
    estate: Path, cache: Path, check: str, written: int, rendered: int
) -> None:
    """The chart runs a workload in ``batch`` (a namespace no file names) and renders a LimitRange for
    ``web`` and a ResourceQuota for ``batch``. Over the files as written, SEC-NO-NETPOL sees web (the
    release) but not batch, and SCA-NO-QUOTA sees no quota: 1 and 2, both wrong. The twin prints the
    check's own 2 and 1."""
    inventory = build_inventory(estate, charts=ChartOptions(cache_dir=cache))
    ctx = CheckContext(inventory=inventory, toolbox=Toolbox(Jail(estate), None, Ledger()))
    own = get_detector(check)(ctx).count
    counts = {**inventory.code.counts(), RENDERED: 3}
    spec = chosen(spec_by_id(check).reproduce["count"], counts, cluster=False, helm=True)
    assert spec is not None and spec.script == "rendered_joined_count.py" and spec.args == (check,)
    where = Where(estate=str(estate), charts=str(cache))
    printed = run_spec(spec, Jail(estate), where, None, Listings())
    files_only = spec.model_copy(update={"script": "joined_count.py"})
    as_written = run_spec(files_only, Jail(estate), where, None, Listings())
    assert (own, printed.value, printed.error) == (rendered, rendered, None)
    assert as_written.value == written


def test_the_joined_twin_counts_only_its_namespace_counts() -> None:
    """DEC-LIVE-UNMANAGED and the other joined counts have no rendering twin: listed on a rendered
    estate, never handed to a script that does not count them."""
    for check in ("DEC-LIVE-UNMANAGED", "REL-PVC-NO-BACKUP", "SEC-NO-IMAGE-VERIFY"):
        spec = ReproSpec(script="joined_count.py", args=(check,), when=("no-cluster",))
        assert chosen(spec, {RENDERED: 3}, cluster=False, helm=True) is None
        assert chosen(spec, {RENDERED: 0}, cluster=False, helm=True) == spec
    netpol = ReproSpec(script="joined_count.py", args=("SEC-NO-NETPOL",), when=("no-cluster",))
    assert chosen(netpol, {RENDERED: 3}, cluster=False, helm=False) is None  # no Helm engine: listed


def test_the_helm_release_pins_are_counted_as_written_unless_a_render_added_a_release() -> None:
    spec = spec_by_id("MNT-HELM-UNPINNED").reproduce["count"]
    assert chosen(spec, {RENDERED: 5}, cluster=False, helm=True) == spec
    assert chosen(spec, {RENDERED: 5, RENDERED_RELEASES: 1}, cluster=False, helm=True) is None
    assert chosen(spec, {RENDERED: 5}, cluster=False, helm=True, scoped_out=True) is None  # python -c


def _at(path: str, line: int = 1) -> CodeRef:
    return CodeRef(path=path, line=line)


def _render(defined_by: str, chart: str, source: CodeRef) -> HelmRender:
    return HelmRender(
        defined_by=defined_by, name="r", namespace="n", chart=chart, rendered=True, source=source
    )  # type: ignore[arg-type]


def _release(source: CodeRef, name: str = "r") -> HelmRelease:
    return HelmRelease(defined_by="flux", name=name, namespace="n", source=source)


def test_a_release_a_chart_renders_is_told_from_the_one_written() -> None:
    """A rendered object's record cites its release's line: a second release at a Flux release's line
    is a render's; an Argo CD chart directory's render (no release record of its own) vouches for none."""
    flux, argo = _at("apps/hr.yaml", 2), _at("apps/app/Chart.yaml")
    oci = "oci://ghcr.io/example-org/charts raw 2.0.0"
    code = Records(helm_renders=[_render("flux", oci, flux)], helm_releases=[_release(flux)])
    assert rendered_releases(code) == 0
    code.helm_releases.append(_release(flux, "child"))
    assert rendered_releases(code) == 1
    code = Records(helm_renders=[_render("argocd", "apps/app", argo)], helm_releases=[_release(argo)])
    assert rendered_releases(code) == 1
    code.helm_renders.append(_render("argocd", oci, _at("apps/other.yaml")))  # another line: no help
    assert rendered_releases(code) == 1
    code = Records(helm_releases=[_release(flux)])  # nothing rendered: nothing added
    assert rendered_releases(code) == 0


def test_the_twin_joins_the_cluster_as_joined_count_does(estate: Path, cache: Path, tmp_path: Path) -> None:
    """With ``--live``: a live NetworkPolicy in ``batch`` (the chart's workload's namespace) covers it;
    a live Deployment in ``jobs`` no code defines adds that namespace."""
    live = tmp_path / "live.json"
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment"}
    items = [
        {**policy, "metadata": {"name": "deny", "namespace": "batch"}},
        {**deploy, "metadata": {"name": "cron", "namespace": "jobs"}},
    ]
    live.write_text(json.dumps({"items": items}), encoding="utf-8")
    engine = f"{sys.executable} -m tools.helm.template_cli --chart-cache {cache}"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "REPRODUCE_HELM": engine}
    script = SCRIPTS / "rendered_joined_count.py"
    argv = [sys.executable, str(script), str(estate), "SEC-NO-NETPOL", "--live", str(live)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (0, "2\n")  # web, jobs (batch and media covered)
    other = subprocess.run(
        [*argv[:3], "DEC-LIVE-UNMANAGED"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert other.returncode == 2 and other.stdout == ""  # not a count the twin makes
