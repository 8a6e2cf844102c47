"""A cluster read in part (403 on some resource types): a gap naming what was not read, in the
terminal, in audit.md and audit.json, and no clean 0 from the checks that needed it.

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
from tools.checks.runner import run_check
from tools.checks.spec import spec_by_id
from tools.evidence import Ledger
from tools.inventory.inventory import Records
from tools.inventory.k8s_objects import records_from_object
from tools.inventory.live import EVERY_KIND, FIELD_KINDS, load_live_state
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
    # a positive count that read workloads (which bare pods feed) stands as a lower bound, and says so
    assert probes.applicable and probes.count > 0 and probe_evidence.value == probes.count
    lower_bound = f"incomplete, a lower bound: the cluster's pods ({PODS_FORBIDDEN}) could not be read"
    assert probes.note.endswith(lower_bound)
    assert probe_evidence.output.endswith(probes.note)
    # a check that reads nothing pods feed (policies) is untouched
    assert policies.applicable and policies.count > 0 and policies.note is None
    assert policy_evidence.value == policies.count and "could not be read" not in policy_evidence.output


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
    assert code == 0, stderr
    assert "inventory cluster: not read: pods; the checks that need them are incomplete" in stdout
    gap = (
        f"The cluster's pods could not be read (pods: {PODS_FORBIDDEN}); the checks that read them "
        "report no clean count (unknown, or a lower bound)."
    )
    data = json.loads((out / "audit.json").read_text())
    assert gap in data["gaps"]
    unknown = [g for g in data["gaps"] if "REL-LIVE-CRASHLOOP" in g]
    assert len(unknown) == 1 and "not run: unknown: the cluster's pods" in unknown[0]
    assert not any("REL-LIVE-CRASHLOOP" in f["checks"] for f in data["findings"])
    markdown = (out / "audit.md").read_text()
    assert "The cluster's pods could not be read" in markdown and "REL-LIVE-CRASHLOOP" in markdown


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
        assert kinds <= FIELD_KINDS.get(field, frozenset()), (field, kinds)
    assert EVERY_KIND not in {k for ks in FIELD_KINDS.values() for k in ks}
