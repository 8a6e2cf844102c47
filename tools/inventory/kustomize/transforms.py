"""The built-in transformers of the subset: namespace, name prefix/suffix, labels, annotations,
replicas, images; and, at the end of the top build, the generators' hash suffix. A rename (prefix,
suffix, hash) is followed in the references kustomize fixes for these kinds: ConfigMaps and Secrets
in pod volumes, env and envFrom, image pull secrets, service accounts, claims, a StatefulSet's
service, a binding's role and subjects. A value a transformer sets keeps the kustomization's line (a
label or an annotation: its own pair's line).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tools.inventory.k8s_core import as_list, as_map, as_str, str_map
from tools.inventory.kustomize.generators import content_hash
from tools.inventory.kustomize.model import Resource
from tools.inventory.provenance import Origins
from tools.inventory.sources import CodeRef

if TYPE_CHECKING:
    from tools.inventory.kustomize.engine import _Context

CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "StorageClass",
        "PersistentVolume",
        "PriorityClass",
        "IngressClass",
        "RuntimeClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "APIService",
        "Node",
        "ClusterPolicy",
        "ClusterIssuer",
        "ConstraintTemplate",
        "GatewayClass",
        "ClusterSecretStore",
    }
)
_WORKLOADS = ("Deployment", "ReplicaSet", "DaemonSet", "StatefulSet")
_POD_SPECS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys((*_WORKLOADS, "Job", "ReplicationController"), ("spec", "template", "spec")),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}
_TEMPLATE_META: dict[str, tuple[tuple[str, ...], ...]] = {
    **dict.fromkeys((*_WORKLOADS, "Job", "ReplicationController"), (("spec", "template", "metadata"),)),
    "CronJob": (("spec", "jobTemplate", "metadata"), ("spec", "jobTemplate", "spec", "template", "metadata")),
}
_SELECTORS: dict[str, tuple[tuple[tuple[str, ...], bool], ...]] = {
    # (path of the selector map, create it when absent)
    **dict.fromkeys(_WORKLOADS, ((("spec", "selector", "matchLabels"), True),)),
    "ReplicationController": ((("spec", "selector"), True),),
    "Service": ((("spec", "selector"), True),),
    "Job": ((("spec", "selector", "matchLabels"), False),),
    "CronJob": ((("spec", "jobTemplate", "spec", "selector", "matchLabels"), False),),
    "PodDisruptionBudget": ((("spec", "selector", "matchLabels"), False),),
    "NetworkPolicy": ((("spec", "podSelector", "matchLabels"), False),),
}


def apply(ctx: _Context, acc: list[Resource]) -> None:
    """namespace, namePrefix/nameSuffix, labels/commonLabels, commonAnnotations, in kustomize's order."""
    data = ctx.data
    namespace = as_str(data.get("namespace"))
    if namespace:
        ref = _ref(ctx, ("namespace",))
        for r in acc:
            set_namespace(r, namespace, ctx.origins, ref)
    prefix, suffix = as_str(data.get("namePrefix")) or "", as_str(data.get("nameSuffix")) or ""
    if prefix or suffix:
        renamed: dict[tuple[str, str], str] = {}
        for r in acc:
            if r.kind in ("CustomResourceDefinition", "Namespace") or r.name is None:
                continue
            new = f"{prefix}{r.name}{suffix}"
            renamed[(r.kind, r.name)] = new
            r.names.append(r.name)
            r.meta()["name"] = new
        fix_references(acc, renamed)
    for index, item in enumerate(as_list(data.get("labels"))):
        spec = as_map(item)
        pairs = str_map(spec.get("pairs"))
        selectors = spec.get("includeSelectors") is True
        templates = selectors or spec.get("includeTemplates") is True
        refs = _pair_refs(ctx, ("labels", index), ("pairs",), pairs)
        _label(acc, pairs, selectors, templates, ctx.origins, refs)
    common = str_map(data.get("commonLabels"))
    if common:
        _label(acc, common, True, True, ctx.origins, _pair_refs(ctx, ("commonLabels",), (), common))
    annotations = str_map(data.get("commonAnnotations"))
    if annotations:
        refs = _pair_refs(ctx, ("commonAnnotations",), (), annotations)
        for r in acc:
            _put(r.meta(), "annotations", annotations, ctx.origins, refs)
            for path in _TEMPLATE_META.get(r.kind, ()):
                _put(_dig(r.obj, path, True), "annotations", annotations, ctx.origins, refs)


