"""The numbers challenger recounts through each check's standard-tool command, not our parser.

A command that prints another number than the check corrects the claim (both commands in the
verdict) and is a gap: one of the two is wrong. Before issue 11 the recount re-ran the same check
on a fresh parse, which agreed with itself and confirmed the wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

import agents.offline.recounter as numbers
from domain.evidence import Evidence
from domain.findings import Finding, Verdict
from pipeline.audit import run_audit
from pipeline.settings import RunSettings
from tools.checks.reproduce import ReproSpec
from tools.checks.spec import CheckSpec, spec_by_id

pytestmark = pytest.mark.e2e

TF = """resource "kubernetes_config_map_v1" "a" {
  lifecycle {
    ignore_changes = [metadata[0].annotations]
  }
}

resource "kubernetes_config_map_v1" "b" {
  lifecycle {
    ignore_changes = all
  }
}

resource "kubernetes_config_map_v1" "c" {
  lifecycle {
    create_before_destroy = true
  }
}
"""


@dataclass
class Outcome:
    verdicts: list[Verdict]
    gaps: list[str]
    finding: Finding
    evidence: dict[str, Evidence]


def audit(tmp_path: Path) -> Outcome:
    estate = tmp_path / "estate"
    estate.mkdir(exist_ok=True)
    (estate / "main.tf").write_text(TF, encoding="utf-8")
    settings = RunSettings(estate=estate, estate_label="estate", date="2026-11-20", workdir=tmp_path)
    state = run_audit(settings, run_id="recount")
    report = state.report
    assert report is not None
    finding = next(f for f in report.findings if "DEC-IGNORE-CHANGES" in f.checks)
    verdicts = [v for v in report.verdicts if v.challenger == "numbers" and v.finding in finding.raw_ids]
    return Outcome(verdicts, report.gaps, finding, {e.id: e for e in report.evidence})


def with_command(monkeypatch: pytest.MonkeyPatch, check: str, **specs: ReproSpec) -> None:
    real = spec_by_id(check)
    patched: CheckSpec = real.model_copy(update={"reproduce": specs})
    monkeypatch.setattr(numbers, "spec_by_id", lambda cid: patched if cid == check else spec_by_id(cid))


def test_a_command_that_agrees_confirms_the_number(tmp_path: Path) -> None:
    got = audit(tmp_path)
    assert [v.action for v in got.verdicts] == ["CONFIRMED"]
    assert not [g for g in got.gaps if "DEC-IGNORE-CHANGES" in g]
    recount = got.evidence[got.verdicts[0].evidence[0]]
    assert recount.tool == "reproduce" and recount.value == 2
    assert recount.command.startswith("(cd estate && rg ") and recount.command.endswith("| wc -l")


def test_a_command_that_disagrees_corrects_the_claim_and_is_a_gap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a command that also counts the lifecycle block without ignore_changes: it prints 3, the check 2
    with_command(monkeypatch, "DEC-IGNORE-CHANGES", count=ReproSpec(rg=r"^\s*lifecycle \{", glob=("*.tf",)))
    got = audit(tmp_path)
    assert [v.action for v in got.verdicts] == ["CORRECTED"]
    verdict = got.verdicts[0]
    assert verdict.measured_value == 3
    assert "stated 2 (`infra-audit check estate DEC-IGNORE-CHANGES`)" in verdict.reason
    assert "lifecycle" in verdict.reason and "prints 3" in verdict.reason
    mine = [g for g in got.gaps if g.startswith("DEC-IGNORE-CHANGES")]
    assert len(mine) == 1
    assert "the check counts 2 but its standard-tool command" in mine[0] and "prints 3" in mine[0]
    assert got.finding.status == "corrected"


def test_a_claim_without_a_command_is_listed_not_recomputed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_command(monkeypatch, "DEC-IGNORE-CHANGES")
    got = audit(tmp_path)
    assert [v.action for v in got.verdicts] == ["CONFIRMED"]
    assert "listed by path:line, not recomputed" in got.verdicts[0].reason
    assert got.evidence[got.verdicts[0].evidence[0]].tool == "listed"
    assert not [g for g in got.gaps if "DEC-IGNORE-CHANGES" in g]


def test_a_command_that_fails_is_a_gap_not_a_correction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_command(monkeypatch, "DEC-IGNORE-CHANGES", count=ReproSpec(python="raise SystemExit(1)"))
    got = audit(tmp_path)
    assert [v.action for v in got.verdicts] == ["CONFIRMED"]
    assert [g for g in got.gaps if g.startswith("DEC-IGNORE-CHANGES: the recount command")]


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: web
          image: nginx:latest
"""


