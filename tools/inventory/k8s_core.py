"""Built-in Kubernetes kinds to records, and the defensive field reads every mapper shares.

Objects come from hand-written YAML, Terraform ``kubernetes_manifest`` and live clusters, so any
field can be missing or of the wrong type. Every read goes through the ``as_*`` functions of
``k8s_fields.py``: a value of the wrong type counts as absent, and nothing here raises on bad input.
Numbers written where the API expects a string (``cpu: 1``, ``maxSurge: 1``) keep their text, as
the API server would. The custom resources (policy engines, Prometheus, Flux, Argo CD) are in ``k8s_objects``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from tools.inventory.inventory import Records
from tools.inventory.k8s_fields import as_bool, as_int, as_list, as_map, as_str, dig, str_list, str_map
from tools.inventory.models import (
    HPA,
    PDB,
    PVC,
    CodeRef,
    Container,
    Namespace,
    NetworkPolicy,
    Origin,
    PolicyRule,
    ProbeKind,
    RBACBinding,
    RBACRole,
    RBACSubject,
    ResourceQuota,
    Resources,
    SecretManifest,
    SecurityContext,
    Source,
    Volume,
    Workload,
)
from tools.inventory.provenance import Provenance
from tools.inventory.yaml_lines import LineOf

KeyPath = tuple[str | int, ...]
VolumeType = Literal["pvc", "host_path", "empty_dir", "config_map", "secret", "nfs", "other"]

WORKLOAD_GROUPS = frozenset({"", "apps", "batch", "extensions"})
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"), ("spec", "template", "spec")
    ),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
_PROBES: tuple[tuple[str, ProbeKind], ...] = (
    ("readinessProbe", "readiness"),
    ("livenessProbe", "liveness"),
    ("startupProbe", "startup"),
)
_VOLUME_TYPES: tuple[tuple[str, VolumeType], ...] = (
    ("persistentVolumeClaim", "pvc"),
    ("hostPath", "host_path"),
    ("emptyDir", "empty_dir"),
    ("configMap", "config_map"),
    ("secret", "secret"),
    ("nfs", "nfs"),
)
_SOPS_PREFIX = "ENC["
_POD_SECURITY = "pod-security.kubernetes.io/"


class K8sObject:
    """One object being mapped: the parts every mapper reads, read once, and where it came from."""

    __slots__ = ("group", "kind", "line_of", "meta", "name", "namespace", "obj", "origin", "source", "spec")

    def __init__(self, obj: dict[str, Any], source: Source, origin: Origin, line_of: LineOf | None) -> None:
        api_version = as_str(obj.get("apiVersion"))
        self.obj = obj
        self.kind = as_str(obj.get("kind")) or ""
        # None when apiVersion is absent (a hand-built dict): then the kind alone decides.
        self.group = None if api_version is None else api_version.rpartition("/")[0]
        self.meta = as_map(obj.get("metadata"))
        self.spec = as_map(obj.get("spec"))
        self.name = as_str(self.meta.get("name"))
        self.namespace = as_str(self.meta.get("namespace"))
        self.source = source
        self.origin = origin
        self.line_of = line_of

    def in_group(self, *groups: str) -> bool:
        return self.group is None or self.group in groups

    def sub(self, path: KeyPath) -> Source:
        """The source of a nested item: its own line in code, else the object's source."""
        if self.line_of is None or not isinstance(self.source, CodeRef):
            return self.source
        if isinstance(self.line_of, Provenance):  # a built object: the item may be in another file
            return self.line_of.ref(path) or self.source
        line = self.line_of(path)
        return CodeRef(path=self.source.path, line=line) if line is not None else self.source

    def ident(self) -> dict[str, Any]:
        """The fields most records share: name, namespace, origin and source."""
        return {"name": self.name, "namespace": self.namespace, "origin": self.origin, "source": self.source}

    def line(self, path: KeyPath) -> int | None:
        return self.line_of(path) if self.line_of is not None else None

    def where(self, path: KeyPath, within: Source) -> tuple[int | None, CodeRef | None]:
        """The line of the value at ``path`` in ``within``'s file; for a built object's value that a
        patch or transformer set in another file (an overlay's patch, its ``images:``), that ref."""
        if not isinstance(self.line_of, Provenance):
            return self.line(path), None
        ref = self.line_of.ref(path)
        if ref is None or (isinstance(within, CodeRef) and ref.path == within.path):
            return (ref.line if ref is not None else None), None
        return None, ref


# ---------------------------------------------------------------------------------- workloads


