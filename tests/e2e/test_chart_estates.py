"""The two chart-based estates end to end, through the product: charts imported as an air-gapped user
imports them, the real offline audit, and the ground truth of ``examples/ground-truth/``.

flux-homelab (HelmReleases through ``chartRef`` -> ``OCIRepository``, built by Flux Kustomizations with
``targetNamespace`` and ``postBuild``) and argocd-homelab (an ApplicationSet over wrapper charts) have
almost no workload in their files: every one exists only once the releases are rendered. The podkit
and raw charts come from ``examples/charts/packaged/``, put in a temporary chart cache by
``infra-audit charts import FILE.tgz --as REF`` under the refs the estates pull them from; the
upstream charts (cilium, cert-manager, kube-prometheus-stack, ingress-nginx) are not there and must be
reported as gaps, never rendered and never silent.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from estates import ARGO_HOMELAB, FLUX_HOMELAB, REPO, ground_truth
from helm_estates import import_charts

from domain.findings import Finding, RawFinding
from domain.report import AuditReport
from pipeline.audit import run_audit
from pipeline.cli import main
from pipeline.settings import RunSettings
from tools.helm.options import ChartOptions
from tools.inventory.build import build_inventory
from tools.inventory.inventory import Inventory
from tools.inventory.models import CodeRef

pytestmark = pytest.mark.e2e

ROOTS = {"flux-homelab": FLUX_HOMELAB, "argocd-homelab": ARGO_HOMELAB}
DATE = "2026-11-20"
ENTITY = re.compile(r"^[A-Z][A-Za-z]+/\S+$")
REF_GAPS: dict[tuple[str, str], str] = {}
"""Where the product's ref is not yet the ground truth's line (issue 10, precise refs): each is an
xfail that must start failing once the ref is right."""


@pytest.fixture(scope="module")
def chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled charts, imported with the product's own ``charts import`` under their pull refs."""
    return import_charts(tmp_path_factory.mktemp("chart-cache"))


@pytest.fixture(scope="module")
def inventories(chart_cache: Path) -> dict[str, Inventory]:
    return {e: build_inventory(root, charts=ChartOptions(cache_dir=chart_cache)) for e, root in ROOTS.items()}


@pytest.fixture(scope="module")
def reports(chart_cache: Path) -> dict[str, AuditReport]:
    out: dict[str, AuditReport] = {}
    for estate, root in ROOTS.items():
        settings = RunSettings(
            estate=root,
            estate_label=f"examples/{estate}",
            out=None,
            date=DATE,
            workdir=REPO,
            chart_cache=chart_cache,
        )
        state = run_audit(settings, run_id=f"demo-{estate}")
        assert state.report is not None
        out[estate] = state.report
    return out


def truth(estate: str) -> dict[str, Any]:
    return ground_truth(estate)


def raw_finding(report: AuditReport, check: str) -> RawFinding | None:
    return next((f for r in report.concerns.values() for f in r.findings if f.check == check), None)


def final(report: AuditReport, check: str) -> tuple[Finding, float | None] | None:
    """The final finding that carries ``check`` and the value of that check's own claim."""
    raw = raw_finding(report, check)
    if raw is None:
        return None
    first = raw.claims[0].evidence[0]
    for finding in report.findings:
        if check in finding.checks:
            claim = next(c for c in finding.claims if c.evidence[0] == first and c.measure is None)
            return finding, claim.value
    return None


def expected(estate: str) -> list[dict[str, Any]]:
    return list(truth(estate)["findings"])


# ------------------------------------------------------------------------------------- inventory


@pytest.mark.parametrize("estate", sorted(ROOTS))
def test_every_release_rendered_or_a_gap(inventories: dict[str, Inventory], estate: str) -> None:
    renders = {(r.namespace, r.name): r for r in inventories[estate].code.helm_renders}
    listed = truth(estate)["inventory"]["helm_releases"]
    assert sorted(renders) == sorted((r["namespace"], r["name"]) for r in listed)
    for release in listed:
        render = renders[(release["namespace"], release["name"])]
        assert render.rendered is release["rendered"], (release["name"], render.reason)
        assert str(render.source) == release["ref"]
        if not release["rendered"]:
            assert render.cause == "chart_missing" and render.objects == 0
            assert render.reason is not None and render.reason.startswith("chart not in the cache")
    counts = truth(estate)["inventory"]["counts"]
    assert sum(r.rendered for r in renders.values()) == counts["helm_releases_rendered"]


