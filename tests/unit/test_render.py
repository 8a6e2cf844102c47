"""The report renderers on a hand-built audit: exact Markdown rows, SARIF, JSON round trip, atomic writes.

The fixture has what a real run can produce and the renderers must not fumble: three concerns (one
failed), a dropped, a corrected and a reframed verdict, a finding merged across two concerns, a
recount (``.r``) evidence, a measure claim, a live ref, pipes in a title and a command, usage rows.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jinja2 import StrictUndefined, UndefinedError
from snapshot import assert_snapshot

from domain.concerns import Concern
from domain.errors import UserError
from domain.evidence import Evidence
from domain.findings import Claim, ConcernResult, Finding, Location, NextMove, RawFinding, Theme, Verdict
from domain.identity import code_file
from domain.report import AgentUsage, AuditReport, ConcernSummary, Correction, RunMeta, Unread
from domain.results import ToolStatus
from domain.unread import ParseIssue, UnreadResource
from pipeline.render import RunOutputs, json_out, write_reports
from pipeline.render.json_out import load_report, render_json
from pipeline.render.markdown import environment, render_markdown
from pipeline.render.sarif import render_sarif
from pipeline.render.text import cell, code, num

pytestmark = pytest.mark.unit

DANGER = "Default-deny breaks cross-namespace traffic silently; roll out one namespace at a time."
NETPOL_CMD = "kubectl get netpol -A -o json | jq '.items | length'"


def _ev(
    eid: str,
    tool: str,
    command: str,
    value: float | None,
    output: str = "",
    truncated: bool = False,
    status: str = "ok",
    measures: dict[str, float] | None = None,
) -> Evidence:
    return Evidence(
        id=eid,
        tool=tool,
        args={"id": eid},
        command=command,
        status=ToolStatus(status),
        output=output,
        truncated=truncated,
        sha256=(eid.encode().hex() * 8)[:64],
        value=value,
        measures=measures or {},
    )


def _raw(
    rid: str,
    concern: Concern,
    title: str,
    value: float,
    evidence: str,
    check: str | None = None,
    refs: tuple[str, ...] = (),
) -> RawFinding:
    return RawFinding(
        id=rid,
        concern=concern,
        check=check,
        title=title,
        summary=f"Why {rid} matters.",
        recommendation=f"Fix {rid}.",
        impact=4,
        effort=2,
        risk=2,
        fatigue=False,
        claims=[Claim(text=title, value=value, evidence=[evidence])],
        locations=[Location(ref=r, subject=f"Deployment/{i}") for i, r in enumerate(refs)],
    )


def make_report() -> AuditReport:
    evidence = [
        _ev(
            "E-aaa",
            "check",
            "infra-audit check . REL-NO-PROBES",
            4,
            output="REL-NO-PROBES: 4 of 9\nlong_running = 3\napps/a.yaml:3  Deployment/media/a",
            measures={"long_running": 3},
        ),
        _ev("E-bbb", "check", "infra-audit check . REL-NO-PDB", 3, output="REL-NO-PDB: 3 of 5"),
        _ev("E-bbb.r", "check", "infra-audit check . REL-NO-PDB", 2, output="REL-NO-PDB: 2 of 5"),
        _ev("E-ccc", "kube.get", NETPOL_CMD, 5, output="5", truncated=True),
        _ev("E-ddd", "repo.read", "sed -n 1,40p docs/replicas.md", None, status="no_data"),
    ]
    reliability = ConcernResult(
        concern="reliability",
        status="ok",
        checks_run=4,
        skipped={"REL-HPA": "no cluster"},
        evidence=evidence[:3],
        findings=[
            _raw(
                "R1#1",
                "reliability",
                "4 workloads have no liveness or readiness probe",
                4,
                "E-aaa",
                "REL-NO-PROBES",
                ("apps/a.yaml:3",),
            ),
            _raw("R1#2", "reliability", "2 single-replica Deployments", 2, "E-aaa", "REL-SINGLE-REPLICA"),
            _raw(
                "R1#3",
                "reliability",
                "3 multi-replica workloads have no PodDisruptionBudget",
                3,
                "E-bbb",
                "REL-NO-PDB",
                ("apps/web.yaml:12",),
            ),
        ],
    )
    security = ConcernResult(
        concern="security",
        status="ok",
        checks_run=2,
        evidence=[evidence[3]],
        findings=[
            _raw("R5#1", "security", "No NetworkPolicy | default-deny in 5 namespaces", 5, "E-ccc"),
            _raw(
                "R5#2", "security", "Probe-less pods hide compromised containers", 4, "E-aaa", "REL-NO-PROBES"
            ),
        ],
    )
    scalability = ConcernResult(
        concern="scalability", status="failed", error="model call failed: 529 overloaded"
    )
    findings = [
        Finding(
            id="F01",
            raw_ids=["R1#3"],
            checks=["REL-NO-PDB"],
            title="2 multi-replica workloads have no PodDisruptionBudget",
            summary="A node drain can take every replica down at once.",
            recommendation="Add a PodDisruptionBudget with maxUnavailable: 1.",
            concerns=["reliability"],
            status="corrected",
            impact=4,
            effort=2,
            risk=2,
            fatigue=False,
            rank_a=64,
            rank_b=16,
            refs=["apps/api.yaml:30", "apps/web.yaml:12"],
            claims=[
                Claim(
                    text="2 multi-replica workloads have no PodDisruptionBudget",
                    value=2,
                    evidence=["E-bbb", "E-bbb.r"],
                )
            ],
            theme=None,
        ),
        Finding(
            id="F02",
            raw_ids=["R1#1", "R5#2"],
            checks=["REL-NO-PROBES"],
            title="4 workloads have no liveness or readiness probe",
            summary="Without probes a hung pod keeps its traffic\nand nothing restarts it.",
            recommendation="Add readiness and liveness probes, long-running workloads first.",
            concerns=["reliability", "security"],
            status="confirmed",
            impact=4,
            effort=3,
            risk=2,
            fatigue=True,
            rank_a=48,
            rank_b=36,
            refs=[
                "apps/a.yaml:3",
                "apps/b.yaml:7",
                "apps/c.yaml:9",
                "apps/d.yaml:11",
                "homelab/media/Deployment/jellyfin",
            ],
            claims=[
                Claim(text="4 workloads have no liveness or readiness probe", value=4, evidence=["E-aaa"]),
                Claim(text="long running: 3", value=3, evidence=["E-aaa"], measure="long_running"),
                Claim(text="Probe-less pods hide compromised containers", evidence=["E-aaa"]),
            ],
            theme="uneven-reliability",
        ),
        Finding(
            id="F03",
            raw_ids=["R5#1"],
            title="No NetworkPolicy | default-deny in 5 namespaces",
            summary="Isolation is advisory only. Any pod can reach any other.",
            recommendation="Default-deny per namespace, then allow-list.",
            concerns=["security"],
            status="reframed",
            impact=4,
            effort=5,
            risk=4,
            fatigue=False,
            rank_a=8,
            rank_b=4,
            refs=["homelab/media/Namespace/media"],
            claims=[Claim(text="5 namespaces have no NetworkPolicy", value=5, evidence=["E-ccc"])],
            dangerous=DANGER,
        ),
    ]
    return AuditReport(
        meta=RunMeta(
            run_id="run-0001",
            date="2026-04-20",
            estate="examples/homelab",
            cluster="examples/homelab/cluster",
            cluster_name="homelab",
            scope="42 files, 9 workloads in code",
            mode="llm",
            model="claude-test-1",
            tool_version="0.1.0",
            usage=[
                AgentUsage(
                    agent="research:security",
                    input_tokens=12000,
                    output_tokens=800,
                    cost_usd=0.05,
                    tool_calls=7,
                ),
                AgentUsage(
                    agent="research:reliability",
                    input_tokens=15000,
                    output_tokens=1200,
                    cache_read_tokens=9000,
                    cache_write_tokens=3000,
                    cost_usd=0.0625,
                    tool_calls=11,
                ),
            ],
            concerns_failed={"scalability": "model call failed: 529 overloaded"},
        ),
        inventory={"workloads": 9, "files_scanned": 42},
        concerns={"reliability": reliability, "security": security, "scalability": scalability},
        verdicts=[
            Verdict(
                finding="R1#2",
                challenger="intent",
                action="DROPPED",
                reason="docs/replicas.md:4 says single replicas are deliberate.",
                evidence=["E-ddd"],
                documented_at="docs/replicas.md:4",
            ),
            Verdict(
                finding="R1#3",
                challenger="numbers",
                action="CORRECTED",
                reason="Recount: 3 stated, 2 re-run.",
                evidence=["E-bbb.r"],
                measured_value=2,
            ),
            Verdict(
                finding="R5#1",
                challenger="intent",
                action="REFRAMED",
                reason="Nothing enforces isolation.",
                framing="Isolation is advisory only.",
            ),
        ],
        corrections=[
            Correction(
                finding="R1#2",
                stated="2 single-replica Deployments",
                actual="docs/replicas.md:4 says single replicas are deliberate.",
                action="DROPPED",
                challenger="intent",
            ),
            Correction(
                finding="R1#3",
                stated="3 multi-replica workloads have no PodDisruptionBudget",
                actual="Actual: 2. Recount: 3 stated, 2 re-run.",
                action="CORRECTED",
                challenger="numbers",
            ),
            Correction(
                finding="R5#1",
                stated="No NetworkPolicy | default-deny in 5 namespaces",
                actual="Isolation is advisory only. (Nothing enforces isolation.)",
                action="REFRAMED",
                challenger="intent",
            ),
        ],
        findings=findings,
        themes=[
            Theme(
                title="Probes and isolation are uneven",
                summary="Health and isolation are opt-in.",
                concerns=["reliability", "security"],
                findings=["F02", "F03"],
            )
        ],
        summaries=[
            ConcernSummary(concern="reliability", status="ok", raw=3, real=2, dropped=["R1#2"]),
            ConcernSummary(concern="scalability", status="failed", raw=0, real=0),
            ConcernSummary(concern="security", status="ok", raw=2, real=2),
        ],
        leaders_a=["F01", "F02", "F03"],
        leaders_b=["F02", "F01", "F03"],
        leaders_both=["F01", "F02"],
        gaps=["R4 scalability research failed (model call failed: 529 overloaded); not audited."],
        framings=[],
        next_moves=[
            NextMove(when="Month 3+", finding="F03", text="Default-deny, namespace by namespace."),
            NextMove(when="Week 1", finding="F01", text="Add the two PodDisruptionBudgets."),
            NextMove(when="Week 1", finding="F02", text="Probe sweep | long-running first."),
        ],
        evidence=sorted(evidence, key=lambda e: e.id),
    )


@pytest.fixture(scope="module")
def report() -> AuditReport:
    return make_report()


@pytest.fixture(scope="module")
def md(report: AuditReport) -> str:
    return render_markdown(report)


def _section(md: str, heading: str) -> str:
    start = md.index(f"\n{heading}\n")
    end = md.find("\n## ", start + 1)
    return md[start : end if end != -1 else len(md)]


# --------------------------------------------------------------------------------- markdown


def test_sections_in_the_order_of_the_reference_audit(md: str) -> None:
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert headings == [
        "# Infra Audit — 2026-04-20",
        "## Context",
        "## Corrections up-front (challenger round)",
        "## Executive summary — themes",
        "## Scoring method",
        "## Ranked backlog",
        "## Per-concern deep dives",
        "### R1 — Reliability (3 raw → 2 real after challenge)",
        "### R4 — Scalability (failed)",
        "### R5 — Security (2 raw → 2 real after challenge)",
        "## Dangerous to execute",
        "## Gaps the agents missed",
        "## Alternative framings",
        "## Recommended next moves",
        "## Appendix — verification references",
    ]


def test_header_lines(md: str) -> None:
    lines = md.splitlines()
    assert "**Status**: LLM: claude-test-1" in lines
    assert (
        "**Scope**: 42 files, 9 workloads in code · estate `examples/homelab` · cluster `homelab` "
        "(from `examples/homelab/cluster`)"
    ) in lines
    assert "**Run**: `run-0001` · infra-audit 0.1.0" in lines
    assert (
        "**Method**: 3 research concerns (R1 Reliability, R4 Scalability, R5 Security) → 5 raw findings"
        " → 2 challengers (numbers, intent) → 3 findings in the backlog"
    ) in lines
    assert (
        "**Warning**: R4 Scalability research failed (model call failed: 529 overloaded); "
        "its findings are missing from this audit."
    ) in lines
    assert "The estate as parsed into the inventory: files scanned: 42, workloads: 9." in lines


def test_failed_concerns_are_listed_in_r1_to_r5_order(report: AuditReport) -> None:
    meta = report.meta.model_copy(update={"concerns_failed": {"security": "boom", "declarative": "bang"}})
    text = render_markdown(report.model_copy(update={"meta": meta}))
    warnings = [line for line in text.splitlines() if line.startswith("**Warning**")]
    assert warnings == [
        "**Warning**: R2 Declarative research failed (bang); its findings are missing from this audit.",
        "**Warning**: R5 Security research failed (boom); its findings are missing from this audit.",
    ]
    notes = _sarif(report.model_copy(update={"meta": meta}))["runs"][0]["invocations"][0]
    assert [n["message"]["text"] for n in notes["toolExecutionNotifications"]] == [
        "R2 Declarative research failed: bang",
        "R5 Security research failed: boom",
    ]


def test_usage_table_sorted_by_agent_with_totals(md: str) -> None:
    lines = md.splitlines()
    start = lines.index(
        "| Agent | Input tokens | Output tokens | Cache read | Cache write | Cost (USD) | Tool calls |"
    )
    assert lines[start + 2 : start + 5] == [
        "| research:reliability | 15,000 | 1,200 | 9,000 | 3,000 | $0.0625 | 11 |",
        "| research:security | 12,000 | 800 | 0 | 0 | $0.0500 | 7 |",
        "| **Total** | **27,000** | **2,000** | **9,000** | **3,000** | **$0.1125** | **18** |",
    ]


def test_offline_status_and_no_usage_table(report: AuditReport) -> None:
    offline = report.model_copy(
        update={"meta": report.meta.model_copy(update={"mode": "offline", "usage": []})}
    )
    text = render_markdown(offline)
    assert "**Status**: offline (deterministic checks, no model)\n" in text
    assert "| Agent |" not in text


def test_corrections_table_rows(md: str) -> None:
    section = _section(md, "## Corrections up-front (challenger round)")
    assert "| Finding as stated | Actual state | Action |\n|---|---|---|\n" in section
    assert (
        "| R1#3: 3 multi-replica workloads have no PodDisruptionBudget"
        " | Actual: 2. Recount: 3 stated, 2 re-run. | **CORRECTED** — numbers challenger |"
    ) in section
    assert (
        "| R5#1: No NetworkPolicy \\| default-deny in 5 namespaces | Isolation is advisory only. "
        "(Nothing enforces isolation.) | **REFRAMED** — intent challenger |"
    ) in section
    assert "| **DROPPED** — intent challenger |" in section


def test_themes_list(md: str) -> None:
    assert (
        "1. **Probes and isolation are uneven** — Health and isolation are opt-in. Findings: "
        "F02 (4 workloads have no liveness or readiness probe), "
        "F03 (No NetworkPolicy | default-deny in 5 namespaces). *Hits R1 + R5.*"
    ) in md


def test_scoring_formulas_as_the_reference_words_them(md: str) -> None:
    section = _section(md, "## Scoring method")
    assert "`score = Impact × (6 - Effort) × (6 - Risk)` — each dimension 1-5." in section
    assert (
        "`score = Impact × (6 - Effort) × FatigueWeight` where `FatigueWeight = 3` if the finding introduces "
        "*daily/weekly manual toil* and `1` otherwise."
    ) in section


def test_backlog_rows_ranks_refs_and_markers(md: str) -> None:
    section = _section(md, "## Ranked backlog")
    assert (
        "| ID | Title | Concerns | Severity | Impact | Effort | Risk | Rank A | Rank B | Refs |\n"
        "|---|---|---|---|---:|---:|---:|---:|---:|---|\n"
    ) in section
    rows = [line for line in section.splitlines() if line.startswith("| F")]
    assert rows == [
        "| F01 | 2 multi-replica workloads have no PodDisruptionBudget *(corrected)* | R1 | high | 4 | 2 | 2"
        " | **64** | **16** | `apps/api.yaml:30`, `apps/web.yaml:12` |",
        "| F02 | 4 workloads have no liveness or readiness probe | R1+R5 | high | 4 | 3 | 2 | **48** | **36**"
        " | `apps/a.yaml:3`, `apps/b.yaml:7`, `apps/c.yaml:9` +2 more |",
        "| F03 | No NetworkPolicy \\| default-deny in 5 namespaces *(reframed)* | R5 | high | 4 | **5**"
        " | **4** | **8** | **4** | `homelab/media/Namespace/media` |",
    ]
    assert "**Rank A leaders (top 8)**: F01, F02, F03" in section
    assert "**Rank B leaders (top 8)**: F02, F01, F03" in section
    assert (
        "F01 (2 multi-replica workloads have no PodDisruptionBudget), F02 (4 workloads have no liveness or "
        "readiness probe) lead in **both** rankings → the clear do-first candidates."
    ) in section


def test_deep_dives(md: str) -> None:
    section = _section(md, "## Per-concern deep dives")
    assert (
        "Filtered: dropped R1#2; corrected R1#3 (see the corrections up front). "
        "4 checks run, 1 skipped for lack of input (see the gaps)."
    ) in section
    assert (
        "- **F02 — 4 workloads have no liveness or readiness probe** — Without probes a hung pod keeps its "
        "traffic and nothing restarts it.\n"
        "  - Claim: 4 workloads have no liveness or readiness probe — **4** (evidence `E-aaa`)\n"
        "  - Claim: long running: 3 — **3** (evidence `E-aaa`)\n"
        "  - Claim: Probe-less pods hide compromised containers (evidence `E-aaa`)\n"
        "  - Recommendation: Add readiness and liveness probes, long-running workloads first.\n"
        "  - Refs (5): `apps/a.yaml:3`, `apps/b.yaml:7`, `apps/c.yaml:9`, `apps/d.yaml:11`, "
        "`homelab/media/Deployment/jellyfin`\n"
        "  - Source: R1#1 + R5#2 (merged: one problem, several research findings) · check `REL-NO-PROBES`.\n"
    ) in section
    assert (
        "Research for this concern failed: model call failed: 529 overloaded. Its findings are missing"
    ) in section
    assert "Filtered: reframed R5#1 (see the corrections up front). 2 checks run." in section
    assert (
        "Also hits R5, owned by another concern: F02 (4 workloads have no liveness or readiness probe)."
    ) in section


def test_deep_dive_refs_are_capped() -> None:
    report = make_report()
    many = [f"apps/x{i:02d}.yaml:1" for i in range(20)]
    report.findings[0] = report.findings[0].model_copy(update={"refs": many})
    text = render_markdown(report)
    assert "`apps/x14.yaml:1` +5 more\n" in text
    assert "`apps/x15.yaml:1`" not in text


def test_dangerous_gaps_framings_next_moves(md: str) -> None:
    assert (
        "## Dangerous to execute\n\nEach of these needs a gradual rollout plan, not a single commit.\n\n"
        "1. **F03 — No NetworkPolicy | default-deny in 5 namespaces**. Default-deny breaks cross-namespace "
        "traffic silently; roll out one namespace at a time.\n"
    ) in md
    assert (
        "## Gaps the agents missed\n\n- R4 scalability research failed (model call failed: 529 overloaded); "
        "not audited.\n"
    ) in md
    assert "## Alternative framings\n\nNone.\n" in md
    section = _section(md, "## Recommended next moves")
    assert (
        "**Week 1**:\n\n- F01: Add the two PodDisruptionBudgets.\n"
        "- F02: Probe sweep | long-running first.\n\n"
        "**Month 3+**:\n\n- F03: Default-deny, namespace by namespace.\n"
    ) in section
    assert "**Week 2**" not in section


def test_appendix_rows_command_result_and_recount(md: str) -> None:
    section = _section(md, "## Appendix — verification references")
    rows = [line for line in section.splitlines() if line.startswith("| F")]
    assert rows == [
        "| F01: 2 multi-replica workloads have no PodDisruptionBudget | `infra-audit check . REL-NO-PDB` "
        "| 3 (`E-bbb`); re-run: 2 |",
        "| F02: 4 workloads have no liveness or readiness probe | `infra-audit check . REL-NO-PROBES`"
        " | 4 (`E-aaa`) |",
        "| F02: long running: 3 | `infra-audit check . REL-NO-PROBES` | 3 (`E-aaa`, long_running) |",
        "| F03: 5 namespaces have no NetworkPolicy"
        " | `kubectl get netpol -A -o json \\| jq '.items \\| length'` | 5 (`E-ccc`) |",
    ]
    ledger = [line for line in section.splitlines() if line.startswith("- `E-")]
    assert [line.split("`")[1] for line in ledger] == ["E-aaa", "E-bbb", "E-bbb.r", "E-ccc", "E-ddd"]
    assert ledger[3] == (f"- `E-ccc` — kube.get: `{NETPOL_CMD}` · sha256 `452d63636345` (truncated)")
    assert ledger[4].endswith(" · no_data")


def _appendix_rows(report: AuditReport) -> list[str]:
    section = _section(render_markdown(report), "## Appendix — verification references")
    return [line for line in section.splitlines() if line.startswith("| F")]


def test_appendix_uses_the_evidence_that_measures_the_claim(report: AuditReport) -> None:
    # Support evidence cited first (as an intent correction can leave it) must not become the result:
    # not a read without a number, and not the intent challenger's docs search with its match count.
    search = _ev("E-000", "repo.search", "rg -c deliberate .", 17).model_copy(
        update={"agent": "challenge:intent"}
    )
    f01 = report.findings[0]
    reproduced = f01.claims[0].model_copy(update={"evidence": ["E-000", "E-ddd", "E-bbb", "E-bbb.r"]})
    after_intent = reproduced.model_copy(update={"value": 1})
    findings = [f01.model_copy(update={"claims": [reproduced, after_intent]}), *report.findings[1:]]
    rows = _appendix_rows(
        report.model_copy(update={"findings": findings, "evidence": [search, *report.evidence]})
    )
    claim = "| F01: 2 multi-replica workloads have no PodDisruptionBudget | `infra-audit check . REL-NO-PDB`"
    assert rows[:2] == [
        f"{claim} | 3 (`E-bbb`); re-run: 2 |",
        f"{claim} | 3 (`E-bbb`); re-run: 2; the claim's 1 is after the challenge (see the corrections up "
        "front) |",
    ]


def test_appendix_flags_a_number_no_evidence_reproduces(report: AuditReport) -> None:
    f01, f02 = report.findings[0], report.findings[1]
    intent = f01.claims[0].model_copy(update={"value": 1, "evidence": ["E-bbb"]})
    wrong = f02.claims[0].model_copy(update={"value": 9})
    findings = [
        f01.model_copy(update={"claims": [intent]}),
        f02.model_copy(update={"claims": [wrong]}),
        report.findings[2],
    ]
    rows = _appendix_rows(report.model_copy(update={"findings": findings}))
    assert rows[0].endswith(
        "| 3 (`E-bbb`); re-run: 2; the claim's 1 is after the challenge (see the corrections up front) |"
    )
    assert rows[1].endswith("| 4 (`E-aaa`); **does not reproduce the claim's 9** |")


def test_missing_evidence_is_flagged_not_hidden(report: AuditReport) -> None:
    text = render_markdown(report.model_copy(update={"evidence": report.evidence[:1]}))
    assert (
        "| F03: 5 namespaces have no NetworkPolicy | evidence `E-ccc` is not in the ledger"
        " | **not reproducible** |" in text
    )


def test_table_cells_never_leak_a_pipe(md: str) -> None:
    for line in md.splitlines():
        if line.startswith("| "):
            cells = re.split(r"(?<!\\)\|", line)
            header_width = {"Finding as stated": 3, "ID": 9, "Claim": 3, "Agent": 7, "Backlog": 10}
            assert len(cells) - 2 in header_width.values(), line


def test_empty_sections(report: AuditReport) -> None:
    empty = report.model_copy(
        update={"corrections": [], "themes": [], "gaps": [], "next_moves": [], "leaders_both": []}
    )
    text = render_markdown(empty)
    assert (
        "## Corrections up-front (challenger round)\n\nNo finding was dropped, corrected or reframed.\n"
        in text
    )
    assert "## Gaps the agents missed\n\nNone.\n" in text
    assert "No next moves planned." in text
    assert "No finding leads both rankings" in text


def test_byte_deterministic_and_clean(report: AuditReport, md: str) -> None:
    assert render_markdown(report) == md
    shuffled = report.model_copy(
        update={
            "evidence": list(reversed(report.evidence)),
            "meta": report.meta.model_copy(update={"usage": list(reversed(report.meta.usage))}),
        }
    )
    assert render_markdown(shuffled) == md
    assert md.endswith("\n") and not md.endswith("\n\n")
    assert all(line == line.rstrip() for line in md.splitlines())
    assert "\n\n\n" not in md


def test_snapshot(md: str) -> None:
    assert_snapshot("render_fixture_audit.md", md)


# ------------------------------------------------------------------------------------ sarif


def _sarif(report: AuditReport) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render_sarif(report))
    return data


def _check_sarif_shape(log: dict[str, Any]) -> None:
    """The required properties of SARIF 2.1.0 (OASIS spec, section 3) for what we emit."""
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] and isinstance(driver["name"], str)
    ids = [r["id"] for r in driver["rules"]]
    assert len(ids) == len(set(ids))
    for rule in driver["rules"]:
        assert set(rule) >= {"id", "shortDescription", "help"}
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"none", "note", "warning", "error"}
    for inv in run.get("invocations", []):
        assert isinstance(inv["executionSuccessful"], bool)
        for note in inv.get("toolExecutionNotifications", []):
            assert note["message"]["text"]
    bases = run.get("originalUriBaseIds", {})
    for base in bases.values():
        assert "uri" not in base or (base["uri"].endswith("/") and "://" in base["uri"])
    for res in run["results"]:
        assert res["message"]["text"]
        assert res["level"] in {"none", "note", "warning", "error"}
        assert ids[res["ruleIndex"]] == res["ruleId"]
        for loc in res.get("locations", []):
            assert "physicalLocation" in loc or "logicalLocations" in loc
            if "physicalLocation" in loc:
                phys = loc["physicalLocation"]
                art = phys["artifactLocation"]
                assert "://" not in art["uri"] and not art["uri"].startswith("/")
                assert art["uriBaseId"] in bases
                assert isinstance(phys["region"]["startLine"], int) and phys["region"]["startLine"] >= 1
            for logical in loc.get("logicalLocations", []):
                assert logical["fullyQualifiedName"] or logical["name"]


def test_sarif_structure(report: AuditReport) -> None:
    log = _sarif(report)
    _check_sarif_shape(log)
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "infra-audit"
    assert run["tool"]["driver"]["version"] == "0.1.0"
    rules = run["tool"]["driver"]["rules"]
    # F03 only points at a live object with no code record: no rule, no result; listed instead
    assert [r["id"] for r in rules] == ["REL-NO-PDB", "REL-NO-PROBES"]
    assert run["properties"]["not_in_sarif"] == {
        "F02": ["homelab/media/Deployment/jellyfin"],
        "F03": ["homelab/media/Namespace/media"],
    }
    probes = rules[1]
    assert probes["name"] == "RelNoProbes"
    # not in this catalog: the finding's title without its numbers, never "F02: 4 workloads ..."
    assert probes["shortDescription"]["text"] == "Workloads have no liveness or readiness probe"
    assert probes["help"]["text"] == "Add readiness and liveness probes, long-running workloads first."
    assert probes["help"]["markdown"].startswith("**Workloads have no liveness or readiness probe**\n\n")
    assert probes["helpUri"].endswith("/docs/checks.md#rel-no-probes")
    assert probes["properties"] == {
        "tags": ["security", "R1 Reliability", "R5 Security"],
        "precision": "high",
        "problem.severity": "error",
        "concerns": ["reliability", "security"],
        "security-severity": "8.0",
    }
    assert (
        "security-severity" not in rules[0]["properties"] and "security" not in rules[0]["properties"]["tags"]
    )
    assert run["originalUriBaseIds"]["SRCROOT"] == {
        "description": {"text": "The root of the repository of the audited estate: examples/homelab"}
    }
    assert run["automationDetails"] == {"id": f"infra-audit/estate/{report.meta.run_id}"}
    assert run["invocations"][0]["executionSuccessful"] is False


def test_sarif_results_locations_and_levels(report: AuditReport) -> None:
    results = _sarif(report)["runs"][0]["results"]
    assert [(r["ruleId"], r["properties"]["finding"]) for r in results] == (
        [("REL-NO-PDB", "F01")] * 2 + [("REL-NO-PROBES", "F02")] * 4
    )
    first = results[0]
    assert first["level"] == "error"
    # a report without subjects (written before they were kept) names the place instead
    assert first["message"] == {
        "text": "apps/api.yaml:30: Deployments and StatefulSets with 2+ replicas have no PodDisruptionBudget"
    }
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "apps/api.yaml", "uriBaseId": "SRCROOT"},
                "region": {"startLine": 30},
            }
        }
    ]
    assert all(len(r["locations"]) == 1 and "physicalLocation" in r["locations"][0] for r in results)
    fingerprints = [r["partialFingerprints"]["infraAudit/v2"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)


def test_sarif_uris_are_relative_to_the_git_root_and_missing_things_point_at_the_root_config(
    report: AuditReport,
) -> None:
    meta = report.meta.model_copy(
        update={"repo_path": "infra", "anchor": "terragrunt.hcl", "concerns_failed": {}}
    )
    f1 = report.findings[0].model_copy(
        update={
            "locations": [
                Location(ref="apps/api.yaml:30", subject="Deployment/shop/api"),
                Location(ref="-", subject="dependency bot"),
                Location(ref="homelab/shop/Deployment/api", subject="Deployment/shop/api"),
            ]
        }
    )
    log = _sarif(report.model_copy(update={"meta": meta, "findings": [f1]}))
    _check_sarif_shape(log)
    run = log["runs"][0]
    where = [
        (r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["message"]["text"])
        for r in run["results"]
    ]
    assert where == [
        (
            "infra/apps/api.yaml",
            "Deployment/shop/api: Deployments and StatefulSets with 2+ replicas have no PodDisruptionBudget",
        ),
        (
            "infra/terragrunt.hcl",
            "dependency bot: Deployments and StatefulSets with 2+ replicas have no PodDisruptionBudget",
        ),
    ]  # the live record of the same object is its code record: one result, not two
    assert run["automationDetails"] == {"id": f"infra-audit/infra/{report.meta.run_id}"}
    assert run["properties"]["not_in_sarif"] == {}
    no_anchor = _sarif(
        report.model_copy(update={"meta": meta.model_copy(update={"anchor": None}), "findings": [f1]})
    )
    assert len(no_anchor["runs"][0]["results"]) == 1
    assert no_anchor["runs"][0]["properties"]["not_in_sarif"] == {"F01": ["dependency bot"]}


def test_sarif_lists_a_hundred_live_subjects_of_a_finding_and_counts_the_rest(report: AuditReport) -> None:
    """The live objects SARIF cannot point at grew the file with the cluster (1.8 of 2.6 MB at 10k
    pods): a finding lists 100 and counts the rest; one with 100 or fewer is listed whole."""
    live = [
        Location(ref=f"homelab/ns{i:03d}/Deployment/web", subject=f"Deployment/ns{i:03d}/web")
        for i in range(103)
    ]
    many = report.findings[0].model_copy(update={"id": "F01", "locations": live})
    few = report.findings[0].model_copy(update={"id": "F02", "locations": live[:100]})
    log = _sarif(report.model_copy(update={"findings": [many, few]}))
    _check_sarif_shape(log)
    props = log["runs"][0]["properties"]
    subjects = [loc.subject for loc in live]
    assert props["not_in_sarif"] == {"F01": subjects[:100], "F02": subjects[:100]}
    assert props["not_in_sarif_more"] == {"F01": 3}
    assert "not_in_sarif_more" not in _sarif(report)["runs"][0]["properties"]


def test_sarif_fingerprints_and_messages_are_stable_across_renumbered_runs(report: AuditReport) -> None:
    f1 = report.findings[0].model_copy(
        update={"locations": [Location(ref="apps/api.yaml:30", subject="Deployment/shop/api")]}
    )
    moved = f1.model_copy(
        update={
            "id": "F17",
            "title": "3 multi-replica workloads have no PodDisruptionBudget",
            "locations": [Location(ref="apps/api.yaml:41", subject="Deployment/shop/api")],
        }
    )
    one = _sarif(report.model_copy(update={"findings": [f1]}))["runs"][0]
    two = _sarif(report.model_copy(update={"findings": [moved]}))["runs"][0]
    for key in ("partialFingerprints", "message"):
        assert one["results"][0][key] == two["results"][0][key]
    assert one["tool"]["driver"]["rules"] == two["tool"]["driver"]["rules"]


def test_a_model_only_finding_has_a_stable_rule_id_not_its_backlog_number(report: AuditReport) -> None:
    f3 = report.findings[2].model_copy(
        update={"locations": [Location(ref="k8s/netpol.yaml:1", subject="Namespace/media")]}
    )
    rules = _sarif(report.model_copy(update={"findings": [f3]}))["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [f3.rule] and f3.rule.startswith("LLM-SEC-")
    assert rules[0]["properties"]["precision"] == "medium"
    assert rules[0]["properties"]["security-severity"] == "8.0"


def test_sarif_levels_from_impact_and_dropped_findings_left_out(report: AuditReport) -> None:
    findings = [
        report.findings[0].model_copy(update={"impact": 3}),
        report.findings[1].model_copy(update={"impact": 2}),
        report.findings[2].model_copy(update={"status": "dropped"}),
    ]
    log = _sarif(report.model_copy(update={"findings": findings}))
    _check_sarif_shape(log)
    results = log["runs"][0]["results"]
    assert {r["properties"]["finding"]: r["level"] for r in results} == {"F01": "warning", "F02": "note"}
    assert "F03" not in [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]


def test_sarif_absolute_estate_and_finding_without_refs(report: AuditReport) -> None:
    meta = report.meta.model_copy(update={"estate": "/srv/infra", "concerns_failed": {}})
    findings = [report.findings[0], report.findings[2].model_copy(update={"refs": []})]
    log = _sarif(report.model_copy(update={"meta": meta, "findings": findings}))
    _check_sarif_shape(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///srv/infra/"
    assert run["invocations"] == [{"executionSuccessful": True}]
    # a finding with nowhere to point (no refs, no root config known) is not a result without a location
    assert {r["properties"]["finding"] for r in run["results"]} == {"F01"}
    meta = meta.model_copy(update={"repo_path": "infra"})
    log = _sarif(report.model_copy(update={"meta": meta.model_copy(update={"estate": "/srv/infra"})}))
    assert log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///srv/"


def test_sarif_deterministic(report: AuditReport) -> None:
    assert render_sarif(report) == render_sarif(make_report())


# ------------------------------------------------------------------------------------- json


def test_json_round_trip(report: AuditReport, tmp_path: Path) -> None:
    text = render_json(report)
    assert text.endswith("}\n") and text == render_json(make_report())
    path = tmp_path / "audit.json"
    path.write_text(text, encoding="utf-8")
    assert load_report(path) == report


def test_audit_json_is_written_as_pydantic_s_bytes_the_same_as_the_text(
    report: AuditReport, tmp_path: Path
) -> None:
    """The JSON renderer hands its bytes to the writer (no text decoded and encoded again), the
    document and its final newline apart (not copied to be joined); they are the text's, non-ASCII
    included."""
    accented = report.model_copy(update={"gaps": [*report.gaps, "café – naïve ✓ 日本"]})
    rendered = json_out.RENDERER.render(RunOutputs(report=accented))
    assert isinstance(rendered, tuple) and rendered[1] == b"\n"
    assert b"".join(rendered) == render_json(accented).encode("utf-8")
    (written,) = write_reports(accented, tmp_path / "out")[1:2]
    assert written.name == "audit.json" and written.read_bytes() == b"".join(rendered)


def test_a_rendering_bug_replaces_nothing_and_leaves_nothing(
    report: AuditReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each output is rendered and written to a temp file before any is renamed: a renderer that
    fails after others were written leaves the old reports, no temp file, and no directory made."""
    from pipeline.render import sarif

    out = tmp_path / "reports"
    out.mkdir()
    (out / "audit.md").write_text("old\n", encoding="utf-8")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a rendering bug")

    monkeypatch.setattr(sarif, "indented", broken)
    with pytest.raises(RuntimeError):
        write_reports(report, out)
    assert [(p.name, p.read_text(encoding="utf-8")) for p in out.iterdir()] == [("audit.md", "old\n")]
    fresh = tmp_path / "new" / "deeper"
    with pytest.raises(RuntimeError):
        write_reports(report, fresh)
    assert not (tmp_path / "new").exists()


