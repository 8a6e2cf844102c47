"""A cluster read in part (403 on some resource types): the types not read are named in the terminal,
in audit.md and audit.json, the run exits 1, and no check that needed them gives a clean 0.

The emulator serves the mini snapshot with RBAC refusing pods; the control is the same run with
nothing refused, where the same checks answer.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kube_emulator import KubeEmulator

from pipeline.cli import main
from pipeline.context import RunContext
from pipeline.settings import RunSettings
from tools.checks.detections import common
from tools.checks.runner import run_check
from tools.checks.spec import spec_by_id
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.inventory import Records
from tools.inventory.k8s_objects import records_from_object
from tools.inventory.live import EVERY_KIND, FIELD_KINDS, RUNTIME_CHILDREN, load_live_state
from tools.inventory.models import LiveRef, UnreadResource
from tools.kube.live import LiveBackend
from tools.kube.snapshot import SnapshotBackend
from tools.kube.snapshot_writer import write_snapshot

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "fixtures" / "snapshot-mini"
HOMELAB = REPO / "examples" / "homelab" / "cluster"
ESTATE = "examples/gitops-base"
PODS_FORBIDDEN = (
    'pods is forbidden: User "system:serviceaccount:monitoring:infra-audit" cannot list resource "pods" '
    'in API group "" at the cluster scope'
)
STATEFULSETS_FORBIDDEN = (
    'statefulsets is forbidden: User "system:serviceaccount:monitoring:infra-audit" cannot list resource '
    '"statefulsets" in API group "apps" at the cluster scope'
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[KubeEmulator]:
    emu = KubeEmulator(MINI)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def pods_forbidden(emulator: KubeEmulator) -> Iterator[KubeEmulator]:
    emulator.forbidden.add(("", "pods"))
    yield emulator
    emulator.forbidden.clear()


def check(emulator: KubeEmulator, config: Path, check_id: str) -> tuple[Any, Any]:
    """Run one check on the gitops estate with the emulated cluster: (detection, evidence)."""
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(config))
    settings = RunSettings(estate=REPO / ESTATE, estate_label=ESTATE, cluster="live")
    ctx = RunContext(settings=settings, ledger=Ledger(settings.output_cap), backend=backend)
    outcome = run_check(spec_by_id(check_id), ctx.check_context(), agent="test")
    backend.close()
    return outcome.detection, ctx.ledger.get(outcome.evidence)


def test_the_unread_type_is_recorded(pods_forbidden: KubeEmulator, tmp_path: Path) -> None:
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(pods_forbidden.kubeconfig(tmp_path / "k")))
    state = load_live_state(backend)
    assert state.unread == [UnreadResource(resource="pods", kind="Pod", reason=PODS_FORBIDDEN)]
    assert state.pods == [] and len(state.nodes) == 2  # the rest was read


def test_a_check_that_needs_the_unread_type_is_unknown_not_zero(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    config = emulator.kubeconfig(tmp_path / "k")
    clean, clean_evidence = check(emulator, config, "REL-LIVE-CRASHLOOP")
    assert clean.applicable and clean.count > 0 and clean_evidence.value == clean.count  # the control
    emulator.forbidden.add(("", "pods"))
    try:
        crash, evidence = check(emulator, config, "REL-LIVE-CRASHLOOP")
        probes, probe_evidence = check(emulator, config, "REL-PROBE-ANY")
        policies, policy_evidence = check(emulator, config, "SEC-POLICY-AUDIT-ONLY")
    finally:
        emulator.forbidden.clear()
    assert (crash.applicable, crash.count, evidence.value) == (False, 0, None)
    assert crash.note == f"unknown: the cluster's pods ({PODS_FORBIDDEN}) could not be read"
    # checks that read nothing pods feed are untouched: policies, and workloads (a bare pod lands there
    # too, but checks take workloads through common.workloads, which drops it)
    assert policies.applicable and policies.count > 0 and policies.note is None
    assert policy_evidence.value == policies.count and "could not be read" not in policy_evidence.output
    # (its only note is the estate's own: gitops-base's upstream Helm charts are not in the cache)
    assert probes.applicable and probes.count > 0 and probes.note == EXCLUDED
    assert "could not be read" not in probe_evidence.output


EXCLUDED = "its population excludes the workloads of 7 Helm releases not rendered (see the gaps)"


def test_a_positive_count_over_an_unread_type_is_a_lower_bound(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    config = emulator.kubeconfig(tmp_path / "k")
    emulator.forbidden.add(("apps", "statefulsets"))
    try:
        probes, evidence = check(emulator, config, "REL-PROBE-ANY")
    finally:
        emulator.forbidden.clear()
    assert probes.applicable and probes.count > 0 and evidence.value == probes.count
    refused = STATEFULSETS_FORBIDDEN
    assert probes.note == (
        f"incomplete, a lower bound: the cluster's statefulsets.apps ({refused}) could not be read; "
        + EXCLUDED
    )
    assert evidence.output.endswith(probes.note)


def cli(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("COLUMNS", "200")
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return code, stdout.getvalue(), stderr.getvalue()


def test_the_audit_names_the_gap_in_the_terminal_and_both_reports(
    pods_forbidden: KubeEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = pods_forbidden.kubeconfig(tmp_path / "k")
    out = tmp_path / "out"
    live = ["--cluster", "live", "--kubeconfig", str(config)]
    run = ["--offline", "--out", str(out), "--state-dir", str(tmp_path / "state"), "--run-id", "partial"]
    code, stdout, stderr = cli(["run", ESTATE, *live, *run], monkeypatch)
    assert code == 4, stderr  # a type not read: not a clean audit (as from a snapshot)
    lost = f"pods ({PODS_FORBIDDEN})"
    named = [line for line in stdout.splitlines() if "pods" in line and "forbidden" in line]
    assert named == [
        f"The cluster was read incompletely: {lost}; the checks that read it are unknown or a lower bound"
    ]  # once
    data = json.loads((out / "audit.json").read_text())
    assert data["unread"]["resources"] == [{"resource": "pods", "kind": "Pod", "reason": PODS_FORBIDDEN}]
    assert data["unread"]["cluster"] == []  # no file was skipped
    # the type is listed once; the gaps name the checks that needed it
    assert [g.split(": unknown")[0] for g in data["gaps"] if PODS_FORBIDDEN in g] == [
        "R1 reliability: REL-LIVE-CRASHLOOP, REL-LIVE-IMAGE-PULL, REL-LIVE-PENDING-PODS, "
        "REL-LIVE-PVC-UNBOUND, REL-LIVE-RESTARTS, REL-LIVE-ROUTE-NO-BACKEND, REL-LIVE-SERVICE-NO-PODS "
        "not run",
        "R3 maintenance: MNT-LIVE-ABANDONED-NAMESPACE not run",
        "R4 scalability: SCA-LIVE-NODE-PRESSURE not run",
    ]
    unknown = [g for g in data["gaps"] if "REL-LIVE-CRASHLOOP" in g]
    assert len(unknown) == 1 and "not run: unknown: the cluster's pods" in unknown[0]
    assert not any("REL-LIVE-CRASHLOOP" in f["checks"] for f in data["findings"])
    markdown = (out / "audit.md").read_text()
    warning = f"**Warning**: The cluster was read incompletely, these resource types were not read: {lost}."
    assert [line for line in markdown.splitlines() if line.startswith("**Warning**")] == [
        warning + " The checks that read them say so in the gaps (unknown), or count a lower bound."
    ]
    # the estate's one file note (longhorn's kustomization does not build) is all "Files not read" has
    assert [(i["path"], i["reason"]) for i in data["unread"]["estate"]] == [
        ("infrastructure/base/longhorn/kustomization.yaml", "note")
    ]
    not_read = markdown.split("## Files not read", 1)[1].split("\n## ", 1)[0]
    assert "longhorn/kustomization.yaml" in not_read and "pods" not in not_read


def test_a_snapshot_keeps_what_it_could_not_read(pods_forbidden: KubeEmulator, tmp_path: Path) -> None:
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(pods_forbidden.kubeconfig(tmp_path / "k")))
    summary = write_snapshot(backend, tmp_path / "snap", captured_at="2025-06-01T12:00:00Z")
    assert summary.unread == {"pods": PODS_FORBIDDEN}
    assert "skipped pods (" in str(summary)
    meta = json.loads((tmp_path / "snap" / "_snapshot.json").read_text())
    assert meta["unread"] == {"pods": PODS_FORBIDDEN}
    state = load_live_state(SnapshotBackend(tmp_path / "snap"))
    assert [(u.resource, u.kind) for u in state.unread] == [("pods", "Pod")]
    assert PODS_FORBIDDEN in state.unread[0].reason


def test_a_complete_snapshot_has_no_unread_entry(emulator: KubeEmulator, tmp_path: Path) -> None:
    backend = LiveBackend.from_kubeconfig(kubeconfig=str(emulator.kubeconfig(tmp_path / "k")))
    write_snapshot(backend, tmp_path / "snap", captured_at="2025-06-01T12:00:00Z")
    assert "unread" not in json.loads((tmp_path / "snap" / "_snapshot.json").read_text())
    assert load_live_state(SnapshotBackend(tmp_path / "snap")).unread == []


@pytest.mark.parametrize("snapshot", [MINI, HOMELAB], ids=["mini", "homelab"])
def test_field_kinds_name_every_kind_that_feeds_a_record_list(snapshot: Path) -> None:
    """FIELD_KINDS must list, for each record list, every kind the mapper fills it from."""
    backend = SnapshotBackend(snapshot)
    seen: dict[str, set[str]] = {}
    for rtype in backend.api_resources():
        for obj in backend.list_objects(rtype):
            ref = LiveRef(cluster="c", namespace=None, object_kind=rtype.kind, name="x")
            records = records_from_object(obj, ref, origin="live")
            for field in Records.model_fields:
                if field != "issues" and getattr(records, field):
                    seen.setdefault(field, set()).add(rtype.kind)
    assert seen  # not vacuous
    for field, kinds in seen.items():
        # runtime children land in workloads too, but checks read workloads through common.workloads,
        # which drops them (asserted below), and read them as pods and jobs
        needed = kinds - RUNTIME_CHILDREN if field == "workloads" else kinds
        assert needed <= FIELD_KINDS.get(field, frozenset()), (field, kinds)
    assert EVERY_KIND not in {k for ks in FIELD_KINDS.values() for k in ks}
    inventory = build_inventory(REPO / "examples" / "gitops-base", cluster=backend)
    assert inventory.live is not None and {w.kind for w in inventory.live.workloads} & RUNTIME_CHILDREN
    assert not {w.kind for w in common.workloads(inventory) if w.origin == "live"} & RUNTIME_CHILDREN
