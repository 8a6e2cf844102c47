"""The intent challenger on decisions written the ways people write them, and on text it must not use.

Each test writes the decision into a small estate (``intent_estate.py``), runs the real checks and
the offline intent challenger, and asserts the exact verdict: its action, the ``path:line`` it cites,
the subjects it takes out, and what it must leave CONFIRMED. The negatives are the failure of the
phrase matcher this replaced: a sentence that shares a word with a check, but whose topic is
another, dropped the finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from intent_estate import BASE, TERRAFORM, challenge

pytestmark = pytest.mark.unit

CPU = "SCA-CPU-LIMIT"
MEM = "SCA-NO-MEM-LIMIT"


# ------------------------------------------------------------------ CPU limits, stated three ways


def test_a_one_line_rule_in_an_agent_guide_drops_cpu_limits_and_nothing_else(tmp_path: Path) -> None:
    guide = (
        "# Working in this repo\n\n## Resources\n\n"
        "- Never set CPU limits: CFS throttling stalls bursty pods. Requests only.\n"
        "- Always set a memory limit.\n"
    )
    verdicts = challenge(tmp_path, {"AGENTS.md": guide}, [CPU, MEM])
    assert (verdicts[CPU].action, verdicts[CPU].documented_at) == ("DROPPED", "AGENTS.md:5")
    assert verdicts[CPU].reason.startswith("By design: AGENTS.md:5 records this as deliberate")
    assert verdicts[MEM].action == "CONFIRMED"  # "always set a memory limit" is a rule against it


def test_an_adr_without_any_intent_phrase_drops_cpu_limits(tmp_path: Path) -> None:
    adr = (
        "# 7. Requests without limits for CPU\n\nStatus: accepted\n\n## Context\n\n"
        "Throttled pods showed latency spikes while the nodes idled. Memory limits stay.\n\n"
        "## Decision\n\nContainers get a CPU request sized from usage and no CPU limit.\n\n"
        "## Consequences\n\nA busy pod can borrow idle CPU on its node.\n"
    )
    verdicts = challenge(tmp_path, {"docs/adr/0007-cpu.md": adr}, [CPU, MEM])
    assert (verdicts[CPU].action, verdicts[CPU].documented_at) == ("DROPPED", "docs/adr/0007-cpu.md:11")
    assert verdicts[MEM].action == "CONFIRMED"


def test_a_faq_heading_drops_cpu_limits(tmp_path: Path) -> None:
    faq = (
        "# FAQ\n\n## Why no CPU limits?\n\n"
        "CFS throttling made the detector drop frames. Requests reserve what each pod needs.\n"
    )
    verdicts = challenge(tmp_path, {"docs/faq.md": faq}, [CPU, MEM])
    assert (verdicts[CPU].action, verdicts[CPU].documented_at) == ("DROPPED", "docs/faq.md:3")
    assert verdicts[MEM].action == "CONFIRMED"


def test_an_adr_that_is_not_accepted_decides_nothing(tmp_path: Path) -> None:
    adr = (
        "# 7. No CPU limits\n\nStatus: superseded by 0009\n\n## Decision\n\n"
        "Containers get a CPU request and no CPU limit, on purpose.\n"
    )
    verdicts = challenge(tmp_path, {"docs/adr/0007-cpu.md": adr}, [CPU])
    assert verdicts[CPU].action == "CONFIRMED"
    assert verdicts[CPU].documented_at is None


def test_a_faq_that_explains_a_limit_does_not_drop_its_absence(tmp_path: Path) -> None:
    faq = (
        "## Why no memory limit on grafana?\n\n"
        "We do not set a memory limit on grafana on purpose; CPU limits are still set everywhere.\n"
    )
    verdicts = challenge(tmp_path, {"docs/faq.md": faq}, [CPU, MEM])
    assert verdicts[CPU].action == "CONFIRMED"
    assert verdicts[MEM].action == "CORRECTED"
    assert (verdicts[MEM].documented_at, verdicts[MEM].removed_subjects) == (
        "docs/faq.md:1",
        ["Deployment/apps/grafana/grafana"],
    )
    assert verdicts[MEM].measured_value == 2


# --------------------------------------------------------- the other decisions of the seed audit


def test_the_lifecycle_marker_convention_reframes_ignore_changes(tmp_path: Path) -> None:
    contributing = (
        "## Terraform conventions\n\n"
        "- Every `kubernetes_deployment*` carries `lifecycle { ignore_changes = [...dns_config] }` with "
        "the `# KYVERNO_LIFECYCLE_V1` marker: Kyverno mutates pod templates.\n"
    )
    verdict = challenge(tmp_path, {"CONTRIBUTING.md": contributing}, ["DEC-IGNORE-CHANGES"])[
        "DEC-IGNORE-CHANGES"
    ]
    assert (verdict.action, verdict.documented_at) == ("REFRAMED", "CONTRIBUTING.md:3")
    assert verdict.framing == (
        "The marked ignore_changes blocks are the estate's convention (CONTRIBUTING.md:3), not drift to "
        "remove; the risk is a block or workload without the marker."
    )


def test_a_rule_against_ignore_changes_is_not_a_decision_for_them(tmp_path: Path) -> None:
    contributing = "- We never add ignore_changes blocks to silence a flapping plan; fix the drift.\n"
    verdict = challenge(tmp_path, {"CONTRIBUTING.md": contributing}, ["DEC-IGNORE-CHANGES"])
    assert verdict["DEC-IGNORE-CHANGES"].action == "CONFIRMED"


def test_audit_mode_by_policy_is_reframed_not_dropped(tmp_path: Path) -> None:
    doc = "# Security\n\nPolicy: Kyverno policies run in Audit mode; each moves to Enforce after a clean week.\n"  # noqa: E501
    verdict = challenge(tmp_path, {"docs/security.md": doc}, ["SEC-POLICY-AUDIT-ONLY"])[
        "SEC-POLICY-AUDIT-ONLY"
    ]
    assert (verdict.action, verdict.documented_at) == ("REFRAMED", "docs/security.md:3")
    assert verdict.framing is not None
    assert verdict.framing.startswith("Audit mode is a documented decision (docs/security.md:3)")
    assert "staged move to Enforce" in verdict.framing


def test_a_policy_for_one_named_policy_takes_out_that_one_only(tmp_path: Path) -> None:
    doc = "Policy: `require-requests` stays in Audit mode until the charts set requests.\n"
    verdict = challenge(tmp_path, {"docs/security.md": doc}, ["SEC-POLICY-AUDIT-ONLY"])[
        "SEC-POLICY-AUDIT-ONLY"
    ]
    assert (verdict.action, verdict.documented_at) == ("CORRECTED", "docs/security.md:1")
    assert verdict.removed_subjects == ["ClusterPolicy/-/require-requests"]
    assert verdict.measured_value == 1
    assert verdict.framing is not None and "Audit mode is a documented decision" in verdict.framing


def test_a_rule_against_audit_mode_leaves_the_finding(tmp_path: Path) -> None:
    doc = "We never leave a policy in Audit mode for more than a week.\n"
    verdict = challenge(tmp_path, {"README.md": doc}, ["SEC-POLICY-AUDIT-ONLY"])["SEC-POLICY-AUDIT-ONLY"]
    assert verdict.action == "CONFIRMED"


MYSQL_ADR = """\
# 4. MySQL runs standalone

