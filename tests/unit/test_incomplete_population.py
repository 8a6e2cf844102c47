"""A cluster read in part: the checks that read what was lost say so instead of reporting a clean 0.

The cause here is a snapshot dump that did not load; it is the same ``UnreadResource`` as a list a
live cluster refused (tests/integration/test_kube_live_partial.py) or a type the snapshot's writer
could not read, and the check runner treats them alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from agents.offline.research import research_offline
from domain.unread import EVERY_KIND
from tools.checks.runner import check_result, run_check
from tools.checks.spec import CheckContext, spec_by_id
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.inventory import LiveState, Records
from tools.inventory.live import FIELD_KINDS, lost_to
from tools.inventory.models import UnreadResource
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

HOMELAB = Path(__file__).resolve().parents[2] / "examples" / "homelab"
TRUNCATED = "truncated JSON (the text ends inside a value)"
CLOCK = datetime(2025, 6, 1, 12, tzinfo=UTC)


def _context(estate: Path, snapshot: Path) -> CheckContext:
    backend = SnapshotBackend(snapshot)
    inventory = build_inventory(estate, cluster=backend)
    return CheckContext(inventory=inventory, toolbox=Toolbox(Jail(estate), backend, Ledger()), now=CLOCK)


def _copy(snapshot: Path) -> Path:
    for source in (HOMELAB / "cluster").iterdir():
        (snapshot / source.name).write_bytes(source.read_bytes())
    return snapshot


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("estate")  # the code side does not matter here


@pytest.fixture(scope="module")
def truncated(tmp_path_factory: pytest.TempPathFactory, estate: Path) -> CheckContext:
    """The home-lab snapshot with its pods dump cut short (the crash loops are in the lost part)."""
    snapshot = _copy(tmp_path_factory.mktemp("snap"))
    pods = snapshot / "core.v1.pods.json"
    pods.write_bytes(pods.read_bytes()[:2000])
    return _context(estate, snapshot)


@pytest.fixture(scope="module")
def intact(estate: Path) -> CheckContext:
    return _context(estate, HOMELAB / "cluster")


def _pods_reason(ctx: CheckContext) -> str:
    live = ctx.inventory.live
    assert live is not None
    [issue] = [i for i in live.issues if i.path.endswith("/core.v1.pods.json")]
    return str(issue)


def test_the_lost_pods_are_one_unread_type_naming_their_file(truncated: CheckContext) -> None:
    live = truncated.inventory.live
    assert live is not None and live.pods == []
    [issue] = live.issues  # the file, once, in the files not read
    last_line = (HOMELAB / "cluster" / "core.v1.pods.json").read_bytes()[:2000].rstrip().count(b"\n") + 1
    assert (issue.reason, issue.line, issue.message) == ("syntax", last_line, TRUNCATED)
    assert live.unread == [UnreadResource(resource="pods", kind="Pod", reason=str(issue))]
    assert str(issue).endswith(f"/core.v1.pods.json:{last_line}: {TRUNCATED}")


def test_a_check_over_the_lost_pods_is_unknown_not_zero(truncated: CheckContext) -> None:
    result, detection = check_result(spec_by_id("REL-LIVE-CRASHLOOP"), truncated)
    note = f"unknown: the cluster's pods ({_pods_reason(truncated)}) could not be read"
    assert (detection.applicable, detection.count, detection.note) == (False, 0, note)
    assert result.value is None  # not a clean 0
    assert result.output == f"REL-LIVE-CRASHLOOP: not applicable ({note})"


@pytest.mark.parametrize(
    "check",
    # SCA-NO-REQUESTS reads workloads, where a controller-less pod also lands; checks drop them there
    ["SEC-RBAC-WILDCARD", "REL-LIVE-CRONJOB-STALE", "SCA-NO-REQUESTS", "DEC-LIVE-UNMANAGED"],
)
def test_checks_that_do_not_read_pods_answer_as_over_the_whole_snapshot(
    truncated: CheckContext, intact: CheckContext, check: str
) -> None:
    result, detection = check_result(spec_by_id(check), truncated)
    whole, whole_detection = check_result(spec_by_id(check), intact)
    assert detection == whole_detection and result.output == whole.output
    assert "could not be read" not in result.output


def test_research_reports_the_pod_checks_as_unknown_gaps(truncated: CheckContext) -> None:
    result = research_offline("reliability", truncated)
    unknown = f"unknown: the cluster's pods ({_pods_reason(truncated)}) could not be read"
    assert sorted(c for c, why in result.skipped.items() if why == unknown) == [
        "REL-LIVE-CRASHLOOP",
        "REL-LIVE-IMAGE-PULL",
        "REL-LIVE-PENDING-PODS",
        "REL-LIVE-PVC-UNBOUND",  # whether a pod mounts the claim
        "REL-LIVE-RESTARTS",
        "REL-LIVE-ROUTE-NO-BACKEND",  # a Service's pods
        "REL-LIVE-SERVICE-NO-PODS",
    ]
    assert not any(f.check in ("REL-LIVE-CRASHLOOP", "REL-LIVE-RESTARTS") for f in result.findings)


def test_an_intact_snapshot_marks_nothing(intact: CheckContext) -> None:
    assert intact.inventory.live is not None and intact.inventory.live.unread == []
    outcome = run_check(spec_by_id("REL-LIVE-CRASHLOOP"), intact)
    assert outcome.detection.applicable and outcome.detection.count == 1 and outcome.detection.note is None


def test_a_dump_whose_name_does_not_tell_its_type_makes_every_cluster_check_incomplete(
    tmp_path: Path, estate: Path
) -> None:
    snapshot = _copy(tmp_path)
    (snapshot / "kubectl-output.json").write_text('{"kind": "List", "items": [')
    ctx = _context(estate, snapshot)
    live = ctx.inventory.live
    assert live is not None
    [issue] = live.issues
    assert live.unread == [UnreadResource(resource="unknown type", kind=EVERY_KIND, reason=str(issue))]
    lost = f"the cluster's unknown type ({issue}) could not be read"
    _, stale = check_result(spec_by_id("REL-LIVE-CRONJOB-STALE"), ctx)  # 0 over the intact snapshot
    assert (stale.applicable, stale.note) == (False, f"unknown: {lost}")
    _, crashloop = check_result(spec_by_id("REL-LIVE-CRASHLOOP"), ctx)  # 1 found: at least 1
    assert (crashloop.applicable, crashloop.count) == (True, 1)
    assert crashloop.note == f"incomplete, a lower bound: {lost}"


def _u(kind: str) -> UnreadResource:
    return UnreadResource(resource=kind.lower() + "s", kind=kind, reason="forbidden")


def test_which_unread_types_a_check_depended_on() -> None:
    pod, deploy, configmap, every = _u("Pod"), _u("Deployment"), _u("ConfigMap"), _u(EVERY_KIND)
    assert lost_to({"pods"}, [pod, deploy]) == [pod]
    assert lost_to({"workloads"}, [pod, deploy]) == [deploy]  # runtime children are read as pods
    assert lost_to({"objects"}, [pod, deploy, configmap]) == [deploy, configmap]
    assert lost_to({"nodes"}, [every, pod]) == [every]
    assert lost_to({"code", "root", "cluster"}, [every, pod]) == []  # no live record list was read
    assert lost_to(set(), [every]) == []


def test_every_list_a_cluster_fills_is_fed_by_some_kind() -> None:
    """A new LiveState list must be in FIELD_KINDS, or losing its source would go unsaid."""
    code_only = {
        "kustomizations", "escape_hatches", "ignore_changes", "modules", "providers", "backends",
        "variables", "resources", "dependency_bots", "ci_files", "helm_renders", "deployed_paths",
    }  # fmt: skip
    assert set(Records.model_fields) - {"issues"} >= code_only
    live_lists = set(LiveState.model_fields) - {"cluster", "issues", "unread", "objects"} - code_only
    assert set(FIELD_KINDS) == live_lists


def test_the_report_lists_unread_types_once_with_their_reasons_redacted(intact: CheckContext) -> None:
    """A reason is a server's words: a token in it must not reach audit.json."""
    from agents.offline.synthesize import unread

    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    live = intact.inventory.live
    assert live is not None
    leaky = UnreadResource(resource="secrets", kind="Secret", reason=f"forbidden (token={token})")
    inventory = intact.inventory.model_copy(update={"live": live.model_copy(update={"unread": [leaky]})})
    [listed] = unread(inventory).resources
    assert (listed.resource, listed.kind) == ("secrets", "Secret")
    assert token not in listed.reason and listed.reason.startswith("forbidden (token=<redacted:sha256:")


