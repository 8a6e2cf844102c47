"""Scope: what is deployed. A workload under test/, benchmark/, examples/ or archive/, or in a
*.example file, is not a production finding; the report names those files once as not deployed."""

from __future__ import annotations

from pathlib import Path

import pytest
from intent_estate import _deployment, write

from pipeline.audit import run_audit
from pipeline.settings import RunSettings
from tools.checks.runner import run_check
from tools.checks.spec import CheckContext, spec_by_id
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.scope import deployed_view, is_deployed, not_deployed, path_is_deployed
from tools.inventory.sources import CodeRef, LiveRef
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

REQUESTS = "requests: {cpu: 100m, memory: 64Mi}\nlimits: {memory: 128Mi}\n"
ESTATE = {
    "apps/web.yaml": _deployment("web", "apps", REQUESTS),
    "test/web-loadtest.yaml": _deployment("web-loadtest", "apps", REQUESTS),
    "benchmark/k6/runner.yaml": _deployment("k6-runner", "bench", REQUESTS),
    "examples/demo/deploy.yaml": _deployment("demo", "demo", REQUESTS),
    "docs/archive/old.yaml": _deployment("old", "apps", REQUESTS),
    "apps/cache.example.yaml": _deployment("cache", "apps", REQUESTS),
}
LEFT_OUT = [
    "apps/cache.example.yaml",
    "benchmark/k6/runner.yaml",
    "docs/archive/old.yaml",
    "examples/demo/deploy.yaml",
    "test/web-loadtest.yaml",
]


@pytest.mark.parametrize(
    ("path", "deployed"),
    [
        ("apps/web.yaml", None),
        ("test/web.yaml", False),
        ("tests/e2e/web.yaml", False),
        ("deploy/benchmark/web.yaml", False),
        ("examples/homelab/stacks/main.tf", False),
        ("archive/2024/web.yaml", False),
        ("values.example", False),
        ("values.example.yaml", False),
        ("secrets.sample.env", False),
        ("contest/web.yaml", None),  # a word that contains "test" is not test/
        ("apps/latest.yaml", None),
        ("examples.md", None),  # a file named like the directory is not under it
    ],
)
def test_the_path_rule(path: str, deployed: bool | None) -> None:
    assert path_is_deployed(path) is deployed


class _Rec:
    def __init__(self, source: CodeRef | LiveRef) -> None:
        self.source = source


def test_live_records_are_deployed_and_reachability_plugs_in_where_the_path_says_nothing() -> None:
    live = _Rec(LiveRef(cluster="c", namespace="apps", object_kind="Deployment", name="web"))
    assert is_deployed(live) is True
    code = _Rec(CodeRef(path="apps/web.yaml", line=1))
    in_test = _Rec(CodeRef(path="test/web.yaml", line=1))
    assert is_deployed(code) is None
    reached: list[str] = []

    def reachable(path: str) -> bool | None:
        reached.append(path)
        return path.startswith("clusters/")

    assert is_deployed(code, reachable) is False  # nothing deploys apps/: reachability says so
    assert is_deployed(in_test, reachable) is False  # the path rule answers first
    assert reached == ["apps/web.yaml"]


def test_checks_count_only_what_is_deployed(tmp_path: Path) -> None:
    write(tmp_path, ESTATE)
    inventory = build_inventory(tmp_path)
    assert len(inventory.code.workloads) == 6  # the inventory still lists everything in the repo
    ctx = CheckContext(inventory=inventory, toolbox=Toolbox(Jail(tmp_path), None, Ledger()))
    detection = run_check(spec_by_id("REL-PROBE-ANY"), ctx).detection
    assert (detection.count, detection.total) == (1, 1)
    assert [loc.subject for loc in detection.locations] == ["Deployment/apps/web"]
    assert not_deployed(inventory) == LEFT_OUT
    view = deployed_view(inventory)
    assert [w.name for w in view.code.workloads] == ["web"]
    assert deployed_view(inventory) is view  # built once


