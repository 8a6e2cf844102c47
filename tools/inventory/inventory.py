"""The inventory: every record of one estate, parsed once per run and shared by all checks and agents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from tools.inventory.live_health_models import (
    AppState,
    CertificateState,
    ClaimState,
    HpaState,
    PdbState,
    PolicyState,
    RouteBackend,
    ScaledToZero,
    ServiceState,
)
from tools.inventory.live_models import UnreadResource
from tools.inventory.models import (
    HPA,
    PDB,
    PVC,
    AlertRule,
    ArgoApplication,
    Backend,
    BackupSchedule,
    CIFile,
    ClusterInfo,
    CronJobState,
    DependencyBot,
    DeployedPath,
    EscapeHatch,
    EventRecord,
    FluxKustomization,
    FluxSource,
    HelmRelease,
    HelmRender,
    IgnoreChanges,
    JobState,
    Kustomization,
    Link,
    LiveObject,
    Namespace,
    NetworkPolicy,
    NodeState,
    PodState,
    Policy,
    ProviderRequirement,
    RBACBinding,
    RBACRole,
    ResourceQuota,
    SecretManifest,
    TerraformModule,
    TerraformResource,
    TerraformVariable,
    Workload,
)
from tools.inventory.sources import ParseIssue
from tools.inventory.yaml_lines import LineOf

ReleaseObject = tuple[dict[str, Any], str, LineOf | None]
"""A release object a GitOps build made: (object, the file that made it, its key-line lookup)."""


class Records(BaseModel):
    """Records of one kind of source (the repo, or the cluster). Lists only; merge with ``extend``."""

    model_config = ConfigDict(extra="forbid")

    workloads: list[Workload] = Field(default_factory=list)
    pvcs: list[PVC] = Field(default_factory=list)
    namespaces: list[Namespace] = Field(default_factory=list)
    pdbs: list[PDB] = Field(default_factory=list)
    hpas: list[HPA] = Field(default_factory=list)
    network_policies: list[NetworkPolicy] = Field(default_factory=list)
    quotas: list[ResourceQuota] = Field(default_factory=list)
    roles: list[RBACRole] = Field(default_factory=list)
    bindings: list[RBACBinding] = Field(default_factory=list)
    secrets: list[SecretManifest] = Field(default_factory=list)
    alert_rules: list[AlertRule] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)
    helm_releases: list[HelmRelease] = Field(default_factory=list)
    helm_renders: list[HelmRender] = Field(default_factory=list, description="Each release, rendered or not.")
    flux_kustomizations: list[FluxKustomization] = Field(default_factory=list)
    flux_sources: list[FluxSource] = Field(default_factory=list)
    backup_schedules: list[BackupSchedule] = Field(default_factory=list)
    argo_apps: list[ArgoApplication] = Field(default_factory=list)
    kustomizations: list[Kustomization] = Field(default_factory=list)
    deployed_paths: list[DeployedPath] = Field(
        default_factory=list,
        description="Repo directories a Flux Kustomization or Argo CD Application deploys.",
    )
    escape_hatches: list[EscapeHatch] = Field(default_factory=list)
    ignore_changes: list[IgnoreChanges] = Field(default_factory=list)
    modules: list[TerraformModule] = Field(default_factory=list)
    providers: list[ProviderRequirement] = Field(default_factory=list)
    backends: list[Backend] = Field(default_factory=list)
    variables: list[TerraformVariable] = Field(default_factory=list)
    resources: list[TerraformResource] = Field(default_factory=list)
    dependency_bots: list[DependencyBot] = Field(default_factory=list)
    ci_files: list[CIFile] = Field(default_factory=list)
    issues: list[ParseIssue] = Field(default_factory=list, description="Files reported and skipped.")
    _index_cache: dict[str, Any] = PrivateAttr(default_factory=dict)
    """The lookups of ``tools/inventory/indexes.py`` over these lists, built once on first use."""
    _release_objects: list[ReleaseObject] = PrivateAttr(default_factory=list)
    """Release objects the GitOps builds made (a Flux Kustomization's HelmReleases after its
    ``targetNamespace`` and ``postBuild``; an ApplicationSet's Applications): (object, the file that
    made it, its line lookup). The render phase renders these in place of the written documents."""

    @property
    def index_cache(self) -> dict[str, Any]:
        return self._index_cache

    @property
    def release_objects(self) -> list[ReleaseObject]:
        return self._release_objects

    def drop_release_objects(self) -> None:
        """Let go of the release objects once rendered (their line lookups are closures, which
        cannot be pickled) and of the lookups (rebuilt on first use): the records alone are left."""
        self._release_objects = []
        self._index_cache = {}

    @classmethod
    def list_fields(cls) -> list[str]:
        return [name for name, field in cls.model_fields.items() if field.default_factory is list]

    def extend(self, other: Records) -> None:
        """Append every list of ``other`` (of the shared ``Records`` fields) to this one."""
        for name in Records.model_fields:
            getattr(self, name).extend(getattr(other, name))
        self._release_objects.extend(other._release_objects)

    def is_deployed(self, path: str) -> bool | None:
        """Whether a GitOps object deploys the file at ``path``; None when the estate has none to say."""
        paths = self.deployed_paths
        if not paths:
            return None
        key = (id(paths), len(paths))
        cached = self._index_cache.get("deployed")
        if cached is None or cached[0] != key:  # built once per list, as the indexes are
            files = {f for d in paths for f in d.files}
            prefixes = tuple("" if d.path == "." else d.path + "/" for d in paths if not d.built)
            cached = self._index_cache["deployed"] = (key, files, prefixes)
        _, files, prefixes = cached
        return path in files or path.startswith(prefixes)

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in type(self).list_fields()}


class LiveState(Records):
    """What a cluster (live or snapshot) shows: the same records, plus runtime state."""

    cluster: ClusterInfo
    pods: list[PodState] = Field(default_factory=list)
    nodes: list[NodeState] = Field(default_factory=list)
    jobs: list[JobState] = Field(default_factory=list)
    cronjobs: list[CronJobState] = Field(default_factory=list)
    events: list[EventRecord] = Field(default_factory=list)
    objects: list[LiveObject] = Field(default_factory=list)
    services: list[ServiceState] = Field(default_factory=list)
    load_balancers: list[ServiceState] = Field(
        default_factory=list, description="The LoadBalancer Services of ``services``: they need no pod."
    )
    routes: list[RouteBackend] = Field(default_factory=list)
    certificates: list[CertificateState] = Field(default_factory=list)
    hpa_status: list[HpaState] = Field(default_factory=list)
    pdb_status: list[PdbState] = Field(default_factory=list)
    claims: list[ClaimState] = Field(default_factory=list)
    policy_status: list[PolicyState] = Field(default_factory=list)
    apps: list[AppState] = Field(default_factory=list)
    scaled_to_zero: list[ScaledToZero] = Field(default_factory=list)
    unread: list[UnreadResource] = Field(
        default_factory=list, description="Types the audit could not read: what reads them is incomplete."
    )


class Inventory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: str = Field(description="Absolute path of the estate root.")
    files_scanned: int = 0
    code: Records = Field(default_factory=Records)
    live: LiveState | None = None
    links: list[Link] = Field(default_factory=list)
    _scoped_view: Inventory | None = PrivateAttr(default=None)
    """What the checks read: this inventory without code records nothing deploys (``scope.py``)."""
    _scoped_is_self: bool = PrivateAttr(default=False)
    """The view is this inventory itself (every code record may be deployed, the common case): a
    flag, not a reference to itself, which made the whole inventory garbage only a full collection
    frees (at 10k pods 338,176 objects and 0.5 s of the collection after the run let it go)."""

    @property
    def scoped_view(self) -> Inventory | None:
        return self if self._scoped_is_self else self._scoped_view

    @scoped_view.setter
    def scoped_view(self, view: Inventory) -> None:
        self._scoped_is_self = view is self
        self._scoped_view = None if view is self else view
