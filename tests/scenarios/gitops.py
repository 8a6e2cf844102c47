"""Scripted agents auditing ``examples/gitops-base``: a Flux repo with no cluster.

A smaller run than the homelab one: each researcher makes one or two calls and submits the catalog
results (the security researcher first asks for ``kube_get``, which reads a cluster this audit does
not have, and is told so). The intent challenger reads the velero decision and the monitoring
values, and trims the two findings they cover; the numbers challenger re-measures the alert rules
and confirms every number.
"""

from __future__ import annotations

from typing import Any

from fakes import Router, ScriptError

from scenarios.common import (
    INTENT_KEY,
    NUMBERS_KEY,
    SYNTH_KEY,
    Agent,
    Conversation,
    catalog,
    catalog_finding,
    explore,
    researcher_key,
    submit,
)
from scenarios.roles import Decision, IntentScript, intent_challenger, numbers_challenger, synthesizer

ESTATE = "examples/gitops-base"
RUN_ID = "scripted-gitops"

STANDARDS = ("repo_read", {"path": "docs/standards.md"})
KUSTOMIZATIONS = ("repo_list", {"path": "clusters/prod"})
RENOVATE = ("repo_list", {"glob": "*renovate*"})
REQUESTS = ("repo_search", {"pattern": "requests:", "fixed": True, "path": "apps"})
NETPOL_LIVE = ("kube_get", {"resource": "networkpolicies", "all_namespaces": True})
NETPOL_CODE = ("repo_list", {"path": "policies/network-policies"})
SHOP_SECRET = ("repo_read", {"path": "apps/shop/secret.yaml"})
WIKI_SECRET = ("repo_read", {"path": "apps/wiki/secret.yaml"})
ALERT_RULES = ("repo_count", {"pattern": "- alert:", "fixed": True, "path": "infrastructure/base/monitoring"})
INTENT_SEARCH = (
    "repo_search",
    {"pattern": "on purpose|by design|deliberate|exception|accepted", "ignore_case": True, "glob": "*.md"},
)


def _findings(convo: Conversation) -> dict[str, Any]:
    return {"findings": [catalog_finding(row) for row in catalog(convo.system).values()]}


def researcher(name: str, note: str, *calls: tuple[str, dict[str, Any]]) -> Agent:
    return Agent(name, [explore(note, *calls), submit("submit_findings", _findings)])


def security() -> Agent:
    def without_cluster(convo: Conversation) -> Any:
        answer = convo.call(*NETPOL_LIVE)
        if not answer.is_error or "reads a cluster" not in answer.text:
            raise ScriptError(f"kube_get without a cluster should say so: {answer.text[:160]}")
        return explore("No cluster in this audit: reading the policies in code instead.", NETPOL_CODE)(convo)

    return Agent(
        "security researcher",
        [
            explore(
                "Which NetworkPolicies run, and what the committed Secrets hold.",
                NETPOL_LIVE,
                SHOP_SECRET,
                WIKI_SECRET,
            ),
            without_cluster,
            submit("submit_findings", _findings),
        ],
    )


INTENT = IntentScript(
    search=INTENT_SEARCH,
    decisions=(
        Decision(
            check="SEC-NO-PSS",
            path="docs/decisions/0001-velero-privileged-namespace.md",
            needle="Label the `velero` namespace",
            reason="velero's namespace is privileged by decision 0001 (the node-agent needs hostPath); "
            "the other namespaces stand.",
            subjects=("Namespace/velero",),
            ref="infrastructure/base/velero/namespace.yaml:3",
        ),
        Decision(
            check="REL-ALERT-GAPS",
            path="infrastructure/base/monitoring/values.yaml",
            needle="defaultRules:",
            reason="kube-prometheus-stack's default rules are on (defaultRules.create): KubeJobFailed "
            "and KubePersistentVolumeFillingUp already cover two of the categories.",
            subjects=("alert-category/cronjob-failure", "alert-category/pvc-capacity"),
        ),
    ),
    gaps=["Nothing shows a velero restore was ever run; the schedule exists, the drill does not."],
)


def router() -> Router:
    return Router(
        {
            researcher_key("reliability"): researcher(
                "reliability researcher", "Reading the team's standards first.", STANDARDS
            ),
            researcher_key("declarative"): researcher(
                "declarative researcher", "Listing what Flux applies in prod.", KUSTOMIZATIONS
            ),
            researcher_key("maintenance"): researcher(
                "maintenance researcher", "Looking for a dependency bot in hidden paths too.", RENOVATE
            ),
            researcher_key("scalability"): researcher(
                "scalability researcher", "Where do the apps set requests?", REQUESTS
            ),
            researcher_key("security"): security(),
            NUMBERS_KEY: numbers_challenger(
                [ALERT_RULES],
                why="the re-count differs",
                framings=["Treat the unwired alert rules as one fix."],
            ),
            INTENT_KEY: intent_challenger(INTENT),
            SYNTH_KEY: synthesizer([]),
        }
    )