def replicas_and_images(ctx: _Context, acc: list[Resource]) -> None:
    for index, item in enumerate(as_list(ctx.data.get("replicas"))):
        spec = as_map(item)
        name, count = as_str(spec.get("name")), spec.get("count")
        ref = _ref(ctx, ("replicas", index))
        for r in acc:
            if (r.name == name or name in r.names) and r.kind in (*_WORKLOADS, "ReplicationController"):
                spec_map = _dig(r.obj, ("spec",), True) or {}
                spec_map["replicas"] = count
                ctx.origins.set_key(spec_map, "replicas", ref)
    for index, item in enumerate(as_list(ctx.data.get("images"))):
        image = as_map(item)
        name = as_str(image.get("name"))
        if name is None:
            continue
        ref = _ref(ctx, ("images", index))
        for r in acc:
            for container in _containers(r.obj):
                current = as_str(container.get("image"))
                if current is not None and _image_name(current) == name:
                    container["image"] = _new_image(current, image)
                    ctx.origins.set_key(container, "image", ref)


def finish(acc: list[Resource], origins: Origins) -> None:
    """The end of the top build: generated objects get their content hash, references follow."""
    renamed: dict[tuple[str, str], str] = {}
    for r in acc:
        if r.generated and r.hash_name and r.name is not None:
            new = f"{r.name}-{content_hash(r.obj)}"
            renamed[(r.kind, r.name)] = new
            r.names.append(r.name)
            r.meta()["name"] = new
    fix_references(acc, renamed)


# ------------------------------------------------------------------------------------ steps


def _ref(ctx: _Context, keypath: tuple[str | int, ...]) -> CodeRef:
    return CodeRef(path=ctx.path, line=ctx.line(keypath) or 1)


def _pair_refs(
    ctx: _Context, at: tuple[str | int, ...], inner: tuple[str, ...], pairs: dict[str, str]
) -> dict[str, CodeRef]:
    """Each label's or annotation's own line (the line to change), else the field's line."""
    field = _ref(ctx, at)
    return {
        name: CodeRef(path=ctx.path, line=line) if (line := ctx.line((*at, *inner, name))) else field
        for name in pairs
    }


def set_namespace(r: Resource, namespace: str, origins: Origins, ref: CodeRef) -> None:
    """kustomize's namespace transformer: namespaced objects move, and a Namespace object is renamed
    to it (``kubectl kustomize`` does both; a component's placeholder Namespace becomes the real one)."""
    if r.kind == "Namespace" and r.group == "":
        meta = r.meta()
        if meta.get("name") != namespace:
            if isinstance(meta.get("name"), str):
                r.names.append(meta["name"])
            meta["name"] = namespace
            origins.set_key(meta, "name", ref)
    if r.kind not in CLUSTER_SCOPED:
        meta = r.meta()
        meta["namespace"] = namespace
        origins.set_key(meta, "namespace", ref)
    if r.kind in ("RoleBinding", "ClusterRoleBinding"):
        for subject in as_list(r.obj.get("subjects")):
            if (
                isinstance(subject, dict)
                and subject.get("kind") == "ServiceAccount"
                and subject.get("namespace") in (None, "", "default")
            ):
                subject["namespace"] = namespace


def _label(
    acc: list[Resource],
    pairs: dict[str, str],
    selectors: bool,
    templates: bool,
    origins: Origins,
    refs: dict[str, CodeRef],
) -> None:
    for r in acc:
        _put(r.meta(), "labels", pairs, origins, refs)
        if templates:
            for path in _TEMPLATE_META.get(r.kind, ()):
                _put(_dig(r.obj, path, True), "labels", pairs, origins, refs)
            if r.kind == "StatefulSet":
                for claim in as_list(as_map(r.obj.get("spec")).get("volumeClaimTemplates")):
                    if isinstance(claim, dict):
                        _put(_dig(claim, ("metadata",), True), "labels", pairs, origins, refs)
        if selectors:
            for path, create in _SELECTORS.get(r.kind, ()):
                parent = _dig(r.obj, path[:-1], create)
                if parent is not None and (create or isinstance(parent.get(path[-1]), dict)):
                    _put(parent, path[-1], pairs, origins, refs)