def _cut(snapshot: Path, dump: str) -> Path:
    path = snapshot / dump
    path.write_bytes(path.read_bytes()[:200])
    return snapshot


def test_an_unread_kind_that_covers_makes_an_absence_count_unknown(tmp_path: Path) -> None:
    """REL-NO-PDB counts workloads no PodDisruptionBudget selects: with the budgets unread, an unread
    one may select a counted workload, so its 3 is no lower bound; it is unknown, and a gap."""
    ctx = _context(HOMELAB, _cut(_copy(tmp_path), "policy.v1.poddisruptionbudgets.json"))
    _, detection = check_result(spec_by_id("REL-NO-PDB"), ctx)
    assert (detection.applicable, detection.count) == (False, 3)
    assert detection.note is not None and detection.note.startswith(
        "unknown: the cluster's poddisruptionbudgets"
    )
    assert (
        "an unread poddisruptionbudgets.policy may cover what the check counts (3 counted without them)"
        in (detection.note)
    )
    result = research_offline("reliability", ctx)
    assert "REL-NO-PDB" in result.skipped and not any(f.check == "REL-NO-PDB" for f in result.findings)


def test_an_unread_kind_that_is_counted_keeps_a_lower_bound(tmp_path: Path) -> None:
    """The look-alike: the Deployments unread (what REL-NO-PDB counts, not what covers) leave a count
    that can only grow once they are read: a lower bound, still a finding."""
    ctx = _context(HOMELAB, _cut(_copy(tmp_path), "apps.v1.deployments.json"))
    _, detection = check_result(spec_by_id("REL-NO-PDB"), ctx)
    assert (detection.applicable, detection.count) == (True, 2)
    assert detection.note is not None and detection.note.startswith("incomplete, a lower bound: ")


def test_every_covering_kind_is_one_the_cluster_readers_feed() -> None:
    from tools.checks.spec import load_catalog

    fed = frozenset().union(*FIELD_KINDS.values())
    covering = {spec.id: set(spec.covered_by) - fed for spec in load_catalog() if spec.covered_by}
    assert sorted(covering) == [
        "DEC-LIVE-DRIFT",
        "REL-ALERT-GAPS",
        "REL-NO-PDB",
        "REL-PVC-NO-BACKUP",
        "SCA-NO-HPA",
        "SCA-NO-QUOTA",
        "SEC-NO-IMAGE-VERIFY",
        "SEC-NO-NETPOL",
    ]
    assert not any(covering.values()), covering
