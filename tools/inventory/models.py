"""Typed records of an estate: what the parsers produce and every check reads.

Each record keeps where it came from (``source``): ``path:line`` for code, ``cluster/namespace/kind/name``
for live objects. Paths are relative to the estate root, lines are 1-based. Values that the parser
could not resolve statically (a Terraform expression) keep their raw text in ``*_expr`` fields and
leave the resolved field ``None``; nothing is guessed.

No secret value is ever stored in a record: Secret manifests keep key names only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------------------- sources


class CodeRef(_Model):
    kind: Literal["code"] = "code"
    path: str = Field(description="Path relative to the estate root, with forward slashes.")
    line: int = Field(description="1-based line where the object starts.")
    end_line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class LiveRef(_Model):
    kind: Literal["live"] = "live"
    cluster: str
    namespace: str | None = None
    object_kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.cluster}/{self.namespace or '-'}/{self.object_kind}/{self.name}"


Source = Annotated[CodeRef | LiveRef, Field(discriminator="kind")]

Origin = Literal["terraform", "manifest", "helm", "live"]
"""How a record was defined: a Terraform resource, a YAML manifest, a Helm chart, or only seen live."""


# -------------------------------------------------------------------------------------- workloads

WorkloadKind = Literal["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"]
ProbeKind = Literal["readiness", "liveness", "startup"]


class Resources(_Model):
    cpu_request: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None


class SecurityContext(_Model):
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    read_only_root_filesystem: bool | None = None
    capabilities_add: list[str] = Field(default_factory=list)
    capabilities_drop: list[str] = Field(default_factory=list)


class Container(_Model):
    name: str
    image: str | None = Field(description="Image as written; Terraform interpolations kept raw.")
    image_resolved: str | None = Field(
        default=None, description="Image with variables substituted, when every part resolved."
    )
    init: bool = False
    probes: list[ProbeKind] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    security: SecurityContext = Field(default_factory=SecurityContext)
    pre_stop: bool = False
    ports: list[int] = Field(default_factory=list)
    source: Source
    image_line: int | None = Field(default=None, description="Line of the image attribute, for code.")


class Volume(_Model):
    name: str
    type: Literal["pvc", "host_path", "empty_dir", "config_map", "secret", "nfs", "other"]
    claim_name: str | None = None
    host_path: str | None = None


class Workload(_Model):
    kind: WorkloadKind
    name: str | None = Field(description="metadata.name; None when it could not be resolved.")
    namespace: str | None = None
    name_expr: str | None = None
    namespace_expr: str | None = None
    origin: Origin
    resource_type: str | None = Field(default=None, description="e.g. kubernetes_deployment_v1")
    address: str | None = Field(default=None, description="Terraform address, e.g. kubernetes_job.x")
    replicas: int | None = Field(default=None, description="None when unset (the API default is 1).")
    replicas_expr: str | None = None
    strategy: str | None = Field(default=None, description="RollingUpdate, Recreate or OnDelete.")
    max_surge: str | None = None
    max_unavailable: str | None = None
    termination_grace_period: int | None = None
    schedule: str | None = Field(default=None, description="CronJob schedule.")
    suspend: bool | None = None
    host_network: bool = False
    host_pid: bool = False
    host_ipc: bool = False
    pod_security: SecurityContext = Field(default_factory=SecurityContext)
    service_account: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    selector: dict[str, str] = Field(default_factory=dict)
    containers: list[Container] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    volume_claim_templates: list[PVC] = Field(default_factory=list)
    source: Source
    live: LiveRef | None = Field(default=None, description="The same workload seen live, if linked.")

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """Identity used to link code and live: (kind, namespace, name)."""
        return (self.kind, self.namespace, self.name)


class PVC(_Model):
    name: str | None
    namespace: str | None = None
    access_modes: list[str] = Field(default_factory=list)
    storage: str | None = None
    storage_class: str | None = None
    origin: Origin
    source: Source


Workload.model_rebuild()


# --------------------------------------------------------------------------- cluster-level objects


class Namespace(_Model):
    name: str | None
    name_expr: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    origin: Origin
    source: Source

    @property
    def pod_security(self) -> dict[str, str]:
        """The ``pod-security.kubernetes.io/*`` labels, keyed by mode (enforce, audit, warn)."""
        prefix = "pod-security.kubernetes.io/"
        return {k[len(prefix) :]: v for k, v in self.labels.items() if k.startswith(prefix)}


class PDB(_Model):
    name: str | None
    namespace: str | None = None
    selector: dict[str, str] = Field(default_factory=dict)
    min_available: str | None = None
    max_unavailable: str | None = None
    origin: Origin
    source: Source


class HPA(_Model):
    name: str | None
    namespace: str | None = None
    target_kind: str | None = None
    target_name: str | None = None
    min_replicas: int | None = None
    max_replicas: int | None = None
    origin: Origin
    source: Source


class NetworkPolicy(_Model):
    name: str | None
    namespace: str | None = None
    origin: Origin
    source: Source


class ResourceQuota(_Model):
    kind: Literal["ResourceQuota", "LimitRange"]
    name: str | None
    namespace: str | None = None
    origin: Origin
    source: Source


class PolicyRule(_Model):
    api_groups: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    verbs: list[str] = Field(default_factory=list)


class RBACRole(_Model):
    kind: Literal["Role", "ClusterRole"]
    name: str | None
    namespace: str | None = None
    rules: list[PolicyRule] = Field(default_factory=list)
    origin: Origin
    source: Source


class RBACSubject(_Model):
    kind: str
    name: str
    namespace: str | None = None


class RBACBinding(_Model):
    kind: Literal["RoleBinding", "ClusterRoleBinding"]
    name: str | None
    namespace: str | None = None
    role_kind: str | None = None
    role_name: str | None = None
    subjects: list[RBACSubject] = Field(default_factory=list)
    origin: Origin
    source: Source


class SecretManifest(_Model):
    """A Secret defined in code. Key names only, never values."""

    name: str | None
    namespace: str | None = None
    keys: list[str] = Field(default_factory=list)
    sops_encrypted: bool = False
    origin: Origin
    source: Source


class AlertRule(_Model):
    """A Prometheus alerting rule, wherever it is defined (PrometheusRule, Helm values, rule file)."""

    alert: str
    expr: str
    group: str | None = None
    source: Source
    wired: bool = Field(
        default=True, description="False when the file holding it is not referenced by any kustomization."
    )


# ------------------------------------------------------------------------------ policy engines

PolicyEngine = Literal["kyverno", "gatekeeper", "validating-admission-policy"]


class Policy(_Model):
    engine: PolicyEngine
    kind: str = Field(description="ClusterPolicy, Policy, a Gatekeeper constraint kind, ...")
    name: str | None
    namespace: str | None = None
    mode: str | None = Field(
        default=None,
        description="Audit/Enforce (Kyverno), deny/dryrun/warn (Gatekeeper), Deny/Warn/Audit (VAP).",
    )
    rule_modes: list[str] = Field(default_factory=list, description="Per-rule overrides, if any.")
    failure_policy: str | None = None
    origin: Origin
    source: Source


# ------------------------------------------------------------------------ releases and GitOps


class HelmRelease(_Model):
    """A Helm chart deployment: Terraform ``helm_release``, Flux ``HelmRelease`` or an Argo Helm source."""

    defined_by: Literal["terraform", "flux", "argocd"]
    name: str | None
    namespace: str | None = None
    chart: str | None = None
    version: str | None = Field(default=None, description="Chart version as written; None when unset.")
    version_line: int | None = None
    repository: str | None = None
    values_files: list[str] = Field(default_factory=list)
    set_keys: list[str] = Field(default_factory=list)
    create_namespace: bool = Field(
        default=False, description="The release creates its namespace (helm_release create_namespace = true)."
    )
    source: Source


class FluxKustomization(_Model):
    name: str | None
    namespace: str | None = None
    path: str | None = None
    source_ref: str | None = None
    prune: bool | None = None
    suspend: bool = False
    interval: str | None = None
    source: Source


class FluxSource(_Model):
    kind: Literal["GitRepository", "HelmRepository", "OCIRepository", "Bucket"]
    name: str | None
    namespace: str | None = None
    url: str | None = None
    ref: str | None = None
    source: Source


class ArgoApplication(_Model):
    name: str | None
    namespace: str | None = None
    project: str | None = None
    repo_url: str | None = None
    path: str | None = None
    chart: str | None = None
    target_revision: str | None = None
    automated: bool = False
    prune: bool = False
    self_heal: bool = False
    destination_namespace: str | None = Field(
        default=None, description="spec.destination.namespace: where the application's objects go."
    )
    sync_status: str | None = Field(default=None, description="Live only: Synced, OutOfSync, Unknown.")
    health_status: str | None = Field(default=None, description="Live only: Healthy, Degraded, ...")
    source: Source


class Kustomization(_Model):
    """A ``kustomization.yaml`` (the Kustomize file, not Flux's CRD)."""

    path: str = Field(description="Path of the kustomization file.")
    resources: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="Referenced local files that do not exist.")
    source: Source


# ------------------------------------------------------------------- Terraform escape hatches


class Provisioner(_Model):
    type: Literal["local-exec", "remote-exec", "file"]
    connection_host: str | None = None
    line: int


class EscapeHatch(_Model):
    """A ``null_resource`` or ``terraform_data``: imperative work hidden in a declarative tool."""

    resource_type: Literal["null_resource", "terraform_data"]
    address: str
    provisioners: list[Provisioner] = Field(default_factory=list)
    triggers: dict[str, str] = Field(default_factory=dict, description="Trigger name to raw expression.")
    timestamp_trigger: bool = False
    source: CodeRef


class IgnoreChanges(_Model):
    address: str = Field(description="Terraform address of the resource holding the lifecycle block.")
    paths: list[str] = Field(description="Attribute paths as written; ['all'] for ignore_changes = all.")
    marker: str | None = Field(
        default=None, description="A marker comment next to it, e.g. KYVERNO_LIFECYCLE_V1."
    )
    source: CodeRef


class TerraformModule(_Model):
    name: str
    source_url: str
    ref: str | None = Field(default=None, description="?ref= of a git source.")
    version: str | None = None
    kind: Literal["local", "git", "registry", "other"]
    source: CodeRef


class ProviderRequirement(_Model):
    name: str
    provider_source: str | None = None
    constraint: str | None = None
    source: CodeRef


class Backend(_Model):
    type: str
    defined_in: Literal["terraform", "terragrunt"]
    source: CodeRef


class TerraformVariable(_Model):
    name: str
    default: str | None = Field(default=None, description="The default, when it is a literal string/number.")
    source: CodeRef


class TerraformResource(_Model):
    """Any resource block, for counting and for cross-references (e.g. kubernetes_manifest kinds)."""

    type: str
    name: str
    manifest_kind: str | None = Field(default=None, description="For kubernetes_manifest: the object kind.")
    source: CodeRef


# ----------------------------------------------------------------------------- repo meta files


class DependencyBot(_Model):
    tool: Literal["renovate", "dependabot"]
    ecosystems: list[str] = Field(default_factory=list)
    source: CodeRef


class CIFile(_Model):
    system: Literal["github-actions", "gitlab-ci", "woodpecker", "drone", "jenkins", "circleci", "other"]
    validations: list[str] = Field(
        default_factory=list,
        description="Validation steps found: terraform-validate, terraform-fmt, tflint, kustomize-build, "
        "kubeconform, helm-lint, kyverno-test, yamllint, trivy, checkov, conftest.",
    )
    source: CodeRef


class ParseIssue(_Model):
    path: str
    line: int | None = None
    message: str


# ----------------------------------------------------------------------------- live-only state


class ContainerStatus(_Model):
    name: str
    ready: bool = False
    restart_count: int = 0
    waiting_reason: str | None = None
    last_terminated_reason: str | None = None


class PodState(_Model):
    name: str
    namespace: str
    phase: str | None = None
    node: str | None = None
    owner_kind: str | None = None
    owner_name: str | None = None
    containers: list[ContainerStatus] = Field(default_factory=list)
    source: LiveRef


class NodeState(_Model):
    name: str
    roles: list[str] = Field(default_factory=list)
    ready: bool = True
    cpu_allocatable_m: int | None = None
    memory_allocatable_b: int | None = None
    cpu_usage_m: int | None = None
    memory_usage_b: int | None = None
    kubelet_version: str | None = None
    source: LiveRef


class JobState(_Model):
    name: str
    namespace: str
    owner_cronjob: str | None = None
    succeeded: int = 0
    failed: int = 0
    completion_time: str | None = None
    source: LiveRef


class CronJobState(_Model):
    name: str
    namespace: str
    schedule: str | None = None
    suspend: bool = False
    last_schedule_time: str | None = None
    last_successful_time: str | None = None
    source: LiveRef


class EventRecord(_Model):
    namespace: str | None
    type: str | None = None
    reason: str | None = None
    object_kind: str | None = None
    object_name: str | None = None
    message: str | None = None
    count: int = 1
    source: LiveRef


class LiveObject(_Model):
    """Any live object by identity, for 'live objects no code defines'."""

    api_version: str
    kind: str
    namespace: str | None
    name: str
    managed_by: str | None = Field(default=None, description="app.kubernetes.io/managed-by or helm owner.")
    source: LiveRef


class ClusterInfo(_Model):
    name: str
    context: str | None = None
    server_version: str | None = None
    captured_at: str | None = None
    backend: Literal["live", "snapshot"]


class Link(_Model):
    """A workload defined in code and seen live, joined on kind/namespace/name."""

    kind: str
    namespace: str | None
    name: str
    code: CodeRef
    live: LiveRef
    replicas_code: int | None = None
    replicas_live: int | None = None
