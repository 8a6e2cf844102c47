"""SEC-* detections on hand-built inventories and tiny estates: exact counts, refs, subjects, measures,
what must not be reported, and that no secret value ever reaches a Detection."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from inventory_builder import code_ref, container, inventory, live_ref, live_state, refs, subjects, workload

from tools.checks.detections import security, security_cluster, security_rbac, security_repo, security_secrets
from tools.checks.spec import CheckContext
from tools.evidence import Ledger
from tools.inventory.inventory import Inventory
from tools.inventory.models import (
    CIFile,
    EscapeHatch,
    HelmRelease,
    Namespace,
    NetworkPolicy,
    Policy,
    PolicyRule,
    Provisioner,
    RBACRole,
    SecretManifest,
    SecurityContext,
    Volume,
)
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(text).lstrip("\n"))


def ctx(inv: Inventory) -> CheckContext:
    return CheckContext(inventory=inv, toolbox=Toolbox(Jail(inv.root), None, Ledger()))


def ns(name: str, *, live: bool = False, **labels: str) -> Namespace:
    source = live_ref("Namespace", None, name) if live else code_ref(f"{name}/namespace.yaml", 1)
    return Namespace(
        name=name,
        labels={f"pod-security.kubernetes.io/{k}": v for k, v in labels.items()},
        origin="live" if live else "manifest",
        source=source,
    )


# ------------------------------------------------------------------------------------ namespaces


def test_no_network_policy_per_workload_namespace(tmp_path: Path) -> None:
    code = [
        workload("Deployment", "shop", "cart"),
        workload("Deployment", "wiki", "wiki"),
        workload("Deployment", "ops", "npd"),
        workload("Deployment", "kube-system", "dns"),  # system: excluded
        workload("Deployment", None, "somewhere"),  # unknown namespace: not attributed
    ]
    live = live_state(
        workloads=[workload("Deployment", "default", "toolbox", live=True)],
        network_policies=[
            NetworkPolicy(
                name="deny", namespace="wiki", origin="live", source=live_ref("NetworkPolicy", "wiki", "deny")
            )
        ],
        namespaces=[ns("default", live=True)],
    )
    netpols = [
        NetworkPolicy(name="deny", namespace="ops", origin="manifest", source=code_ref("ops/np.yaml", 1))
    ]
    releases = [
        HelmRelease(defined_by="flux", name="kyverno", namespace="kyverno", source=code_ref("k/hr.yaml", 1))
    ]
    inv = inventory(
        tmp_path,
        live=live,
        workloads=code,
        network_policies=netpols,
        helm_releases=releases,
        namespaces=[ns("shop")],
    )
    d = security.no_network_policy(ctx(inv))
    assert (d.count, d.total) == (3, 5)
    assert subjects(d) == ["Namespace/default", "Namespace/kyverno", "Namespace/shop"]
    assert refs(d) == ["lab/-/Namespace/default", "k/hr.yaml:1", "shop/namespace.yaml:1"]


def test_no_pod_security_missing_or_privileged(tmp_path: Path) -> None:
    code = [
        ns("shop", enforce="restricted"),
        ns("web", enforce="baseline", warn="restricted"),
        ns("velero", enforce="privileged", warn="baseline"),
        ns("wiki", warn="restricted"),  # warn only: enforce missing
        ns("kube-system"),  # system: excluded
    ]
    live = live_state(
        namespaces=[ns("shop", live=True), ns("default", live=True), ns("kube-public", live=True)]
    )
    d = security.no_pod_security(ctx(inventory(tmp_path, live=live, namespaces=code)))
    assert (d.count, d.total) == (3, 5)
    assert subjects(d) == ["Namespace/default", "Namespace/velero", "Namespace/wiki"]
    assert refs(d) == ["lab/-/Namespace/default", "velero/namespace.yaml:1", "wiki/namespace.yaml:1"]
    assert [loc.detail for loc in d.locations] == [
        "no pod-security.kubernetes.io/enforce label",
        "enforce=privileged",
        "no pod-security.kubernetes.io/enforce label",
    ]
    assert d.measures == {"missing": 2, "privileged": 1}
    assert security.no_pod_security(ctx(inventory(tmp_path))).applicable is False


# ------------------------------------------------------------------------------------ containers


def secured(name: str, line: int, **context: Any) -> Any:
    c = container(name, source=code_ref("app.yaml", 5), image_line=line)
    return c.model_copy(update={"security": SecurityContext(**context)})


def test_privileged_escalation_and_capabilities(tmp_path: Path) -> None:
    containers = [
        secured("priv", 10, privileged=True),
        secured("escalate", 20, allow_privilege_escalation=True),
        secured("caps", 30, capabilities_add=["net_admin", "CAP_SYS_MODULE", "NET_BIND_SERVICE"]),
        secured("bind", 40, capabilities_add=["NET_BIND_SERVICE"]),
        secured("clean", 50, allow_privilege_escalation=False, privileged=False),
    ]
    d = security.privileged(
        ctx(inventory(tmp_path, workloads=[workload("DaemonSet", "net", "wg", containers=containers)]))
    )
    assert (d.count, d.total) == (3, 5)
    assert refs(d) == ["app.yaml:10", "app.yaml:20", "app.yaml:30"]
    assert [loc.detail for loc in d.locations] == [
        "privileged",
        "allowPrivilegeEscalation",
        "adds NET_ADMIN, SYS_MODULE",
    ]
    assert subjects(d)[0] == "DaemonSet/net/wg/priv"


def test_host_access(tmp_path: Path) -> None:
    code = [
        workload(
            "DaemonSet",
            "mon",
            "promtail",
            volumes=[Volume(name="logs", type="host_path", host_path="/var/log")],
        ),
        workload("DaemonSet", "net", "wg", host_network=True, host_pid=True),
        workload("Deployment", "web", "app", volumes=[Volume(name="d", type="pvc", claim_name="d")]),
    ]
    d = security.host_access(ctx(inventory(tmp_path, workloads=code)))
    assert (d.count, d.total) == (2, 3)
    assert [loc.detail for loc in d.locations] == ["hostPath /var/log", "hostNetwork, hostPID"]
    assert refs(d) == ["promtail.yaml:1", "wg.yaml:1"]


@pytest.mark.parametrize(
    ("pod", "own", "reason"),
    [
        ({}, {}, "no runAsNonRoot or runAsUser"),
        ({"run_as_non_root": True}, {}, None),
        ({}, {"run_as_user": 1000}, None),
        ({"run_as_user": 1000}, {}, None),
        ({"run_as_non_root": True}, {"run_as_user": 0}, None),  # the kubelet refuses to start it as root
        ({"run_as_user": 1000}, {"run_as_user": 0}, "runAsUser 0"),  # the container overrides the pod
        ({"run_as_non_root": True}, {"run_as_non_root": False}, "runAsNonRoot false"),
        ({}, {"run_as_user": 0}, "runAsUser 0"),
    ],
)
def test_root_reason(pod: dict[str, Any], own: dict[str, Any], reason: str | None) -> None:
    assert security.root_reason(SecurityContext(**pod), SecurityContext(**own)) == reason


def test_run_as_root_counts_init_containers(tmp_path: Path) -> None:
    containers = [secured("app", 10, run_as_non_root=True), secured("init", 5, run_as_user=0)]
    containers[1] = containers[1].model_copy(update={"init": True})
    d = security.run_as_root(
        ctx(inventory(tmp_path, workloads=[workload("Deployment", "a", "b", containers=containers)]))
    )
    assert (d.count, d.total, refs(d)) == (1, 2, ["app.yaml:5"])


# -------------------------------------------------------------------------------------- policies


def policy(engine: Any, name: str, mode: str | None, *, live: bool = False, **fields: Any) -> Policy:
    kind = {"kyverno": "ClusterPolicy", "gatekeeper": "K8sRequiredProbes"}.get(
        engine, "ValidatingAdmissionPolicyBinding"
    )
    source = live_ref(kind, None, name) if live else code_ref(f"policies/{name}.yaml", 1)
    return Policy(
        engine=engine,
        kind=kind,
        name=name,
        mode=mode,
        origin="live" if live else "manifest",
        source=source,
        **fields,
    )


def test_policy_audit_only(tmp_path: Path) -> None:
    code = [
        policy("kyverno", "audit", "Audit", failure_policy="Ignore"),
        policy("kyverno", "enforce", "Enforce"),
        policy("kyverno", "mixed", "Audit", rule_modes=["Audit", "Enforce"]),
        policy("gatekeeper", "dry", "dryrun"),
        policy("gatekeeper", "warn", "warn"),
        policy("gatekeeper", "deny", "deny"),
        policy("gatekeeper", "scoped", "scoped", rule_modes=["warn"]),
        policy("validating-admission-policy", "vap-warn", "Warn,Audit"),
        policy("validating-admission-policy", "vap-deny", "Deny,Audit"),
    ]
    live = live_state(
        policies=[
            policy("kyverno", "audit", "Audit", live=True),
            policy("kyverno", "live-only", None, live=True),
        ]
    )
    d = security.policy_audit_only(ctx(inventory(tmp_path, live=live, policies=code)))
    assert (d.count, d.total) == (6, 10)
    assert [s.rsplit("/", 1)[1] for s in subjects(d)] == [
        "audit",
        "dry",
        "warn",
        "scoped",
        "vap-warn",
        "live-only",
    ]
    assert refs(d)[0] == "policies/audit.yaml:1"
    assert d.measures == {"failure_ignore": 1}
    assert security.policy_audit_only(ctx(inventory(tmp_path))).applicable is False


# ------------------------------------------------------------------------------------------ RBAC


def role(
    name: str, *rules: PolicyRule, kind: Any = "ClusterRole", live: bool = False, ns_: str | None = None
) -> RBACRole:
    source = live_ref(kind, ns_, name) if live else code_ref(f"rbac/{name}.yaml", 1)
    return RBACRole(
        kind=kind,
        name=name,
        namespace=ns_,
        rules=list(rules),
        origin="live" if live else "manifest",
        source=source,
    )


def rule(groups: list[str], resources: list[str], verbs: list[str]) -> PolicyRule:
    return PolicyRule(api_groups=groups, resources=resources, verbs=verbs)


def rbac_inventory(tmp_path: Path) -> Inventory:
    code = [
        role("automation-admin", rule(["*"], ["*"], ["*"])),
        role(
            "power-user",
            rule(["", "apps"], ["pods"], ["get"]),
            rule([""], ["secrets"], ["get", "list", "watch"]),
        ),
        role(
            "apps-secrets", rule(["apps"], ["secrets"], ["get"])
        ),  # no such resource in apps: no Secret read
        role("writer", rule([""], ["secrets"], ["create"])),  # create is not read
        role("ns-admin", rule([""], ["*"], ["get"]), kind="Role", ns_="team"),  # namespaced: not cluster-wide
        role("deleter", rule(["batch"], ["jobs"], ["*"])),
    ]
    live = live_state(
        roles=[
            role("cluster-admin", rule(["*"], ["*"], ["*"]), live=True),
            role("system:controller:x", rule([""], ["secrets"], ["*"]), live=True),
            role("automation-admin", rule(["*"], ["*"], ["*"]), live=True),  # same as code: once
            role("live-reader", rule([], ["secrets"], ["list"]), live=True),
        ]
    )
    return inventory(tmp_path, live=live, roles=code)


def test_rbac_wildcard(tmp_path: Path) -> None:
    d = security_rbac.rbac_wildcard(ctx(rbac_inventory(tmp_path)))
    assert (d.count, d.total) == (3, 7)
    assert subjects(d) == ["ClusterRole/automation-admin", "Role/team/ns-admin", "ClusterRole/deleter"]
    assert refs(d)[0] == "rbac/automation-admin.yaml:1"


def test_rbac_secrets(tmp_path: Path) -> None:
    d = security_rbac.rbac_secrets(ctx(rbac_inventory(tmp_path)))
    assert (d.count, d.total) == (3, 6)
    assert subjects(d) == [
        "ClusterRole/automation-admin",
        "ClusterRole/power-user",
        "ClusterRole/live-reader",
    ]
    assert [loc.detail for loc in d.locations] == [
        "cluster-wide * on Secrets",
        "cluster-wide get, list, watch on Secrets",
        "cluster-wide list on Secrets",
    ]


# ------------------------------------------------------------------------------- plaintext secrets

CANARIES = (
    "CANARY-DOC-PW",
    "CANARY-TF-PW",
    "CANARY-URL-PW",
    "CANARY-BEARER-TOKEN",
    "CANARY-KEY-BODY",
    "CANARY-API-KEY",
    "CANARY-SECRET-YAML",
)
SECRET_FILES = {
    "stacks/db/main.tf": """
        resource "kubernetes_secret_v1" "root" {
          data = {
            password = "CANARY-TF-PW"
          }
        }
        locals {
          from_var     = { password = var.db_password }
          interpolated = { password = "${var.db_password}" }
          sneaky       = { password = "prefix-${var.db_password}" }
          blank        = { password = "" }
          key = <<-EOT
            -----BEGIN OPENSSH PRIVATE KEY-----
            CANARY-KEY-BODY
            -----END OPENSSH PRIVATE KEY-----
          EOT
        }
        """,
    "stacks/app/main.tf": """
        env { value = "postgres://app:CANARY-URL-PW@db:5432/app" }
        env { value = "postgres://app:${var.pw}@db:5432/app" }
        api_key = "CANARY-API-KEY"
        secret_name = "not-a-secret"
        """,
    "charts/values.yaml": """
        password: "{{ .Values.db.password }}"
        existingSecret: "db-credentials"
        token: "true"
        """,
    "scripts/notify.sh": """
        curl -H "Authorization: Bearer CANARY-BEARER-TOKEN" https://ntfy
        # Bearer tokens are documented elsewhere
        """,
    "secrets/sops.json": '{"password": "ENC[AES256_GCM,data:abcd,iv:x,tag:y,type:str]"}\n',
    "certs/ca.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "docs/setup.md": """
        Set `password: "changeme"` in your values, for example.
        Never commit `password: "<password>"`.
        export DB_PASSWORD="CANARY-DOC-PW"
        export DB_PASSWORD="hunter2hunter2"  # an example value
        """,
    "apps/shop/secret.yaml": """
        # FIXME move to SOPS
        apiVersion: v1
        kind: Secret
        metadata:
          name: storefront-db
          namespace: shop
        stringData:
          DATABASE_HOST: db
          DATABASE_PASSWORD: "CANARY-SECRET-YAML"
        """,
    "apps/velero/credentials.sops.yaml": """
        apiVersion: v1
        kind: Secret
        metadata:
          name: velero-credentials
        stringData:
          cloud: ENC[AES256_GCM,data:zzz,iv:a,tag:b,type:str]
        sops:
          version: 3.9.1
        """,
    "cluster/_snapshot.json": "{}",
    "cluster/core.v1.secrets.json": '{"items": [{"data": {"password": "CANARY-SNAPSHOT"}}]}\n',
}


def test_plaintext_secrets(tmp_path: Path) -> None:
    write(tmp_path, SECRET_FILES)
    secrets = [
        SecretManifest(
            name="storefront-db",
            namespace="shop",
            keys=["DATABASE_HOST", "DATABASE_PASSWORD"],
            origin="manifest",
            source=code_ref("apps/shop/secret.yaml", 2),
        ),
        SecretManifest(
            name="velero-credentials",
            namespace="velero",
            keys=["cloud"],
            sops_encrypted=True,
            origin="manifest",
            source=code_ref("apps/velero/credentials.sops.yaml", 1),
        ),
        SecretManifest(
            name="root", keys=["password"], origin="terraform", source=code_ref("stacks/db/main.tf", 1)
        ),
    ]
    d = security_secrets.plaintext_secret(ctx(inventory(tmp_path, secrets=secrets)))
    assert [(loc.ref, loc.subject) for loc in d.locations] == [
        ("docs/setup.md:3", "password assignment"),
        ("scripts/notify.sh:1", "bearer token"),
        ("stacks/app/main.tf:1", "URL credential"),
        ("stacks/app/main.tf:3", "password assignment"),
        ("stacks/db/main.tf:3", "password assignment"),
        ("stacks/db/main.tf:12", "private key"),
        ("apps/shop/secret.yaml:9", "Secret/shop/storefront-db"),
    ]
    assert (d.count, d.total) == (7, None)
    assert d.measures == {"locations": 7, "files": 5, "secret_manifests": 1}
    shown = d.model_dump_json()
    assert not [c for c in (*CANARIES, "CANARY-SNAPSHOT") if c in shown]


def test_plaintext_secrets_none(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": 'password = var.x\ntoken = "${var.t}"\n'})
    d = security_secrets.plaintext_secret(ctx(inventory(tmp_path)))
    assert (d.count, d.locations) == (0, [])


# ---------------------------------------------------------------------------- supply chain, API server


def test_image_verify_and_scan_missing(tmp_path: Path) -> None:
    write(tmp_path, {"docs/plan.md": "We will adopt cosign and trivy.\n"})
    d = security_repo.no_image_verify(ctx(inventory(tmp_path)))
    assert (d.count, d.total) == (2, 2)
    assert subjects(d) == ["image signature verification", "vulnerability scanning"]
    assert refs(d) == ["-", "-"]


def test_image_verify_present_scan_present(tmp_path: Path) -> None:
    """A policy record that verifies images and a CI step running a scanner; a bare YAML fragment
    naming verifyImages is not an admission rule (tests/precision has the look-alikes)."""
    write(tmp_path, {"policies/verify.yaml": "rules:\n  - verifyImages:\n      - imageReferences: ['x']\n"})
    assert security_repo.no_image_verify(ctx(inventory(tmp_path))).count == 2
    policy = Policy(
        engine="kyverno",
        kind="ClusterPolicy",
        name="verify",
        mode="Enforce",
        verifies_images=True,
        origin="manifest",
        source=code_ref("policies/verify.yaml", 1),
    )
    ci = CIFile(
        system="github-actions", validations=["grype"], source=code_ref(".github/workflows/ci.yml", 1)
    )
    d = security_repo.no_image_verify(ctx(inventory(tmp_path, policies=[policy], ci_files=[ci])))
    assert (d.count, d.total, d.locations) == (0, 2, [])


def test_trivy_operator_counts_as_scanning(tmp_path: Path) -> None:
    releases = [
        HelmRelease(defined_by="flux", name="trivy", chart="trivy-operator", source=code_ref("t.yaml", 1))
    ]
    d = security_repo.no_image_verify(ctx(inventory(tmp_path, helm_releases=releases)))
    assert subjects(d) == ["image signature verification"]
    ci_trivy = [CIFile(system="gitlab-ci", validations=["trivy"], source=code_ref(".gitlab-ci.yml", 1))]
    assert subjects(security_repo.no_image_verify(ctx(inventory(tmp_path, ci_files=ci_trivy)))) == [
        "image signature verification"
    ]


def test_apiserver_hardening_not_applicable_without_cluster_config(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"docs/a.md": "the kube-apiserver flags are managed by the provider\n", "app.yaml": "a: 1\n"},
    )
    d = security_cluster.apiserver_hardening(ctx(inventory(tmp_path)))
    assert (d.applicable, d.count) == (False, 0)


def test_apiserver_hardening_counts_what_is_missing(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "k3s/config.yaml": """
                secrets-encryption: true
                kube-apiserver-arg:
                  - oidc-issuer-url=https://auth
                """
        },
    )
    d = security_cluster.apiserver_hardening(ctx(inventory(tmp_path)))
    assert (d.count, d.total, subjects(d), refs(d)) == (1, 2, ["audit logging"], ["k3s/config.yaml:1"])


def test_apiserver_hardening_from_a_control_plane_provisioner(tmp_path: Path) -> None:
    hatch = EscapeHatch(
        resource_type="null_resource",
        address="null_resource.cfg",
        provisioners=[Provisioner(type="file", connection_host="var.master_host", line=5)],
        source=code_ref("platform/main.tf", 3),
    )
    d = security_cluster.apiserver_hardening(ctx(inventory(tmp_path, escape_hatches=[hatch])))
    assert (d.count, refs(d)) == (2, ["platform/main.tf:3", "platform/main.tf:3"])
