"""Maintenance checks that need more than the inventory: API versions, CI validation coverage.

Counting rules:

* MNT-DEPRECATED-API: objects on removed or deprecated APIs, from three places, each counted:
  (a) Terraform resources whose type talks to a removed API (``DEPRECATED_TF_TYPES``);
  (b) YAML documents whose top-level ``apiVersion:`` is in ``REMOVED_API_VERSIONS`` (one repo_search
      over ``*.yaml``/``*.yml``; cluster snapshot directories excluded);
  (c) live objects whose ``apiVersion`` is in that list.
* MNT-NO-CI-VALIDATION: the validations the estate needs from what it contains (Terraform ->
  terraform-validate or tflint; a kustomization or Flux Kustomization -> kustomize-build or
  flux-build; Kubernetes manifests -> kubeconform; a Helm chart (``Chart.yaml``) -> helm-lint, met
  by ``helm lint`` or a ``helm template`` render), minus those some CI file runs. Without a CI file
  every needed validation is missing. total = needed.

The stale-path check of docs lives in ``maintenance_docs.py``.
"""

from __future__ import annotations

from domain.findings import Location
from tools.checks.detections.declarative import has_terraform
from tools.checks.detections.repo_evidence import in_dirs, problems, search, snapshot_dirs
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory.inventory import Records

AGENT = "maintenance"

DEPRECATED_TF_TYPES: dict[str, str] = {
    "kubernetes_cron_job": "batch/v1beta1 (removed in 1.25); use kubernetes_cron_job_v1",
    "kubernetes_pod_disruption_budget": (
        "policy/v1beta1 (removed in 1.25); use kubernetes_pod_disruption_budget_v1"
    ),
    "kubernetes_horizontal_pod_autoscaler_v2beta2": (
        "autoscaling/v2beta2 (removed in 1.26); use kubernetes_horizontal_pod_autoscaler_v2"
    ),
    "kubernetes_ingress": "extensions|networking.k8s.io/v1beta1 (removed in 1.22); use kubernetes_ingress_v1",
    "kubernetes_pod_security_policy": (
        "policy/v1beta1 PodSecurityPolicy (removed in 1.25); use Pod Security Admission"
    ),
    "kubernetes_certificate_signing_request": (
        "certificates.k8s.io/v1beta1 (removed in 1.22); use kubernetes_certificate_signing_request_v1"
    ),
    "kubernetes_csi_driver": "storage.k8s.io/v1beta1 (removed in 1.22); use kubernetes_csi_driver_v1",
}
"""Resource types of the hashicorp/kubernetes provider that call a removed API. The unsuffixed
``kubernetes_horizontal_pod_autoscaler`` is left out: it uses autoscaling/v1 unless metrics are set,
which the inventory does not record."""

REMOVED_API_VERSIONS: dict[str, str] = {
    "extensions/v1beta1": "removed in 1.16/1.22; use apps/v1 or networking.k8s.io/v1",
    "apps/v1beta1": "removed in 1.16; use apps/v1",
    "apps/v1beta2": "removed in 1.16; use apps/v1",
    "batch/v1beta1": "removed in 1.25; use batch/v1",
    "policy/v1beta1": "removed in 1.25; use policy/v1 (PodSecurityPolicy: Pod Security Admission)",
    "autoscaling/v2beta1": "removed in 1.25; use autoscaling/v2",
    "autoscaling/v2beta2": "removed in 1.26; use autoscaling/v2",
    "networking.k8s.io/v1beta1": "removed in 1.22; use networking.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1": "removed in 1.22; use rbac.authorization.k8s.io/v1",
    "admissionregistration.k8s.io/v1beta1": "removed in 1.22; use admissionregistration.k8s.io/v1",
    "apiextensions.k8s.io/v1beta1": "removed in 1.22; use apiextensions.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1": "removed in 1.26; use flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta2": "removed in 1.29; use flowcontrol.apiserver.k8s.io/v1",
    "helm.toolkit.fluxcd.io/v2beta1": "deprecated by Flux; use helm.toolkit.fluxcd.io/v2",
    "kustomize.toolkit.fluxcd.io/v1beta1": "removed by Flux; use kustomize.toolkit.fluxcd.io/v1",
    "kustomize.toolkit.fluxcd.io/v1beta2": "deprecated by Flux; use kustomize.toolkit.fluxcd.io/v1",
    "source.toolkit.fluxcd.io/v1beta1": "removed by Flux; use source.toolkit.fluxcd.io/v1",
}

