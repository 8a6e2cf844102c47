"""Findings already solved elsewhere: each resolver on a small estate, and what it must not claim."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from raw_findings import raw_finding

from agents.offline.solved_elsewhere import solved_elsewhere
from domain.concerns import Concern
from domain.findings import Location, RawFinding
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


def finding(check: str, concern: Concern, subjects: list[tuple[str, str | None]]) -> RawFinding:
    locations = [Location(ref="x.yaml:1", subject=s, detail=d) for s, d in subjects]
    return raw_finding(check, locations, concern=concern)


def estate(tmp_path: Path, files: dict[str, str]) -> tuple[Toolbox, object]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return Toolbox(Jail(tmp_path), None, Ledger()), build_inventory(tmp_path)


KPS_RELEASE = """\
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: kube-prometheus-stack, namespace: monitoring}
    spec:
      chart:
        spec: {chart: kube-prometheus-stack, version: 65.1.0, sourceRef: {kind: HelmRepository, name: p}}
    """
ALERTS = finding(
    "REL-ALERT-GAPS",
    "reliability",
    [(f"alert-category/{c}", None) for c in ("oomkill", "cronjob-failure", "pvc-capacity")],
)


def test_kube_prometheus_default_rules_cover_job_failures_and_filling_volumes(tmp_path: Path) -> None:
    toolbox, inventory = estate(
        tmp_path,
        {
            "monitoring/release.yaml": KPS_RELEASE,
            "monitoring/values.yaml": "defaultRules:\n  create: true\n  rules:\n    etcd: false\n",
        },
    )
    solution = solved_elsewhere(ALERTS, inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None
    assert solution.where == "monitoring/values.yaml:1"
    assert solution.subjects == ["alert-category/cronjob-failure", "alert-category/pvc-capacity"]


def test_default_rules_switched_off_or_partly_off(tmp_path: Path) -> None:
    toolbox, inventory = estate(
        tmp_path,
        {
            "monitoring/release.yaml": KPS_RELEASE,
            "monitoring/values.yaml": "defaultRules:\n  create: false\n",
        },
    )
    assert solved_elsewhere(ALERTS, inventory, toolbox) is None  # type: ignore[arg-type]
    (tmp_path / "monitoring/values.yaml").write_text(
        "defaultRules:\n  rules:\n    kubernetesStorage: false\n"
    )
    toolbox, inventory = estate(tmp_path, {})
    solution = solved_elsewhere(ALERTS, inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None and solution.subjects == ["alert-category/cronjob-failure"]


def test_no_kube_prometheus_stack_no_claim(tmp_path: Path) -> None:
    toolbox, inventory = estate(tmp_path, {"values.yaml": "defaultRules:\n  create: true\n"})
    assert solved_elsewhere(ALERTS, inventory, toolbox) is None  # type: ignore[arg-type]


PSS = finding(
    "SEC-NO-PSS",
    "security",
    [("Namespace/-/apps", "missing enforce label"), ("Namespace/-/velero", "enforce=privileged")],
)


def test_api_server_pod_security_defaults_cover_unlabelled_namespaces_only(tmp_path: Path) -> None:
    toolbox, inventory = estate(
        tmp_path,
        {
            "cluster/admission.yaml": """\
        apiVersion: apiserver.config.k8s.io/v1
        kind: AdmissionConfiguration
        plugins:
          - name: PodSecurity
            configuration:
              apiVersion: pod-security.admission.config.k8s.io/v1
              kind: PodSecurityConfiguration
              defaults: {enforce: baseline, audit: restricted}
        """
        },
    )
    solution = solved_elsewhere(PSS, inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None
    assert solution.where == "cluster/admission.yaml:7"
    assert solution.subjects == ["Namespace/-/apps"]


def test_pod_security_defaults_at_privileged_solve_nothing(tmp_path: Path) -> None:
    toolbox, inventory = estate(
        tmp_path,
        {
            "admission.yaml": """\
        kind: PodSecurityConfiguration
        defaults: {enforce: privileged}
        """
        },
    )
    assert solved_elsewhere(PSS, inventory, toolbox) is None  # type: ignore[arg-type]


def test_cluster_wide_network_policy_reframes(tmp_path: Path) -> None:
    netpol = finding("SEC-NO-NETPOL", "security", [("Namespace/-/apps", None)])
    toolbox, inventory = estate(
        tmp_path,
        {
            "net/deny.yaml": """\
        apiVersion: cilium.io/v2
        kind: CiliumClusterwideNetworkPolicy
        metadata: {name: default-deny}
        spec: {endpointSelector: {}, ingress: [{}]}
        """
        },
    )
    solution = solved_elsewhere(netpol, inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None and solution.subjects == []
    assert solution.reframe is not None and "net/deny.yaml:2" in solution.reframe
    toolbox, inventory = estate(tmp_path / "other", {"net/np.yaml": "kind: NetworkPolicy\n"})
    assert solved_elsewhere(netpol, inventory, toolbox) is None  # type: ignore[arg-type]


def test_longhorn_recurring_backup_covers_longhorn_volumes_only(tmp_path: Path) -> None:
    pvcs = finding(
        "REL-PVC-NO-BACKUP",
        "reliability",
        [("PersistentVolumeClaim/apps/data", None), ("PersistentVolumeClaim/apps/scratch", None)],
    )
    toolbox, inventory = estate(
        tmp_path,
        {
            "storage/backup.yaml": """\
            apiVersion: longhorn.io/v1beta2
            kind: RecurringJob
            metadata: {name: nightly, namespace: longhorn-system}
            spec: {task: backup, cron: "0 2 * * *", groups: [default], retain: 7}
            """,
            "apps/pvcs.yaml": """\
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: data, namespace: apps}
            spec:
              storageClassName: longhorn
              accessModes: [ReadWriteOnce]
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: scratch, namespace: apps}
            spec:
              storageClassName: local-path
              accessModes: [ReadWriteOnce]
            """,
        },
    )
    solution = solved_elsewhere(pvcs, inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None
    assert solution.where == "storage/backup.yaml:2"
    assert solution.subjects == ["PersistentVolumeClaim/apps/data"]


def test_checks_without_a_resolver_are_untouched(tmp_path: Path) -> None:
    toolbox, inventory = estate(tmp_path, {"a.yaml": "kind: RecurringJob\n"})
    other = finding("MNT-NO-DEP-BOT", "maintenance", [])
    assert solved_elsewhere(other, inventory, toolbox) is None  # type: ignore[arg-type]


def test_an_accepted_risks_file_without_the_list_is_a_gap(tmp_path: Path) -> None:
    """A misspelled key must not silently accept nothing: the report says the file applied nothing."""
    from agents.offline.challenge_intent import challenge_intent
    from pipeline.context import RunContext
    from pipeline.settings import RunSettings

    (tmp_path / ".infra-audit.yaml").write_text(
        "accepted_risk:\n  - check: SEC-NO-NETPOL\n    reason: later\n"
    )
    ctx = RunContext(settings=RunSettings(estate=tmp_path), ledger=Ledger())
    outcome = challenge_intent([], ctx, "2026-11-20")
    assert outcome.gaps == [
        ".infra-audit.yaml has no 'accepted_risks' list (a misspelled key, or not a list); "
        "no accepted risk applied."
    ]


README = """\
    # platform

    ## Bootstrap (once)

    ```sh
    # install the controller, then hand over to it
    kubectl create namespace argocd
    helm install argocd argo/argo-cd -n argocd --version 7.7.10
    ```

    ### Then the root app

    ```sh
    kubectl apply -f bootstrap/root.yaml
    ```

    ## Operations

    ```sh
    # bootstrap a new node pool (a comment in a code block, not a heading)
    kubectl scale deployment web --replicas 3
    ```
    """


def steps(*refs: str) -> RawFinding:
    locations = [Location(ref=ref, subject=f"step {ref}") for ref in refs]
    return raw_finding("DEC-IMPERATIVE-DOCS", locations, concern="declarative")


def test_steps_under_a_bootstrap_heading_are_reframed_as_the_bootstrap(tmp_path: Path) -> None:
    """Steps under ``## Bootstrap (once)`` name that section, with a read of its line as evidence."""
    toolbox, inventory = estate(tmp_path, {"README.md": README})
    solution = solved_elsewhere(steps("README.md:7", "README.md:8"), inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None and solution.subjects == []
    assert solution.where == "README.md:3"
    assert solution.reframe is not None
    assert solution.reframe.startswith(
        "These are the one-time bootstrap under 'Bootstrap (once)' (README.md:3)"
    )
    [evidence] = solution.evidence
    assert toolbox.ledger.get(evidence).command == "sed -n '3,3p' README.md"


def test_steps_outside_a_bootstrap_section_stand(tmp_path: Path) -> None:
    """A step under ``## Operations`` (a ``# bootstrap ...`` shell comment in its code block is not a
    heading), one under a sub-heading that names no bootstrap, a script's step beside a bootstrap one,
    and no step at all: nothing is reframed."""
    toolbox, inventory = estate(tmp_path, {"README.md": README, "scripts/up.sh": "kubectl apply -f x\n"})
    for finding_ in (
        steps("README.md:21"),
        steps("README.md:7", "README.md:21"),
        steps("README.md:7", "README.md:14"),
        steps("README.md:7", "scripts/up.sh:1"),
        steps(),
    ):
        assert solved_elsewhere(finding_, inventory, toolbox) is None  # type: ignore[arg-type]


def test_steps_in_two_bootstrap_sections_are_not_one_bootstrap(tmp_path: Path) -> None:
    toolbox, inventory = estate(
        tmp_path, {"README.md": README, "docs/setup.md": "# Initial setup\n\nkubectl apply -f y\n"}
    )
    assert solved_elsewhere(steps("README.md:7", "docs/setup.md:3"), inventory, toolbox) is None  # type: ignore[arg-type]
    solution = solved_elsewhere(steps("docs/setup.md:3"), inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None and solution.where == "docs/setup.md:1"


OTHER_HEADINGS = """\
    Bootstrap
    =========

    kubectl apply -f bootstrap/root.yaml

    Day-2 operations
    ----------------

    kubectl apply -f hotfix.yaml

    <!--
    ## Bootstrap (once)
    -->
    kubectl delete pod stuck-0
    """


def test_underlined_headings_count_and_commented_out_ones_do_not(tmp_path: Path) -> None:
    """A setext ``Bootstrap`` heading holds its step; the step under ``Day-2 operations`` (underlined)
    and the one below a heading inside an HTML comment are not a bootstrap's. A repository named
    ``homelab-bootstrap`` does not make every section of its README one."""
    named = "# homelab-bootstrap\n\n## Day-2 operations\n\nkubectl delete pod x\n"
    toolbox, inventory = estate(tmp_path, {"docs/ops.md": OTHER_HEADINGS, "README.md": named})
    solution = solved_elsewhere(steps("docs/ops.md:4"), inventory, toolbox)  # type: ignore[arg-type]
    assert solution is not None and solution.where == "docs/ops.md:1"
    for ref in ("docs/ops.md:9", "docs/ops.md:14", "README.md:5"):
        assert solved_elsewhere(steps(ref), inventory, toolbox) is None, ref  # type: ignore[arg-type]
