"""The one mapper from a Kubernetes object (a plain dict) to inventory records.

Three callers share it, so code and cluster are described in the same terms and can be linked:
YAML manifests in the repo, Terraform ``kubernetes_manifest`` objects, and live or snapshot cluster
objects. Callers pass the object's ``source`` and, for code, a ``line_of`` lookup so that nested
items (a container, an image, a chart version, an alert rule) point at their own line.

Dispatch is on the API group as well as the kind, because custom resources reuse names (Flux and
Kustomize both have a ``Kustomization``; Kyverno and others a ``Policy``). An object without
``apiVersion`` (a hand-built dict) is matched on kind alone. Unknown kinds give empty Records; a
field of the wrong type counts as absent, so a broken object yields a partial record, never an
exception. Built-in kinds are mapped in ``k8s_core``; custom resources here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.inventory.inventory import Records
from tools.inventory.k8s_core import (
    CORE_MAPPERS,
    NETWORK_POLICY_GROUPS,
    K8sObject,
    KeyPath,
    Mapper,
    as_bool,
    as_list,
    as_map,
    as_str,
    network_policy,
    str_list,
)
from tools.inventory.k8s_policies import POLICY_MAPPERS, gatekeeper
from tools.inventory.models import (
    AlertRule,
    ArgoApplication,
    BackupSchedule,
    CodeRef,
    FluxKustomization,
    FluxSource,
    HelmRelease,
    LiveRef,
    Origin,
    Source,
)
from tools.inventory.yaml_lines import LineOf

_FLUX_REF_KEYS: dict[str, tuple[str, ...]] = {
    # Flux's own precedence when several are set: the most specific reference wins.
    "GitRepository": ("commit", "name", "semver", "tag", "branch"),
    "OCIRepository": ("digest", "semver", "tag"),
}


def records_from_object(
    obj: dict[str, Any],
    source: Source,
    origin: Origin,
    line_of: Callable[[tuple[str | int, ...]], int | None] | None = None,
) -> Records:
    """Map one Kubernetes object to records; a ``List`` (or ``FooList``) maps each of its items."""
    records = Records()
    map_into(obj, source, origin, records, line_of)
    return records


def map_into(
    obj: dict[str, Any],
    source: Source,
    origin: Origin,
    records: Records,
    line_of: Callable[[tuple[str | int, ...]], int | None] | None = None,
) -> None:
    """``records_from_object`` appending to ``records`` (the mappers only append): a cluster's load maps
    a kind's objects into one ``Records``, not one per object joined field by field (issue 13)."""
    if isinstance(obj, dict):
        _map_into(K8sObject(obj, source, origin, line_of), records)


def _map_into(o: K8sObject, records: Records) -> None:
    if o.kind.endswith("List") and isinstance(o.obj.get("items"), list):
        _map_list(o, records)
    elif o.group is not None and o.group.startswith("constraints.gatekeeper.sh"):
        gatekeeper(o, records)
    elif (mapper := CORE_MAPPERS.get(o.kind) or _CRD_MAPPERS.get(o.kind)) is not None:
        mapper(o, records)


def _map_list(o: K8sObject, records: Records) -> None:
    """Items of a List: in code each item gets its own line; live, its own kind/namespace/name.

    A typed list straight from the API (``DeploymentList``) leaves ``kind`` and ``apiVersion`` out
    of its items; they are taken from the list (a shallow copy of the item, never a deep one).
    """
    item_kind = o.kind[: -len("List")] if o.kind != "List" else None
    for index, item in enumerate(o.obj["items"]):
        if not isinstance(item, dict):
            continue
        if item_kind and "kind" not in item:
            item = {**item, "kind": item_kind, "apiVersion": o.obj.get("apiVersion")}
        line_of: LineOf | None = None
        source = o.source
        if isinstance(source, CodeRef):
            source = o.sub(("items", index))
            if o.line_of is not None:
                line_of = _prefixed(o.line_of, ("items", index))
        elif isinstance(source, LiveRef):
            meta = as_map(item.get("metadata"))
            source = LiveRef(
                cluster=source.cluster,
                namespace=as_str(meta.get("namespace")),
                object_kind=as_str(item.get("kind")) or "",
                name=as_str(meta.get("name")) or "",
            )
        _map_into(K8sObject(item, source, o.origin, line_of), records)


def _prefixed(line_of: LineOf, prefix: KeyPath) -> LineOf:
    return lambda path: line_of(prefix + path)


# --------------------------------------------------------------------------- alerting rules


