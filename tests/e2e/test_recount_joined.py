"""The recount of counts made of code AND live objects: the reader's script joins them as the checks do.

An estate with a Terraform workload and a cluster snapshot: before, every check counting both sides
was "listed, not recomputed" (the jq joins only knew YAML workloads); now ``joined_count.py --live``
reads the snapshot's files (the sandboxed recount: the listed objects on stdin, ``--live -``) and
prints each check's own number. A location is live only when its ref is a live record's (a code path
that starts with the cluster's name is not), and the recount reads the code's counts and the
cluster's facts once per run, not once per check.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import agents.offline.recounter as numbers
import agents.offline.render_facts as render_facts
from domain.report import AuditReport
from pipeline.audit import run_audit
from pipeline.settings import RunSettings
from tools.checks.reproduce import Where
from tools.inventory.inventory import LiveState
from tools.inventory.models import ClusterInfo, LiveRef, Workload

pytestmark = pytest.mark.e2e

TF = """resource "kubernetes_namespace_v1" "shop" {
  metadata {
    name = "shop"
    labels = {
      "pod-security.kubernetes.io/enforce" = "restricted"
    }
  }
}

resource "kubernetes_deployment_v1" "web" {
  metadata {
    name      = "web"
    namespace = kubernetes_namespace_v1.shop.metadata[0].name
    labels    = { app = "web" }
  }
  spec {
    replicas = 3
    selector {
      match_labels = { app = "web" }
    }
    template {
      metadata {
        labels = { app = "web" }
      }
      spec {
        container {
          name  = "web"
          image = "nginx:1.27"
        }
      }
    }
  }
}

resource "kubernetes_persistent_volume_claim_v1" "data" {
  metadata {
    name      = "shop-data"
    namespace = "shop"
  }
  spec {
    access_modes = ["ReadWriteOnce"]
  }
}

