"""The whole offline audit of the k3s-platform estate: every cluster-health finding of its ground truth
reaches the final report with its count, none of the look-alikes does, and the context shows the
cluster's topology (nodes, pods by phase, Argo CD apps) as the seed audits open with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from estates import K3S, K3S_SNAPSHOT, REPO, ground_truth

from domain.report import AuditReport
from pipeline.audit import run_audit
from pipeline.render.markdown import render_markdown
from pipeline.settings import RunSettings

pytestmark = pytest.mark.e2e

TRUTH = ground_truth("k3s-platform")


@pytest.fixture(scope="module")
def report() -> AuditReport:
    settings = RunSettings(
        estate=K3S,
        estate_label="examples/k3s-platform",
        cluster=str(K3S_SNAPSHOT.relative_to(REPO)),
        date=TRUTH["date"],
        workdir=REPO,
    )
    state = run_audit(settings, run_id="k3s-platform")
    assert state.report is not None
    return state.report


def test_every_cluster_health_finding_reaches_the_report(report: AuditReport) -> None:
    for entry in TRUTH["cluster_checks"]:
        carrying = [f for f in report.findings if entry["check"] in f.checks]
        if entry["count"] == 0:
            assert carrying == [], entry["check"]
            continue
        assert len(carrying) == 1, entry["check"]
        claim = next(c for c in carrying[0].claims if c.measure is None and c.value == entry["count"])
        assert claim.text.startswith(str(entry["count"])), claim.text
        subjects = {loc.subject for loc in carrying[0].locations}
        assert subjects >= set(entry.get("subjects", [])), entry["check"]
        for item in entry.get("must_not", []):  # a subject, or the start of one (a pod's generated name)
            assert not any(s.startswith(item["subject"]) for s in subjects), item["why"]


def test_the_context_shows_the_topology(report: AuditReport, tmp_path: Path) -> None:
    topo = report.topology
    assert topo is not None and topo.cluster == "forge" and topo.server_version == "v1.33.6+k3s1"
    assert [(n.name, n.kubelet, n.status) for n in topo.nodes] == [
        ("forge-builder-01", "v1.34.3+k3s1", "Ready"),
        ("forge-core", "v1.33.6+k3s1", "Ready"),
        ("forge-edge-01", "v1.33.6+k3s1", "Ready, DiskPressure"),
        ("forge-edge-02", "v1.33.4+k3s1", "Ready"),
    ]
    assert topo.pod_phases == {"Pending": 2, "Running": 26, "Succeeded": 1}
    assert {(a.name, a.sync, a.health) for a in topo.apps if a.sync != "Synced" or a.health != "Healthy"} == {
        ("kyverno-policies", "OutOfSync", "Healthy"),
        ("ledger", "Synced", "Degraded"),
        ("platform", "Synced", "Progressing"),
        ("tunnel", "OutOfSync", "Degraded"),
    }
    md = render_markdown(report)
    assert "### Cluster `forge` (API server v1.33.6+k3s1)" in md
    assert "| `forge-edge-01` | worker | v1.33.6+k3s1 | containerd://2.0.5-k3s1 |" in md
    assert "**Pods**: 29 pods: 2 Pending, 26 Running, 1 Succeeded." in md
    assert "| Application | `argocd/tunnel` | OutOfSync | Degraded |" in md