def _put(
    parent: dict[str, Any] | None, key: str, pairs: dict[str, str], origins: Origins, refs: dict[str, CodeRef]
) -> None:
    if parent is None:
        return
    current = parent.get(key)
    if not isinstance(current, dict):
        current = parent[key] = {}
    for name, value in pairs.items():
        current[name] = value
        origins.set_key(current, name, refs[name])


def _dig(obj: dict[str, Any], path: tuple[str, ...], create: bool) -> dict[str, Any] | None:
    node: dict[str, Any] = obj
    for key in path:
        child = node.get(key)
        if not isinstance(child, dict):
            if not create:
                return None
            child = node[key] = {}
        node = child
    return node


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    path = _POD_SPECS.get(as_str(obj.get("kind")) or "")
    return _dig(obj, path, False) if path else None


def _containers(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    pod = _pod_spec(obj)
    if pod is None:
        return
    for field in ("initContainers", "containers", "ephemeralContainers"):
        for item in as_list(pod.get(field)):
            if isinstance(item, dict):
                yield item


def _image_name(image: str) -> str:
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _new_image(current: str, spec: dict[str, Any]) -> str:
    name = _image_name(current)
    rest = current[len(name) :]
    tag = rest[1:].split("@", 1)[0] if rest.startswith(":") else None
    digest = current.split("@", 1)[1] if "@" in current else None
    name = as_str(spec.get("newName")) or name
    if (new_tag := as_str(spec.get("newTag"))) is not None:
        tag, digest = new_tag, None
    if (new_digest := as_str(spec.get("digest"))) is not None:
        tag, digest = None, new_digest
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


# ------------------------------------------------------------------------------- references


def fix_references(acc: list[Resource], renamed: dict[tuple[str, str], str]) -> None:
    """Point references to renamed ConfigMaps, Secrets, ServiceAccounts, claims, Services, roles."""
    if not renamed:
        return

    def fix(node: dict[str, Any], key: str, kind: str) -> None:
        old = as_str(node.get(key))
        if old is not None and (kind, old) in renamed:
            node[key] = renamed[(kind, old)]

    for r in acc:
        pod = _pod_spec(r.obj)
        if pod is not None:
            fix(pod, "serviceAccountName", "ServiceAccount")
            for secret in as_list(pod.get("imagePullSecrets")):
                fix(as_map(secret), "name", "Secret")
            for volume in (as_map(v) for v in as_list(pod.get("volumes"))):
                fix(as_map(volume.get("configMap")), "name", "ConfigMap")
                fix(as_map(volume.get("secret")), "secretName", "Secret")
                fix(as_map(volume.get("persistentVolumeClaim")), "claimName", "PersistentVolumeClaim")
                for source in as_list(as_map(volume.get("projected")).get("sources")):
                    fix(as_map(as_map(source).get("configMap")), "name", "ConfigMap")
                    fix(as_map(as_map(source).get("secret")), "name", "Secret")
            for container in _containers(r.obj):
                for env in as_list(container.get("env")):
                    value_from = as_map(as_map(env).get("valueFrom"))
                    fix(as_map(value_from.get("configMapKeyRef")), "name", "ConfigMap")
                    fix(as_map(value_from.get("secretKeyRef")), "name", "Secret")
                for env_from in as_list(container.get("envFrom")):
                    fix(as_map(as_map(env_from).get("configMapRef")), "name", "ConfigMap")
                    fix(as_map(as_map(env_from).get("secretRef")), "name", "Secret")
        if r.kind == "StatefulSet":
            fix(as_map(r.obj.get("spec")), "serviceName", "Service")
        if r.kind in ("RoleBinding", "ClusterRoleBinding"):
            role = as_map(r.obj.get("roleRef"))
            fix(role, "name", as_str(role.get("kind")) or "Role")
            for subject in as_list(r.obj.get("subjects")):
                if as_map(subject).get("kind") == "ServiceAccount":
                    fix(as_map(subject), "name", "ServiceAccount")
