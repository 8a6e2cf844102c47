"""The inventory's indexes keep the first-match rules of the scans they replaced, and stay current."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from inventory_builder import (
    code_ref,
    container,
    inventory,
    live_ref,
    live_state,
    pod,
    run,
    subjects,
    workload,
)

from tools.checks.detections import common, scalability_live
from tools.checks.detections.backup_coverage import BackupJob, Claim, askable, covers
from tools.checks.detections.declarative import _flux_groups
from tools.checks.detections.declarative_live import _manager, live_unmanaged
from tools.inventory import indexes
from tools.inventory.inventory import Records
from tools.inventory.live_health_models import ScaledToZero
from tools.inventory.models import FluxKustomization, HelmRelease, JobState, LiveObject, Workload

pytestmark = pytest.mark.unit


def obj(
    kind: str, namespace: str | None, name: str, managed_by: str | None = None, owner: str | None = None
) -> LiveObject:
    return LiveObject(
        api_version="apps/v1",
        kind=kind,
        namespace=namespace,
        name=name,
        managed_by=managed_by,
        owner=owner,
        source=live_ref(kind, namespace, name),
    )


def test_live_managers_takes_the_first_object_with_a_mark() -> None:
    live = live_state(
        objects=[
            obj("Deployment", "a", "web"),  # no mark: not the answer
            obj("Deployment", "a", "web", "Helm"),
            obj("Deployment", "a", "web", "argocd"),
            obj("Deployment", "b", "web"),
        ]
    )
    assert indexes.live_managers(live) == {("Deployment", "a", "web"): "Helm"}


def test_live_owners_takes_the_first_object_with_an_owner() -> None:
    live = live_state(
        objects=[
            obj("Deployment", "a", "web"),  # no owner: not the answer
            obj("Deployment", "a", "web", owner="Operator"),
            obj("Deployment", "a", "web", owner="Other"),
            obj("StatefulSet", "a", "web", managed_by="Helm"),  # a mark is not an owner
        ]
    )
    assert indexes.live_owners(live) == {("Deployment", "a", "web"): "Operator"}


def test_an_index_is_built_once_and_rebuilt_when_its_list_changes() -> None:
    live = live_state(objects=[obj("Deployment", "a", "web", "Helm")])
    first = indexes.live_managers(live)
    assert indexes.live_managers(live) is first  # shared by every later call
    live.objects.append(obj("StatefulSet", "a", "db", "flux"))
    assert indexes.live_managers(live)[("StatefulSet", "a", "db")] == "flux"
    live.objects = [obj("DaemonSet", "a", "agent", "Helm")]
    assert indexes.live_managers(live) == {("DaemonSet", "a", "agent"): "Helm"}


def test_defines_matches_kind_and_name_with_the_namespace_or_without_one() -> None:
    code = Records(workloads=[workload("Deployment", None, "web"), workload("StatefulSet", "db", "pg")])
    assert indexes.defines(code, ("Deployment", "any", "web"))
    assert indexes.defines(code, ("StatefulSet", "db", "pg"))
    assert not indexes.defines(code, ("StatefulSet", "other", "pg"))
    assert not indexes.defines(code, ("Deployment", "any", "pg"))


def test_helm_release_rule_only_looks_in_the_workloads_namespace(tmp_path: Path) -> None:
    releases = [
        HelmRelease(defined_by="terraform", name="grafana", namespace="other", source=code_ref("a.tf", 1)),
        HelmRelease(defined_by="terraform", name="graf", namespace="mon", source=code_ref("a.tf", 5)),
        HelmRelease(defined_by="terraform", name="grafana", namespace="mon", source=code_ref("a.tf", 9)),
    ]
    live = live_state()
    inv = inventory(tmp_path, live, helm_releases=releases)
    found = _manager(inv, live, workload("Deployment", "mon", "grafana", live=True))
    assert found == "Helm release grafana in code"  # "graf" does not name it: not graf-*
    assert _manager(inv, live, workload("Deployment", "mon", "graf-agent", live=True)) == (
        "Helm release graf in code"
    )
    assert _manager(inv, live, workload("Deployment", "dev", "grafana", live=True)) is None


def test_unmanaged_counts_the_same_with_many_namespaces(tmp_path: Path) -> None:
    spaces = [f"ns-{i}" for i in range(30)]
    live = live_state(
        workloads=[workload("Deployment", ns, name, live=True) for ns in spaces for name in ("web", "job")],
        objects=[obj("Deployment", ns, "web", "Helm") for ns in spaces],
    )
    inv = inventory(tmp_path, live, workloads=[workload("Deployment", "ns-3", "job")])
    detection = run(live_unmanaged, inv)
    assert detection.total == 60
    assert subjects(detection) == [f"Deployment/{ns}/job" for ns in spaces if ns != "ns-3"]
    assert detection.measures == {"managed": 30}


def flux(name: str, namespace: str | None, *, live: bool) -> FluxKustomization:
    source = live_ref("Kustomization", namespace, name) if live else code_ref(f"{name}.yaml", 1)
    return FluxKustomization(name=name, namespace=namespace, source=source)


def test_flux_groups_join_the_first_group_by_namespace_or_by_name_alone(tmp_path: Path) -> None:
    code = [flux("apps", "flux-system", live=False), flux("infra", None, live=False)]
    live = live_state(
        flux_kustomizations=[
            flux("apps", "flux-system", live=True),  # joins code apps
            flux("apps", "team", live=True),  # no code apps in team: its own group
            flux("apps", "team", live=True),  # joins the live group before it
            flux("infra", "anywhere", live=True),  # code infra has no namespace: joins it
        ]
    )
    groups = _flux_groups(inventory(tmp_path, live, flux_kustomizations=code))
    assert [[(k.name, k.namespace, type(k.source).__name__) for k in g] for g in groups] == [
        [("apps", "flux-system", "CodeRef"), ("apps", "flux-system", "LiveRef")],
        [("infra", None, "CodeRef"), ("infra", "anywhere", "LiveRef")],
        [("apps", "team", "LiveRef"), ("apps", "team", "LiveRef")],
    ]


def test_jobs_by_name_keeps_the_first_job_of_a_name() -> None:
    jobs = [
        JobState(
            name="backup-1", namespace="a", owner_cronjob="backup", source=live_ref("Job", "a", "backup-1")
        ),
        JobState(name="backup-1", namespace="a", source=live_ref("Job", "a", "backup-1")),
    ]
    found = indexes.jobs_by_name(live_state(jobs=jobs))
    assert list(found) == [("a", "backup-1")]
    assert found[("a", "backup-1")].owner_cronjob == "backup"


def test_scaled_to_zero_by_namespace_keeps_their_order() -> None:
    zeros = [
        ScaledToZero(kind=kind, name=name, namespace=ns, source=live_ref(kind, ns, name))
        for kind, ns, name in [("Deployment", "a", "x"), ("StatefulSet", "b", "y"), ("Deployment", "a", "z")]
    ]
    found = indexes.scaled_to_zero_by_namespace(live_state(scaled_to_zero=zeros))
    assert {ns: [z.name for z in group] for ns, group in found.items()} == {"a": ["x", "z"], "b": ["y"]}


def test_askable_jobs_decide_every_claim_as_asking_every_job_does() -> None:
    """Seeded claims and jobs of every kind: the few jobs ``askable`` names cover a claim exactly when
    some job does. The words share prefixes and separators (``db`` / ``db-1`` / ``db.ns1``)."""
    rng = random.Random(13)
    words = ["db", "db-1", "mysql", "mysqldump", "data", "data-db-0", "web", "-odd", "a.b"]
    words += [f"svc{i}" for i in range(40)]
    spaces = [None, "ns1", "ns2"]
    jobs = []
    for n in range(30):
        mentioned = " ".join([rng.choice(words), f"{rng.choice(words)}.{rng.choice(['ns1', 'ns2'])}"])
        velero = (
            (frozenset({"ns1", "ns9"}), frozenset(rng.sample(["ns1"], rng.randint(0, 1))))
            if n % 9 == 0
            else None
        )
        jobs.append(
            BackupJob(
                kind="CronJob",
                namespace=rng.choice(spaces),
                name=f"{rng.choice(words)}-backup" if n % 3 == 0 else f"backup-{n}",
                ref=f"job-{n}",
                mounts=frozenset(rng.sample(words, rng.randint(0, 1))),
                text=mentioned,
                suspended=n % 5 == 0,
                velero_namespaces=velero,
            )
        )
    claims = [
        Claim(ns, name, "ref", tuple(rng.sample(words, rng.randint(0, 2))), "code")
        for ns in spaces
        for name in words
    ]
    ask = askable(jobs)
    decided = [any(covers(j, c) for j in ask(c)) for c in claims]
    assert decided == [any(covers(j, c) for j in jobs) for c in claims]
    assert 0 < sum(decided) < len(claims)  # both answers occur
    assert len(ask(claims[0])) < len(jobs)  # and it does not ask every job


def test_workload_spans_are_by_path_and_skip_live_workloads() -> None:
    code = Records(
        workloads=[
            workload("Deployment", "a", "web", at="apps/web.yaml:3", end_line=40),
            workload("StatefulSet", "a", "pg", at="apps/web.yaml:42"),
            workload("Deployment", "a", "db", live=True),
        ]
    )
    assert indexes.workload_spans(code) == {"apps/web.yaml": [(3, 40), (42, None)]}


def test_audited_workloads_are_worked_out_once_per_inventory_and_kinds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nearly every check asks ``common.workloads`` (at 10k pods, 7k live workloads each time): the
    code workloads, then the live ones no code workload has the key of, runtime children left out."""
    live = live_state(
        workloads=[
            workload("Deployment", "a", "web", live=True),  # defined in code: counted from code
            workload("Deployment", "b", "api", live=True),
            workload("Pod", "c", "bare", live=True),  # runtime: never a workload here
            workload("ReplicaSet", "c", "rs", live=True),
            workload("Job", "c", "once", live=True),
            workload("StatefulSet", "b", "db", live=True),
        ]
    )
    inv = inventory(
        tmp_path, live, workloads=[workload("Deployment", "a", "web"), workload("CronJob", "a", "bk")]
    )
    keys = 0
    real_key = Workload.key

    def counted(self: Workload) -> tuple[str, str | None, str | None]:
        nonlocal keys
        keys += 1
        return real_key.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(Workload, "key", property(counted))
    every = [
        ("Deployment", "a", "web"),
        ("CronJob", "a", "bk"),
        ("Deployment", "b", "api"),
        ("StatefulSet", "b", "db"),
    ]
    for _ in range(20):
        assert [(w.kind, w.namespace, w.name) for w in common.workloads(inv)] == every
        assert [w.name for w in common.workloads(inv, ["StatefulSet", "Deployment"])] == ["web", "api", "db"]
        assert common.workloads(inv, ()) == []
    assert keys <= len(inv.code.workloads) + len(live.workloads)  # once each, not once per asking
    common.workloads(inv).clear()  # each caller gets its own list
    assert len(common.workloads(inv)) == 4
    live.workloads.append(workload("DaemonSet", "d", "agent", live=True))  # a changed list: worked out again
    assert [w.name for w in common.workloads(inv, ["DaemonSet"])] == ["agent"]
    assert [
        w.name for w in common.workloads(inventory(tmp_path, None, workloads=[workload("Job", "a", "j")]))
    ] == ["j"]


