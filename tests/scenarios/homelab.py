"""Scripted agents auditing ``examples/homelab`` (code plus the cluster snapshot).

What each role does, and the behaviour it exists to exercise:

* reliability: lists and reads the runbooks, checks the live Vault StatefulSet, submits the catalog
  results plus one finding no check covers (Vault is unsealed by hand after every restart).
* declarative: one search for imperative steps in the docs, then the catalog results.
* maintenance: OVER-COUNTS. It greps ':latest' (10 hits, comments and a policy pattern included),
  adds the untagged image and the tag default, and claims 12 containers while citing the catalog
  evidence, whose value is 6. The mechanical recount and the numbers challenger both correct it.
* scalability: reports "25 of 36 containers have no CPU limit", which the estate documents as
  deliberate (docs/decisions/0002-no-cpu-limits.md); the intent challenger drops it.
* security: asks for a write tool (``kubectl_delete``) and a path outside the estate; both are
  refused as error tool results. Its first submission cites evidence it never saw, is rejected,
  and it runs the call that shows it before submitting again.

The challengers judge what their prompts list (``scenarios.roles``); the intent challenger reads
the three decision records and the accepted-risk file and cites ``path:line`` from what it read.
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
from tools.evidence import evidence_id

ESTATE = "examples/homelab"
CLUSTER = "examples/homelab/cluster"
RUN_ID = "scripted-homelab"

# --- what the agents call ------------------------------------------------------------------------

RUNBOOKS = ("repo_list", {"path": "docs/runbooks"})
VAULT_RUNBOOK = ("repo_read", {"path": "docs/runbooks/vault-unseal.md"})
VAULT_STS = ("kube_get", {"resource": "statefulsets", "name": "vault", "namespace": "vault"})
IMPERATIVE = ("repo_search", {"pattern": "kubectl (scale|edit|patch|delete)", "glob": "*.md"})
LATEST_COUNT = ("repo_count", {"pattern": ":latest", "fixed": True, "glob": "*.{tf,hcl,yaml,yml}"})
TAG_DEFAULT = ("repo_read", {"path": "stacks/home/variables.tf"})
NODE_TOP = ("kube_top", {"what": "nodes"})
FRIGATE_LIMITS = ("repo_search", {"pattern": "limits", "path": "stacks/frigate"})
WRITE_ATTEMPT = (
    "kubectl_delete",
    {"resource": "deployment", "name": "debug-toolbox", "namespace": "default"},
)
ESCAPE_ATTEMPT = ("repo_read", {"path": "../../etc/passwd"})
SECRETS = ("kube_get", {"resource": "secrets", "all_namespaces": True})
ROOT_PASSWORD = ("repo_read", {"path": "stacks/dbaas/main.tf", "start": 41, "end": 51})
DEPLOY_KEY = ("repo_read", {"path": "stacks/platform/main.tf", "start": 31, "end": 38})
UNSEAL_SECRET = ("kube_describe", {"resource": "secret", "name": "vault-unseal-key", "namespace": "vault"})
LATEST_LINES = ("repo_search", {"pattern": ":latest", "fixed": True, "glob": "*.tf"})
INTENT_SEARCH = (
    "repo_search",
    {
        "pattern": "on purpose|by design|deliberate|intentional|accepted risk|documented exception|deferred",
        "ignore_case": True,
        "glob": "*.md",
    },
)

OVERCOUNT = 12
"""What the maintenance researcher claims; the catalog evidence it cites measures 6."""
NEVER_SEEN = evidence_id(*UNSEAL_SECRET)
"""The id the security researcher cites before it has made that call (ids are content-addressed)."""


def _refused(convo: Conversation) -> None:
    for name, args in (WRITE_ATTEMPT, ESCAPE_ATTEMPT):
        if not convo.call(name, args).is_error:
            raise ScriptError(f"{name}({args}) was expected to be refused")


# --- researchers ------------------------------------------------------------------------------------


def _catalog_findings(convo: Conversation, **overrides: dict[str, Any]) -> list[dict[str, Any]]:
    rows = catalog(convo.system)
    return [catalog_finding(row, **overrides.get(check, {})) for check, row in rows.items()]


def reliability() -> Agent:
    def findings(convo: Conversation) -> dict[str, Any]:
        runbook = convo.call(*VAULT_RUNBOOK)
        sts = convo.call(*VAULT_STS)
        vault = {
            "check": None,
            "title": "Vault is unsealed by hand after every restart of vault-0",
            "summary": "The runbook unseals vault-0 by hand (docs/runbooks/vault-unseal.md); until someone "
            "does, every app reading Vault gets '503 Vault is sealed'. A node reboot at night is an outage "
            "until someone wakes up, and the OnDelete strategy makes each upgrade a second manual unseal.",
            "recommendation": "Configure auto-unseal (transit or a KMS), then delete the manual steps from "
            "the runbook; until then, alert on vault-0 not Ready.",
            "impact": 4,
            "effort": 3,
            "risk": 3,
            "fatigue": False,
            "claims": [
                {
                    "text": "The runbook's fix for a sealed vault-0 is a manual unseal",
                    "evidence": [runbook.evidence],
                },
                {
                    "text": "Vault runs as 1 StatefulSet in the cluster",
                    "value": sts.value,
                    "evidence": [sts.evidence],
                },
            ],
            "total": None,
            "locations": [
                {
                    "ref": f"docs/runbooks/vault-unseal.md:{runbook.line_of('vault operator unseal')}",
                    "subject": "StatefulSet/vault/vault",
                }
            ],
            "extra_concerns": ["maintenance"],
        }
        return {"findings": [*_catalog_findings(convo), vault]}

    return Agent(
        "reliability researcher",
        [
            explore(
                "Reading the runbooks before trusting the probe and backup counts.", RUNBOOKS, VAULT_RUNBOOK
            ),
            explore("The Vault runbook unseals by hand; checking the live StatefulSet.", VAULT_STS),
            submit("submit_findings", findings),
        ],
    )


def declarative() -> Agent:
    return Agent(
        "declarative researcher",
        [
            explore("Looking for imperative steps the docs ask operators to run.", IMPERATIVE),
            submit("submit_findings", lambda convo: {"findings": _catalog_findings(convo)}),
        ],
    )


def maintenance() -> Agent:
    def findings(convo: Conversation) -> dict[str, Any]:
        grep = convo.call(*LATEST_COUNT)
        check = catalog(convo.system)["MNT-IMAGE-LATEST"]
        title = f"{OVERCOUNT} containers run :latest or an untagged image"
        latest = {
            "title": title,
            "summary": f"{grep.value:g} ':latest' matches in code, plus the untagged notifier image and the "
            "image_tag default of 'latest' in stacks/home/variables.tf: every restart may pull a different "
            "build.",
            "claims": [{"text": title, "value": OVERCOUNT, "evidence": [check.evidence, grep.evidence]}],
        }
        return {"findings": _catalog_findings(convo, **{"MNT-IMAGE-LATEST": latest})}

    return Agent(
        "maintenance researcher",
        [
            explore("Counting moving tags across HCL and YAML.", LATEST_COUNT, TAG_DEFAULT),
            submit("submit_findings", findings),
        ],
    )


def scalability() -> Agent:
    def findings(convo: Conversation) -> dict[str, Any]:
        row = catalog(convo.system)["SCA-CPU-LIMIT"]
        title = f"{row.value} of {row.total} containers have no CPU limit"
        cpu = {
            "title": title,
            "summary": "A container without a CPU limit can take a node's idle CPU; Frigate's detector is "
            "the likeliest to do it.",
            "claims": [{"text": title, "value": row.value, "evidence": [row.evidence]}],
        }
        return {"findings": _catalog_findings(convo, **{"SCA-CPU-LIMIT": cpu})}

    return Agent(
        "scalability researcher",
        [
            explore("Checking node headroom, then Frigate's resources.", NODE_TOP, FRIGATE_LIMITS),
            submit("submit_findings", findings),
        ],
    )


def security() -> Agent:
    def first_try(convo: Conversation) -> dict[str, Any]:
        return {"findings": _security_findings(convo, NEVER_SEEN)}

    def read_rejection(convo: Conversation) -> Any:
        said = " ".join(convo.last_results())
        if "Submission rejected" not in said or NEVER_SEEN not in said:
            raise ScriptError(f"expected the submission to be rejected for {NEVER_SEEN}: {said[:200]}")
        return explore("I cited a describe I never ran; running it now.", UNSEAL_SECRET)(convo)

    def second_try(convo: Conversation) -> dict[str, Any]:
        described = convo.call(*UNSEAL_SECRET)
        return {"findings": _security_findings(convo, described.evidence)}

    def after_refusals(convo: Conversation) -> Any:
        _refused(convo)
        note = "No write tools and the repo is jailed; reading the committed secrets and the live ones."
        return explore(note, SECRETS, ROOT_PASSWORD, DEPLOY_KEY)(convo)

    return Agent(
        "security researcher",
        [
            explore(
                "Removing the debug toolbox first, then reading the host's users.",
                WRITE_ATTEMPT,
                ESCAPE_ATTEMPT,
            ),
            after_refusals,
            submit("submit_findings", first_try),
            read_rejection,
            submit("submit_findings", second_try, "Resubmitting with the evidence I now have."),
        ],
    )


def _security_findings(convo: Conversation, describe_evidence: str) -> list[dict[str, Any]]:
    """The catalog results, the plaintext-secret one backed by what was read, and the unseal key."""
    rows = catalog(convo.system)
    plaintext = rows["SEC-PLAINTEXT-SECRET"]
    read = {name: convo.call(*call).evidence for name, call in (("db", ROOT_PASSWORD), ("key", DEPLOY_KEY))}
    claims = [
        {"text": plaintext.title, "value": plaintext.value, "evidence": [plaintext.evidence]},
        {
            "text": "stacks/dbaas/main.tf:49 sets the MySQL root password in a kubernetes_secret_v1",
            "evidence": [read["db"]],
        },
        {
            "text": "stacks/platform/main.tf:33 embeds an OpenSSH private key in a heredoc",
            "evidence": [read["key"]],
        },
    ]
    found = [
        catalog_finding(row, **({"claims": claims} if row is plaintext else {})) for row in rows.values()
    ]
    return [*found, _secrets_finding(convo, describe_evidence)]


def _secrets_finding(convo: Conversation, describe_evidence: str) -> dict[str, Any]:
    secrets = convo.call(*SECRETS)
    return {
        "check": None,
        "title": f"The Vault unseal key is one of {secrets.value:g} Secrets with data in the cluster it "
        "unseals",
        "summary": "vault-unseal-key lives in the vault namespace next to vault-0: whoever can read Secrets "
        "there can unseal Vault, and losing the cluster loses the key with it.",
        "recommendation": "Move the unseal key out of the cluster (auto-unseal through a KMS or transit), "
        "then delete the Secret.",
        "impact": 4,
        "effort": 3,
        "risk": 2,
        "fatigue": False,
        "claims": [
            {
                "text": "Secrets with data in the cluster",
                "value": secrets.value,
                "evidence": [secrets.evidence],
            },
            {"text": "vault/vault-unseal-key exists", "evidence": [describe_evidence]},
        ],
        "total": None,
        "locations": [
            {"ref": "homelab/vault/Secret/vault-unseal-key", "subject": "Secret/vault/vault-unseal-key"}
        ],
        "extra_concerns": ["reliability"],
    }


# --- challengers and synthesizer --------------------------------------------------------------------

DECISIONS = (
    Decision(
        check="SCA-CPU-LIMIT",
        path="docs/decisions/0002-no-cpu-limits.md",
        needle="All CPU limits are removed cluster-wide on purpose",
        reason="Decision 0002 removes every CPU limit on purpose (CFS throttling stalled Frigate and "
        "Postgres); CLAUDE.md repeats it. By design.",
    ),
    Decision(
        check="SEC-PRIVILEGED",
        path="docs/decisions/0003-privileged-wireguard.md",
        needle="documented security exception",
        reason="The only privileged container is wireguard, a documented security exception (0003).",
    ),
    Decision(
        check="SEC-HOST-ACCESS",
        path="docs/decisions/0003-privileged-wireguard.md",
        needle="documented security exception",
        reason="wireguard's hostNetwork and /lib/modules mount are part of the same exception (0003); "
        "promtail's host access is not covered.",
        subjects=("DaemonSet/networking/wireguard",),
        ref="stacks/networking/main.tf:99",  # its host_network line: the check cites the offending line
    ),
    Decision(
        check="REL-SINGLE-REPLICA",
        path="docs/decisions/0001-mysql-standalone.md",
        needle="Migrate to a single `mysql` StatefulSet",
        reason="MySQL is standalone by decision 0001 (HA deferred); the other single replicas stand.",
        subjects=("StatefulSet/dbaas/mysql",),
        ref="stacks/dbaas/main.tf:67",  # its replicas line
    ),
    Decision(
        check="SCA-SINGLETON-INFRA",
        path="docs/decisions/0001-mysql-standalone.md",
        needle="Migrate to a single `mysql` StatefulSet",
        reason="One MySQL instance is decision 0001; postgresql and the registry are not covered.",
        subjects=("StatefulSet/dbaas/mysql",),
        ref="stacks/dbaas/main.tf:67",  # its replicas line, as REL-SINGLE-REPLICA's
    ),
    Decision(
        check="REL-PVC-NO-BACKUP",
        path=".infra-audit.yaml",
        needle="check: REL-PVC-NO-BACKUP",
        reason="registry-data is an accepted risk until 2027-06-30 (mirror cache, rebuildable images).",
        subjects=("PersistentVolumeClaim/registry/registry-data",),
        ref="stacks/registry/main.tf:20",
    ),
)

INTENT = IntentScript(
    search=INTENT_SEARCH,
    decisions=DECISIONS,
    gaps=[
        "Nobody has restored the mysql-backup dump since the 2026-04-16 migration (decision 0001 says so)."
    ],
    framings=[
        "Split the single-replica finding: HA deferred by decision; backup and restore drill still open."
    ],
)


def router() -> Router:
    """Every route of the homelab scenario, keyed by the first line of each system prompt."""
    return Router(
        {
            researcher_key("reliability"): reliability(),
            researcher_key("declarative"): declarative(),
            researcher_key("maintenance"): maintenance(),
            researcher_key("scalability"): scalability(),
            researcher_key("security"): security(),
            NUMBERS_KEY: numbers_challenger(
                [LATEST_LINES],
                why="the grep also counts commented-out images, a heredoc and a Kyverno pattern",
                gaps=["No finding times a restore: the backup CronJobs are counted, never exercised."],
                framings=["Count moving tags per running container, not per grep hit."],
            ),
            INTENT_KEY: intent_challenger(INTENT),
            SYNTH_KEY: synthesizer(
                ["coredns was scaled by hand (docs/runbooks/coredns-scaling.md) and no finding covers DNS."]
            ),
        }
    )