def test_files_left_out_as_not_deployed_are_left_out_of_the_recount(tmp_path: Path) -> None:
    """The checks do not count examples/ (scope.py); a recount command that did would "correct" a right
    number into a wrong one (it printed 2 of 1 containers). rg skips those files, and so does a
    reproduce script, told them as arguments (MNT-IMAGE-LATEST's objects_count.py)."""
    estate = tmp_path / "estate"
    for where in ("apps", "examples"):
        (estate / where).mkdir(parents=True)
        (estate / where / "web.yaml").write_text(DEPLOYMENT.format(name=f"web-{where}"), encoding="utf-8")
        (estate / where / "main.tf").write_text(TF, encoding="utf-8")
    settings = RunSettings(estate=estate, estate_label="estate", date="2026-11-20", workdir=tmp_path)
    report = run_audit(settings, run_id="scoped").report
    assert report is not None
    by_check = {c: f for f in report.findings for c in f.checks}
    assert by_check["MNT-IMAGE-LATEST"].title.startswith("1 of 1 containers")
    assert by_check["DEC-IGNORE-CHANGES"].title.startswith("2 ")
    numbers = [v for v in report.verdicts if v.challenger == "numbers"]
    assert [v.reason for v in numbers if v.action != "CONFIRMED"] == []
    assert not [g for g in report.gaps if "standard-tool command" in g]
    evidence = {e.id: e for e in report.evidence}
    raw = by_check["DEC-IGNORE-CHANGES"].raw_ids
    ignore = next(evidence[e] for v in numbers if v.finding in raw for e in v.evidence)
    assert ignore.tool == "reproduce" and ignore.value == 2
    assert "'--glob=!/examples/main.tf'" in ignore.command
    raw = by_check["MNT-IMAGE-LATEST"].raw_ids
    latest = next(evidence[e] for v in numbers if v.finding in raw for e in v.evidence if e.endswith(".r"))
    assert latest.tool == "reproduce" and latest.value == 1
    assert "examples/web.yaml" in latest.command.split()


KUSTOMIZED_WEB = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"""
PDB = """apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: shop}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: web}
"""


def test_a_namespace_kustomize_gives_makes_a_file_command_not_exact(tmp_path: Path) -> None:
    """web has no namespace in its file; its kustomization puts it in shop, where a PDB selects it. The
    check counts only api (1); a command over the files as written sees web without a namespace, no
    PDB for it, and printed 2, which "corrected" a right number. Kustomize's namespaces are in no
    file: the claim is listed, like a Helm render's."""
    estate = tmp_path / "estate"
    (estate / "apps").mkdir(parents=True)
    (estate / "other").mkdir()
    (estate / "apps" / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\n"
        "resources: [web.yaml, pdb.yaml]\n",
        encoding="utf-8",
    )
    (estate / "apps" / "web.yaml").write_text(KUSTOMIZED_WEB, encoding="utf-8")
    (estate / "apps" / "pdb.yaml").write_text(PDB, encoding="utf-8")
    (estate / "other" / "api.yaml").write_text(DEPLOYMENT.format(name="api"), encoding="utf-8")
    settings = RunSettings(estate=estate, estate_label="estate", date="2026-11-20", workdir=tmp_path)
    report = run_audit(settings, run_id="kustomized").report
    assert report is not None
    finding = next(f for f in report.findings if "REL-NO-PDB" in f.checks)
    assert finding.title.startswith("1 of 2 ")
    evidence = {e.id: e for e in report.evidence}
    recounts = [evidence[f"{c.evidence[0]}.r"] for c in finding.claims if c.value is not None]
    assert recounts and all(e.tool == "listed" for e in recounts)
    verdict = next(v for v in report.verdicts if v.challenger == "numbers" and v.finding in finding.raw_ids)
    assert verdict.action == "CONFIRMED"
    assert not [g for g in report.gaps if "REL-NO-PDB" in g]


SECRET = """apiVersion: v1
kind: Secret
metadata: {name: demo, namespace: demo}
stringData:
  password: Trap-Excluded-77aa
"""
RULES = """apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: {name}, namespace: monitoring}}
spec:
  groups:
    - name: g
      rules:
        - alert: {name}
          expr: {expr}
"""


def test_the_text_scripts_read_what_the_checks_read_beside_files_left_out(tmp_path: Path) -> None:
    """A Secret and a rule file under examples/ (not deployed): the rule is no rule of the estate's, the
    Secret is no deployed Secret manifest but its password line is still a committed credential. The
    reader scripts are told the files left out and agree with each check: no correction, no gap."""
    estate = tmp_path / "estate"
    (estate / "examples").mkdir(parents=True)
    (estate / "apps").mkdir()
    (estate / "examples" / "secret.yaml").write_text(SECRET, encoding="utf-8")
    job_rule = RULES.format(name="KubeJobFailed", expr="kube_job_status_failed > 0")
    (estate / "examples" / "rules.yaml").write_text(job_rule, encoding="utf-8")
    cpu_rule = RULES.format(name="NodeCPUHigh", expr="node_cpu_seconds_total > 1")
    (estate / "apps" / "rules.yaml").write_text(cpu_rule, encoding="utf-8")  # no kustomization names it
    (estate / "apps" / "kustomization.yaml").write_text("resources: [ns.yaml]\n", encoding="utf-8")
    (estate / "apps" / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n")
    settings = RunSettings(estate=estate, estate_label="estate", date="2026-11-20", workdir=tmp_path)
    report = run_audit(settings, run_id="text-scoped").report
    assert report is not None
    recounts = {e.args["id"]: e for e in report.evidence if e.tool == "reproduce"}
    secret = recounts["SEC-PLAINTEXT-SECRET"]
    assert (secret.value, secret.measures) == (1, {"locations": 1, "files": 1, "secret_manifests": 0})
    assert secret.command.endswith("secret_count.py estate count examples/rules.yaml examples/secret.yaml")
    assert recounts["MNT-ALERTS-NOT-WIRED"].value == 1
    assert recounts["REL-ALERT-GAPS"].value == 6
    numbers = [v for v in report.verdicts if v.challenger == "numbers"]
    assert [v.reason for v in numbers if v.action != "CONFIRMED"] == []
    assert not [g for g in report.gaps if "standard-tool command" in g or "recount command" in g]
    assert "Trap-Excluded" not in report.model_dump_json()
