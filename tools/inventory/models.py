"""Typed records of an estate: what the parsers produce and every check reads.

Each record keeps where it came from (``source``): ``path:line`` for code, ``cluster/namespace/kind/name``
for live objects. Paths are relative to the estate root, lines are 1-based. Values that the parser
could not resolve statically (a Terraform expression) keep their raw text in ``*_expr`` fields and
leave the resolved field ``None``; nothing is guessed.

No secret value is ever stored in a record: Secret manifests keep key names only, a secret
variable's default is a fingerprint, and every free-text field (``EstateText``: URLs, raw expressions,
messages) passes the redactor when the record is built.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PrivateAttr

from domain.unread import EVERY_KIND as EVERY_KIND
from domain.unread import SkipReason as SkipReason

# Re-exported: every record type is importable from tools.inventory.models, wherever it is defined.
from tools.inventory.backup_models import BackupSchedule as BackupSchedule
from tools.inventory.container_models import Container as Container
from tools.inventory.container_models import ProbeKind as ProbeKind
from tools.inventory.container_models import Resources as Resources
from tools.inventory.container_models import SecurityContext as SecurityContext
from tools.inventory.container_models import Volume as Volume
from tools.inventory.helm_models import HelmRender as HelmRender
from tools.inventory.live_models import ClusterInfo as ClusterInfo
from tools.inventory.live_models import ContainerStatus as ContainerStatus
from tools.inventory.live_models import CronJobState as CronJobState
from tools.inventory.live_models import EventRecord as EventRecord
from tools.inventory.live_models import JobState as JobState
from tools.inventory.live_models import Link as Link
from tools.inventory.live_models import LiveObject as LiveObject
from tools.inventory.live_models import NodeState as NodeState
from tools.inventory.live_models import PodState as PodState
from tools.inventory.live_models import UnreadResource as UnreadResource
from tools.inventory.sources import CodeRef as CodeRef
from tools.inventory.sources import EstateText, Record
from tools.inventory.sources import LiveRef as LiveRef
from tools.inventory.sources import Origin as Origin
from tools.inventory.sources import ParseIssue as ParseIssue
from tools.inventory.sources import Source as Source
from tools.inventory.terraform_models import Backend as Backend
from tools.inventory.terraform_models import EscapeHatch as EscapeHatch
from tools.inventory.terraform_models import IgnoreChanges as IgnoreChanges
from tools.inventory.terraform_models import ProviderRequirement as ProviderRequirement
from tools.inventory.terraform_models import Provisioner as Provisioner
from tools.inventory.terraform_models import TerraformModule as TerraformModule
from tools.inventory.terraform_models import TerraformResource as TerraformResource
from tools.inventory.terraform_models import TerraformVariable as TerraformVariable

# -------------------------------------------------------------------------------------- workloads

WorkloadKind = Literal["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"]


class Workload(Record):
    kind: WorkloadKind
    name: str | None = Field(description="metadata.name; None when it could not be resolved.")
    namespace: str | None = None
    name_expr: EstateText | None = None
    namespace_expr: EstateText | None = None
    origin: Origin
    resource_type: str | None = Field(default=None, description="e.g. kubernetes_deployment_v1")
    address: str | None = Field(default=None, description="Terraform address, e.g. kubernetes_job.x")
    replicas: int | None = Field(default=None, description="None when unset (the API default is 1).")
    replicas_expr: EstateText | None = None
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
    release: CodeRef | None = Field(
        default=None, description="The Helm release that rendered it, if one did."
    )
    lines: dict[str, int] = Field(
        default_factory=dict,
        description="Code only: the line of each field written, by name: replicas, strategy, host_network, "
        "host_pid, host_ipc, volume:<name> (a finding cites the offending line).",
    )
    refs: dict[str, CodeRef] = Field(
        default_factory=dict, description="Built: the fields of lines a patch or transformer set elsewhere."
    )
    live: LiveRef | None = Field(default=None, description="The same workload seen live, if linked.")

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """Identity used to link code and live: (kind, namespace, name)."""
        return (self.kind, self.namespace, self.name)


class PVC(Record):
    name: str | None
    namespace: str | None = None
    access_modes: list[str] = Field(default_factory=list)
    storage: str | None = None
    storage_class: str | None = None
    phase: str | None = Field(default=None, description="Live: status.phase (Bound, Pending, Lost).")
    origin: Origin
    source: Source


Workload.model_rebuild()


# --------------------------------------------------------------------------- cluster-level objects


class Namespace(Record):
    name: str | None
    name_expr: EstateText | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    origin: Origin
    source: Source
    pod_security_refs: dict[str, CodeRef] = Field(
        default_factory=dict,
        description="Kustomize-built only: the line of the patch or transformer that set a pod-security "
        "label, by mode (enforce, audit, warn); a label in the Namespace's own document is not here.",
    )

    @property
    def pod_security(self) -> dict[str, str]:
        """The ``pod-security.kubernetes.io/*`` labels, keyed by mode (enforce, audit, warn)."""
        prefix = "pod-security.kubernetes.io/"
        return {k[len(prefix) :]: v for k, v in self.labels.items() if k.startswith(prefix)}


class PDB(Record):
    name: str | None
    namespace: str | None = None
    selector: dict[str, str] = Field(default_factory=dict)
    min_available: str | None = None
    max_unavailable: str | None = None
    origin: Origin
    source: Source


class HPA(Record):
    name: str | None
    namespace: str | None = None
    target_kind: str | None = None
    target_name: str | None = None
    min_replicas: int | None = None
    max_replicas: int | None = None
    origin: Origin
    source: Source


class NetworkPolicy(Record):
    """A network policy of any engine: Kubernetes, Cilium, Calico, or the cluster-wide AdminNetworkPolicy."""

    name: str | None
    namespace: str | None = None
    kind: str = Field(default="NetworkPolicy", description="CiliumNetworkPolicy, GlobalNetworkPolicy, ...")
    cluster_wide: bool = Field(default=False, description="Cluster-scoped: selects across namespaces.")
    origin: Origin
    source: Source


class ResourceQuota(Record):
    kind: Literal["ResourceQuota", "LimitRange"]
    name: str | None
    namespace: str | None = None
    origin: Origin
    source: Source


class PolicyRule(Record):
    api_groups: list[str] = Field(default_factory=list)
    resources: list[str] = Field(default_factory=list)
    verbs: list[str] = Field(default_factory=list)
    line: int | None = Field(default=None, description="Code only: the rule's own line.")


class RBACRole(Record):
    kind: Literal["Role", "ClusterRole"]
    name: str | None
    namespace: str | None = None
    rules: list[PolicyRule] = Field(default_factory=list)
    origin: Origin
    source: Source


class RBACSubject(Record):
    kind: str
    name: str
    namespace: str | None = None


class RBACBinding(Record):
    kind: Literal["RoleBinding", "ClusterRoleBinding"]
    name: str | None
    namespace: str | None = None
    role_kind: str | None = None
    role_name: str | None = None
    subjects: list[RBACSubject] = Field(default_factory=list)
    origin: Origin
    source: Source


class SecretManifest(Record):
    """A Secret defined in code. Key names only, never values."""

    name: str | None
    namespace: str | None = None
    keys: list[str] = Field(default_factory=list)
    sops_encrypted: bool = False
    origin: Origin
    source: Source


class AlertRule(Record):
    """A Prometheus alerting rule, wherever it is defined (PrometheusRule, Helm values, rule file)."""

    alert: str
    expr: EstateText
    group: str | None = None
    source: Source
    wired: bool = Field(
        default=True, description="False when the file holding it is not referenced by any kustomization."
    )


# ------------------------------------------------------------------------------ policy engines

PolicyEngine = Literal["kyverno", "gatekeeper", "validating-admission-policy", "sigstore"]


class Policy(Record):
    engine: PolicyEngine
    kind: str = Field(description="ClusterPolicy, Policy, a Gatekeeper constraint kind, ...")
    name: str | None
    namespace: str | None = None
    mode: str | None = Field(
        default=None,
        description="Audit/Enforce (Kyverno), deny/dryrun/warn (Gatekeeper), Deny/Warn/Audit (VAP), "
        "enforce/warn (sigstore).",
    )
    rule_modes: list[str] = Field(default_factory=list, description="Per-rule overrides, if any.")
    failure_policy: str | None = None
    verifies_images: bool = Field(
        default=False,
        description="An image signature rule: a Kyverno verifyImages rule or ImageValidatingPolicy, a "
        "sigstore policy-controller ClusterImagePolicy.",
    )
    mode_line: int | None = Field(
        default=None,
        description="Code only: the line setting the mode (validationFailureAction, enforcementAction...).",
    )
    origin: Origin
    source: Source


# ------------------------------------------------------------------------ releases and GitOps


class HelmRelease(Record):
    """A Helm chart deployment: Terraform ``helm_release``, Flux ``HelmRelease`` or an Argo Helm source."""

    defined_by: Literal["terraform", "flux", "argocd"]
    name: str | None
    namespace: str | None = None
    chart: str | None = None
    version: str | None = Field(default=None, description="Chart version as written; None when unset.")
    version_line: int | None = None
    chart_ref: str | None = Field(
        default=None,
        description="Flux spec.chartRef as Kind/name (Kind/namespace/name): its version is in that source.",
    )
    repository: EstateText | None = None
    values_files: list[str] = Field(default_factory=list)
    set_keys: list[str] = Field(default_factory=list)
    create_namespace: bool = Field(
        default=False, description="The release creates its namespace (helm_release create_namespace = true)."
    )
    source: Source
    _render_inputs: Any = PrivateAttr(default=None)
    """Terraform: the values and ``set`` values the render phase needs (``terraform_helm``); private,
    so never serialized: no value written in a release reaches a report, a checkpoint or a prompt."""

    @property
    def render_inputs(self) -> Any:
        return self._render_inputs

    @render_inputs.setter
    def render_inputs(self, value: Any) -> None:
        self._render_inputs = value


class FluxKustomization(Record):
    name: str | None
    namespace: str | None = None
    path: str | None = None
    source_ref: str | None = None
    prune: bool | None = None
    suspend: bool = False
    interval: str | None = None
    lines: dict[str, int] = Field(default_factory=dict, description="Code only: suspend and prune lines.")
    target_namespace: str | None = Field(
        default=None, description="spec.targetNamespace, set on its objects."
    )
    depends_on: list[str] = Field(default_factory=list, description="spec.dependsOn names (namespace/name).")
    substitute_keys: list[str] = Field(
        default_factory=list, description="postBuild.substitute variable names (values not kept)."
    )
    substitute_from: list[str] = Field(
        default_factory=list, description="postBuild.substituteFrom sources as Kind/name."
    )
    source: Source


class FluxSource(Record):
    kind: Literal["GitRepository", "HelmRepository", "OCIRepository", "Bucket"]
    name: str | None
    namespace: str | None = None
    url: EstateText | None = None
    ref: EstateText | None = None
    ref_line: int | None = Field(default=None, description="Line of the ref (tag, digest, semver) in code.")
    source: Source


class ArgoApplication(Record):
    name: str | None
    namespace: str | None = None
    project: str | None = None
    repo_url: EstateText | None = None
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
    generated_by: CodeRef | None = Field(
        default=None,
        description="The ApplicationSet that generated it (source is then the generator element's line).",
    )
    source: Source


class Kustomization(Record):
    """A ``kustomization.yaml`` (the Kustomize file, not Flux's CRD)."""

    path: str = Field(description="Path of the kustomization file.")
    namespace: str | None = Field(default=None, description="The namespace it sets on what it builds.")
    resources: list[EstateText] = Field(default_factory=list)
    missing: list[EstateText] = Field(
        default_factory=list, description="Referenced local files that do not exist."
    )
    source: Source


class DeployedPath(Record):
    """A repo directory a GitOps object deploys (Flux Kustomization path, Argo CD Application path)."""

    path: str = Field(description="Directory relative to the estate root ('.' for the root).")
    via: Literal["flux", "argocd"]
    name: str | None = Field(description="Name of the Flux Kustomization or Argo CD Application.")
    built: bool = Field(description="Whether its objects came from a Kustomize build of the directory.")
    suspended: bool = Field(default=False, description="A suspended Flux Kustomization: not reconciled.")
    files: list[str] = Field(
        default_factory=list, description="Files its build read, or the manifests under it."
    )
    source: Source


# ----------------------------------------------------------------------------- repo meta files


class DependencyBot(Record):
    tool: Literal["renovate", "dependabot"]
    ecosystems: list[str] = Field(default_factory=list)
    source: CodeRef


class CIFile(Record):
    system: Literal["github-actions", "gitlab-ci", "woodpecker", "drone", "jenkins", "circleci", "other"]
    validations: list[str] = Field(
        default_factory=list,
        description="Validation steps found: terraform-validate, terraform-fmt, tflint, kustomize-build, "
        "kubeconform, helm-lint, kyverno-test, yamllint, trivy, checkov, conftest.",
    )
    source: CodeRef