- Status: accepted

## Decision

One `mysql` StatefulSet with one replica. High availability is deferred until a second consumer needs it.

## Consequences

- A node drain takes MySQL down for a restart. Accepted.
- One replica on purpose; backups of its volume are a separate, open item.
"""


def test_a_standalone_database_is_reframed_and_its_backup_stays_open(tmp_path: Path) -> None:
    docs = {"docs/decisions/0004-mysql.md": MYSQL_ADR}
    verdicts = challenge(tmp_path, docs, ["SCA-SINGLETON-INFRA", "REL-SINGLE-REPLICA", "REL-PVC-NO-BACKUP"])
    single = verdicts["SCA-SINGLETON-INFRA"]  # mysql is its only subject: the finding stays, reframed
    assert (single.action, single.documented_at) == ("REFRAMED", "docs/decisions/0004-mysql.md:1")
    assert single.removed_subjects == []
    assert single.framing == (
        "One instance by decision for mysql (docs/decisions/0004-mysql.md:1): HA is deferred, not solved; "
        "backup, a rehearsed restore and connection pooling stay open."
    )
    replicas = verdicts["REL-SINGLE-REPLICA"]  # mysql leaves the count, its accepted risk stays in view
    assert (replicas.action, replicas.removed_subjects, replicas.measured_value) == (
        "CORRECTED",
        ["StatefulSet/dbaas/mysql"],
        3,
    )
    assert replicas.framing == single.framing
    assert verdicts["REL-PVC-NO-BACKUP"].action == "CONFIRMED"  # "an open item" decides nothing


def _terraform_with(comment: str) -> str:
    return TERRAFORM.replace(
        'resource "null_resource" "seed" {', f'{comment}\nresource "null_resource" "seed" {{'
    )


def test_a_comment_on_a_deliberate_timestamp_trigger_takes_out_that_resource(tmp_path: Path) -> None:
    tf = _terraform_with("# The seed job re-runs on every apply on purpose: it is idempotent and cheap.")
    verdict = challenge(tmp_path, {"stacks/app/main.tf": tf}, ["DEC-TIMESTAMP-TRIGGER"])[
        "DEC-TIMESTAMP-TRIGGER"
    ]
    assert (verdict.action, verdict.documented_at) == ("CORRECTED", "stacks/app/main.tf:7")
    assert verdict.removed_subjects == ["null_resource.seed"]
    assert verdict.measured_value == 1  # rotate has no comment: it stays


def test_a_comment_about_another_topic_takes_out_nothing(tmp_path: Path) -> None:
    tf = _web_comment("# No memory limit on purpose (see the ignore_changes note).")
    verdicts = challenge(tmp_path, {"stacks/app/main.tf": tf}, ["DEC-IGNORE-CHANGES", MEM])
    assert verdicts["DEC-IGNORE-CHANGES"].action == "CONFIRMED"
    assert verdicts[MEM].action == "CORRECTED"
    assert verdicts[MEM].removed_subjects == ["Deployment/apps/web/web"]


def _web_comment(comment: str) -> str:
    old = 'resource "kubernetes_deployment_v1" "web" {'
    return TERRAFORM.replace(old, f"{comment}\n{old}")


# ------------------------------------------------------------------- tables of known exceptions


def test_an_exception_table_takes_out_the_workload_of_its_row_for_its_topic_only(tmp_path: Path) -> None:
    table = (
        "## Known exceptions\n\n| Workload | Exception | Why |\n|---|---|---|\n"
        "| frigate | privileged | the Coral TPU needs /dev/bus/usb |\n"
        "| coral | hostNetwork, by design | mDNS discovery |\n"
    )
    verdict = challenge(tmp_path, {"docs/security.md": table}, ["SEC-PRIVILEGED"])["SEC-PRIVILEGED"]
    assert (verdict.action, verdict.documented_at) == ("CORRECTED", "docs/security.md:5")
    assert verdict.removed_subjects == ["Deployment/apps/frigate/frigate"]
    assert verdict.measured_value == 1


# ---------------------------------------------------------------- LimitRange defaults by policy

LIMITRANGE_POLICY = """\
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: add-default-limitrange
spec:
  rules:
    - name: limitrange
      match:
        any:
          - resources:
              kinds: [Namespace]{names}
      generate:
        apiVersion: v1
        kind: LimitRange
        name: default-limits
        namespace: "{{{{request.object.metadata.name}}}}"
        synchronize: true
        data:
          spec:
            limits:
              - type: Container
                defaultRequest: {{cpu: 100m, memory: 128Mi}}
                default: {{memory: 512Mi}}