def alert_rules_from_groups(
    groups: Any, source: Source, line_of: LineOf | None, path: KeyPath
) -> list[AlertRule]:
    """Alerting rules of a Prometheus ``groups:`` list found at ``path``; recording rules are skipped.

    Shared with the rule-file and Helm-values readers in ``manifests``, which pass their own path.
    """
    rules: list[AlertRule] = []
    for gi, group in enumerate(as_list(groups)):
        group_map = as_map(group)
        group_name = as_str(group_map.get("name"))
        for ri, rule in enumerate(as_list(group_map.get("rules"))):
            rule_map = as_map(rule)
            alert = as_str(rule_map.get("alert"))
            if alert is None:
                continue
            line = line_of((*path, gi, "rules", ri)) if line_of is not None else None
            rules.append(
                AlertRule(
                    alert=alert,
                    expr=as_str(rule_map.get("expr")) or "",
                    group=group_name,
                    source=CodeRef(path=source.path, line=line)
                    if line is not None and isinstance(source, CodeRef)
                    else source,
                )
            )
    return rules


def alert_rules_from_values(
    values: Any, source: Source, line_of: LineOf | None, path: KeyPath
) -> list[AlertRule]:
    """Alerting rules embedded in Helm values, at ``path`` inside the document.

    kube-prometheus-stack: ``additionalPrometheusRulesMap.<name>.groups`` (and the older list
    ``additionalPrometheusRules[].groups``); the prometheus chart: ``serverFiles."alerting_rules.yml"``
    (``alerts`` in old versions). Umbrella charts nest a subchart's values one level down, so each
    top-level mapping is looked into as well.
    """
    rules: list[AlertRule] = []
    top = as_map(values)
    scopes: list[tuple[KeyPath, dict[str, Any]]] = [(path, top)]
    scopes.extend(((*path, key), value) for key, value in top.items() if isinstance(value, dict))
    for at, scope in scopes:
        for name, item in as_map(scope.get("additionalPrometheusRulesMap")).items():
            groups = as_map(item).get("groups")
            rules += alert_rules_from_groups(
                groups, source, line_of, (*at, "additionalPrometheusRulesMap", name, "groups")
            )
        for index, item in enumerate(as_list(scope.get("additionalPrometheusRules"))):
            groups = as_map(item).get("groups")
            rules += alert_rules_from_groups(
                groups, source, line_of, (*at, "additionalPrometheusRules", index, "groups")
            )
        server_files = as_map(scope.get("serverFiles"))
        for file_key in ("alerting_rules.yml", "alerts"):
            groups = as_map(server_files.get(file_key)).get("groups")
            rules += alert_rules_from_groups(
                groups, source, line_of, (*at, "serverFiles", file_key, "groups")
            )
    return rules


def _prometheus_rule(o: K8sObject, records: Records) -> None:
    if o.in_group("monitoring.coreos.com"):
        groups = o.spec.get("groups")
        records.alert_rules.extend(alert_rules_from_groups(groups, o.source, o.line_of, ("spec", "groups")))


# ------------------------------------------------------------------------------------ Flux


def _ref(value: Any) -> str | None:
    """A Flux ``sourceRef``/``chartRef`` as ``Kind/name`` (``Kind/namespace/name`` across namespaces)."""
    ref = as_map(value)
    kind, name, namespace = as_str(ref.get("kind")), as_str(ref.get("name")), as_str(ref.get("namespace"))
    if name is None:
        return None
    return "/".join(part for part in (kind, namespace, name) if part)


def _flux_helm_release(o: K8sObject, records: Records) -> None:
    """Chart from ``spec.chart.spec`` or, in v2, ``spec.chartRef`` (whose version lives in the source).

    Alert rules in the inline ``spec.values`` are read as in a values file.
    """
    if not o.in_group("helm.toolkit.fluxcd.io"):
        return
    chart_spec = as_map(as_map(o.spec.get("chart")).get("spec"))
    version = as_str(chart_spec.get("version"))
    chart_ref = o.spec.get("chartRef")
    records.helm_releases.append(
        HelmRelease(
            defined_by="flux",
            name=o.name,
            namespace=o.namespace,
            chart=as_str(chart_spec.get("chart")) or as_str(as_map(chart_ref).get("name")),
            version=version,
            version_line=o.line(("spec", "chart", "spec", "version")) if version is not None else None,
            chart_ref=_ref(chart_ref) if not chart_spec else None,
            repository=_ref(chart_spec.get("sourceRef")) or _ref(chart_ref),
            values_files=[
                ref for item in as_list(o.spec.get("valuesFrom")) if (ref := _ref(item)) is not None
            ],
            source=o.source,
        )
    )
    values = o.spec.get("values")
    records.alert_rules += alert_rules_from_values(values, o.source, o.line_of, ("spec", "values"))


def _flux_kustomization(o: K8sObject, records: Records) -> None:
    if o.group is not None and o.group != "kustomize.toolkit.fluxcd.io":
        return  # kustomize.config.k8s.io files are read by the manifests reader
    post = as_map(o.spec.get("postBuild"))
    records.flux_kustomizations.append(
        FluxKustomization(
            name=o.name,
            namespace=o.namespace,
            path=as_str(o.spec.get("path")),
            source_ref=_ref(o.spec.get("sourceRef")),
            prune=as_bool(o.spec.get("prune")),
            suspend=o.spec.get("suspend") is True,
            interval=as_str(o.spec.get("interval")),
            lines={k: line for k in ("suspend", "prune") if k in o.spec and (line := o.line(("spec", k)))},
            target_namespace=as_str(o.spec.get("targetNamespace")),
            depends_on=[
                "/".join(p for p in (as_str(ref.get("namespace")), name) if p)
                for ref in (as_map(d) for d in as_list(o.spec.get("dependsOn")))
                if (name := as_str(ref.get("name"))) is not None
            ],
            substitute_keys=sorted(str(k) for k in as_map(post.get("substitute"))),
            substitute_from=[
                r for item in as_list(post.get("substituteFrom")) if (r := _ref(item)) is not None
            ],
            source=o.source,
        )
    )