def test_an_estate_with_nothing_out_of_scope_is_read_as_is(tmp_path: Path) -> None:
    write(tmp_path, {"apps/web.yaml": ESTATE["apps/web.yaml"]})
    inventory = build_inventory(tmp_path)
    assert deployed_view(inventory) is inventory
    assert not_deployed(inventory) == []


def test_the_report_names_what_was_left_out_once(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    write(estate, ESTATE)
    state = run_audit(RunSettings(estate=estate, date="2026-11-20", workdir=tmp_path), run_id="scope")
    report = state.report
    assert report is not None
    lines = [g for g in report.gaps if g.startswith("Not deployed")]
    assert lines == [
        "Not deployed, so not counted as production: 5 files under test/, benchmark/, examples/ or "
        f"archive/, or named *.example/*.sample ({', '.join(LEFT_OUT)})."
    ]
    refs = {ref for f in report.findings for ref in f.refs}
    assert not any(ref.startswith(tuple(LEFT_OUT)) for ref in refs), refs
    assert any(ref.startswith("apps/web.yaml") for ref in refs)


GITOPS = {
    "clusters/home/apps.yaml": """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  path: ./apps
  sourceRef: {kind: GitRepository, name: flux-system}
""",
    "apps/web.yaml": ESTATE["apps/web.yaml"],
    "apps/kustomization.yaml": "resources: [web.yaml]\n",
    "old/forgotten.yaml": _deployment("forgotten", "apps", REQUESTS),
    ".github/workflows/ci.yaml": "on: push\njobs: {lint: {runs-on: ubuntu-latest, steps: [{run: make}]}}\n",
    "test/web-loadtest.yaml": ESTATE["test/web-loadtest.yaml"],
}


def test_a_directory_no_gitops_object_reaches_is_not_deployed(tmp_path: Path) -> None:
    """Reachability from the estate's own Flux Kustomizations: old/ holds a workload nothing deploys.
    The bootstrap file (the Flux Kustomization itself) and the CI file are not ruled out by reach."""
    write(tmp_path, GITOPS)
    inventory = build_inventory(tmp_path)
    assert not_deployed(inventory) == ["old/forgotten.yaml", "test/web-loadtest.yaml"]
    view = deployed_view(inventory)
    assert [w.name for w in view.code.workloads] == ["web"]
    assert [k.name for k in view.code.flux_kustomizations] == ["apps"]
    assert [c.source.path for c in view.code.ci_files] == [".github/workflows/ci.yaml"]
    assert deployed_view(inventory) is view  # built once, reachability included
    from agents.offline.synthesize import scope_gaps

    assert scope_gaps(inventory) == [
        "Not deployed, so not counted as production: 2 files under test/, benchmark/, examples/ or "
        "archive/, or named *.example/*.sample, or that no Flux Kustomization or Argo CD Application "
        "deploys (old/forgotten.yaml, test/web-loadtest.yaml)."
    ]


def test_reachability_and_the_path_rule_agree_on_the_bundled_estates() -> None:
    """argocd-homelab's test/ and benchmark/ are out by both; nothing else of any bundled estate is."""
    from estates import EXAMPLES

    from tools.inventory.scope import reachability

    for estate in ("homelab", "gitops-base", "k3s-platform", "flux-homelab", "argocd-homelab"):
        inventory = build_inventory(EXAMPLES / estate)
        reach = reachability(inventory.code)
        left_out = not_deployed(inventory)
        assert all(path_is_deployed(p) is False for p in left_out), (estate, left_out)
        if estate == "argocd-homelab":
            assert reach is not None
            assert left_out == ["benchmark/fio/job.yaml", "test/load-generator/deployment.yaml"]
            assert [reach(p) for p in left_out] == [False, False]  # reach says so too
            assert reach("appsets/platform.yaml") is None  # a GitOps entry point: applied by hand