"""


def test_limitrange_defaults_generated_by_policy_cover_quotas_requests_and_memory_limits(
    tmp_path: Path,
) -> None:
    docs = {"policies/limitrange.yaml": LIMITRANGE_POLICY.format(names="")}
    verdicts = challenge(tmp_path, docs, ["SCA-NO-QUOTA", "SCA-NO-REQUESTS", MEM, CPU])
    for check in ("SCA-NO-QUOTA", "SCA-NO-REQUESTS", MEM):
        assert (verdicts[check].action, verdicts[check].documented_at) == (
            "DROPPED",
            "policies/limitrange.yaml:14",
        ), check
    assert verdicts[CPU].action == "CONFIRMED"  # a LimitRange default limit for memory says nothing of CPU


def test_a_generated_limitrange_for_one_namespace_covers_that_namespace_only(tmp_path: Path) -> None:
    docs = {
        "policies/limitrange.yaml": LIMITRANGE_POLICY.format(names="\n              names: [dbaas]"),
        "README.md": "LimitRange defaults are generated on purpose by Kyverno.\n",
    }
    verdict = challenge(tmp_path, docs, ["SCA-NO-QUOTA"])["SCA-NO-QUOTA"]
    assert (verdict.action, verdict.documented_at) == ("CORRECTED", "policies/limitrange.yaml:15")
    assert verdict.removed_subjects == ["Namespace/dbaas"]


# ---------------------------------------------- never drop on a sentence about another topic

BASE_GRAFANA = BASE["apps/grafana.yaml"]
ABOUT_MEMORY = "CPU limits stay on every container, and memory limits are removed on purpose."


@pytest.mark.parametrize(
    ("form", "files", "memory"),
    [
        (
            "adr",
            {
                "docs/adr/0009-memory.md": "# 9. Memory\n\nStatus: accepted\n\n## Decision\n\n"
                + f"{ABOUT_MEMORY}\n"
            },
            "DROPPED",
        ),
        ("policy", {"docs/ops.md": f"Policy: {ABOUT_MEMORY}\n"}, "DROPPED"),
        ("faq", {"docs/faq.md": f"## Why no memory limits?\n\n{ABOUT_MEMORY}\n"}, "DROPPED"),
        ("rule", {"AGENTS.md": f"- {ABOUT_MEMORY}\n"}, "DROPPED"),
        ("prose", {"README.md": f"{ABOUT_MEMORY}\n"}, "DROPPED"),
        (
            "exception",
            {
                "docs/x.md": "## Known exceptions\n\n| Workload | Exception |\n|---|---|\n"
                + f"| grafana | {ABOUT_MEMORY} |\n"
            },
            "CORRECTED",
        ),
        ("comment", {"apps/grafana.yaml": f"# {ABOUT_MEMORY}\n" + BASE_GRAFANA}, "CORRECTED"),
    ],
)
def test_a_decision_on_memory_limits_never_drops_cpu_limits(
    tmp_path: Path, form: str, files: dict[str, str], memory: str
) -> None:
    verdicts = challenge(tmp_path, files, [CPU, MEM])
    assert verdicts[CPU].action == "CONFIRMED", form
    assert verdicts[CPU].documented_at is None
    assert verdicts[MEM].action == memory, form


@pytest.mark.parametrize(
    ("text", "check", "kept"),
    [
        ("Alerting goes to Slack on purpose, not PagerDuty.", "REL-ALERT-GAPS", "CONFIRMED"),
        (
            "The `cluster/` directory is a snapshot on purpose; never edit it.",
            "REL-PVC-NO-BACKUP",
            "CONFIRMED",
        ),
        ("Privileged containers are allowed on purpose for the GPU agents.", "SEC-NO-PSS", "CONFIRMED"),
        ("Privileged containers are allowed on purpose for the GPU agents.", "SEC-PRIVILEGED", "DROPPED"),
    ],
)
def test_a_shared_word_is_not_a_shared_topic(tmp_path: Path, text: str, check: str, kept: str) -> None:
    verdict = challenge(tmp_path, {"README.md": f"# Notes\n\n{text}\n"}, [check])[check]
    assert verdict.action == kept
    assert verdict.documented_at == ("README.md:3" if kept == "DROPPED" else None)


def test_the_homelab_guide_wording_on_its_own(tmp_path: Path) -> None:
    guide = (
        "- **All CPU limits are removed cluster-wide, on purpose.** Every container sets a CPU *request*\n"
        "  and a *memory* limit, never a CPU limit.\n"
        "- Memory limits are required (the `require-requests` Kyverno policy only audits the request "
        "today).\n"
    )
    verdicts = challenge(tmp_path, {"CLAUDE.md": guide}, [CPU, MEM, "SEC-POLICY-AUDIT-ONLY"])
    assert (verdicts[CPU].action, verdicts[CPU].documented_at) == ("DROPPED", "CLAUDE.md:1")
    assert verdicts[MEM].action == "CONFIRMED"
    assert verdicts["SEC-POLICY-AUDIT-ONLY"].action == "CONFIRMED"


def test_a_status_line_alone_does_not_make_a_readme_an_adr(tmp_path: Path) -> None:
    readme = "# Lab\n\nStatus: beta\n\n- CPU limits are removed on purpose.\n"
    verdicts = challenge(tmp_path, {"README.md": readme}, [CPU])
    assert (verdicts[CPU].action, verdicts[CPU].documented_at) == ("DROPPED", "README.md:5")


def test_a_line_of_a_faq_answer_is_read_with_its_question(tmp_path: Path) -> None:
    faq = "## Why no PDB for grafana?\n\nIt is deliberately left without one: one replica, nothing to keep.\n"
    verdicts = challenge(tmp_path, {"docs/faq.md": faq}, [CPU])
    assert verdicts[CPU].action == "CONFIRMED"  # the question is about PDBs, the answer's words too


def test_a_decision_search_past_its_cap_says_what_it_did_not_read(tmp_path: Path) -> None:
    from intent_estate import challenge_outcome

    noise = "".join(f"- item {i} is kept on purpose\n" for i in range(1001))
    verdicts, gaps = challenge_outcome(
        tmp_path, {"docs/a-noise.md": noise, "docs/z.md": "- No CPU limits, on purpose.\n"}, [CPU]
    )
    assert verdicts[CPU].action == "CONFIRMED"  # past the cap: not read, and said so
    (gap,) = [g for g in gaps if g.startswith("The search for decisions (rg ")]
    assert gap.endswith(
        "matched 1002 lines; only the first 1000 were read, so decisions written past them were not applied."
    )


def _stateful_set(name: str, comment: str) -> str:
    return (
        f'{comment}\nresource "kubernetes_stateful_set_v1" "{name}" {{\n'
        f'  metadata {{\n    name      = "{name}"\n    namespace = "{name}"\n  }}\n'
        '  spec {\n    replicas     = 1\n    service_name = "x"\n'
        '    update_strategy {\n      type = "OnDelete"\n    }\n'
        f'    template {{\n      spec {{\n        container {{\n          name  = "{name}"\n'
        f'          image = "hashicorp/{name}:1.18.1"\n        }}\n      }}\n    }}\n  }}\n}}\n'
    )


def test_a_comment_giving_the_reason_for_a_setting_reframes_that_record(tmp_path: Path) -> None:
    """ "OnDelete: ..., so pods are rolled by hand" above vault explains the choice, written the common way
    (no "on purpose"): a note, so vault is framed and still counted. etcd's note states no topic, and
    consul's is a pending item: neither says anything."""
    tf = "\n".join(
        [
            _stateful_set(
                "vault", "# OnDelete: a new vault pod comes up sealed, so pods are rolled by hand."
            ),
            _stateful_set("etcd", "# etcd members are slow to join, so give them time."),
            _stateful_set("consul", "# TODO: OnDelete for now, because the upgrade job is not ready."),
        ]
    )
    verdict = challenge(tmp_path, {"stacks/state/main.tf": tf}, ["REL-STS-ONDELETE"], base=False)[
        "REL-STS-ONDELETE"
    ]
    assert (verdict.action, verdict.documented_at) == ("REFRAMED", "stacks/state/main.tf:1")
    assert verdict.removed_subjects == [] and verdict.measured_value is None  # still 3 of 3
    assert verdict.framing == (
        "OnDelete by decision for vault (stacks/state/main.tf:1): every upgrade still waits for someone to "
        "delete the pods by hand; script that roll, or remove what forces it."
    )