def _workload(o: K8sObject, records: Records) -> None:
    if not o.in_group(*WORKLOAD_GROUPS):
        return
    kind = o.kind
    spec = o.spec
    pod_path = _POD_SPEC_PATHS[kind]
    pod = as_map(dig(o.obj, pod_path))
    strategy = as_map(spec.get("strategy") if kind == "Deployment" else spec.get("updateStrategy"))
    rolling = as_map(strategy.get("rollingUpdate"))
    containers = [
        _container(o, item, init, (*pod_path, field, index))
        for field, init in (("initContainers", True), ("containers", False))
        for index, item in enumerate(as_list(pod.get(field)))
        if isinstance(item, dict)
    ]
    templates = as_list(spec.get("volumeClaimTemplates")) if kind == "StatefulSet" else []
    strategy_key = "strategy" if kind == "Deployment" else "updateStrategy"
    wanted: list[tuple[str, KeyPath]] = [
        ("replicas", ("spec", "replicas")),
        ("strategy", ("spec", strategy_key, "type")),
        ("host_network", (*pod_path, "hostNetwork")),
        ("host_pid", (*pod_path, "hostPID")),
        ("host_ipc", (*pod_path, "hostIPC")),
    ]
    wanted += [
        (f"volume:{as_str(v.get('name')) or ''}", (*pod_path, "volumes", i))
        for i, v in enumerate(as_list(pod.get("volumes")))
        if isinstance(v, dict)
    ]
    found = {name: o.where(path, o.source) for name, path in wanted}
    lines = {name: line for name, (line, _) in found.items() if line is not None}
    records.workloads.append(
        Workload(
            kind=kind,  # the dispatcher only sends the kinds of _POD_SPEC_PATHS
            name=o.name,
            namespace=o.namespace,
            origin=o.origin,
            replicas=as_int(spec.get("replicas"))
            if kind in ("Deployment", "StatefulSet", "ReplicaSet")
            else None,
            strategy=as_str(strategy.get("type")),
            max_surge=as_str(rolling.get("maxSurge")),
            max_unavailable=as_str(rolling.get("maxUnavailable")),
            termination_grace_period=as_int(pod.get("terminationGracePeriodSeconds")),
            schedule=as_str(spec.get("schedule")) if kind == "CronJob" else None,
            suspend=as_bool(spec.get("suspend")) if kind in ("CronJob", "Job") else None,
            host_network=pod.get("hostNetwork") is True,
            host_pid=pod.get("hostPID") is True,
            host_ipc=pod.get("hostIPC") is True,
            pod_security=_security(pod.get("securityContext"), o, (*pod_path, "securityContext")),
            service_account=as_str(pod.get("serviceAccountName")) or as_str(pod.get("serviceAccount")),
            labels=str_map(o.meta.get("labels")),
            selector=str_map(as_map(spec.get("selector")).get("matchLabels")),
            containers=containers,
            volumes=[_volume(v) for v in as_list(pod.get("volumes")) if isinstance(v, dict)],
            volume_claim_templates=[
                _pvc_record(item, o.namespace, o.sub(("spec", "volumeClaimTemplates", i)), o.origin)
                for i, item in enumerate(templates)
                if isinstance(item, dict)
            ],
            source=o.source,
            lines=lines,
            refs={name: ref for name, (_, ref) in found.items() if ref is not None},
        )
    )


def _container(o: K8sObject, item: dict[str, Any], init: bool, path: KeyPath) -> Container:
    resources = as_map(item.get("resources"))
    requests = as_map(resources.get("requests"))
    limits = as_map(resources.get("limits"))
    image = as_str(item.get("image"))
    source = o.sub(path)
    image_line, image_ref = o.where((*path, "image"), source) if image is not None else (None, None)
    return Container(
        name=as_str(item.get("name")) or "",
        image=image,
        init=init,
        probes=[kind for key, kind in _PROBES if isinstance(item.get(key), dict)],
        resources=Resources(
            cpu_request=as_str(requests.get("cpu")),
            memory_request=as_str(requests.get("memory")),
            cpu_limit=as_str(limits.get("cpu")),
            memory_limit=as_str(limits.get("memory")),
        ),
        security=_security(item.get("securityContext"), o, (*path, "securityContext"), source),
        pre_stop=isinstance(as_map(item.get("lifecycle")).get("preStop"), dict),
        ports=[
            port
            for p in as_list(item.get("ports"))
            if (port := as_int(as_map(p).get("containerPort"))) is not None
        ],
        source=source,
        image_line=image_line,
        image_ref=image_ref,
    )


