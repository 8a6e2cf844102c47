"""The cluster checks' standard-tool commands (catalog ``reproduce:`` jq) print the ground truth of the
k3s-platform snapshot, look-alikes included in what they read and left out of what they count.

Each command runs as the numbers challenger runs it (the ``jq`` library over the snapshot backend,
argv only) and must print exactly the count and every measure the ground truth records; each
look-alike the ground truth says must not count is in the files the command reads (so a filter
that counted it would print one more). A check without a command is named in ``LISTED`` with why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from estates import HOMELAB, HOMELAB_SNAPSHOT, K3S, K3S_SNAPSHOT, ground_truth

from agents.offline.challenge_numbers import cluster_facts
from agents.offline.challenge_numbers import live_refs as numbers_live_refs
from tools.checks.reproduce import Where, snapshot_file
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import CheckContext, spec_by_id
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

LISTED: dict[str, str] = {}
"""Cluster checks of the ground truth without a command, and why (none since the cron schedules)."""
TRUTH = ground_truth("k3s-platform")
CHECKS = [c for c in TRUTH["cluster_checks"] if c["check"] not in LISTED]


@cache
def backend() -> SnapshotBackend:
    return SnapshotBackend(K3S_SNAPSHOT)


def where() -> Where:
    now = datetime.fromisoformat(TRUTH["date"]).replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Where(estate=str(K3S), cluster=str(K3S_SNAPSHOT), now=now, **cluster_facts(backend()))


def read_by(resources: tuple[str, ...]) -> list[dict[str, Any]]:
    """The objects of the snapshot files a command reads."""
    items: list[dict[str, Any]] = []
    for resource in resources:
        path = K3S_SNAPSHOT / snapshot_file(resource)
        if path.is_file():
            items += json.loads(path.read_text(encoding="utf-8"))["items"]
    return items


def named(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return "/".join(p for p in (obj.get("kind"), meta.get("namespace"), meta.get("name")) if p)


@pytest.mark.parametrize("truth", CHECKS, ids=[c["check"] for c in CHECKS])
def test_a_cluster_command_prints_the_ground_truth(truth: dict[str, Any]) -> None:
    spec = spec_by_id(truth["check"])
    expected = {
        "count": float(truth["count"]),
        **{k: float(v) for k, v in (truth.get("measures") or {}).items()},
    }
    assert set(expected) <= set(spec.reproduce), f"{truth['check']}: a number without a command"
    for key, value in expected.items():
        printed = run_spec(spec.reproduce[key], Jail(K3S), where(), backend())
        assert (printed.value, printed.error) == (value, None), f"{truth['check']} {key}"


@pytest.mark.parametrize(
    "truth", [c for c in CHECKS if c.get("must_not")], ids=[c["check"] for c in CHECKS if c.get("must_not")]
)
def test_the_look_alikes_are_read_by_the_command_and_not_counted(truth: dict[str, Any]) -> None:
    spec = spec_by_id(truth["check"]).reproduce["count"]
    seen = [named(o) for o in read_by(spec.resources)]
    for look_alike in truth["must_not"]:
        subject = look_alike["subject"]
        assert any(s == subject or s.startswith(subject) for s in seen), f"{subject} is not read"
    printed = run_spec(spec, Jail(K3S), where(), backend())
    assert printed.value == truth["count"] == len(truth["subjects"])


def test_every_cluster_check_of_the_ground_truth_has_a_command_or_says_why_not() -> None:
    for truth in TRUTH["cluster_checks"]:
        spec = spec_by_id(truth["check"])
        assert bool(spec.reproduce) != (truth["check"] in LISTED), truth["check"]


def run_every_check(estate: Path, snapshot: Path, date: str) -> list[tuple[str, str, float, float | None]]:
    """(check, number, the check's value, its chosen command's value) for every command exact here."""
    from tools.checks.reproduce import KUSTOMIZED, RENDERED, chosen
    from tools.checks.spec import get_detector, load_catalog
    from tools.evidence import Ledger
    from tools.inventory.build import build_inventory
    from tools.inventory.kustomize_scope import kustomize_namespaces
    from tools.registry import Toolbox

    snap = SnapshotBackend(snapshot)
    inventory = build_inventory(estate, cluster=snap)
    now = datetime.fromisoformat(date).replace(tzinfo=UTC)
    at = Where(
        estate=str(estate),
        cluster=str(snapshot),
        now=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **cluster_facts(snap),
    )
    jail = Jail(estate)
    ctx = CheckContext(inventory=inventory, toolbox=Toolbox(jail, snap, Ledger(10**6)), now=now, where=at)
    code = inventory.code
    counts = {
        **code.counts(),
        RENDERED: sum(r.objects for r in code.helm_renders if r.rendered),
        KUSTOMIZED: len(kustomize_namespaces(code)),
    }
    assert inventory.live is not None
    live_refs = numbers_live_refs(inventory.live)
    rows = []
    for spec in load_catalog():
        detection = get_detector(spec.id)(ctx)
        if not detection.applicable:
            continue
        own = {"count": float(detection.count), **detection.measures}
        # as the recount decides it: whether the check counted a live object (its locations)
        live_items = any(str(loc.ref) in live_refs for loc in detection.locations)
        for key, declared in spec.reproduce.items():
            command = chosen(declared, counts, cluster=True, live_items=live_items)
            if command is not None and key in own:
                rows.append((spec.id, key, own[key], run_spec(command, jail, at, snap).value))
    return rows


@pytest.mark.parametrize(
    ("estate", "snapshot", "date"),
    [(K3S, K3S_SNAPSHOT, "2026-11-28"), (HOMELAB, HOMELAB_SNAPSHOT, "2026-11-20")],
    ids=["k3s-platform", "homelab"],
)
def test_every_command_exact_on_a_snapshot_estate_prints_what_its_check_counts(
    estate: Path, snapshot: Path, date: str
) -> None:
    """Cluster, mixed (code + live: the live part joined with the code's workloads through $code) and
    code commands alike: where a command's conditions hold, it prints the check's own number."""
    rows = run_every_check(estate, snapshot, date)
    wrong = [r for r in rows if r[2] != r[3]]
    assert not wrong
    checks = {r[0] for r in rows}
    if estate == K3S:  # the mixed checks the k3s estate's one code workload joins
        mixed = {"REL-PROBE-ANY", "SEC-RUN-AS-ROOT", "DEC-LIVE-UNMANAGED", "SEC-NO-PSS", "SEC-NO-NETPOL"}
        assert mixed | {"SCA-NO-QUOTA", "SEC-POLICY-AUDIT-ONLY", "REL-ROLLING-NO-SURGE"} <= checks
    else:  # Terraform and YAML in the code, live workloads beside them: the reader's script joins them
        joined = {"REL-PROBE-ANY", "REL-PROBE-BOTH", "REL-SINGLE-REPLICA", "REL-NO-PDB", "SCA-NO-HPA"}
        joined |= {"SCA-NO-QUOTA", "SCA-NO-REQUESTS", "SCA-NO-MEM-LIMIT", "SEC-NO-NETPOL", "SEC-NO-PSS"}
        joined |= {"SEC-RUN-AS-ROOT", "DEC-LIVE-UNMANAGED", "DEC-LIVE-DRIFT"}
        assert joined <= checks
        keys = {(r[0], r[1]) for r in rows}
        assert {
            ("SEC-NO-PSS", "missing"),
            ("SEC-NO-PSS", "privileged"),
            ("DEC-LIVE-UNMANAGED", "managed"),
        } <= keys


def _deployment(
    name: str, ns: str, replicas: int, image: str, labels: dict[str, str] | None = None
) -> dict[str, Any]:
    pod = {"containers": [{"name": name, "image": image}]}
    meta = {"name": name, "namespace": ns, "labels": labels or {"app": name}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": {"spec": pod}},
    }


def test_the_mixed_commands_leave_out_the_look_alikes_their_checks_leave_out(tmp_path: Path) -> None:
    """A tiny cluster, and one Deployment in code: each look-alike below is counted by neither the check
    nor its command; the live copy of the code's Deployment is counted once (from code)."""
    estate = tmp_path / "estate"
    (estate / "apps").mkdir(parents=True)
    (estate / "apps" / "web.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n"
        "spec:\n  replicas: 3\n  selector:\n    matchLabels: {app: web}\n  template:\n"
        "    spec:\n      containers:\n      - name: web\n        image: ghcr.io/x/web:1\n",
        encoding="utf-8",
    )
    snap = tmp_path / "cluster"
    snap.mkdir()
    deployments = [
        _deployment("web", "shop", 5, "ghcr.io/x/web:1"),  # the code's: counted from code (3 replicas)
        _deployment("paperless-redis", "docs", 1, "redis:7"),  # SINGLETON: a redis
        _deployment("db", "docs", 1, "docker.io/library/mysql:8"),  # SINGLETON: by its image
        _deployment("redistribute", "docs", 1, "ghcr.io/x/redistribute:1"),  # not a whole word
        _deployment("postgres-exporter", "docs", 1, "quay.io/prometheuscommunity/postgres-exporter:1"),
        _deployment("cache", "docs", 2, "valkey/valkey:8"),  # 2 replicas: not a singleton; NO-PDB, NO-HPA
        _deployment("api", "docs", 2, "ghcr.io/x/api:1"),  # covered by the PDB and the HPA below
        _deployment(
            "worker", "docs", 2, "ghcr.io/x/worker:1"
        ),  # PDB of another namespace, HPA of a StatefulSet
    ]
    pdbs = [
        {"kind": "PodDisruptionBudget", "apiVersion": "policy/v1", "metadata": {"name": p, "namespace": ns},
         "spec": {"selector": {"matchLabels": {"app": app}}}}
        for p, ns, app in (("api", "docs", "api"), ("worker", "other", "worker"))
    ]  # fmt: skip
    hpas = [
        {"kind": "HorizontalPodAutoscaler", "apiVersion": "autoscaling/v2",
         "metadata": {"name": n, "namespace": "docs"}, "spec": {"scaleTargetRef": {"kind": kind, "name": n}}}
        for n, kind in (("api", "Deployment"), ("worker", "StatefulSet"))
    ]  # fmt: skip
    for name, items in (
        ("apps.v1.deployments.json", deployments),
        ("policy.v1.poddisruptionbudgets.json", pdbs),
        ("autoscaling.v2.horizontalpodautoscalers.json", hpas),
    ):
        (snap / name).write_text(json.dumps({"kind": "List", "items": items}), encoding="utf-8")
    (snap / "_snapshot.json").write_text(
        json.dumps({"cluster": "t", "server_version": "v1.33.0"}), encoding="utf-8"
    )
    rows = {(check, key): (own, cmd) for check, key, own, cmd in run_every_check(estate, snap, "2026-11-28")}
    assert rows[("SCA-SINGLETON-INFRA", "count")] == (2.0, 2.0)
    assert rows[("REL-NO-PDB", "count")] == (3.0, 3.0)  # web (code), cache, worker
    assert rows[("SCA-NO-HPA", "count")] == (3.0, 3.0)  # web (code), cache, worker
    assert all(own == cmd for own, cmd in rows.values())


@pytest.mark.parametrize(
    ("rules", "missing"), [([{"name": "verify-images"}], 2), ([{"verifyImages": [{"x": 1}]}], 1)]
)
def test_image_verification_is_a_verify_images_rule_not_a_name(
    tmp_path: Path, rules: list[Any], missing: int
) -> None:
    """A ClusterPolicy named verify-images with no verifyImages rule verifies nothing (k3s-platform's
    look-alike); with one, only scanning is missing. The check and its command agree on both."""
    estate = tmp_path / "estate"
    estate.mkdir()
    (estate / "README.md").write_text("no CI here\n", encoding="utf-8")
    snap = tmp_path / "cluster"
    snap.mkdir()
    policy = {"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "verify-images"},
              "spec": {"rules": rules}}  # fmt: skip
    (snap / "kyverno.io.v1.clusterpolicies.json").write_text(
        json.dumps({"items": [policy]}), encoding="utf-8"
    )
    (snap / "_snapshot.json").write_text(json.dumps({"cluster": "t"}), encoding="utf-8")
    rows = {(check, key): (own, cmd) for check, key, own, cmd in run_every_check(estate, snap, "2026-11-28")}
    assert rows[("SEC-NO-IMAGE-VERIFY", "count")] == (missing, missing)


SCHEDULES = ["*/10 * * * *", "0 3 * * *", "0 4 * * 0", "@monthly", "0 0 1,15 * 1", "15 9-17/2 * * MON-FRI",
             "0 0 29 2 *", "0 12 1 */3 *", "0 0 * * 7", "*/7 */5 * * *", "0 0 31 * *"]  # fmt: skip


def cronjob(name: str, spec: dict[str, Any], last: str) -> dict[str, Any]:
    meta = {"name": name, "namespace": "jobs"}
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta, "spec": spec,
            "status": {"lastSuccessfulTime": last}}  # fmt: skip