@pytest.mark.parametrize(
    "comment",
    [
        "# probes disabled until we fix the health endpoint",
        "# No memory limit until the heap is sized. TODO",
        "# temporarily no memory limit, otherwise it OOMs",
        "# no memory limit because of a leak, see issue #42 -- revert when fixed",
    ],
)
def test_a_note_about_a_pending_fix_says_nothing(tmp_path: Path, comment: str) -> None:
    verdicts = challenge(tmp_path, {"stacks/app/main.tf": _web_comment(comment)}, [MEM])
    assert (verdicts[MEM].action, verdicts[MEM].framing) == ("CONFIRMED", None)


def test_a_note_giving_an_end_frames_its_record_and_takes_nothing_out(tmp_path: Path) -> None:
    """ "No memory limit until ..." above web, with no intent phrase: an explanation, not an accepted
    risk. Memory limits have no framing of their own: the note's words are quoted."""
    tf = _web_comment("# No memory limit until the JVM heap is sized from a week of usage.")
    verdict = challenge(tmp_path, {"stacks/app/main.tf": tf}, [MEM])[MEM]
    assert (verdict.action, verdict.documented_at, verdict.removed_subjects) == (
        "REFRAMED",
        "stacks/app/main.tf:19",
        [],
    )
    assert verdict.framing == (
        'Explained beside the code at stacks/app/main.tf:19 ("No memory limit until the JVM heap is sized '
        'from a week of usage."): an explanation, not an accepted risk; decide it where decisions are kept, '
        "or fix it."
    )