_QUOTE = "[\"']?"
API_VERSION_PATTERN = (
    r"^apiVersion:\s*" + _QUOTE + "(" + "|".join(v.replace(".", r"\.") for v in REMOVED_API_VERSIONS) + ")"
    + _QUOTE + r"\s*(#.*)?$"
)  # fmt: skip
YAML_GLOB = "*.{yaml,yml}"


def _api_version(text: str) -> str:
    value = text.split(":", 1)[1].split("#", 1)[0].strip().strip("\"'")
    return value


@detector("MNT-DEPRECATED-API")
def deprecated_api(ctx: CheckContext) -> Detection:
    """Terraform types on removed APIs + YAML apiVersions in the removed list + live objects in it."""
    inventory = ctx.inventory
    locations = [
        Location(ref=str(r.source), subject=f"{r.type}.{r.name}", detail=DEPRECATED_TF_TYPES[r.type])
        for r in inventory.code.resources
        if r.type in DEPRECATED_TF_TYPES
    ]
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    found = search(ctx, AGENT, API_VERSION_PATTERN, glob=YAML_GLOB, exclude_dirs=snapshots)
    for hit in found.hits:
        version = _api_version(hit.text)
        locations.append(
            Location(
                ref=hit.ref,
                subject=f"apiVersion {version}",
                detail=REMOVED_API_VERSIONS.get(version, "removed or deprecated API version"),
            )
        )
    for obj in inventory.live.objects if inventory.live is not None else []:
        if obj.api_version in REMOVED_API_VERSIONS:
            locations.append(
                Location(
                    ref=str(obj.source),
                    subject=f"{obj.kind}/{obj.namespace or '-'}/{obj.name}",
                    detail=f"{obj.api_version}: {REMOVED_API_VERSIONS[obj.api_version]}",
                )
            )
    return Detection(
        count=len(locations), locations=locations, evidence=[found.evidence, listing_ev], note=problems(found)
    )


# ------------------------------------------------------------------------------ CI validation


def has_manifests(records: Records) -> bool:
    """Kubernetes objects written as YAML: any record from a manifest, or a Flux/Argo CD object."""
    typed = (
        records.workloads, records.pvcs, records.namespaces, records.pdbs, records.hpas,
        records.network_policies, records.quotas, records.roles, records.bindings, records.secrets,
        records.policies,
    )  # fmt: skip
    if any(item.origin == "manifest" for items in typed for item in items):
        return True
    return bool(
        records.flux_kustomizations
        or records.flux_sources
        or records.argo_apps
        or any(r.defined_by != "terraform" for r in records.helm_releases)
    )


@detector("MNT-NO-CI-VALIDATION")
def no_ci_validation(ctx: CheckContext) -> Detection:
    """Needed validations (by what the estate holds) that no CI file runs; all of them without CI."""
    code = ctx.inventory.code
    snapshots, listing_ev = snapshot_dirs(ctx, AGENT)
    charts_ev = ctx.toolbox.call("repo_list", {"glob": "Chart.yaml"}, agent=AGENT)
    charts = [
        str(e["path"])
        for e in ctx.toolbox.ledger.data(charts_ev.id) or []
        if isinstance(e, dict) and "path" in e and not in_dirs(str(e["path"]), snapshots)
    ]
    needed: list[tuple[str, frozenset[str], str]] = []
    if has_terraform(ctx.inventory):
        needed.append(("terraform-validate", frozenset({"terraform-validate", "tflint"}), "Terraform code"))
    if code.kustomizations or code.flux_kustomizations:
        needed.append(("kustomize-build", frozenset({"kustomize-build", "flux-build"}), "kustomizations"))
    if has_manifests(code):
        needed.append(("kubeconform", frozenset({"kubeconform"}), "Kubernetes manifests"))
    if charts:
        needed.append(("helm-lint", frozenset({"helm-lint"}), f"a Helm chart ({charts[0]})"))
    if not needed:
        return Detection(count=0, applicable=False, note="nothing in the estate that CI could validate")
    ci_files = sorted(code.ci_files, key=lambda f: (f.source.path, f.source.line))
    run = {v for f in ci_files for v in f.validations}
    ref = f"{ci_files[0].source.path}:1" if ci_files else "-"
    where = "no CI file runs it" if ci_files else "the estate has no CI file"
    locations = [
        Location(
            ref=ref, subject=name, detail=f"needed for {why}; {where} (accepted: {', '.join(sorted(ok))})"
        )
        for name, ok, why in needed
        if not run & ok
    ]
    return Detection(
        count=len(locations), total=len(needed), locations=locations, evidence=[charts_ev.id, listing_ev]
    )