SECURITY_KEYS: tuple[tuple[str, KeyPath], ...] = (  # SecurityContext field, its securityContext keys
    ("privileged", ("privileged",)), ("allow_privilege_escalation", ("allowPrivilegeEscalation",)),
    ("run_as_non_root", ("runAsNonRoot",)), ("run_as_user", ("runAsUser",)),
    ("capabilities_add", ("capabilities", "add")),
)  # fmt: skip


def _security(
    value: Any, o: K8sObject | None = None, path: KeyPath = (), within: Source | None = None
) -> SecurityContext:
    """Container- or pod-level securityContext (the pod level has no privileged or capabilities).

    With the object and the context's path, each field set keeps its own line in ``within``'s file
    (the container's or the object's source), or its ref when a patch set it elsewhere."""
    ctx = as_map(value)
    caps = as_map(ctx.get("capabilities"))
    lines: dict[str, int] = {}
    refs: dict[str, CodeRef] = {}
    if o is not None and o.line_of is not None:
        for name, keys in SECURITY_KEYS:
            if dig(ctx, tuple(str(k) for k in keys)) is not None:
                line, ref = o.where((*path, *keys), within or o.source)
                if line is not None:
                    lines[name] = line
                elif ref is not None:
                    refs[name] = ref
    return SecurityContext(
        lines=lines,
        refs=refs,
        privileged=as_bool(ctx.get("privileged")),
        allow_privilege_escalation=as_bool(ctx.get("allowPrivilegeEscalation")),
        run_as_non_root=as_bool(ctx.get("runAsNonRoot")),
        run_as_user=as_int(ctx.get("runAsUser")),
        read_only_root_filesystem=as_bool(ctx.get("readOnlyRootFilesystem")),
        capabilities_add=str_list(caps.get("add")),
        capabilities_drop=str_list(caps.get("drop")),
    )


def _volume(item: dict[str, Any]) -> Volume:
    name = as_str(item.get("name")) or ""
    for key, kind in _VOLUME_TYPES:
        if key in item:
            detail = as_map(item.get(key))
            if kind == "pvc":
                return Volume(name=name, type=kind, claim_name=as_str(detail.get("claimName")))
            if kind == "host_path":
                return Volume(name=name, type=kind, host_path=as_str(detail.get("path")))
            return Volume(name=name, type=kind)
    return Volume(name=name, type="other")


def _pvc_record(obj: dict[str, Any], namespace: str | None, source: Source, origin: Origin) -> PVC:
    """A PersistentVolumeClaim, or a volumeClaimTemplate (which takes its StatefulSet's namespace)."""
    meta = as_map(obj.get("metadata"))
    spec = as_map(obj.get("spec"))
    return PVC(
        name=as_str(meta.get("name")),
        namespace=as_str(meta.get("namespace")) or namespace,
        access_modes=str_list(spec.get("accessModes")),
        storage=as_str(as_map(as_map(spec.get("resources")).get("requests")).get("storage")),
        storage_class=as_str(spec.get("storageClassName")),
        phase=as_str(as_map(obj.get("status")).get("phase")),
        origin=origin,
        source=source,
    )


# ----------------------------------------------------------------------- cluster-level kinds


def _namespace(o: K8sObject, records: Records) -> None:
    if o.in_group(""):
        labels = str_map(o.meta.get("labels"))
        refs = {}
        if isinstance(o.line_of, Provenance):  # built: a patch or transformer may have set the label
            for key in labels:
                mode = key.removeprefix(_POD_SECURITY)
                if mode != key and (ref := o.line_of.set_by_build(("metadata", "labels", key))) is not None:
                    refs[mode] = ref
        records.namespaces.append(
            Namespace(name=o.name, labels=labels, origin=o.origin, source=o.source, pod_security_refs=refs)
        )


def _pvc(o: K8sObject, records: Records) -> None:
    if o.in_group(""):
        records.pvcs.append(_pvc_record(o.obj, None, o.source, o.origin))


def _pdb(o: K8sObject, records: Records) -> None:
    if o.in_group("policy"):
        records.pdbs.append(
            PDB(
                **o.ident(),
                selector=str_map(as_map(o.spec.get("selector")).get("matchLabels")),
                min_available=as_str(o.spec.get("minAvailable")),
                max_unavailable=as_str(o.spec.get("maxUnavailable")),
            )
        )


def _hpa(o: K8sObject, records: Records) -> None:
    if o.in_group("autoscaling"):
        target = as_map(o.spec.get("scaleTargetRef"))
        records.hpas.append(
            HPA(
                **o.ident(),
                target_kind=as_str(target.get("kind")),
                target_name=as_str(target.get("name")),
                min_replicas=as_int(o.spec.get("minReplicas")),
                max_replicas=as_int(o.spec.get("maxReplicas")),
            )
        )