@pytest.mark.parametrize("estate", sorted(ROOTS))
def test_every_rendered_container_is_in_the_inventory_with_its_sources(
    inventories: dict[str, Inventory], estate: str
) -> None:
    code = inventories[estate].code
    rendered = {(w.kind, w.namespace, w.name): w for w in code.workloads if w.release is not None}
    listed = truth(estate)["inventory"]["rendered_workloads"]
    assert sorted(rendered) == sorted((w["kind"], w["namespace"], w["name"]) for w in listed)
    for entry in listed:
        workload = rendered[(entry["kind"], entry["namespace"], entry["name"])]
        assert str(workload.source) == str(workload.release) == entry["ref"]
        assert workload.replicas == entry.get("replicas")  # a Job has none
        regular = [c for c in workload.containers if not c.init]
        assert [c.name for c in regular] == entry["containers"]
        assert [c.name for c in workload.containers if c.init] == entry["init_containers"]
        for container in regular:
            assert container.image == entry["images"][container.name]
            assert str(container.source) == entry["image_refs"][container.name]
            assert str(container.release) == entry["ref"]
            assert sorted(container.probes) == sorted(entry["probes"][container.name])
    assert len(listed) == truth(estate)["inventory"]["counts"]["workloads"]


def test_flux_releases_render_as_built_not_as_written(inventories: dict[str, Inventory]) -> None:
    """The written HelmReleases have no namespace: the Flux Kustomization's targetNamespace (applied by
    its build) puts each in its namespace; nothing renders in ``default``."""
    renders = inventories["flux-homelab"].code.helm_renders
    assert {r.namespace for r in renders} == {
        "cert-manager", "home", "kube-system", "media", "network", "observability"
    }  # fmt: skip
    assert all(w.namespace != "default" for w in inventories["flux-homelab"].code.workloads)


def test_flux_namespaces_cite_their_source_and_where_their_enforce_label_was_set(
    inventories: dict[str, Inventory],
) -> None:
    """Each Namespace as built cites the ``namespace:`` line that names it; its enforce label, the line
    that set it: the patch's ``value: privileged`` (``pss_ref``), else the common component's label."""
    built = {n.name: n for n in inventories["flux-homelab"].code.namespaces}
    listed = truth("flux-homelab")["inventory"]["namespaces"]
    assert sorted(built) == sorted(n["name"] for n in listed)
    component = "kubernetes/components/common/kustomization.yaml:17"
    for item in listed:
        namespace = built[item["name"]]
        assert str(namespace.source) == item["ref"]
        assert namespace.pod_security.get("enforce") == item["pss_enforce"]
        assert str(namespace.pod_security_refs["enforce"]) == item.get("pss_ref", component)


def test_argocd_generated_applications_render_and_test_dirs_do_not(inventories: dict[str, Inventory]) -> None:
    code = inventories["argocd-homelab"].code
    renders = {r.name: r for r in code.helm_renders}
    assert all("generated by appsets/platform.yaml:" in " ".join(r.notes) for r in renders.values())
    assert not any(
        r.source is not None and r.source.path.startswith(("test/", "benchmark/")) for r in renders.values()
    )
    assert "chaos-monkey" not in renders  # test/chaos-monkey is a wrapper chart nothing deploys
    written = {w.name for w in code.workloads if w.release is None}
    assert written == {"load-generator", "fio-bench"}  # present in the files, left out as not deployed


# -------------------------------------------------------------------------------------- findings


def _finding_params() -> list[Any]:
    return [
        pytest.param(estate, f["check"], id=f"{estate}-{f['check']}")
        for estate in sorted(ROOTS)
        for f in expected(estate)
    ]


@pytest.mark.parametrize(("estate", "check"), _finding_params())
def test_finding_count_and_subjects(reports: dict[str, AuditReport], estate: str, check: str) -> None:
    item = next(f for f in expected(estate) if f["check"] == check)
    report = reports[estate]
    found = final(report, check)
    raw = raw_finding(report, check)
    if "raw_count" in item:
        assert raw is not None and raw.claims[0].value == item["raw_count"]
    if item["count"] == 0:
        assert found is None, f"{check} must not be reported: {found}"
        return
    assert found is not None, f"{check} missing from the final report"
    assert found[1] == item["count"]
    assert raw is not None
    if item["subjects"] and all(ENTITY.match(s) for s in item["subjects"]):
        assert sorted(loc.subject for loc in raw.locations) == sorted(item["subjects"])


