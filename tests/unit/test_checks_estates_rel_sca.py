"""The REL-/SCA- detectors on the bundled estates, against each estate's ground-truth.yaml.

homelab is audited with its cluster snapshot, gitops-base without a cluster. For every REL-/SCA-
entry in ``findings:`` the detector must give the ground truth's count, total and refs, except where
``DIFFERENCES`` records a known, explained disagreement (the ground truth is not edited here; each
difference is reported to the pipeline owner). ``must_not_report`` items are removed by the intent
challenger, which reads the estate's docs; a detector cannot know intent, so these tests assert the
detector DOES find them, and the pipeline tests assert the final report drops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.checks.spec import CheckContext, Detection, Location, get_detector
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOMELAB = EXAMPLES / "homelab"
GITOPS = EXAMPLES / "gitops-base"
PREFIXES = ("REL-", "SCA-")
CLUSTER = "homelab"


def _live(*keys: str) -> tuple[str, ...]:
    """Ground-truth live keys (group/Kind/namespace/name) as LiveRef strings (cluster/namespace/Kind/name)."""
    return tuple(ref(k) for k in keys)


def ref(key: str) -> str:
    parts = key.split("/")
    if len(parts) == 4 and ":" not in key:
        _group, kind, namespace, name = parts
        return f"{CLUSTER}/{namespace}/{kind}/{name}"
    return key


@dataclass(frozen=True)
class Difference:
    """Where a detector knowingly disagrees with the ground truth, and why."""

    count: int
    total: int | None
    why: str
    add: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()


LIVE_ONLY = "workloads only the cluster shows count too (common.workloads); the ground truth counts code only"
DIFFERENCES: dict[tuple[str, str], Difference] = {
    ("homelab", "REL-PROBE-ANY"): Difference(
        17,
        29,
        LIVE_ONLY,
        add=_live(
            "apps/Deployment/cert-manager/cert-manager",
            "apps/Deployment/default/debug-toolbox",
            "apps/Deployment/finance/actual-budget",
            "apps/Deployment/monitoring/kube-prometheus-stack-operator",
            "apps/StatefulSet/argocd/argocd-application-controller",
        ),
    ),
    ("homelab", "REL-PROBE-BOTH"): Difference(
        6,
        29,
        LIVE_ONLY,
        add=_live(
            "apps/Deployment/default/debug-toolbox",
            "apps/Deployment/monitoring/kube-prometheus-stack-operator",
        ),
    ),
    ("homelab", "REL-SINGLE-REPLICA"): Difference(
        10, 27, LIVE_ONLY + " (mealie: Argo CD, Recreate)", add=_live("apps/Deployment/mealie/mealie")
    ),
    ("homelab", "REL-NO-PDB"): Difference(
        3, 5, LIVE_ONLY + " (coredns: 3 replicas, no PDB)", add=_live("apps/Deployment/kube-system/coredns")
    ),
    ("homelab", "REL-RECREATE-NO-GRACE"): Difference(
        4, 7, "total includes live-only mealie (Recreate; live objects carry the default 30 s grace)"
    ),
    ("homelab", "REL-STS-ONDELETE"): Difference(
        1, 7, "total = StatefulSets and DaemonSets (code 4 + 2, live-only argocd-application-controller)"
    ),
    ("homelab", "REL-NO-RESTORE-DRILL"): Difference(
        2,
        None,
        "count = backup jobs with no restore drill (catalog title); the ground truth counts the estate once",
        add=("stacks/dbaas/main.tf:411", "stacks/immich/main.tf:379"),
        drop=("docs/decisions/0001-mysql-standalone.md:23",),
    ),
    ("homelab", "REL-LIVE-CRASHLOOP"): Difference(
        2,
        46,
        "ImagePullBackOff counts (catalog title: crash-looping or cannot start)",
        add=_live("core/Pod/tools/it-tools-5kkzt2qd6z-pmls9"),
    ),
    ("homelab", "REL-LIVE-RESTARTS"): Difference(
        2, 48, "counts containers, so total = containers of live pods"
    ),
    ("homelab", "SCA-NO-REQUESTS"): Difference(
        11,
        36,
        LIVE_ONLY,
        add=_live(
            "apps/Deployment/argocd/argocd-server",
            "apps/Deployment/cert-manager/cert-manager",
            "apps/Deployment/default/debug-toolbox",
            "apps/Deployment/monitoring/kube-prometheus-stack-grafana",
            "apps/Deployment/monitoring/kube-prometheus-stack-operator",
            "apps/Deployment/networking/traefik",
            "apps/Deployment/tools/it-tools",
            "apps/StatefulSet/argocd/argocd-application-controller",
        ),
    ),
    ("homelab", "SCA-NO-MEM-LIMIT"): Difference(
        13,
        36,
        LIVE_ONLY,
        add=_live(
            "apps/Deployment/argocd/argocd-server",
            "apps/Deployment/cert-manager/cert-manager",
            "apps/Deployment/default/debug-toolbox",
            "apps/Deployment/monitoring/kube-prometheus-stack-grafana",
            "apps/Deployment/monitoring/kube-prometheus-stack-operator",
            "apps/Deployment/networking/traefik",
            "apps/Deployment/tools/it-tools",
            "apps/StatefulSet/argocd/argocd-application-controller",
        ),
    ),
    ("homelab", "SCA-NO-HPA"): Difference(5, 5, LIVE_ONLY, add=_live("apps/Deployment/kube-system/coredns")),
    ("homelab", "SCA-NO-QUOTA"): Difference(
        17,
        17,
        "namespaces that run pods live (Helm/Argo/unmanaged workloads) count; the ground truth counts only "
        "namespaces declared in code",
        add=tuple(
            f"{CLUSTER}/-/Namespace/{ns}"
            for ns in ("argocd", "cert-manager", "default", "finance", "kyverno", "mealie", "tools")
        ),
    ),
}
SPECIAL = {"REL-ALERT-GAPS"}  # compared by category below: its refs are one rule line per missing category


@pytest.fixture(scope="module")
def contexts() -> dict[str, CheckContext]:
    backend = SnapshotBackend(HOMELAB / "cluster")
    homelab = build_inventory(HOMELAB, cluster=backend)
    gitops = build_inventory(GITOPS)
    return {
        "homelab": CheckContext(homelab, Toolbox(Jail(HOMELAB), backend, Ledger())),
        "gitops-base": CheckContext(gitops, Toolbox(Jail(GITOPS), None, Ledger())),
    }


ROOTS = {"homelab": HOMELAB, "gitops-base": GITOPS}


@cache
def load_ground_truth(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((root / "ground-truth.yaml").read_text(encoding="utf-8"))
    return data


def _truth(estate: str) -> dict[str, Any]:
    return load_ground_truth(ROOTS[estate])


def _cases() -> list[tuple[str, str]]:
    return [
        (estate, f["check"])
        for estate, root in ROOTS.items()
        for f in load_ground_truth(root)["findings"]
        if f["check"].startswith(PREFIXES) and f["check"] not in SPECIAL
    ]


def _about(location: Location, subject: str) -> bool:
    return location.subject == subject or location.subject.startswith(subject + "/")


def _split(estate: str, check: str, detection: Detection) -> tuple[list[Location], list[Location]]:
    """(kept, removed): ``removed`` are the locations the intent challenger drops (must_not_report)."""
    dropped = [m["subject"] for m in _truth(estate)["must_not_report"] if m["check"] == check]
    removed = [loc for loc in detection.locations if any(_about(loc, s) for s in dropped)]
    for subject in dropped:
        assert any(_about(loc, subject) for loc in removed), f"{check} must find {subject} for the challenger"
    return [loc for loc in detection.locations if loc not in removed], removed


@pytest.mark.parametrize(("estate", "check"), _cases())
def test_finding_matches_ground_truth(contexts: dict[str, CheckContext], estate: str, check: str) -> None:
    finding = next(f for f in _truth(estate)["findings"] if f["check"] == check)
    detection = get_detector(check)(contexts[estate])
    kept, removed = _split(estate, check, detection)
    expected_refs = [ref(r) for r in finding["refs"]]
    difference = DIFFERENCES.get((estate, check))
    if difference is None:
        count, total = finding["count"], finding.get("total")
        if "raw_count" in finding:
            assert detection.count == finding["raw_count"]
    else:
        count, total = difference.count, difference.total
        expected_refs = [r for r in expected_refs if r not in difference.drop] + list(difference.add)
    assert (len(kept), detection.total) == (count, total)
    assert detection.count == len(kept) + len(removed)
    assert sorted(loc.ref for loc in kept) == sorted(expected_refs)
    named = finding.get("subjects") or [item.replace(":", "/") for item in finding.get("items", [])]
    if named and isinstance(named[0], str):
        assert set(named) <= {loc.subject for loc in kept}


def test_alert_gaps_by_category(contexts: dict[str, CheckContext]) -> None:
    finding = next(f for f in _truth("homelab")["findings"] if f["check"] == "REL-ALERT-GAPS")
    detection = get_detector("REL-ALERT-GAPS")(contexts["homelab"])
    assert (detection.count, detection.total) == (finding["count"], finding["total"])
    assert [loc.subject for loc in detection.locations] == [f"alert-category/{m}" for m in finding["missing"]]
    assert {loc.ref for loc in detection.locations} <= set(finding["refs"])


def test_checks_the_ground_truth_does_not_list(contexts: dict[str, CheckContext]) -> None:
    """What the detectors report where the ground truth has no finding (each reported as a discrepancy)."""
    gitops = contexts["gitops-base"]
    # the PrometheusRules are not wired (the ground truth says they must not count as coverage), so all six
    # categories are missing; kube-prometheus-stack's own default rules are invisible and named in the note
    gaps = get_detector("REL-ALERT-GAPS")(gitops)
    assert (gaps.count, gaps.total) == (6, 6)
    assert gaps.note is not None and gaps.note.startswith("kube-prometheus-stack is deployed")
    drill = get_detector("REL-NO-RESTORE-DRILL")(gitops)
    assert [loc.ref for loc in drill.locations] == ["apps/wiki/cronjob.yaml:1"]
    singleton = get_detector("SCA-SINGLETON-INFRA")(gitops)
    assert [loc.subject for loc in singleton.locations] == ["StatefulSet/wiki/wiki-db"]  # postgres image
    cpu = get_detector("SCA-CPU-LIMIT")(gitops)
    assert (cpu.count, cpu.total) == (6, 8)
    backup = get_detector("REL-PVC-NO-BACKUP")(gitops)
    assert (backup.count, backup.total) == (0, 1)  # data-wiki-db-0: wiki-db-backup runs pg_dump -h wiki-db
    ondelete = get_detector("REL-STS-ONDELETE")(gitops)
    assert (ondelete.count, ondelete.total) == (0, 2)


def test_must_not_report_items_without_a_finding(contexts: dict[str, CheckContext]) -> None:
    homelab = contexts["homelab"]
    # CPU limits are removed on purpose (docs/decisions/0002): the detector finds every container with a
    # request and no limit, frigate included; the intent challenger drops the finding
    cpu = get_detector("SCA-CPU-LIMIT")(homelab)
    _kept, removed = _split("homelab", "SCA-CPU-LIMIT", cpu)
    assert [loc.subject for loc in removed] == ["Deployment/frigate/frigate/frigate"]
    assert (cpu.count, cpu.total) == (25, 36)
    # node saturation would be a bad metric pull: no node is above 80% by requests or usage
    nodes = get_detector("SCA-LIVE-NODE-PRESSURE")(homelab)
    assert (nodes.count, nodes.total, nodes.locations) == (0, 4, [])


def test_live_checks_do_not_apply_without_a_cluster(contexts: dict[str, CheckContext]) -> None:
    for check in (
        "REL-LIVE-CRASHLOOP",
        "REL-LIVE-RESTARTS",
        "REL-LIVE-CRONJOB-STALE",
        "REL-LIVE-JOB-FAILED",
        "SCA-LIVE-NODE-PRESSURE",
    ):
        assert get_detector(check)(contexts["gitops-base"]).applicable is False