NETWORK_POLICY_GROUPS: dict[str, tuple[tuple[str, ...], bool]] = {
    # kind: (API groups, cluster-wide)
    "NetworkPolicy": (("networking.k8s.io", "projectcalico.org", "crd.projectcalico.org"), False),
    "CiliumNetworkPolicy": (("cilium.io",), False),
    "CiliumClusterwideNetworkPolicy": (("cilium.io",), True),
    "GlobalNetworkPolicy": (("projectcalico.org", "crd.projectcalico.org"), True),
    "AdminNetworkPolicy": (("policy.networking.k8s.io",), True),
    "BaselineAdminNetworkPolicy": (("policy.networking.k8s.io",), True),
}
"""Network policy kinds of every engine: Kubernetes and Calico share the name NetworkPolicy."""


def network_policy(o: K8sObject, records: Records) -> None:
    groups, cluster_wide = NETWORK_POLICY_GROUPS[o.kind]
    if o.in_group(*groups):
        ident = o.ident() | ({"namespace": None} if cluster_wide else {})
        records.network_policies.append(NetworkPolicy(**ident, kind=o.kind, cluster_wide=cluster_wide))


def _quota(o: K8sObject, records: Records) -> None:
    if o.in_group(""):
        kind: Literal["ResourceQuota", "LimitRange"] = (
            "LimitRange" if o.kind == "LimitRange" else "ResourceQuota"
        )
        records.quotas.append(ResourceQuota(kind=kind, **o.ident()))


def _role(o: K8sObject, records: Records) -> None:
    if not o.in_group("rbac.authorization.k8s.io"):
        return
    rules = [
        PolicyRule(
            api_groups=str_list(rule.get("apiGroups")),
            resources=str_list(rule.get("resources")),
            verbs=str_list(rule.get("verbs")),
            line=o.line(("rules", index)),
        )
        for index, rule in enumerate(as_list(o.obj.get("rules")))
        if isinstance(rule, dict)
    ]
    cluster = o.kind == "ClusterRole"
    ident = o.ident() | {"namespace": None if cluster else o.namespace}  # cluster-scoped: no namespace
    records.roles.append(RBACRole(kind="ClusterRole" if cluster else "Role", rules=rules, **ident))


def _binding(o: K8sObject, records: Records) -> None:
    if not o.in_group("rbac.authorization.k8s.io"):
        return
    role_ref = as_map(o.obj.get("roleRef"))
    subjects = []
    for item in as_list(o.obj.get("subjects")):
        subject = as_map(item)
        kind, name = as_str(subject.get("kind")), as_str(subject.get("name"))
        if kind is not None and name is not None:
            subjects.append(RBACSubject(kind=kind, name=name, namespace=as_str(subject.get("namespace"))))
    cluster = o.kind == "ClusterRoleBinding"
    records.bindings.append(
        RBACBinding(
            kind="ClusterRoleBinding" if cluster else "RoleBinding",
            role_kind=as_str(role_ref.get("kind")),
            role_name=as_str(role_ref.get("name")),
            subjects=subjects,
            **(o.ident() | {"namespace": None if cluster else o.namespace}),
        )
    )


def _secret(o: K8sObject, records: Records) -> None:
    """Key names only. SOPS leaves key names readable and wraps each value in ``ENC[...]``."""
    if not o.in_group(""):
        return
    keys: list[str] = []
    encrypted = isinstance(o.obj.get("sops"), dict)
    for field in ("data", "stringData"):
        for key, value in as_map(o.obj.get(field)).items():
            if isinstance(key, str) and key not in keys:
                keys.append(key)
            if isinstance(value, str) and value.startswith(_SOPS_PREFIX):
                encrypted = True
    records.secrets.append(SecretManifest(**o.ident(), keys=keys, sops_encrypted=encrypted))


Mapper = Callable[[K8sObject, Records], None]

CORE_MAPPERS: dict[str, Mapper] = {
    **dict.fromkeys(_POD_SPEC_PATHS, _workload),
    "Namespace": _namespace,
    "PersistentVolumeClaim": _pvc,
    "PodDisruptionBudget": _pdb,
    "HorizontalPodAutoscaler": _hpa,
    "NetworkPolicy": network_policy,
    "ResourceQuota": _quota,
    "LimitRange": _quota,
    "Role": _role,
    "ClusterRole": _role,
    "RoleBinding": _binding,
    "ClusterRoleBinding": _binding,
    "Secret": _secret,
}
"""Built-in kinds by name; each mapper checks the API group itself, since CRDs reuse these names."""