def _ref_params() -> list[Any]:
    out = []
    for estate in sorted(ROOTS):
        for f in expected(estate):
            if f["count"] == 0 or not f["refs"]:
                continue
            gap = REF_GAPS.get((estate, f["check"]))
            marks = [pytest.mark.xfail(strict=True, reason=gap)] if gap else []
            out.append(pytest.param(estate, f["check"], id=f"{estate}-{f['check']}", marks=marks))
    return out


@pytest.mark.parametrize(("estate", "check"), _ref_params())
def test_finding_refs(reports: dict[str, AuditReport], estate: str, check: str) -> None:
    item = next(f for f in expected(estate) if f["check"] == check)
    raw = raw_finding(reports[estate], check)
    assert raw is not None
    assert sorted({loc.ref for loc in raw.locations}) == sorted(item["refs"])


@pytest.mark.parametrize("estate", sorted(ROOTS))
def test_no_unexpected_finding(reports: dict[str, AuditReport], estate: str) -> None:
    wanted = {f["check"] for f in expected(estate) if f["count"] > 0}
    left_open = {n["check"] for n in truth(estate)["not_asserted"]}
    reported = {check for f in reports[estate].findings for check in f.checks}
    assert wanted <= reported
    assert reported - wanted - left_open == set()


@pytest.mark.parametrize("estate", sorted(ROOTS))
def test_must_not_report(reports: dict[str, AuditReport], estate: str) -> None:
    """No final finding of the check cites a place the ground truth names as a trap, nor its subject."""
    report = reports[estate]
    for item in truth(estate)["must_not_report"]:
        places = {item["documented_at"], *item.get("also_documented_at", [])}
        for finding in (f for f in report.findings if item["check"] in f.checks):
            raw = raw_finding(report, item["check"])
            cited = {loc.ref for loc in raw.locations} if raw else set()
            assert not cited & places, (item["check"], item["subject"], cited & places)
            if ENTITY.match(item["subject"]):
                subjects = {loc.subject for loc in raw.locations} if raw else set()
                assert item["subject"] not in subjects, (item["check"], item["subject"], finding.id)


@pytest.mark.parametrize("estate", sorted(ROOTS))
def test_unrendered_releases_are_named_in_the_gaps(reports: dict[str, AuditReport], estate: str) -> None:
    unrendered = [r for r in truth(estate)["inventory"]["helm_releases"] if not r["rendered"]]
    total = len(truth(estate)["inventory"]["helm_releases"])
    [gap] = [g for g in reports[estate].gaps if "Helm release" in g and "not rendered" in g]
    assert gap.startswith(f"{len(unrendered)} of {total} Helm releases not rendered: chart not in the cache")
    for release in unrendered:
        assert f"{release['namespace']}/{release['name']} ({release['ref']})" in gap


def test_chartref_releases_pinned_by_tag_are_not_reported(reports: dict[str, AuditReport]) -> None:
    found = final(reports["flux-homelab"], "MNT-HELM-UNPINNED")
    assert found is not None and found[1] == 1
    raw = raw_finding(reports["flux-homelab"], "MNT-HELM-UNPINNED")
    assert raw is not None
    assert [loc.subject for loc in raw.locations] == ["HelmRelease/observability/kube-prometheus-stack"]


def test_without_the_charts_nothing_renders_and_every_release_is_a_gap(tmp_path: Path) -> None:
    """The same estates with an empty cache: no workload from a chart, every release named as a gap."""
    for estate, root in ROOTS.items():
        inv = build_inventory(root, charts=ChartOptions(cache_dir=tmp_path))
        assert not [w for w in inv.code.workloads if w.release is not None]
        renders = inv.code.helm_renders
        assert len(renders) == len(truth(estate)["inventory"]["helm_releases"])
        assert all(not r.rendered and r.cause == "chart_missing" for r in renders)
        assert all(isinstance(r.source, CodeRef) for r in renders)


def test_infra_audit_run_takes_the_chart_cache_flag(
    chart_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``infra-audit run --chart-cache DIR`` renders with DIR (the env default is an empty cache here)."""
    monkeypatch.chdir(REPO)
    out = tmp_path / "report"
    argv = ["run", "examples/argocd-homelab", "--chart-cache", str(chart_cache), "--out", str(out)]
    assert main([*argv, "--date", DATE, "--state-dir", str(tmp_path / "state")]) == 0
    capsys.readouterr()
    audit = (out / "audit.md").read_text(encoding="utf-8")
    assert "1 of 8 Helm releases not rendered" in audit
    assert "ingress-nginx/ingress-nginx (system/ingress-nginx/Chart.yaml:1)" in audit