def _flux_source(o: K8sObject, records: Records) -> None:
    if not o.in_group("source.toolkit.fluxcd.io"):
        return
    ref_map = as_map(o.spec.get("ref"))
    key = next((key for key in _FLUX_REF_KEYS.get(o.kind, ()) if as_str(ref_map.get(key))), None)
    ref = as_str(ref_map.get(key)) if key is not None else None
    url = as_str(o.spec.get("endpoint") if o.kind == "Bucket" else o.spec.get("url"))
    records.flux_sources.append(
        FluxSource(
            kind=o.kind,
            name=o.name,
            namespace=o.namespace,
            url=url,
            ref=ref,
            ref_line=o.line(("spec", "ref", key)) if key is not None else None,
            source=o.source,
        )
    )


def _velero_schedule(o: K8sObject, records: Records) -> None:
    if not o.in_group("velero.io"):
        return
    template = as_map(o.spec.get("template"))
    records.backup_schedules.append(
        BackupSchedule(
            name=o.name,
            namespace=o.namespace,
            included_namespaces=str_list(template.get("includedNamespaces")),
            excluded_namespaces=str_list(template.get("excludedNamespaces")),
            source=o.source,
        )
    )


# ----------------------------------------------------------------------------------- Argo CD


def _argo_application(o: K8sObject, records: Records) -> None:
    """The Application, plus one HelmRelease per source that deploys a chart (version = targetRevision).

    Alert rules in a source's inline Helm values (``helm.valuesObject``) are read as in a values file.
    """
    if not o.in_group("argoproj.io"):
        return
    sources: list[tuple[KeyPath, dict[str, Any]]] = []
    if isinstance(o.spec.get("source"), dict):
        sources.append((("spec", "source"), o.spec["source"]))
    else:
        sources.extend(
            (("spec", "sources", i), item)
            for i, item in enumerate(as_list(o.spec.get("sources")))
            if isinstance(item, dict)
        )
    first = sources[0][1] if sources else {}
    automated = as_map(o.spec.get("syncPolicy")).get("automated")
    auto = as_map(automated)
    status = o.obj.get("status")
    destination = as_map(o.spec.get("destination"))
    records.argo_apps.append(
        ArgoApplication(
            name=o.name,
            namespace=o.namespace,
            project=as_str(o.spec.get("project")),
            repo_url=as_str(first.get("repoURL")),
            path=as_str(first.get("path")),
            chart=as_str(first.get("chart")),
            target_revision=as_str(first.get("targetRevision")),
            automated=isinstance(automated, dict) and auto.get("enabled") is not False,
            prune=auto.get("prune") is True,
            self_heal=auto.get("selfHeal") is True,
            destination_namespace=as_str(destination.get("namespace")),
            sync_status=as_str(as_map(as_map(status).get("sync")).get("status"))
            if status is not None
            else None,
            health_status=as_str(as_map(as_map(status).get("health")).get("status"))
            if status is not None
            else None,
            source=o.source,
        )
    )
    for path, item in sources:
        helm = as_map(item.get("helm"))
        values_path = (*path, "helm", "valuesObject")
        records.alert_rules += alert_rules_from_values(
            helm.get("valuesObject"), o.source, o.line_of, values_path
        )
        chart = as_str(item.get("chart"))
        if chart is None:
            continue
        version = as_str(item.get("targetRevision"))
        records.helm_releases.append(
            HelmRelease(
                defined_by="argocd",
                name=o.name,
                namespace=as_str(destination.get("namespace")) or o.namespace,
                chart=chart,
                version=version,
                version_line=o.line((*path, "targetRevision")) if version is not None else None,
                repository=as_str(item.get("repoURL")),
                values_files=str_list(helm.get("valueFiles")),
                source=o.source,
            )
        )


_CRD_MAPPERS: dict[str, Mapper] = {
    "PrometheusRule": _prometheus_rule,
    **POLICY_MAPPERS,
    "HelmRelease": _flux_helm_release,
    "Kustomization": _flux_kustomization,
    "GitRepository": _flux_source,
    "HelmRepository": _flux_source,
    "OCIRepository": _flux_source,
    "Bucket": _flux_source,
    "Schedule": _velero_schedule,
    "Application": _argo_application,
    **{kind: network_policy for kind in NETWORK_POLICY_GROUPS if kind != "NetworkPolicy"},
}
