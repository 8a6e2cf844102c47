"""The catalog's standard-tool command of a check prints what the check counts, on the trap classes the
check's semantics were changed for (a command written before the change counts the old way).

MNT-HELM-UNPINNED judges a Flux ``spec.chartRef`` release by its source's ref (issue 9): pinned by a tag
or a digest, unpinned with no ref or a range, not judged when the source is not in the repo; Argo CD
Applications of a chart are releases too.
"""

from __future__ import annotations

from pathlib import Path

from corpus import detect

from tools.checks.reproduce import Where
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import spec_by_id
from tools.sandbox import Jail

HR = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: apps
spec:
  interval: 1h
{chart}
---
"""
REF = "  chartRef:\n    kind: OCIRepository\n    name: {source}\n"
SPEC = "  chart:\n    spec:\n      chart: podinfo\n      version: {version!r}\n"
OCI = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: {name}
  namespace: apps
spec:
  url: oci://ghcr.io/example/{name}
{ref}
---
"""
ARGO = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://charts.example.org
    chart: {name}
    targetRevision: {version!r}
  destination:
    namespace: {name}
---
"""


def files() -> dict[str, str]:
    releases = [
        HR.format(name="by-tag", chart=REF.format(source="tagged")),  # pinned: ref.tag 3.5.1
        HR.format(name="by-digest", chart=REF.format(source="digested")),  # pinned: a digest
        HR.format(name="by-nothing", chart=REF.format(source="unreffed")),  # UNPINNED: no ref
        HR.format(name="by-semver", chart=REF.format(source="ranged")),  # UNPINNED: a semver range
        HR.format(name="elsewhere", chart=REF.format(source="not-in-repo")),  # not judged
        HR.format(name="pinned", chart=SPEC.format(version="6.5.0")),
        HR.format(name="loose", chart=SPEC.format(version=">=6.0.0")),  # UNPINNED
        HR.format(name="LATEST", chart=SPEC.format(version="Latest")),  # UNPINNED
    ]
    sources = [
        OCI.format(name="tagged", ref="  ref:\n    tag: 3.5.1"),
        OCI.format(name="digested", ref="  ref:\n    digest: sha256:" + "a" * 64),
        OCI.format(name="unreffed", ref=""),
        OCI.format(name="ranged", ref="  ref:\n    semver: '>=3.0.0'"),
    ]
    apps = [ARGO.format(name="grafana", version="8.5.1"), ARGO.format(name="loki", version="6.*")]  # 1
    return {"flux/releases.yaml": "".join(releases), "flux/sources.yaml": "".join(sources),
            "argo/apps.yaml": "".join(apps)}  # fmt: skip


def test_the_helm_unpinned_command_counts_what_the_check_counts(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    detection = detect(root, files(), "MNT-HELM-UNPINNED")
    assert detection.count == 5
    assert sorted(loc.subject for loc in detection.locations) == [
        "HelmRelease/apps/LATEST", "HelmRelease/apps/by-nothing", "HelmRelease/apps/by-semver",
        "HelmRelease/apps/loose", "HelmRelease/loki/loki",
    ]  # fmt: skip
    spec = spec_by_id("MNT-HELM-UNPINNED").reproduce["count"]
    printed = run_spec(spec, Jail(root), Where(estate=str(root)), None)
    assert printed.value == detection.count, printed.error


DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: apps}\n"
BOTS: dict[str, tuple[dict[str, str], int]] = {
    # where Renovate does not look (h10harden): no config, so the finding stands
    "a renovate.json in a docs sample": ({"docs/sample/renovate.json": '{"extends": ["config:base"]}'}, 1),
    "renovate.json in .github": ({".github/renovate.json": '{"extends": ["config:base"]}'}, 0),
    "a Renovate config that only bumps npm": ({"renovate.json5": "{enabledManagers: ['npm'],}"}, 1),
    "Renovate in the root package.json": ({"package.json": '{"name": "x", "renovate": {"extends": []}}'}, 0),
    "renovate only as a dependency": ({"package.json": '{"devDependencies": {"renovate": "^37.0.0"}}'}, 1),
    "Dependabot for GitHub Actions only": (
        {".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: github-actions\n"},
        1,
    ),
    "Dependabot for Terraform": (
        {".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: terraform\n"},
        0,
    ),
    "a self-hosted Renovate": (
        {"ops/renovate.yaml": DEPLOY.replace("web", "bot")
         + "spec:\n  template:\n    spec:\n      containers:\n        - name: r\n"
         "          image: ghcr.io/renovatebot/renovate:37.1.0\n"},
        0,
    ),
}  # fmt: skip


def test_the_dependency_bot_command_looks_where_the_check_looks(tmp_path: Path) -> None:
    """MNT-NO-DEP-BOT reads bot configs only where the bots read them, and only for infrastructure
    ecosystems (issue 10); its command counted a renovate.json anywhere, so the recount turned a true
    finding into 0."""
    spec = spec_by_id("MNT-NO-DEP-BOT").reproduce["count"]
    for i, (case, (files, expected)) in enumerate(BOTS.items()):
        root = tmp_path / str(i)
        detection = detect(root, {"apps/web.yaml": DEPLOY, **files}, "MNT-NO-DEP-BOT")
        assert detection.count == expected, case
        printed = run_spec(spec, Jail(root), Where(estate=str(root)), None)
        assert printed.value == expected, (case, printed.error)


def test_the_network_policy_command_counts_every_engine_the_check_counts(tmp_path: Path) -> None:
    """SEC-NO-NETPOL takes Cilium and Calico namespaced policies as policies (issue 10); its command
    read only kind NetworkPolicy, so a namespace isolated by a CiliumNetworkPolicy was counted again."""

    def workload(ns: str) -> str:
        return f"apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app, namespace: {ns}}}\n---\n"

    def policy(api: str, kind: str, ns: str | None) -> str:
        where = f", namespace: {ns}" if ns else ""
        return f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: p{where}}}\n---\n"

    files = {
        "apps.yaml": "".join(workload(ns) for ns in ("apps", "media", "db", "calico", "web", "cache")),
        "policies.yaml": policy("cilium.io/v2", "CiliumNetworkPolicy", "apps")
        + policy("cilium.io/v2", "CiliumNetworkPolicy", "media")
        + policy("networking.k8s.io/v1", "NetworkPolicy", "db")
        + policy("crd.projectcalico.org/v1", "NetworkPolicy", "calico")
        + policy("example.com/v1", "NetworkPolicy", "web")  # another API group: not a policy
        + policy("cilium.io/v2", "CiliumClusterwideNetworkPolicy", None),  # covers no namespace here
    }
    root = tmp_path / "estate"
    detection = detect(root, files, "SEC-NO-NETPOL")
    assert (detection.count, detection.total) == (2, 6)
    assert sorted(loc.subject for loc in detection.locations) == ["Namespace/cache", "Namespace/web"]
    spec = spec_by_id("SEC-NO-NETPOL").reproduce["count"]
    assert run_spec(spec, Jail(root), Where(estate=str(root)), None).value == 2


def test_the_audit_only_command_counts_every_policy_kind_the_check_reads(tmp_path: Path) -> None:
    """SEC-POLICY-AUDIT-ONLY reads ValidatingAdmissionPolicyBindings, Kyverno ImageValidatingPolicies and
    sigstore ClusterImagePolicies (issue 10); its command read only Kyverno and Gatekeeper."""

    def obj(api: str, kind: str, name: str, spec: str) -> str:
        return f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: {name}}}\nspec: {spec}\n---\n"

    vap, ivp = "admissionregistration.k8s.io/v1", "policies.kyverno.io/v1alpha1"
    files = {
        "policies.yaml": obj("kyverno.io/v1", "ClusterPolicy", "k-audit", "{validationFailureAction: Audit}")
        + obj("kyverno.io/v1", "ClusterPolicy", "k-enforce", "{validationFailureAction: Enforce}")
        + obj(vap, "ValidatingAdmissionPolicyBinding", "vap-warn", "{validationActions: [Warn, Audit]}")
        + obj(vap, "ValidatingAdmissionPolicyBinding", "vap-deny", "{validationActions: [Deny]}")
        + obj(ivp, "ImageValidatingPolicy", "ivp-audit", "{validationActions: [Audit]}")
        + obj(ivp, "ImageValidatingPolicy", "ivp-default", "{}")
        + obj("policy.sigstore.dev/v1beta1", "ClusterImagePolicy", "cip-warn", "{mode: warn}")
        + obj("policy.sigstore.dev/v1beta1", "ClusterImagePolicy", "cip-default", "{}"),
    }
    root = tmp_path / "estate"
    detection = detect(root, files, "SEC-POLICY-AUDIT-ONLY")
    assert (detection.count, detection.total) == (4, 8)
    assert sorted(loc.subject.rsplit("/", 1)[-1] for loc in detection.locations) == [
        "cip-warn", "ivp-audit", "k-audit", "vap-warn"
    ]  # fmt: skip
    spec = spec_by_id("SEC-POLICY-AUDIT-ONLY").reproduce["count"]
    assert run_spec(spec, Jail(root), Where(estate=str(root)), None).value == 4