FRIGATE_ADR = (
    "# 0004. frigate runs privileged\n\nStatus: accepted\n\n## Decision\n\n"
    "The frigate Deployment runs privileged: the Coral TPU is a USB device.\n"
)


def test_a_rule_that_asks_for_a_decision_record_is_not_one(tmp_path: Path) -> None:
    """ "Privileged containers need a decision record" is how to decide, not a decision: only frigate,
    which has its record, leaves the count; coral, privileged with no record, stays."""
    guide = "# Contributing\n\n- Privileged containers need a decision record in docs/decisions/.\n"
    docs = {"CONTRIBUTING.md": guide, "docs/decisions/0004-frigate.md": FRIGATE_ADR}
    verdict = challenge(tmp_path, docs, ["SEC-PRIVILEGED"])["SEC-PRIVILEGED"]
    assert (verdict.action, verdict.documented_at) == ("CORRECTED", "docs/decisions/0004-frigate.md:1")
    assert verdict.removed_subjects == ["Deployment/apps/frigate/frigate"]
    alone = challenge(tmp_path / "alone", {"CONTRIBUTING.md": guide}, ["SEC-PRIVILEGED"])["SEC-PRIVILEGED"]
    assert (alone.action, alone.documented_at) == ("CONFIRMED", None)


def test_a_decision_on_a_workload_covers_its_container_of_another_name(tmp_path: Path) -> None:
    """app-template names every container ``app``: the ADR names the workload, frigate, and that is
    what its container ``Deployment/apps/frigate/app`` is about."""
    frigate = BASE["apps/frigate.yaml"].replace("        - name: frigate\n", "        - name: app\n")
    docs = {"apps/frigate.yaml": frigate, "docs/decisions/0004-frigate.md": FRIGATE_ADR}
    verdict = challenge(tmp_path, docs, ["SEC-PRIVILEGED"])["SEC-PRIVILEGED"]
    assert (verdict.action, verdict.removed_subjects) == ("CORRECTED", ["Deployment/apps/frigate/app"])


