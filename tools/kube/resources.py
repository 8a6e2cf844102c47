"""The resource table: every name kubectl accepts for a resource type, mapped to its API coordinates.

kubectl resolves ``po``, ``pod``, ``pods``, ``Pod``, ``pods.v1``, ``deploy``, ``deployments.apps`` and
``deployments.v1.apps`` to the same thing; the tools must too, or an agent that writes kubectl from
habit gets "unknown resource" for names a person would expect to work. The built-in table covers the
core API and the CRDs an audit reads (Kyverno, Argo CD, Flux, Prometheus Operator); a backend adds
what its cluster actually serves (discovery, or the CRDs and files of a snapshot), so a version the
cluster prefers wins over the default version written here.

Resolution order follows kubectl's priority: core groups first, then everything else in table order,
so ``nodes`` is the core Node, not ``nodes.metrics.k8s.io``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

VERSION_RE = re.compile(r"^v\d+(?:(?:alpha|beta)\d+)?$")


class ResourceType(BaseModel):
    """One resource type of the Kubernetes API, as ``kubectl api-resources`` prints it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group: str = Field(description="API group; '' for the core API.")
    version: str
    plural: str = Field(description="Lower-case plural, the URL segment, e.g. 'deployments'.")
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    singular: str = ""

    @field_validator("short_names")
    @classmethod
    def _sorted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Servers list short names in no promised order; sorting keeps every output stable."""
        return tuple(sorted(value))

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """``plural.group``: the unambiguous name kubectl accepts (``deployments.apps``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def file_stem(self) -> str:
        """Snapshot file name without suffix: ``<group>.<version>.<plural>``, group ``core`` for core."""
        return f"{self.group or 'core'}.{self.version}.{self.plural}"

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The REST path of a list (``name`` None) or of one object; ``namespace`` None lists all."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base

    def names(self) -> list[str]:
        """Every lower-case name that resolves to this type."""
        single = self.singular or self.kind.lower()
        out = [self.plural, single, self.kind.lower(), *self.short_names]
        if self.group:
            out += [f"{n}.{self.group}" for n in (self.plural, single, self.kind.lower())]
            out += [f"{self.plural}.{self.version}.{self.group}"]
        else:
            out += [f"{self.plural}.{self.version}"]
        return list(dict.fromkeys(out))


def _rt(api_version: str, plural: str, kind: str, namespaced: bool, *short: str) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    return ResourceType(
        group=group,
        version=version,
        plural=plural,
        kind=kind,
        namespaced=namespaced,
        short_names=short,
        singular=kind.lower(),
    )


BUILTIN: tuple[ResourceType, ...] = (
    _rt("v1", "pods", "Pod", True, "po"),
    _rt("v1", "namespaces", "Namespace", False, "ns"),
    _rt("v1", "nodes", "Node", False, "no"),
    _rt("v1", "events", "Event", True, "ev"),
    _rt("v1", "services", "Service", True, "svc"),
    _rt("v1", "configmaps", "ConfigMap", True, "cm"),
    _rt("v1", "secrets", "Secret", True),
    _rt("v1", "serviceaccounts", "ServiceAccount", True, "sa"),
    _rt("v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, "pvc"),
    _rt("v1", "persistentvolumes", "PersistentVolume", False, "pv"),
    _rt("v1", "resourcequotas", "ResourceQuota", True, "quota"),
    _rt("v1", "limitranges", "LimitRange", True, "limits"),
    _rt("v1", "endpoints", "Endpoints", True, "ep"),
    _rt("apps/v1", "deployments", "Deployment", True, "deploy"),
    _rt("apps/v1", "statefulsets", "StatefulSet", True, "sts"),
    _rt("apps/v1", "daemonsets", "DaemonSet", True, "ds"),
    _rt("apps/v1", "replicasets", "ReplicaSet", True, "rs"),
    _rt("batch/v1", "jobs", "Job", True),
    _rt("batch/v1", "cronjobs", "CronJob", True, "cj"),
    _rt("autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, "hpa"),
    _rt("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", True, "pdb"),
    _rt("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", True, "netpol"),
    _rt("networking.k8s.io/v1", "ingresses", "Ingress", True, "ing"),
    _rt("networking.k8s.io/v1", "ingressclasses", "IngressClass", False),
    _rt("discovery.k8s.io/v1", "endpointslices", "EndpointSlice", True),
    _rt("gateway.networking.k8s.io/v1", "gateways", "Gateway", True, "gtw"),
    _rt("gateway.networking.k8s.io/v1", "httproutes", "HTTPRoute", True),
    _rt("traefik.io/v1alpha1", "ingressroutes", "IngressRoute", True),
    _rt("cert-manager.io/v1", "certificates", "Certificate", True, "cert", "certs"),
    _rt("storage.k8s.io/v1", "storageclasses", "StorageClass", False, "sc"),
    _rt("rbac.authorization.k8s.io/v1", "roles", "Role", True),
    _rt("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True),
    _rt("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False),
    _rt("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False),
    _rt(
        "apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        "crd",
        "crds",
    ),
    _rt("scheduling.k8s.io/v1", "priorityclasses", "PriorityClass", False, "pc"),
    _rt(
        "admissionregistration.k8s.io/v1",
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        False,
    ),
    _rt(
        "admissionregistration.k8s.io/v1",
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        False,
    ),
    _rt("admissionregistration.k8s.io/v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", False),
    _rt(
        "admissionregistration.k8s.io/v1",
        "validatingadmissionpolicybindings",
        "ValidatingAdmissionPolicyBinding",
        False,
    ),
    _rt("events.k8s.io/v1", "events", "Event", True, "ev"),
    _rt("kyverno.io/v1", "clusterpolicies", "ClusterPolicy", False, "cpol"),
    _rt("kyverno.io/v1", "policies", "Policy", True, "pol"),
    _rt("policies.kyverno.io/v1alpha1", "imagevalidatingpolicies", "ImageValidatingPolicy", False, "ivpol"),
    _rt("policy.sigstore.dev/v1beta1", "clusterimagepolicies", "ClusterImagePolicy", False, "cip"),
    _rt("cilium.io/v2", "ciliumnetworkpolicies", "CiliumNetworkPolicy", True, "cnp", "ciliumnp"),
    _rt("cilium.io/v2", "ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", False, "ccnp"),
    _rt("crd.projectcalico.org/v1", "globalnetworkpolicies", "GlobalNetworkPolicy", False, "gnp"),
    _rt("policy.networking.k8s.io/v1alpha1", "adminnetworkpolicies", "AdminNetworkPolicy", False, "anp"),
    _rt("wgpolicyk8s.io/v1alpha2", "policyreports", "PolicyReport", True, "polr"),
    _rt("wgpolicyk8s.io/v1alpha2", "clusterpolicyreports", "ClusterPolicyReport", False, "cpolr"),
    _rt("argoproj.io/v1alpha1", "applications", "Application", True, "app", "apps"),
    _rt("argoproj.io/v1alpha1", "applicationsets", "ApplicationSet", True, "appset", "appsets"),
    _rt("argoproj.io/v1alpha1", "appprojects", "AppProject", True, "appproj", "appprojs"),
    _rt("helm.toolkit.fluxcd.io/v2", "helmreleases", "HelmRelease", True, "hr"),
    _rt("kustomize.toolkit.fluxcd.io/v1", "kustomizations", "Kustomization", True, "ks"),
    _rt("source.toolkit.fluxcd.io/v1", "gitrepositories", "GitRepository", True, "gitrepo"),
    _rt("source.toolkit.fluxcd.io/v1", "helmrepositories", "HelmRepository", True, "helmrepo"),
    _rt("source.toolkit.fluxcd.io/v1beta2", "ocirepositories", "OCIRepository", True, "ocirepo"),
    _rt("source.toolkit.fluxcd.io/v1", "helmcharts", "HelmChart", True, "hc"),
    _rt("monitoring.coreos.com/v1", "prometheusrules", "PrometheusRule", True, "promrule"),
    _rt("monitoring.coreos.com/v1", "servicemonitors", "ServiceMonitor", True, "smon"),
    _rt("monitoring.coreos.com/v1", "podmonitors", "PodMonitor", True, "pmon"),
    _rt("monitoring.coreos.com/v1", "prometheuses", "Prometheus", True, "prom"),
    _rt("metrics.k8s.io/v1beta1", "nodes", "NodeMetrics", False),
    _rt("metrics.k8s.io/v1beta1", "pods", "PodMetrics", True),
)

METRICS_GROUP = "metrics.k8s.io"

AUDIT_RESOURCES: tuple[str, ...] = (
    "namespaces",
    "nodes",
    "pods",
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "replicasets.apps",
    "jobs.batch",
    "cronjobs.batch",
    "persistentvolumeclaims",
    "persistentvolumes",
    "storageclasses.storage.k8s.io",
    "poddisruptionbudgets.policy",
    "horizontalpodautoscalers.autoscaling",
    "networkpolicies.networking.k8s.io",
    "ingresses.networking.k8s.io",
    "services",
    "endpointslices.discovery.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "ingressroutes.traefik.io",
    "certificates.cert-manager.io",
    "configmaps",
    "secrets",
    "serviceaccounts",
    "resourcequotas",
    "limitranges",
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "customresourcedefinitions.apiextensions.k8s.io",
    "validatingadmissionpolicies.admissionregistration.k8s.io",
    "validatingadmissionpolicybindings.admissionregistration.k8s.io",
    "events",
    "clusterpolicies.kyverno.io",
    "policies.kyverno.io",
    "imagevalidatingpolicies.policies.kyverno.io",
    "clusterimagepolicies.policy.sigstore.dev",
    "ciliumnetworkpolicies.cilium.io",
    "ciliumclusterwidenetworkpolicies.cilium.io",
    "globalnetworkpolicies.crd.projectcalico.org",
    "adminnetworkpolicies.policy.networking.k8s.io",
    "applications.argoproj.io",
    "helmreleases.helm.toolkit.fluxcd.io",
    "kustomizations.kustomize.toolkit.fluxcd.io",
    "gitrepositories.source.toolkit.fluxcd.io",
    "helmrepositories.source.toolkit.fluxcd.io",
    "ocirepositories.source.toolkit.fluxcd.io",
    "prometheusrules.monitoring.coreos.com",
)
"""What an audit reads (and a snapshot stores by default), by unambiguous name. Resources a cluster does
not serve are skipped, so the CRDs here cost nothing on a cluster without Kyverno, Flux or Argo CD."""


class UnknownResourceError(LookupError):
    """A resource name no table entry answers to; carries the closest names for the error text."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f'the server doesn\'t have a resource type "{name}"{hint}')


def plural_of(kind: str) -> str:
    """The plural of a kind with no CRD at hand (``NetworkPolicy`` -> ``networkpolicies``)."""
    low = kind.lower()
    if low.endswith("y") and not low.endswith(("ay", "ey", "oy", "uy")):
        return low[:-1] + "ies"
    if low.endswith(("s", "x", "z", "ch", "sh")):
        return low + "es"
    return low + "s"


def split_file_stem(stem: str) -> tuple[str, str, str] | None:
    """``apps.v1.deployments`` -> ('apps', 'v1', 'deployments'); ``core`` means the core group."""
    parts = stem.split(".")
    if len(parts) < 3 or not VERSION_RE.match(parts[-2]):
        return None
    group = ".".join(parts[:-2])
    return ("" if group == "core" else group, parts[-2], parts[-1])


class ResourceTable:
    """Name resolution over the built-in table merged with what a backend discovered.

    A discovered type replaces the built-in entry of the same (group, plural) in place, so discovery can
    change a version or a scope without changing the resolution priority.
    """

    def __init__(self, discovered: Iterable[ResourceType] = ()) -> None:
        by_key: dict[tuple[str, str], ResourceType] = {(r.group, r.plural): r for r in BUILTIN}
        for r in discovered:
            by_key[(r.group, r.plural)] = r
        core_first = sorted(by_key.values(), key=lambda r: 0 if r.group == "" else 1)
        self.types: list[ResourceType] = core_first
        self._index: dict[str, ResourceType] = {}
        self._kinds: dict[tuple[str, str], ResourceType] = {}  # (group, kind): a snapshot asks per object
        self._plurals: dict[tuple[str, str], ResourceType] = {}  # (group, plural)
        for r in self.types:
            for n in r.names():
                self._index.setdefault(n, r)
            self._kinds.setdefault((r.group, r.kind), r)
            self._plurals.setdefault((r.group, r.plural), r)

    def resolve(self, name: str) -> ResourceType:
        """The type a kubectl resource name means; raises ``UnknownResourceError`` with close matches."""
        key = name.strip().lower()
        found = self._index.get(key)
        if found is None:
            raise UnknownResourceError(name, self.suggest(key))
        return found

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        """The type of an object from its ``apiVersion`` and ``kind`` (version-agnostic within a group):
        the first of ``types`` with that group and kind, looked up, not searched (a snapshot asks once
        per object: 44k times at 10k pods)."""
        return self._kinds.get((api_version.rpartition("/")[0], kind))

    def by_plural(self, group: str, plural: str) -> ResourceType | None:
        """The first of ``types`` with that group and plural (a dump's file name names a type so)."""
        return self._plurals.get((group, plural))

    def suggest(self, name: str, limit: int = 5) -> list[str]:
        """Close names, qualified (``plural.group``) so every suggestion resolves unambiguously."""
        matches = difflib.get_close_matches(name.lower(), list(self._index), n=limit * 3, cutoff=0.6)
        out: list[str] = []
        for m in matches:
            shown = self._index[m].qualified
            if shown not in out:
                out.append(shown)
        return out[:limit]
