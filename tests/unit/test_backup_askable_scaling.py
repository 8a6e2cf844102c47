"""REL-PVC-NO-BACKUP asks ``covers`` about a claim only for the backup jobs ``askable`` names, and
those grow with the cluster, not with its square (issue 13). Counted, not timed: the check's clock
and its calls hide it (the rest of the check is linear and larger at these sizes). By the first word
of a claim's name, every copy of a namespace asked the other copies' jobs: 300 -> 4,656 questions at
12 -> 48 copies of the home-lab's cluster (95,266 at 10k pods, 378,885 at 20k)."""

from __future__ import annotations

from pathlib import Path

import pytest
from estates import HOMELAB

from bench.cluster_snapshot import generate
from tools.checks.detections import reliability_backup
from tools.checks.spec import CheckContext
from tools.clock import parse_clock
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail

COPIES = (12, 48)


def _asked(snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int | None]:
    """The ``covers`` questions REL-PVC-NO-BACKUP asks over the cluster, and its claims."""
    backend = SnapshotBackend(snapshot)
    ctx = CheckContext(
        build_inventory(HOMELAB, cluster=backend),
        Toolbox(Jail(HOMELAB), backend, Ledger()),
        now=parse_clock("2026-11-20T09:00:00Z"),
    )
    real = reliability_backup.covers
    questions = 0

    def counting(job: object, claim: object) -> object:
        nonlocal questions
        questions += 1
        return real(job, claim)  # type: ignore[arg-type]

    monkeypatch.setattr(reliability_backup, "covers", counting)
    total = reliability_backup.pvc_no_backup(ctx).total
    monkeypatch.setattr(reliability_backup, "covers", real)
    return questions, total


def test_a_claim_asks_only_the_backup_jobs_that_can_cover_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = []
    for copies in COPIES:
        generate(tmp_path / str(copies), copies)
        asked.append(_asked(tmp_path / str(copies), monkeypatch))
    (small, claims), (big, more) = asked
    factor = COPIES[1] // COPIES[0]
    assert claims and more == factor * claims  # the claims grow as the cluster does
    assert small > 0 and big == factor * small  # as the claims do, exactly (a scan per claim: 16x)