resource "helm_release" "cache" {
  name      = "cache"
  namespace = "data"
  chart     = "redis"
  version   = "1.0.0"
}
"""


def _deployment(name: str, ns: str, replicas: int, **meta: Any) -> dict[str, Any]:
    container = {"name": name, "image": f"{name}:1.0"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, **meta},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
        },
    }


def _backup(name: str, ns: str, claim: str, suspend: bool) -> dict[str, Any]:
    """A live CronJob (managed by a tool, so not unmanaged) that mounts ``claim``."""
    container = {"name": "b", "image": "restic:1", "command": ["restic", "backup", "/data"]}
    volume = {"name": "d", "persistentVolumeClaim": {"claimName": claim}}
    job = {"template": {"spec": {"containers": [container], "volumes": [volume]}}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/managed-by": "tool"}},
        "spec": {"schedule": "@daily", "suspend": suspend, "jobTemplate": {"spec": job}},
    }


def _claim(name: str, ns: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": ns}}


def _namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


LIVE = {
    "apps.v1.deployments.json": [
        _deployment("web", "shop", 5),  # the code's web, scaled by hand: drift, counted once (code)
        _deployment("stray", "shop", 2),  # live only, nothing manages it
        _deployment("cache-redis", "data", 1),  # live only, named like the code's Helm release
        _deployment("op", "shop", 1, ownerReferences=[{"kind": "Operator", "name": "x"}]),
    ],
    "core.v1.namespaces.json": [
        _namespace("shop"),  # the code writes shop (restricted): the code's counts
        _namespace("data"),
        _namespace("kube-system"),
        _namespace("old", **{"pod-security.kubernetes.io/enforce": "privileged"}),
    ],
    "batch.v1.cronjobs.json": [
        _backup("logs-backup", "shop", "logs", suspend=False),  # covers logs
        _backup("cache-dump", "data", "cache-data", suspend=True),  # suspended: covers nothing
    ],
    "core.v1.persistentvolumeclaims.json": [_claim("logs", "shop"), _claim("cache-data", "data")],
    "kyverno.io.v1.clusterpolicies.json": [
        {
            "apiVersion": "kyverno.io/v1",
            "kind": "ClusterPolicy",
            "metadata": {"name": "verify"},
            "spec": {"rules": [{"name": "sig", "verifyImages": [{"imageReferences": ["*"]}]}]},
        }
    ],
    "core.v1.pods.json": [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": {}}
    ],
}
EXPECTED = {
    ("REL-PROBE-ANY", "count"): 4,  # web (code), stray, cache-redis, op: none has probes
    ("REL-NO-PDB", "count"): 2,  # web (3 replicas in code), stray (2)
    ("SEC-NO-PSS", "count"): 2,  # data (no label), old (privileged); shop is restricted in code
    ("SEC-NO-PSS", "missing"): 1,
    ("SEC-NO-PSS", "privileged"): 1,
    ("DEC-LIVE-DRIFT", "count"): 1,  # web: 3 in code, 5 live
    ("DEC-LIVE-UNMANAGED", "count"): 1,  # stray
    ("DEC-LIVE-UNMANAGED", "managed"): 4,  # cache-redis (the Helm release's), op (owned), the CronJobs
    ("REL-PVC-NO-BACKUP", "count"): 2,  # shop-data (code, no job), cache-data (its job is suspended)
    ("SEC-NO-NETPOL", "count"): 2,  # shop and data (the code's Helm release)
    ("SEC-NO-IMAGE-VERIFY", "count"): 1,  # scanning: the live policy verifies signatures
}


def estate(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "estate"
    (root / "stacks" / "shop").mkdir(parents=True)
    (root / "stacks" / "shop" / "main.tf").write_text(TF, encoding="utf-8")
    snap = tmp_path / "snap"
    snap.mkdir()
    marker = {"captured_at": "2026-11-20T09:00:00Z", "cluster": "lab", "format": "infra-audit-snapshot/1"}
    (snap / "_snapshot.json").write_text(json.dumps({**marker, "server_version": "v1.31.0"}))
    for name, items in LIVE.items():
        (snap / name).write_text(json.dumps({"apiVersion": "v1", "items": items}), encoding="utf-8")
    return root, snap


def audit(tmp_path: Path) -> AuditReport:
    root, snap = estate(tmp_path)
    settings = RunSettings(
        estate=root, estate_label="estate", cluster=str(snap), date="2026-11-20", workdir=tmp_path
    )
    report = run_audit(settings, run_id="joined").report
    assert report is not None
    return report


def recounts(report: AuditReport) -> dict[tuple[str, str], tuple[float | None, float | None, str]]:
    """(check, key) -> (the check's number, the recount's, the recount's command)."""
    index = {ev.id: ev for ev in report.evidence}
    out = {}
    for ev in report.evidence:
        if ev.tool != "check":
            continue
        again = index.get(numbers.recount_id(ev.id))
        if again is None or again.tool != numbers.INDEPENDENT:
            continue
        for key, command in again.args["commands"].items():
            own = ev.value if key == "count" else ev.measures.get(key)
            printed = again.value if key == "count" else again.measures.get(key)
            out[(str(ev.args["id"]), key)] = (own, printed, command)
    return out


def test_code_and_live_counts_are_recounted_by_the_joined_script(tmp_path: Path) -> None:
    report = audit(tmp_path)
    found = recounts(report)
    for key, expected in EXPECTED.items():
        assert key in found, f"{key} listed, not recomputed"
        own, printed, command = found[key]
        assert (own, printed) == (expected, expected), (key, own, printed)
        assert "joined_count.py" in command and " --live " in command, command
    assert not [g for g in report.gaps if "one of the two is wrong" in g]


def test_every_joined_command_prints_its_number_in_a_shell(tmp_path: Path) -> None:
    """The command as the appendix prints it: the snapshot's files as --live arguments."""
    report = audit(tmp_path)
    joined = [(k, p, c) for k, (_, p, c) in recounts(report).items() if "joined_count.py" in c]
    assert len(joined) >= len(EXPECTED)
    scripts = Path(__file__).resolve().parents[2] / "tools" / "checks" / "reproduce_scripts"
    for key, printed, command in joined:
        assert "--live " + str(tmp_path / "snap") + "/" in command
        assert command.startswith("python3 tools/checks/reproduce_scripts/joined_count.py ")
        pasted = command.replace("python3 tools/checks/reproduce_scripts/", f"{sys.executable} {scripts}/", 1)
        done = subprocess.run(
            ["bash", "-c", pasted], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, (key, command)
        assert printed is not None and done.stdout.strip() == f"{printed:g}", (key, command)


def test_the_kubectl_form_pipes_the_cluster_into_the_script(tmp_path: Path) -> None:
    report = audit(tmp_path)
    index = {ev.id: ev for ev in report.evidence}
    drift = next(
        e for e in index.values() if e.tool == numbers.INDEPENDENT and e.args["id"] == "DEC-LIVE-DRIFT"
    )
    kubectl = drift.args["kubectl"]["count"]
    assert kubectl.startswith("kubectl get deployments.apps,cronjobs.batch -A -o json | python3 ")
    assert kubectl.endswith("joined_count.py estate DEC-LIVE-DRIFT --live -")


def test_a_code_path_named_like_the_cluster_is_not_a_live_location() -> None:
    """The cluster is named ``stacks``: ``stacks/app/main.tf:5`` is code, not a live record."""
    source = LiveRef(cluster="stacks", namespace="shop", object_kind="Deployment", name="web")
    live = LiveState(
        cluster=ClusterInfo(name="stacks", backend="snapshot"),
        workloads=[Workload(kind="Deployment", name="web", namespace="shop", origin="live", source=source)],
    )
    recounter = numbers.Recounter.__new__(numbers.Recounter)
    recounter._live_refs = None
    recounter._check_ctx = SimpleNamespace(inventory=SimpleNamespace(live=live))  # type: ignore[assignment]

    def counted(*refs: str) -> bool:
        data = {"locations": [{"ref": r} for r in refs]}
        recounter.ctx = SimpleNamespace(ledger=SimpleNamespace(data=lambda eid: data))  # type: ignore[assignment]
        return recounter.counted_live(SimpleNamespace(id="E-1"))  # type: ignore[arg-type]

    assert counted("stacks/app/main.tf:5") is False
    assert counted("stacks/shop/Deployment/web-2") is False
    assert counted("stacks/app/main.tf:5", "stacks/shop/Deployment/web") is True


def test_the_code_counts_and_cluster_facts_are_read_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"kustomize": 0, "facts": 0}
    real_kustomize, real_facts = render_facts.kustomize_namespaces, numbers.cluster_facts

    def kustomize(code: Any) -> Any:
        calls["kustomize"] += 1
        return real_kustomize(code)

    def facts(backend: Any) -> Any:
        calls["facts"] += 1
        return real_facts(backend)

    monkeypatch.setattr(render_facts, "kustomize_namespaces", kustomize)
    monkeypatch.setattr(numbers, "cluster_facts", facts)
    report = audit(tmp_path)
    assert len(recounts(report)) >= len(EXPECTED)
    assert calls == {"kustomize": 1, "facts": 1}


@pytest.mark.parametrize("check", ["SEC-NO-NETPOL", "SCA-NO-QUOTA"])
def test_namespace_counts_of_code_take_the_terraform_helm_releases(check: str) -> None:
    """Without a cluster the home-lab's check counts 14 namespaces: its workloads' and those its
    Terraform ``helm_release`` and Argo CD chart sources deploy to (cert-manager, kyverno, argocd,
    tools). The script counted the workloads' and Flux HelmReleases' only: 10, a systematic gap."""
    from estates import HOMELAB

    from tools.checks.reproduce import chosen
    from tools.checks.reproduce_run import run_spec
    from tools.checks.spec import CheckContext, get_detector, spec_by_id
    from tools.evidence import Ledger
    from tools.inventory.build import build_inventory
    from tools.registry import Toolbox
    from tools.sandbox import Jail

    inventory = build_inventory(HOMELAB)
    ctx = CheckContext(inventory=inventory, toolbox=Toolbox(Jail(HOMELAB), None, Ledger()))
    own = get_detector(check)(ctx).count
    spec = chosen(spec_by_id(check).reproduce["count"], inventory.code.counts(), cluster=False)
    assert spec is not None and spec.script == "joined_count.py" and not spec.resources
    printed = run_spec(spec, Jail(HOMELAB), Where(estate=str(HOMELAB), snapshot_dirs=("cluster",)), None)
    assert (own, printed.value) == (14, 14)


def test_a_broken_live_file_is_one_line_naming_the_file_not_its_text(tmp_path: Path) -> None:
    scripts = Path(__file__).resolve().parents[2] / "tools" / "checks" / "reproduce_scripts"
    broken = tmp_path / "apps.v1.deployments.json"
    broken.write_text('{"items": [{"password": "hunter2"', encoding="utf-8")
    argv = [sys.executable, str(scripts / "joined_count.py"), str(tmp_path), "REL-NO-PDB"]
    done = subprocess.run(
        [*argv, "--live", str(broken)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"joined_count.py: cannot read {broken}: JSONDecodeError\n"