def test_manual_sync_explains_an_app_out_of_sync_not_one_degraded() -> None:
    from agents.offline.decision_scope import applies as _applies
    from domain.findings import Location
    from tools.checks.spec import load_topics

    topic = load_topics()["manual-sync"]
    details = {
        "live: sync OutOfSync, health Healthy": True,
        "live: sync Unknown, health Progressing": True,
        "live: sync Synced, health Degraded": False,
        "live: sync OutOfSync, health Missing": False,
    }
    for detail, covered in details.items():
        assert (
            _applies(topic, Location(ref="a.yaml:2", subject="Application/argocd/a", detail=detail))
            is covered
        )


@pytest.mark.parametrize(
    "rule",
    [
        "Privileged containers need a decision record in docs/decisions/.",
        "Privileged containers must be approved by the platform team.",
        "Privileged containers must be documented in an ADR.",
        "Privileged containers must be recorded in docs/decisions/ first.",
        "Privileged containers go through the exception process.",
    ],
)
def test_a_gate_on_privileged_containers_takes_none_out(tmp_path: Path, rule: str) -> None:
    """A guide's rule for how privileged containers get decided is not a decision that they are fine:
    frigate and coral, with no record each, stay."""
    guide = f"# Contributing\n\n- {rule}\n"
    verdict = challenge(tmp_path, {"CONTRIBUTING.md": guide}, ["SEC-PRIVILEGED"])["SEC-PRIVILEGED"]
    assert (verdict.action, verdict.removed_subjects) == ("CONFIRMED", [])