class _Reads:
    """A live state as a watched check sees it: every attribute forwarded, its name noted."""

    def __init__(self, target: object) -> None:
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "read", set())

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._target, name)


@pytest.mark.parametrize("through_a_job", [True, False])
def test_node_requests_are_worked_out_once_and_read_the_same_lists(
    monkeypatch: pytest.MonkeyPatch, through_a_job: bool
) -> None:
    """The report's topology and SCA-LIVE-NODE-PRESSURE both ask what each node reserves (0.1 s each at
    10k pods): worked out once, and a check asking again reads what working it out read (the Jobs only
    when a pod's spec was looked for through its Job), so a cluster that lost a list marks the same checks."""
    web = workload("Deployment", "a", "web", live=True, containers=[container(cpu="250m", memory="64Mi")])
    nightly = workload("CronJob", "a", "nightly", live=True, containers=[container(cpu="1", memory="1Gi")])
    pods = [pod("a", "web-1", owner=("Deployment", "web")), pod("a", "web-2", owner=("Deployment", "web"))]
    if through_a_job:
        pods.append(pod("a", "nightly-1-x", owner=("Job", "nightly-1"), node="node-2"))
    job_ref = live_ref("Job", "a", "nightly-1")
    jobs = [JobState(name="nightly-1", namespace="a", owner_cronjob="nightly", source=job_ref)]
    live = live_state(workloads=[web, nightly], pods=pods, jobs=jobs)
    asked: list[str] = []
    real = scalability_live.pod_requests

    def counted(spec: Workload) -> scalability_live.PodRequests:
        asked.append(str(spec.name))
        return real(spec)

    monkeypatch.setattr(scalability_live, "pod_requests", counted)
    expected = {"node-1": scalability_live.PodRequests(500, 2 * 64 * 2**20)}
    if through_a_job:
        expected["node-2"] = scalability_live.PodRequests(1000, 2**30)
    cold = _Reads(live)
    requested, unknown = scalability_live.node_requests(cold)  # type: ignore[arg-type]
    assert (requested, unknown) == (expected, {})
    warm = _Reads(live)
    requested, _ = scalability_live.node_requests(warm)  # type: ignore[arg-type]
    assert requested == expected
    assert len(asked) == len(pods)  # once per pod, not once per asking
    assert warm.read == cold.read and ("jobs" in cold.read) is through_a_job
    requested.clear()  # each caller gets its own
    assert scalability_live.node_requests(live)[0] == expected