def test_a_cronjob_is_stale_by_the_same_cron_interval_in_the_check_and_in_jq(tmp_path: Path) -> None:
    """The jq command computes the schedule's longest gap over the week before the clock (cron fields,
    names, steps, ranges, macros, day-of-month OR day-of-week) as croniter does: for each schedule, a
    CronJob whose last success is a minute past twice that gap is stale, one a minute short is not."""
    from datetime import timedelta

    from tools.checks.detections.reliability_live import schedule_interval

    now = datetime(2026, 11, 28, tzinfo=UTC)
    items = []
    for i, schedule in enumerate(SCHEDULES):
        interval = schedule_interval(schedule, now)
        assert interval is not None
        for label, shift in (("stale", 60), ("fresh", -60)):
            last = (now - 2 * interval - timedelta(seconds=shift)).strftime("%Y-%m-%dT%H:%M:%SZ")
            items.append(cronjob(f"{label}-{i}", {"schedule": schedule}, last))
    items.append(cronjob("off", {"schedule": "0 3 * * *", "suspend": True}, "2020-01-01T00:00:00Z"))
    estate = tmp_path / "estate"
    estate.mkdir()
    snap = tmp_path / "cluster"
    snap.mkdir()
    (snap / "batch.v1.cronjobs.json").write_text(json.dumps({"items": items}), encoding="utf-8")
    (snap / "_snapshot.json").write_text(json.dumps({"cluster": "t"}), encoding="utf-8")
    rows = {(check, key): (own, cmd) for check, key, own, cmd in run_every_check(estate, snap, "2026-11-28")}
    assert rows[("REL-LIVE-CRONJOB-STALE", "count")] == (len(SCHEDULES), len(SCHEDULES))


def test_a_command_over_a_type_the_run_could_not_read_fails_instead_of_counting_none(tmp_path: Path) -> None:
    """A snapshot whose pods did not load: the pods are unread, not absent. A command that reads them
    fails (a recount that did not happen, reported as a gap), it never prints a count over no pods."""
    snap = tmp_path / "cluster"
    snap.mkdir()
    (snap / "core.v1.pods.json").write_text("{not json", encoding="utf-8")
    (snap / "core.v1.namespaces.json").write_text(json.dumps({"items": []}), encoding="utf-8")
    (snap / "_snapshot.json").write_text(json.dumps({"cluster": "t"}), encoding="utf-8")
    broken = SnapshotBackend(snap)
    at = Where(estate=str(tmp_path), cluster=str(snap), now="2026-11-28T00:00:00Z", **cluster_facts(broken))
    for check in ("REL-LIVE-CRASHLOOP", "MNT-LIVE-ABANDONED-NAMESPACE", "REL-LIVE-SERVICE-NO-PODS"):
        printed = run_spec(spec_by_id(check).reproduce["count"], Jail(tmp_path), at, broken)
        assert printed.value is None and printed.error, check
