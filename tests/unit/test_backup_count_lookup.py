"""The reader's REL-PVC-NO-BACKUP script asks each claim only the backup jobs that can cover it
(``backup_count.askable``): the count is the one every job asked about every claim gives, for a
mention in the claim's namespace, ``<claim>.<namespace>`` from another, a bare name from another (not
covering), a mount, a suspended job, a name that starts with a separator."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from tools.checks.reproduce import SCRIPTS

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def backup() -> Iterator[ModuleType]:
    sys.path.insert(0, str(SCRIPTS))
    try:
        import backup_count

        yield backup_count
    finally:
        sys.path.remove(str(SCRIPTS))


def _claim(ns: Any, name: str) -> dict[str, Any]:
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": ns}}


def _job(
    ns: Any, name: str, args: list[str], claim: str | None = None, suspend: bool = False
) -> dict[str, Any]:
    pod: dict[str, Any] = {"containers": [{"name": "c", "image": "x", "args": args}]}
    if claim:
        pod["volumes"] = [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]
    spec = {"suspend": suspend, "jobTemplate": {"spec": {"template": {"spec": pod}}}}
    return {"kind": "CronJob", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def _every_job(backup: ModuleType, objs: list[dict[str, Any]]) -> int:
    """The count as the script gave it before: every job asked about every claim."""
    found = backup.jobs(objs, [], [])
    return sum(not any(backup.covers(j, c) for j in found) for c in backup.claims(objs, [], objs))


CASES = {
    "same namespace, whole word": ([_claim("db", "pg-data")], [_job("db", "backup", ["dump pg-data"])], 0),
    "part of a word": ([_claim("db", "pg-data")], [_job("db", "backup", ["dump xpg-data now"])], 1),
    "another namespace, name.namespace": (
        [_claim("db", "pg-data")], [_job("ops", "backup", ["pg-data.db:5432"])], 0),
    "another namespace, bare name": ([_claim("db", "pg-data")], [_job("ops", "backup", ["pg-data"])], 1),
    "a mount": ([_claim("db", "pg-data")], [_job("db", "restic-backup", [], claim="pg-data")], 0),
    "mount, other namespace": ([_claim("db", "pg-data")], [_job("ops", "backup", [], claim="pg-data")], 1),
    "suspended": ([_claim("db", "pg-data")], [_job("db", "backup", ["pg-data"], suspend=True)], 1),
    "a name that starts with a separator": ([_claim("db", "-odd")], [_job("db", "backup", ["-odd"])], 0),
    "no namespace": ([_claim(None, "pg-data")], [_job("db", "backup", ["pg-data.None"])], 0),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_asking_some_jobs_counts_what_asking_every_job_counts(backup: ModuleType, case: str) -> None:
    claims, jobs, expected = CASES[case]
    objs = claims + jobs
    assert backup.pvc_no_backup(objs, [], objs, []) == _every_job(backup, objs) == expected


def test_a_claim_asks_only_the_jobs_that_share_its_words(backup: ModuleType) -> None:
    jobs = [_job(f"ns-{i}", f"backup-{i}", [f"dump app{i}-data"]) for i in range(50)]
    found = backup.jobs(jobs, [], [])
    asked = backup.askable(found)(("ns-7", "app7-data", ()))
    assert [j["name"] for j in asked] == ["backup-7"]


def test_a_live_claim_bound_to_no_volume_is_not_a_claim(backup: ModuleType) -> None:
    """The check's rule, written again: a live claim in phase Pending or Lost holds no data; a code
    claim of the same name is counted whatever the cluster says."""

    def live(name: str, phase: str) -> dict[str, Any]:
        return {**_claim("ns", name), "status": {"phase": phase}}

    code = [_claim("ns", "data")]
    cluster = [
        live("old-redis", "Lost"),
        live("search-index", "Pending"),
        live("cache-blue", "Bound"),
        live("data", "Pending"),
    ]
    assert sorted(name for _, name, _ in backup.claims(code, cluster, [])) == ["cache-blue", "data"]