def test_a_decision_on_a_workload_named_app_is_not_about_every_container_named_app(tmp_path: Path) -> None:
    """An ADR for the ``app`` Deployment covers it, not frigate's container that is also called ``app``."""
    frigate = BASE["apps/frigate.yaml"].replace("        - name: frigate\n", "        - name: app\n")
    app = BASE["apps/coral.yaml"].replace("coral", "app")
    adr = "# 0005. app runs privileged\n\nStatus: accepted\n\n## Decision\n\n"
    adr += "The app Deployment runs privileged.\n"
    docs = {"apps/frigate.yaml": frigate, "apps/coral.yaml": app, "docs/decisions/0005-app.md": adr}
    verdict = challenge(tmp_path, docs, ["SEC-PRIVILEGED"])["SEC-PRIVILEGED"]
    assert (verdict.action, verdict.removed_subjects) == ("CORRECTED", ["Deployment/apps/app/app"])


def test_a_decision_in_the_docs_wins_over_a_note_read_before_it(tmp_path: Path) -> None:
    """web's note is read first (``stacks/`` sorts before ``wiki/``), then a FAQ takes web out: the
    verdict takes it out, with no note's framing that would keep it counted."""
    tf = _web_comment("# No memory limit until the JVM heap is sized from a week of usage.")
    faq = "## Why no memory limit on web?\n\nWe do not set a memory limit on web on purpose.\n"
    verdict = challenge(tmp_path, {"stacks/app/main.tf": tf, "wiki/faq.md": faq}, [MEM])[MEM]
    assert (verdict.action, verdict.removed_subjects, verdict.framing) == (
        "CORRECTED",
        ["Deployment/apps/web/web"],
        None,
    )
    assert verdict.documented_at == "wiki/faq.md:1"


TWO_DOCUMENTS = """\
# No memory limit on purpose: the JVM sizes its own heap.
apiVersion: apps/v1
kind: Deployment
metadata: {name: first, namespace: apps}
spec:
  template:
    spec:
      containers:
        - name: first
          image: example/first:1.0.0
          resources: {requests: {cpu: 100m, memory: 64Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: second, namespace: apps}
spec:
  template:
    spec:
      containers:
        - name: second
          image: example/second:1.0.0
          resources: {requests: {cpu: 100m, memory: 64Mi}}
"""


def test_a_comment_above_a_yaml_document_is_about_that_document_only(tmp_path: Path) -> None:
    """The second document's container is not inside the first's record: a YAML document has no end
    line, and the record a line belongs to is the nearest one starting above it."""
    verdict = challenge(tmp_path, {"apps/two.yaml": TWO_DOCUMENTS}, [MEM], base=False)[MEM]
    assert (verdict.action, verdict.removed_subjects) == ("CORRECTED", ["Deployment/apps/first/first"])


def test_a_topic_whose_only_where_is_not_a_regex_is_refused_when_loaded() -> None:
    from pydantic import ValidationError

    from tools.checks.spec import TopicSpec

    with pytest.raises(ValidationError, match="only_where"):
        TopicSpec(key="x", stated=("x",), on_decision="drop", only_where="sync (OutOfSync")
