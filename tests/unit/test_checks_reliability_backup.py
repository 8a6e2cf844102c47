"""Backup coverage (REL-PVC-NO-BACKUP) and restore drills (REL-NO-RESTORE-DRILL) over hand-built estates.

Code backup jobs are real files in a temporary estate, read through the jailed repo tools exactly as
in an audit; live-only jobs and Velero Schedules are read through a fake ``kube_get``.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from inventory_builder import (
    code_ref,
    container,
    context,
    inventory,
    live_ref,
    live_state,
    pvc_volume,
    refs,
    run,
    subjects,
    workload,
)

from domain.results import ToolResult, ToolStatus
from tools.checks.detections import reliability_backup as backup
from tools.checks.detections.backup_coverage import _mentions, _mentions_either
from tools.inventory.inventory import Inventory
from tools.inventory.models import PVC, CronJobState, LiveObject
from tools.registry import spec_from_function

pytestmark = pytest.mark.unit

HCL_JOB = dedent(
    """\
    resource "kubernetes_cron_job_v1" "nightly" {
      metadata {
        name      = "nightly-backup"
        namespace = "db"
      }
      spec {
        schedule = "0 1 * * *"
        job_template {
          spec {
            template {
              spec {
                container {
                  name    = "dump"
                  image   = "postgres:16"
                  # -h frigate would only be a comment, not the command
                  command = [
                    "/bin/sh", "-c",
                    "pg_dump -h db > /b/db.sql",
                  ]
                  args = ["--verbose"]
                  env {
                    name  = "TARGET"
                    value = "media"
                  }
                }
              }
            }
          }
        }
      }
    }
    """
)

YAML_JOBS = dedent(
    """\
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: restic-photos
      namespace: photos
    spec:
      schedule: "0 2 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
                - name: restic
                  image: restic/restic:0.17
                  args:
                    - backup
                    - /data
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: web-snapshot
      namespace: ops
    spec:
      schedule: "0 3 * * *"
      jobTemplate:
        spec:
          template:
            spec:
              containers:
                - name: snap
                  image: alpine:3.20
                  command: ["sh", "-c", "rsync -a web.web.svc:/srv /b && echo cache"]
    """
)


def _pvc(namespace: str, name: str, at: str) -> PVC:
    path, _, line = at.partition(":")
    return PVC(
        name=name,
        namespace=namespace,
        access_modes=["ReadWriteOnce"],
        origin="manifest",
        source=code_ref(path, int(line)),
    )


def _live_pvc(namespace: str, name: str) -> PVC:
    return PVC(
        name=name,
        namespace=namespace,
        access_modes=["ReadWriteOnce"],
        origin="live",
        source=live_ref("PersistentVolumeClaim", namespace, name),
    )


@pytest.fixture
def estate(tmp_path: Path) -> Inventory:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "db.tf").write_text(HCL_JOB)
    (tmp_path / "jobs.yaml").write_text(YAML_JOBS)
    template = PVC(
        name="data",
        namespace="db",
        access_modes=["ReadWriteOnce"],
        origin="terraform",
        source=code_ref("stacks/db.tf", 90),
    )
    code = [
        workload("StatefulSet", "db", "db", replicas=2, volume_claim_templates=[template]),
        workload("Deployment", "db", "frigate", volumes=[pvc_volume("media")]),
        workload("Deployment", "photos", "immich", volumes=[pvc_volume("photos")]),
        workload("Deployment", "web", "web", volumes=[pvc_volume("cache-web")]),
        workload("Deployment", "other", "api", volumes=[pvc_volume("cache")]),
        workload("Deployment", "git", "forgejo", volumes=[pvc_volume("forgejo-data")]),
        workload("Deployment", "registry", "registry", volumes=[pvc_volume("registry-data")]),
        # backup jobs
        workload(
            "CronJob",
            "db",
            "nightly-backup",
            at="stacks/db.tf:1",
            end_line=31,
            containers=[container("dump")],
        ),
        workload("CronJob", "photos", "restic-photos", at="jobs.yaml:1", volumes=[pvc_volume("photos")]),
        workload("CronJob", "ops", "web-snapshot", at="jobs.yaml:19"),
        workload("CronJob", "git", "forgejo-dump", at="missing.yaml:1"),
        # not a backup job, although it mounts the registry's claim
        workload("CronJob", "registry", "registry-gc", volumes=[pvc_volume("registry-data")]),
    ]
    pvcs = [
        _pvc("db", "media", "stacks/db.tf:70"),
        _pvc("photos", "photos", "photos.yaml:1"),
        _pvc("web", "cache-web", "web.yaml:1"),
        _pvc("other", "cache", "other.yaml:1"),
        _pvc("git", "forgejo-data", "git.yaml:1"),
        _pvc("registry", "registry-data", "registry.yaml:1"),
        PVC(name=None, namespace="x", origin="terraform", source=code_ref("x.tf", 3)),
    ]
    live = live_state(
        pvcs=[_live_pvc("db", "data-db-0"), _live_pvc("db", "data-db-2"), _live_pvc("tmp", "scratch")]
    )
    return inventory(tmp_path, live=live, workloads=code, pvcs=pvcs)


def test_pvc_no_backup_coverage_rules(estate: Inventory) -> None:
    d = run(backup.pvc_no_backup, estate)
    # considered: 6 named code claims + data-db-0/1 from the template (2 replicas) + live data-db-2 and
    # scratch (data-db-0 is the code template's claim, counted once)
    assert d.total == 10
    assert subjects(d) == [
        "PersistentVolumeClaim/db/media",  # only the env (not command/args) and a comment mention it
        "PersistentVolumeClaim/other/cache",  # a bare "cache" in another namespace's job is not this one
        "PersistentVolumeClaim/registry/registry-data",  # registry-gc mounts it but is no backup job
        "PersistentVolumeClaim/tmp/scratch",
    ]
    assert d.count == 4
    assert refs(d) == [
        "stacks/db.tf:70",
        "other.yaml:1",
        "registry.yaml:1",
        "lab/tmp/PersistentVolumeClaim/scratch",
    ]
    assert d.locations[0].detail == "PersistentVolumeClaim; used by frigate"
    assert d.locations[3].detail == "live PersistentVolumeClaim"
    assert len(d.evidence) == 4  # one repo_read per backup job in code
    assert d.note == (
        "command/args of CronJob/git/forgejo-dump could not be read; judged by name and mounts; "
        "claims with unresolved names skipped: x.tf:3"
    )


def test_why_each_covered_claim_is_covered(estate: Inventory) -> None:
    ctx = context(estate)
    claims, _ = backup.collect_claims(ctx)
    jobs, _ = backup.collect_backup_jobs(ctx)
    reasons = {c.name: next((r for j in jobs if (r := backup.covers(j, c))), None) for c in claims}
    assert reasons == {
        "media": None,
        "photos": "CronJob/photos/restic-photos mounts it",
        "cache-web": "CronJob/ops/web-snapshot mentions web.web",
        "cache": None,
        "forgejo-data": "CronJob/git/forgejo-dump mentions forgejo",
        "registry-data": None,
        "data-db-0": "CronJob/db/nightly-backup mentions db",
        "data-db-1": "CronJob/db/nightly-backup mentions db",
        "data-db-2": "CronJob/db/nightly-backup mentions db",
        "scratch": None,
    }


def test_command_and_args_are_read_from_each_format(estate: Inventory) -> None:
    jobs, _ = backup.collect_backup_jobs(context(estate))
    texts = {j.name: j.text for j in jobs}
    assert texts["nightly-backup"].split() == [
        "[",
        '"/bin/sh",',
        '"-c",',
        '"pg_dump',
        "-h",
        "db",
        ">",
        '/b/db.sql",',
        "]",
        '["--verbose"]',
    ]
    assert texts["restic-photos"].split() == ["-", "backup", "-", "/data"]  # stops at the next document
    assert "frigate" not in texts["nightly-backup"] and "media" not in texts["nightly-backup"]


FAKE_CLUSTER: dict[tuple[str, str | None, str | None], Any] = {}


def kube_get(
    backend: Any,
    resource: str,
    name: str | None = None,
    namespace: str | None = None,
    fields: list[str] | None = None,
) -> ToolResult:
    """Fake kube_get: rows from FAKE_CLUSTER."""
    args = {"resource": resource, "name": name, "namespace": namespace, "fields": fields}
    rows = FAKE_CLUSTER.get((resource, namespace, name))
    if rows is None:
        return ToolResult.fail("kube.get", args, "kubectl get", f"{resource} {name} not found")
    return ToolResult(
        tool="kube.get", args=args, status=ToolStatus.OK, command="kubectl get", output="...", data=rows
    )


def test_live_only_jobs_and_velero_schedules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        FAKE_CLUSTER,
        ("cronjobs", "tmp", "nightly"),
        [
            {
                "spec.jobTemplate.spec.template.spec.containers[*].command": [
                    ["sh", "-c", "tar c /scratch2"]
                ],
                "spec.jobTemplate.spec.template.spec.containers[*].args": [],
            }
        ],
    )
    monkeypatch.setitem(
        FAKE_CLUSTER,
        ("schedules.velero.io", "velero", "daily"),
        [{"spec.template.includedNamespaces": ["media"], "spec.template.excludedNamespaces": None}],
    )
    live = live_state(
        workloads=[
            workload("CronJob", "tmp", "nightly-rsync", live=True),  # no fake data: read fails
            workload("CronJob", "tmp", "nightly", live=True),  # not a backup name: never read
            workload("CronJob", "tmp", "tmp-snapshot", live=True),
        ],
        pvcs=[_live_pvc("tmp", "scratch2"), _live_pvc("media", "library"), _live_pvc("other", "x")],
        objects=[
            LiveObject(
                api_version="velero.io/v1",
                kind="Schedule",
                namespace="velero",
                name="daily",
                source=live_ref("Schedule", "velero", "daily"),
            )
        ],
    )
    monkeypatch.setitem(
        FAKE_CLUSTER,
        ("cronjobs", "tmp", "tmp-snapshot"),
        [
            {
                "spec.jobTemplate.spec.template.spec.containers[*].command": [
                    ["sh", "-c", "cp /scratch2 /b"]
                ],
                "spec.jobTemplate.spec.template.spec.containers[*].args": [None],
            }
        ],
    )
    inv = inventory(tmp_path, live=live)
    ctx = context(inv, extra=[spec_from_function(kube_get, "kube")])
    d = backup.pvc_no_backup(ctx)
    # scratch2: the tmp-snapshot command names it; library: the Velero Schedule includes "media"
    assert (d.count, d.total) == (1, 3)
    assert subjects(d) == ["PersistentVolumeClaim/other/x"]
    assert len(d.evidence) == 3
    assert d.note == "command/args of CronJob/tmp/nightly-rsync could not be read; judged by name and mounts"


def test_suspended_backup_covers_nothing(tmp_path: Path) -> None:
    code = [
        workload("Deployment", "a", "app", volumes=[pvc_volume("data")]),
        workload("CronJob", "a", "app-backup", suspend=True),
        workload("CronJob", "b", "other", volumes=[pvc_volume("x")]),
    ]
    suspended_live = CronJobState(
        name="x-backup", namespace="b", suspend=True, source=live_ref("CronJob", "b", "x-backup")
    )
    live = live_state(workloads=[workload("CronJob", "b", "x-backup", live=True)], cronjobs=[suspended_live])
    pvcs = [_pvc("a", "data", "a.yaml:1"), _pvc("b", "x", "b.yaml:1")]
    d = run(backup.pvc_no_backup, inventory(tmp_path, live=live, workloads=code, pvcs=pvcs))
    assert (d.count, d.total) == (2, 2)
    assert run(backup.no_restore_drill, inventory(tmp_path, live=live, workloads=code, pvcs=pvcs)).count == 2


def test_restore_drill(tmp_path: Path) -> None:
    jobs = [
        workload("CronJob", "db", "mysql-backup", at="db.tf:10"),
        workload("Job", "db", "pg-dump-once", at="db.tf:40"),
        workload("CronJob", "db", "vacuum", at="db.tf:60"),
    ]
    d = run(backup.no_restore_drill, inventory(tmp_path, workloads=jobs))
    assert (d.count, d.total) == (2, None)
    assert refs(d) == ["db.tf:10", "db.tf:40"]
    assert subjects(d) == ["CronJob/db/mysql-backup", "Job/db/pg-dump-once"]

    drilled = inventory(tmp_path, workloads=[*jobs, workload("CronJob", "db", "mysql-restore-drill")])
    assert run(backup.no_restore_drill, drilled).count == 0
    live_drill = live_state(workloads=[workload("CronJob", "db", "verify-restore", live=True)])
    assert run(backup.no_restore_drill, inventory(tmp_path, live=live_drill, workloads=jobs)).count == 0
    assert run(backup.no_restore_drill, inventory(tmp_path, workloads=jobs[2:])).count == 0


def test_no_backup_check_without_claims(tmp_path: Path) -> None:
    d = run(backup.pvc_no_backup, inventory(tmp_path, workloads=[workload("CronJob", "a", "a-backup")]))
    assert (d.count, d.total, d.evidence) == (0, 0, [])


@pytest.mark.parametrize("name", ["", "pg-backup", "backup-", "db"])
@pytest.mark.parametrize(
    "text", ["", "pg_dump -h db.data > /b", "restic backup /data\nrclone copy", "-data", "x"]
)
@pytest.mark.parametrize("word", ["", "data", "db", "db.data", "backup", "pg", "x", "-", "a\nb"])
def test_a_mention_in_the_name_or_the_text_is_one_in_both_joined(name: str, text: str, word: str) -> None:
    assert _mentions_either(name, text, word) == _mentions(f"{name}\n{text}", word)


def test_a_live_claim_bound_to_no_volume_holds_nothing_to_back_up(tmp_path: Path) -> None:
    """A live claim whose volume is gone (Lost) or not yet made (Pending: waiting for its first
    consumer, or for a provisioner) holds no data: not a claim to back up (k3s-platform's old-redis,
    search-index and cache-green were three of its "5 of 5"). A bound one still is; so is a code claim
    whatever the cluster says of it (the code is what gets applied again)."""
    phases = {"old-redis": "Lost", "search-index": "Pending", "cache-blue": "Bound", "data": "Pending"}
    live = live_state(
        pvcs=[_live_pvc("ns", name).model_copy(update={"phase": phase}) for name, phase in phases.items()]
    )
    d = run(backup.pvc_no_backup, inventory(tmp_path, live=live, pvcs=[_pvc("ns", "data", "a.yaml:1")]))
    assert (d.count, d.total) == (2, 2)
    assert sorted(loc.subject for loc in d.locations) == [
        "PersistentVolumeClaim/ns/cache-blue",
        "PersistentVolumeClaim/ns/data",
    ]
