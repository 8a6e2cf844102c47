"""The prompt templates: each role renders from a fixed, realistic set of variables, byte for byte.

What is asserted and why:

* the first line is the role line, unique per role, concern and stance, because the scripted test
  server routes a conversation on the first line of its system prompt;
* a missing variable fails loudly and names itself (the contract check in ``render``, and
  StrictUndefined for a key missing inside a variable), so a prompt never silently loses a section;
* rendering is byte-identical run to run (cassettes match on the request body);
* each rendered prompt equals its snapshot in ``tests/snapshots/prompts/``, so every change to what
  a model reads is reviewed as a diff of prose.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from jinja2 import TemplateNotFound, UndefinedError
from snapshot import SNAPSHOTS, assert_snapshot

from agents.llm.challenger import stance_variables
from agents.llm.prompts import PROMPTS_DIR, expected_variables, render, template_name
from agents.stances import STANCES
from domain.concerns import CONCERN_CODES, CONCERNS

pytestmark = pytest.mark.unit

PROMPT_SNAPSHOTS = SNAPSHOTS / "prompts"
DATE = "2026-11-20"
RUN_ID = "run-20261120-fixture"

ESTATE: dict[str, Any] = {
    "path": "examples/homelab",
    "has_cluster": True,
    "cluster_name": "homelab",
    # deliberately unsorted: the template must sort what comes from a mapping
    "counts": {"workloads": 22, "cronjobs": 3, "pvcs": 10, "null_resources": 3, "tf_files": 19},
}

# What agents/llm passes: each tool's name and the first sentence of its docstring.
TOOLS: list[dict[str, str]] = [
    {"name": name, "summary": summary}
    for name, summary in [
        ("repo_search", "Search file contents in the estate with ripgrep; matching lines as path:line:text."),
        ("repo_count", "Count matches of a pattern in the estate: the total (value) and the count per file."),
        ("repo_read", "Read a text file of the estate, or a line range of it, with line numbers."),
        ("repo_list", "List the files under a directory of the estate, recursively, sorted."),
        ("kube_get", "List or fetch Kubernetes objects, like `kubectl get`."),
        ("kube_describe", "Describe one object, like `kubectl describe`, with the events about it."),
        ("kube_top", "Current CPU and memory usage from metrics-server, like `kubectl top nodes|pods`."),
        ("kube_api_resources", "The resource types the cluster serves, like `kubectl api-resources`."),
        ("kube_events", "Cluster events, oldest first, like `kubectl get events --sort-by=.lastTimestamp`."),
    ]
]

PREFIX = "infra-audit check examples/homelab --cluster examples/homelab/cluster"


def check(cid: str, title: str, count: int, total: int | None, evidence: str, *sample: str) -> dict[str, Any]:
    """A catalog result as agents/llm/researcher.py passes it."""
    return {
        "id": cid,
        "title": title,
        "count": count,
        "total": total,
        "evidence": evidence,
        "command": f"{PREFIX} {cid}",
        "sample": list(sample),
    }


# Three checks per concern, titles as the catalog formats them: two found something, one nothing.
CHECKS: dict[str, list[dict[str, Any]]] = {
    "reliability": [
        check(
            "REL-PROBE-ANY",
            "7 of 17 long-running workloads missing a readiness or liveness probe",
            7,
            17,
            "E-3f9a1c2b4d",
            "stacks/paperless/main.tf:12  Deployment/paperless/paperless",
            "stacks/forgejo/main.tf:40  StatefulSet/git/forgejo",
            "stacks/home/main.tf:88  Deployment/home/notifier",
        ),
        check(
            "REL-SINGLE-REPLICA",
            "2 single-replica workloads pinned by a ReadWriteOnce volume or the Recreate strategy",
            2,
            None,
            "E-91c0d2e7aa",
            "stacks/dbaas/main.tf:30  StatefulSet/dbaas/mysql",
            "stacks/registry/main.tf:9  Deployment/registry/registry",
        ),
        check(
            "REL-LIVE-CRASHLOOP",
            "0 pods are crash-looping or cannot start a container (image pull or config error)",
            0,
            None,
            "E-0b7e55f310",
        ),
    ],
    "declarative": [
        check(
            "DEC-PROVISIONERS",
            "5 null_resource/terraform_data blocks run provisioners (imperative steps inside Terraform)",
            5,
            None,
            "E-a1b2c3d4e5",
            "stacks/platform/main.tf:61  null_resource/apiserver_oidc",
            "stacks/dbaas/main.tf:112  null_resource/mysql_users",
        ),
        check(
            "DEC-IGNORE-CHANGES",
            "18 lifecycle.ignore_changes blocks hide drift (2 distinct attribute paths)",
            18,
            None,
            "E-b2c3d4e5f6",
            "stacks/immich/main.tf:77  kubernetes_deployment_v1/immich_server",
        ),
        check(
            "DEC-KUSTOMIZE-MISSING",
            "0 kustomization references point at files that do not exist",
            0,
            None,
            "E-c3d4e5f6a7",
        ),
    ],
    "maintenance": [
        check(
            "MNT-IMAGE-LATEST",
            "4 of 24 containers use :latest, an untagged image or a tag variable defaulting to latest",
            4,
            24,
            "E-d4e5f6a7b8",
            "stacks/home/main.tf:20  Deployment/home/dashboard-api",
            "stacks/home/variables.tf:3  Deployment/home/notifier",
        ),
        check(
            "MNT-NO-DEP-BOT",
            "No Renovate or Dependabot configuration updates the charts, images, modules or providers",
            1,
            None,
            "E-e5f6a7b8c9",
        ),
        check(
            "MNT-DEPRECATED-API",
            "0 objects use deprecated or removed API versions",
            0,
            None,
            "E-f6a7b8c9d0",
        ),
    ],
    "scalability": [
        check(
            "SCA-CPU-LIMIT",
            "20 of 24 containers have a CPU request but no CPU limit",
            20,
            24,
            "E-0a1b2c3d4e",
            "stacks/frigate/main.tf:25  Deployment/frigate/frigate",
        ),
        check(
            "SCA-NO-MEM-LIMIT",
            "3 of 24 containers have no memory limit",
            3,
            24,
            "E-1b2c3d4e5f",
            "stacks/registry/main.tf:9  Deployment/registry/registry",
            "stacks/home/main.tf:88  Deployment/home/notifier",
            "stacks/vault/main.tf:14  StatefulSet/vault/vault",
        ),
        check(
            "SCA-LIVE-NODE-PRESSURE",
            "0 of 4 nodes are above 80% of allocatable by requests or usage",
            0,
            4,
            "E-2c3d4e5f6a",
        ),
    ],
    "security": [
        check(
            "SEC-POLICY-AUDIT-ONLY",
            "4 of 4 admission policies only audit or warn (do not enforce)",
            4,
            4,
            "E-3d4e5f6a7b",
            "stacks/platform/kyverno.tf:10  ClusterPolicy/require-requests",
            "homelab/-/ClusterPolicy/inject-ndots  ClusterPolicy/inject-ndots",
        ),
        check(
            "SEC-PRIVILEGED",
            "1 of 24 containers runs privileged, allows privilege escalation or adds dangerous capabilities",
            1,
            24,
            "E-4e5f6a7b8c",
            "stacks/networking/main.tf:140  DaemonSet/networking/wireguard",
        ),
        check(
            "SEC-PLAINTEXT-SECRET",
            "0 plaintext secrets committed to the repository",
            0,
            None,
            "E-5f6a7b8c9d",
        ),
    ],
}

SKIPPED: dict[str, list[str]] = {
    "declarative": ["DEC-FLUX-SUSPENDED: the estate has no Flux Kustomizations"],
    "security": ["SEC-APISERVER-HARDENING: no cluster bootstrap code in the estate"],
}

NO_CLUSTER: dict[str, Any] = {**ESTATE, "has_cluster": False, "cluster_name": None}

PROBE_TITLE = "7 of 17 long-running workloads missing a readiness or liveness probe"

FINDINGS: list[dict[str, Any]] = [
    {
        "id": "R1#1",
        "concern": "reliability",
        "check": "REL-PROBE-ANY",
        "title": PROBE_TITLE,
        "claims": [
            {"text": PROBE_TITLE, "value": 7.0, "evidence": ["E-3f9a1c2b4d"]},
            {
                "text": "paperless serves traffic with no readiness probe",
                "value": None,
                "evidence": ["E-5d1e0a9b2c"],
            },
        ],
        "refs": ["stacks/paperless/main.tf:12", "stacks/forgejo/main.tf:40", "stacks/home/main.tf:88"],
    },
    {
        "id": "R4#2",
        "concern": "scalability",
        "check": None,
        "title": "Worker nodes at 86-91% memory",
        "claims": [{"text": "k8s-node2 uses 91% of its memory", "value": 91.0, "evidence": ["E-7a2b3c4d5e"]}],
        "refs": ["homelab/-/Node/k8s-node2"],
    },
]

EVIDENCE: list[dict[str, Any]] = [
    {"id": "E-3f9a1c2b4d", "tool": "check", "command": f"{PREFIX} REL-PROBE-ANY", "value": 7.0},
    {
        "id": "E-5d1e0a9b2c",
        "tool": "repo.search",
        "command": "rg -n --sort path -e readiness stacks/paperless",
        "value": 0.0,
    },
    {"id": "E-7a2b3c4d5e", "tool": "kube_top", "command": "kubectl top nodes", "value": None},
]


def scored(fid: str, title: str, concerns: list[str], scores: tuple[int, ...], status: str) -> dict[str, Any]:
    """A backlog row as agents/llm/synthesizer.py passes it (summary and refs added below)."""
    impact, effort, risk, rank_a, rank_b = scores
    return {
        "id": fid,
        "title": title,
        "concerns": concerns,
        "impact": impact,
        "effort": effort,
        "risk": risk,
        "rank_a": rank_a,
        "rank_b": rank_b,
        "status": status,
    }


SYNTH_FINDINGS: list[dict[str, Any]] = [
    {
        **scored(
            "F01",
            "NFS exports are copied by a script, not managed in Terraform",
            ["R2", "R1"],
            (5, 3, 2, 60, 45),
            "confirmed",
        ),
        "summary": "The exports file is deployed by hand with scp and exportfs; one wrong line took every "
        "NFS volume down.",
        "refs": ["scripts/sync-nfs-exports.sh:1", "docs/runbooks/nfs-exports.md:5"],
    },
    {
        **scored(
            "F02", "All 4 Kyverno ClusterPolicies are in Audit", ["R5", "R2"], (4, 3, 4, 24, 24), "corrected"
        ),
        "summary": "Admission reports violations and blocks nothing; privileged agents make a switch to "
        "Enforce risky.",
        "refs": ["stacks/platform/kyverno.tf:1"],
    },
    {
        **scored(
            "F03", "No Renovate or Dependabot configuration", ["R3", "R5"], (4, 2, 1, 80, 48), "confirmed"
        ),
        "summary": "Every image, chart and provider bump is manual.",
        "refs": [],
    },
]


def researcher_vars(concern: str = "reliability") -> dict[str, Any]:
    return {
        "concern": concern,
        "concern_code": CONCERN_CODES[concern],  # type: ignore[index]
        "date": DATE,
        "run_id": RUN_ID,
        "estate": copy.deepcopy(ESTATE),
        "checks": copy.deepcopy(CHECKS[concern]),
        "skipped": list(SKIPPED.get(concern, [])),
        "tools": copy.deepcopy(TOOLS),
        "max_tool_calls": 40,
    }


def code_only(variables: dict[str, Any]) -> dict[str, Any]:
    """The researcher with no cluster: no kube tools, no --cluster, no live refs (as agents/llm passes it)."""
    checks = [
        {
            **c,
            "command": c["command"].replace(PREFIX, "infra-audit check examples/homelab"),
            "sample": [s for s in c["sample"] if not s.startswith("homelab/")],
        }
        for c in variables["checks"]
    ]
    tools = [t for t in variables["tools"] if not t["name"].startswith("kube_")]
    return {**variables, "estate": NO_CLUSTER, "checks": checks, "tools": tools}


def challenger_vars(stance: str = "numbers") -> dict[str, Any]:
    return {
        **stance_variables(STANCES[stance]),
        "date": DATE,
        "run_id": RUN_ID,
        "estate": copy.deepcopy(ESTATE),
        "findings": copy.deepcopy(FINDINGS),
        "evidence": copy.deepcopy(EVIDENCE),
        "tools": copy.deepcopy(TOOLS),
        "max_tool_calls": 30,
    }


def synthesizer_vars() -> dict[str, Any]:
    return {
        "date": DATE,
        "run_id": RUN_ID,
        "estate": copy.deepcopy(ESTATE),
        "findings": copy.deepcopy(SYNTH_FINDINGS),
        "corrections": [
            {
                "finding": "R4#2",
                "stated": "Worker nodes at 86-91% memory",
                "actual": "44-51% (kubectl top nodes)",
                "action": "DROPPED",
            },
            {
                "finding": "R5#1",
                "stated": "2 of 4 policies in Audit",
                "actual": "4 of 4",
                "action": "CORRECTED",
            },
        ],
        "gaps": ["No restore of any backup has been rehearsed end to end."],
        "framings": ["Split 'MySQL singleton' into HA (deferred), backup and restore (open)."],
        "leaders_a": ["F03", "F01"],
        "leaders_b": ["F03", "F01", "F02"],
        "dangerous": [
            {"id": "F02", "note": "Switching every policy to Enforce at once blocks legitimate workloads."}
        ],
    }


CASES: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"researcher-{c}": ("researcher.md.j2", researcher_vars(c)) for c in CONCERNS},
    "challenger-numbers": ("challenger.md.j2", challenger_vars("numbers")),
    "challenger-intent": ("challenger.md.j2", challenger_vars("intent")),
    "researcher-security-no-cluster": ("researcher.md.j2", code_only(researcher_vars("security"))),
    "synthesizer": ("synthesizer.md.j2", synthesizer_vars()),
}

RESEARCHER_ROLE = (
    "You are the {} researcher of infra-audit, auditing an infrastructure estate as a senior SRE."
)
CHALLENGER_ROLE = (
    "You are the {} challenger of infra-audit, re-checking the {} of an infrastructure audit"
    " as a skeptical senior SRE."
)
ROLE_LINES = {
    **{f"researcher-{c}": RESEARCHER_ROLE.format(c) for c in CONCERNS},
    "researcher-security-no-cluster": RESEARCHER_ROLE.format("security"),
    "challenger-numbers": CHALLENGER_ROLE.format("numbers", "numbers and facts"),
    "challenger-intent": CHALLENGER_ROLE.format("intent", "intent and scope"),
    "synthesizer": "You are the synthesizer of infra-audit, writing the prose of an infrastructure"
    " audit report as a senior SRE.",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_prompt_matches_snapshot(case: str) -> None:
    template, variables = CASES[case]
    text = render(template, **variables)
    assert_snapshot(f"prompts/{case}.md", text, path=PROMPT_SNAPSHOTS / f"{case}.md")


@pytest.mark.parametrize("case", sorted(CASES))
def test_first_line_is_the_unique_role_line(case: str) -> None:
    template, variables = CASES[case]
    assert render(template, **variables).split("\n", 1)[0] == ROLE_LINES[case]


def test_role_lines_are_unique() -> None:
    """Five concerns, two stances, one synthesizer: eight roles, eight first lines."""
    assert len(set(ROLE_LINES.values())) == len(CONCERNS) + 3


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendering_is_byte_identical(case: str) -> None:
    template, variables = CASES[case]
    first = render(template, **copy.deepcopy(variables)).encode()
    assert render(template, **copy.deepcopy(variables)).encode() == first


@pytest.mark.parametrize("case", sorted(CASES))
def test_output_is_normalized(case: str) -> None:
    template, variables = CASES[case]
    text = render(template, **variables)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert "\n\n\n" not in text
    assert not re.search(r"[ \t]$", text, re.MULTILINE)


def test_mapping_order_does_not_change_the_prompt() -> None:
    variables = researcher_vars()
    reordered = dict(reversed(list(variables["estate"]["counts"].items())))
    other = {**variables, "estate": {**variables["estate"], "counts": reordered}}
    assert render("researcher.md.j2", **other) == render("researcher.md.j2", **variables)


@pytest.mark.parametrize(
    ("template", "variables", "missing"),
    [
        ("researcher.md.j2", researcher_vars(), "run_id"),
        ("researcher.md.j2", researcher_vars(), "max_tool_calls"),
        ("challenger.md.j2", challenger_vars(), "evidence"),
        ("synthesizer.md.j2", synthesizer_vars(), "dangerous"),
        ("synthesizer.md.j2", synthesizer_vars(), "date"),
    ],
)
def test_a_missing_variable_is_named(template: str, variables: dict[str, Any], missing: str) -> None:
    del variables[missing]
    with pytest.raises(UndefinedError, match=rf"missing variable\(s\): {missing}$"):
        render(template, **variables)


def test_strict_undefined_names_a_missing_key_inside_a_variable() -> None:
    variables = researcher_vars()
    del variables["estate"]["has_cluster"]
    with pytest.raises(UndefinedError, match="has_cluster"):
        render("researcher.md.j2", **variables)
    variables = challenger_vars()
    del variables["findings"][0]["claims"][0]["evidence"]
    with pytest.raises(UndefinedError, match="evidence"):
        render("challenger.md.j2", **variables)


def test_an_unexpected_variable_is_refused() -> None:
    with pytest.raises(TypeError, match="unexpected variable\\(s\\): concern_code"):
        render("challenger.md.j2", **challenger_vars(), concern_code="R1")


def test_a_stance_without_its_partial_or_an_unknown_concern_fails() -> None:
    bogus = dataclasses.replace(STANCES["numbers"], name="bogus")
    with pytest.raises(TemplateNotFound):
        render("challenger.md.j2", **challenger_vars() | stance_variables(bogus))
    with pytest.raises(TemplateNotFound):
        render("researcher.md.j2", **researcher_vars() | {"concern": "bogus"})


def test_every_concern_has_a_brief_and_no_brief_needs_more_variables() -> None:
    researcher = expected_variables("researcher.md.j2")
    for concern in CONCERNS:
        name = f"briefs/_{concern}.md.j2"
        assert (PROMPTS_DIR / name).is_file()
        assert expected_variables(name) <= researcher, name


def test_the_variable_contract() -> None:
    """The names the agent code passes; a change here is a change of contract with agents/llm/*."""
    shared = {"date", "run_id", "estate", "tools", "max_tool_calls"}
    assert expected_variables("researcher.md.j2") == shared | {"concern", "concern_code", "checks", "skipped"}
    assert expected_variables("challenger.md.j2") == shared | {
        "stance",
        "others",
        "stance_partial",
        "findings",
        "evidence",
    }
    assert expected_variables("synthesizer.md.j2") == {
        "date", "run_id", "estate", "findings", "corrections", "gaps", "framings",
        "leaders_a", "leaders_b", "dangerous",
    }  # fmt: skip


def test_template_names_and_partials() -> None:
    assert template_name("researcher") == "researcher.md.j2"
    assert template_name("researcher.md.j2") == "researcher.md.j2"
    with pytest.raises(ValueError, match="partial"):
        template_name("_tools.md.j2")


def test_a_researcher_without_a_cluster_says_so() -> None:
    """No cluster: the prompt says so and shows no kube_* call to copy, in any brief."""
    for concern in CONCERNS:
        text = render("researcher.md.j2", **code_only(researcher_vars(concern)))
        assert "This audit reads code only" in text
        assert "there are no kube_* tools" in text
        assert not re.search(r"kube_(get|top|events|describe|api_resources)\(", text), concern


def test_the_clock_and_environment_are_not_read() -> None:
    """date and run_id are inputs: no template or the loader may reach for them on its own."""
    sources = [p.read_text() for p in Path(PROMPTS_DIR).rglob("*.j2")]
    sources.append((Path(__file__).parents[2] / "agents/llm/prompts.py").read_text())
    for text in sources:
        assert "datetime" not in text and "os.environ" not in text and "now()" not in text