def test_the_reports_work_out_each_finding_s_placed_locations_once(
    report: AuditReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """audit.md (its line of what audit.sarif leaves out) and audit.sarif share each finding's placed
    locations within one write; outside it nothing is kept."""
    from pipeline.render import sarif

    calls: list[str] = []
    real = sarif._placed_locations

    def counting(f: Finding, anchor: str | None) -> Any:
        calls.append(f.id)
        return real(f, anchor)

    monkeypatch.setattr(sarif, "_placed_locations", counting)
    write_reports(report, tmp_path / "out")
    shown = [f.id for f in report.findings if f.status != "dropped"]
    assert shown and sorted(calls) == sorted(shown)
    calls.clear()
    assert render_sarif(report) == (tmp_path / "out" / "audit.sarif").read_text(encoding="utf-8")
    assert sorted(calls) == sorted(shown)  # a render of its own works them out again


def test_the_reports_work_out_each_occurrence_key_once(
    report: AuditReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """audit.json writes each finding's occurrence keys and audit.sarif keys the places it shows: within
    one write each location's key is worked out once (twice before, for a finding with a code ref)."""
    import domain.identity as identity

    keyed: list[str] = []
    real = identity.occurrence_key

    def counting(rule: str, location: Location) -> str:
        keyed.append(location.ref)
        return real(rule, location)

    monkeypatch.setattr(identity, "occurrence_key", counting)
    located = report.model_copy(  # the fixture's findings keep refs only, as an older report did
        update={
            "findings": [
                f.model_copy(update={"locations": [Location(ref=r, subject=f"Pod/x/{r}") for r in f.refs]})
                for f in report.findings
            ]
        }
    )
    write_reports(located, tmp_path / "out")
    places = Counter(loc.ref for f in located.findings for loc in f.locations)
    assert any(code_file(ref) for ref in places)  # some are placed in audit.sarif
    assert Counter(keyed) == places
    written = json.loads((tmp_path / "out" / "audit.json").read_text(encoding="utf-8"))
    assert [f["occurrences"] for f in written["findings"]] == [f.occurrences for f in located.findings]


def test_load_report_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_report(tmp_path / "nope.json")
    assert "\n" not in str(err.value)
    assert str(err.value).startswith(f"no audit report at {tmp_path / 'nope.json'}")


@pytest.mark.parametrize(
    ("content", "where", "more"),
    [("{not json", "document", False), ('{"meta": {}}', "meta.run_id", True)],
)
def test_load_report_malformed_file(tmp_path: Path, content: str, where: str, more: bool) -> None:
    """Our frame and the path of the first problem; the problem's wording is pydantic's, not asserted."""
    path = tmp_path / "audit.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as err:
        load_report(path)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{path} is not a valid infra-audit report: {where}: ")
    assert text.endswith("more problems)") is more


# ---------------------------------------------------------------------------------- writing


def test_write_reports_creates_the_directory(report: AuditReport, tmp_path: Path) -> None:
    out = tmp_path / "nested" / "reports"
    written = write_reports(report, out)
    assert written == [out / "audit.md", out / "audit.json", out / "audit.sarif"]
    assert (out / "audit.md").read_text(encoding="utf-8") == render_markdown(report)
    assert load_report(out / "audit.json") == report
    assert json.loads((out / "audit.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert sorted(p.name for p in out.iterdir()) == ["audit.json", "audit.md", "audit.sarif"]


def test_write_reports_is_atomic(
    report: AuditReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    (out / "audit.json").write_text("old report\n", encoding="utf-8")
    real_replace = os.replace
    calls: list[str] = []

    def failing_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(Path(dst).name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(UserError, match=r"^cannot write the reports to .*: No space left on device$"):
        write_reports(report, out)
    assert calls == ["audit.md", "audit.json"]
    assert (out / "audit.md").read_text(encoding="utf-8") == render_markdown(report)
    assert (out / "audit.json").read_text(encoding="utf-8") == "old report\n"
    assert sorted(p.name for p in out.iterdir()) == ["audit.json", "audit.md"]


def test_write_reports_into_a_file_is_a_user_error(report: AuditReport, tmp_path: Path) -> None:
    blocker = tmp_path / "report"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(UserError, match="cannot write the reports to"):
        write_reports(report, blocker)


# ------------------------------------------------------------------------------- primitives


def test_code_spans_survive_backticks_and_cells_escape_pipes() -> None:
    assert code("grep -c x") == "`grep -c x`"
    assert code("echo `date`") == "`` echo `date` ``"
    assert code("a``b") == "```a``b```"
    assert cell("a | b\n  c") == "a \\| b c"
    assert num(3.0) == "3" and num(0.75) == "0.75" and num(1234567) == "1234567"


def test_templates_are_strict() -> None:
    env = environment()
    assert env.undefined is StrictUndefined
    assert env.trim_blocks and env.lstrip_blocks and env.keep_trailing_newline
    with pytest.raises(UndefinedError):
        env.from_string("{{ v.nope }}").render(v=object())


# ------------------------------------------------------------------------------- files not read


def _unread(estate: int = 0, cluster: bool = False) -> Unread:
    issues = [
        ParseIssue(path=f"stacks/s{i:02d}/main.tf", line=3, message="syntax error") for i in range(estate)
    ]
    issues.append(ParseIssue(path="caf\\xe9/deep.json", message="nested too deep", reason="too_deep"))
    pods = ParseIssue(
        path="examples/homelab/cluster/core.v1.pods.json",
        line=12,
        message="truncated JSON (the text ends inside a value)",
    )
    lost = [
        UnreadResource(resource="pods", kind="Pod", reason=str(pods)),
        UnreadResource(resource="secrets", kind="Secret", reason="forbidden"),
    ]
    return Unread(estate=issues, cluster=[pods] if cluster else [], resources=lost if cluster else [])


def test_no_section_when_everything_was_read(md: str) -> None:
    assert "## Files not read" not in md and "read incompletely" not in md


def test_the_files_not_read_are_grouped_by_reason_and_capped(report: AuditReport) -> None:
    text = render_markdown(report.model_copy(update={"unread": _unread(estate=25, cluster=True)}))
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings[1:3] == ["## Context", "## Files not read"]
    section = _section(text, "## Files not read")
    assert [line for line in section.splitlines() if line.startswith("**")] == [
        "**Estate: does not parse**",
        "**Estate: nested too deep**",
        "**Cluster (`examples/homelab/cluster`): does not parse**",
    ]
    items = [line for line in section.splitlines() if line.startswith("- ")]
    assert items[0] == "- `stacks/s00/main.tf:3`: syntax error"
    assert items[20] == "- … and 5 more (all of them are in `audit.json`, under `unread`)."
    assert items[21:] == [
        "- `caf\\xe9/deep.json`: nested too deep",
        "- `examples/homelab/cluster/core.v1.pods.json:12`: truncated JSON (the text ends inside a value)",
    ]
    warnings = [line for line in text.splitlines() if "read incompletely" in line]
    assert warnings == [  # the types lost, once, whatever lost them
        "**Warning**: The cluster was read incompletely, these resource types were not read: pods "
        "(examples/homelab/cluster/core.v1.pods.json:12: truncated JSON (the text ends inside a value)); "
        "secrets (forbidden). The checks that read them say so in the gaps (unknown), or count a lower bound."
    ]


def test_the_unread_list_round_trips_through_audit_json(report: AuditReport, tmp_path: Path) -> None:
    full = report.model_copy(update={"unread": _unread(estate=2, cluster=True)})
    (tmp_path / "audit.json").write_text(render_json(full))
    assert load_report(tmp_path / "audit.json") == full
    data = json.loads(render_json(full))["unread"]
    assert [i["reason"] for i in data["cluster"]] == ["syntax"]
    assert [(u["resource"], u["kind"]) for u in data["resources"]] == [("pods", "Pod"), ("secrets", "Secret")]


def test_sarif_uris_carry_the_bytes_of_a_name_percent_encoded(report: AuditReport) -> None:
    finding = report.findings[0].model_copy(
        update={"refs": ["stacks/caf\\xe9/main.tf:4", "docs/a b#c.md:2", "x\\\\y.tf:1"]}
    )
    meta = report.meta.model_copy(update={"estate": "/srv/r\\xffoot"})
    log = _sarif(report.model_copy(update={"findings": [finding], "meta": meta}))
    uris = [
        loc["physicalLocation"]["artifactLocation"]["uri"]
        for result in log["runs"][0]["results"]
        for loc in result.get("locations", [])
    ]
    assert uris == ["stacks/caf%E9/main.tf", "docs/a%20b%23c.md", "x%5Cy.tf"]  # legacy report: refs only
    assert log["runs"][0]["originalUriBaseIds"]["SRCROOT"]["uri"] == "file:///srv/r%FFoot/"


def test_sarif_places_each_finding_once_and_reads_each_ref_file_once_more(
    report: AuditReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The locations SARIF can point at are worked out once per finding per render, and each ref's
    file is read twice (its occurrence key, then its place): at 10k pods the render worked them out
    twice (results, then ``not_in_sarif``), each time reading every ref's file three times."""
    import domain.identity as identity
    import pipeline.render.sarif as sarif

    placed: list[str] = []
    files: list[str] = []
    real_placed, real_file = sarif.placed_locations, identity.code_file

    def counting_placed(f: Finding, anchor: str | None) -> list[tuple[str, Location, str, int]]:
        placed.append(f.id)
        return real_placed(f, anchor)

    def counting_file(ref: str) -> str | None:
        files.append(ref)
        return real_file(ref)

    before = render_sarif(report)
    monkeypatch.setattr(sarif, "placed_locations", counting_placed)
    monkeypatch.setattr(sarif, "code_file", counting_file)
    monkeypatch.setattr(identity, "code_file", counting_file)
    assert render_sarif(report) == before
    shown = [f for f in report.findings if f.status != "dropped"]
    assert placed == [f.id for f in shown]
    refs = [loc.ref for f in shown for loc in f.places]
    assert all(files.count(ref) <= 2 * refs.count(ref) for ref in refs) and set(files) == set(refs)


def test_sarif_works_out_no_occurrence_key_for_a_finding_of_live_objects_only(
    report: AuditReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding of live objects only (a cluster's pods: thousands of locations at 10k pods) has nothing
    SARIF can point at: its occurrence keys are not worked out, for the results or the Markdown's line."""
    import pipeline.render.sarif as sarif

    live = [Location(ref=f"homelab/ns{i:03d}/Pod/web", subject=f"Pod/ns{i:03d}/web") for i in range(50)]
    pods = report.findings[0].model_copy(update={"id": "F09", "locations": live, "refs": []})
    keyed: list[int] = []
    real = sarif.occurrence_keys

    def counting(rule: str, locations: list[Location]) -> list[str]:
        keyed.append(len(locations))
        return real(rule, locations)

    monkeypatch.setattr(sarif, "occurrence_keys", counting)
    log = _sarif(report.model_copy(update={"findings": [pods]}))
    assert keyed == []
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["properties"]["not_in_sarif"] == {"F09": sorted(loc.subject for loc in live)}
    md = render_markdown(report.model_copy(update={"findings": [pods]}))
    assert keyed == [] and "Not in `audit.sarif` (50 subjects" in md
