"""A cluster read in part: the checks that read what was lost say so instead of reporting a clean 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.offline.research import research_offline
from tools.checks.runner import check_result, run_check
from tools.checks.spec import CheckContext, spec_by_id
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.inventory import LiveState, Records
from tools.inventory.live import fields_fed_by, lost_resources
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

HOMELAB = Path(__file__).resolve().parents[2] / "examples" / "homelab"


def _context(estate: Path, snapshot: Path) -> CheckContext:
    backend = SnapshotBackend(snapshot)
    inventory = build_inventory(estate, cluster=backend)
    return CheckContext(inventory=inventory, toolbox=Toolbox(Jail(estate), backend, Ledger()))


@pytest.fixture(scope="module")
def truncated(tmp_path_factory: pytest.TempPathFactory) -> CheckContext:
    """The home-lab snapshot with its pods dump cut short (the crash loops are in the lost part)."""
    snapshot = tmp_path_factory.mktemp("snap")
    for source in (HOMELAB / "cluster").iterdir():
        (snapshot / source.name).write_bytes(source.read_bytes())
    pods = snapshot / "core.v1.pods.json"
    pods.write_bytes(pods.read_bytes()[:2000])
    estate = tmp_path_factory.mktemp("estate")  # the code side does not matter here
    return _context(estate, snapshot)


def test_the_lost_pods_are_named_with_their_file(truncated: CheckContext) -> None:
    live = truncated.inventory.live
    assert live is not None and live.pods == []
    [(resource, [issue])] = lost_resources(live.issues).items()
    assert resource == "pods" and issue.path.endswith("/core.v1.pods.json")
    last_line = (HOMELAB / "cluster" / "core.v1.pods.json").read_bytes()[:2000].rstrip().count(b"\n") + 1
    assert (issue.reason, issue.line, issue.message) == (
        "syntax",
        last_line,
        "truncated JSON (the text ends inside a value)",
    )


def test_a_check_over_the_lost_pods_says_its_population_is_incomplete(truncated: CheckContext) -> None:
    result, detection = check_result(spec_by_id("REL-LIVE-CRASHLOOP"), truncated)
    assert detection.count == 0 and detection.applicable
    assert detection.incomplete is not None
    assert detection.incomplete.startswith("pods: not read (")
    assert "core.v1.pods.json:" in detection.incomplete
    assert result.output.splitlines()[:2] == [
        "REL-LIVE-CRASHLOOP: 0 of 0",
        f"population incomplete: {detection.incomplete}",
    ]


@pytest.mark.parametrize("check", ["SEC-RBAC-WILDCARD", "REL-LIVE-CRONJOB-STALE", "SCA-NO-REQUESTS"])
def test_checks_that_do_not_read_pods_are_not_marked(truncated: CheckContext, check: str) -> None:
    _, detection = check_result(spec_by_id(check), truncated)
    assert detection.incomplete is None


def test_research_names_the_incomplete_checks_in_its_note(truncated: CheckContext) -> None:
    result = research_offline("reliability", truncated)
    assert result.note is not None
    assert result.note.startswith(
        "REL-LIVE-CRASHLOOP, REL-LIVE-RESTARTS counted over an incomplete population ("
    )
    assert result.note.endswith("so a count of 0 there is not a clean result")
    assert not any(f.check == "REL-LIVE-CRASHLOOP" for f in result.findings)


def test_an_intact_snapshot_marks_nothing(tmp_path: Path) -> None:
    ctx = _context(tmp_path, HOMELAB / "cluster")
    assert ctx.inventory.live is not None and lost_resources(ctx.inventory.live.issues) == {}
    outcome = run_check(spec_by_id("REL-LIVE-CRASHLOOP"), ctx)
    assert outcome.detection.incomplete is None and outcome.detection.count == 2


def test_every_list_a_cluster_fills_is_fed_by_some_resource_type() -> None:
    """A new LiveState list must be mapped, or losing its source would go unsaid."""
    code_only = {
        "kustomizations", "escape_hatches", "ignore_changes", "modules", "providers", "backends",
        "variables", "resources", "dependency_bots", "ci_files",
    }  # fmt: skip
    live_lists = set(LiveState.model_fields) - {"cluster", "issues"} - code_only
    assert set(Records.model_fields) - {"issues"} >= code_only
    plurals = [
        "pods", "nodes", "jobs", "cronjobs", "events", "deployments.apps", "persistentvolumeclaims",
        "namespaces", "poddisruptionbudgets.policy", "horizontalpodautoscalers.autoscaling",
        "networkpolicies.networking.k8s.io", "resourcequotas", "roles.rbac.authorization.k8s.io",
        "rolebindings.rbac.authorization.k8s.io", "secrets", "prometheusrules.monitoring.coreos.com",
        "clusterpolicies.kyverno.io", "helmreleases.helm.toolkit.fluxcd.io",
        "kustomizations.kustomize.toolkit.fluxcd.io", "gitrepositories.source.toolkit.fluxcd.io",
        "applications.argoproj.io",
    ]  # fmt: skip
    fed = set().union(*(fields_fed_by(p) for p in plurals))
    assert fed == live_lists
    assert fields_fed_by("*") >= live_lists
    assert fields_fed_by("pods") == {"pods"}  # runtime children do not make workloads incomplete
    assert fields_fed_by("configmaps") == {"objects"}
    assert fields_fed_by("nodes.metrics.k8s.io") == {"nodes"}
