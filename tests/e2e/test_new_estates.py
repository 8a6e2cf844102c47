"""The two chart-based bundled estates (flux-homelab, argocd-homelab) against their ground truth.

What the present tool can be held to now: both estates parse with no issue, their raw object counts,
the bundled charts are reproducible, and Helm's own engine (helm_python, resolved the way Flux and
Argo CD resolve the releases: tests/helm_estates.py) renders every release to exactly the workloads
and containers ``inventory.rendered_workloads`` lists, with chart defaults applied. Every ref of the
ground truth points at a line that says what the entry claims. The findings whose ``needs`` name the
renderer are checked against those renders here, and end to end once the product renders releases
(issue 9).
"""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from estates import ARGO_HOMELAB, EXAMPLES, FLUX_HOMELAB, ground_truth

from tools.inventory.build import build_inventory
from tools.inventory.yaml_lines import load_documents

pytestmark = pytest.mark.e2e

helm_python = pytest.importorskip("helm_python", reason="helm-python-sdk ships for linux x86_64 only")

import helm_estates  # noqa: E402  (tests/ is on sys.path through conftest's rootdir)

ROOTS = {"flux-homelab": FLUX_HOMELAB, "argocd-homelab": ARGO_HOMELAB}
RELEASES = {"flux-homelab": helm_estates.flux_releases, "argocd-homelab": helm_estates.argo_releases}
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet")
REF = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+)$")


@pytest.fixture(scope="module", params=sorted(ROOTS))
def estate(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[helm_estates.Release]]:
    return {name: [helm_estates.render(r) for r in releases()] for name, releases in RELEASES.items()}


def truth(estate: str) -> dict[str, Any]:
    return ground_truth(estate)


def workloads(releases: list[helm_estates.Release]) -> list[tuple[helm_estates.Release, dict[str, Any]]]:
    return [
        (r, obj) for r in releases for obj in r.manifests if obj.get("kind") in helm_estates.WORKLOAD_KINDS
    ]


def record(release: helm_estates.Release, obj: dict[str, Any]) -> dict[str, Any]:
    """One rendered workload in the shape of ``inventory.rendered_workloads``."""
    pod = helm_estates.pod_spec(obj)
    cs = pod["containers"]
    out: dict[str, Any] = {
        "kind": obj["kind"],
        "namespace": obj["metadata"].get("namespace") or release.namespace,
        "name": obj["metadata"]["name"],
        "release": f"{release.namespace}/{release.name}",
        "chart": release.chart_ref,
        "ref": release.ref,
    }
    if obj["kind"] in ("Deployment", "StatefulSet"):
        strategy = obj["spec"].get("strategy") or obj["spec"].get("updateStrategy") or {}
        out |= {"replicas": obj["spec"].get("replicas"), "strategy": strategy.get("type")}
    out |= {
        "containers": [c["name"] for c in cs],
        "init_containers": [c["name"] for c in pod.get("initContainers") or []],
        "images": {c["name"]: c["image"] for c in cs},
        "probes": {c["name"]: sorted(k.removesuffix("Probe") for k in c if k.endswith("Probe")) for c in cs},
        "resources": {c["name"]: c.get("resources") or {} for c in cs},
        "privileged_containers": [
            c["name"] for c in cs if (c.get("securityContext") or {}).get("privileged")
        ],
        "host_network": bool(pod.get("hostNetwork")),
        "host_paths": [v["hostPath"]["path"] for v in pod.get("volumes") or [] if "hostPath" in v],
    }
    return out


def line_at(root: Path, ref: str) -> str:
    match = REF.match(ref)
    assert match, f"not a path:line ref: {ref}"
    lines = (root / match["path"]).read_text(encoding="utf-8").splitlines()
    number = int(match["line"])
    assert 1 <= number <= len(lines), f"{ref}: the file has {len(lines)} lines"
    return lines[number - 1]


# --------------------------------------------------------------------------------- raw parse


NOTES = {
    "flux-homelab": [
        (
            "kubernetes/apps/kube-system/cilium/app/kustomization.yaml",
            "configurations: not applied by this build (not supported)",
        )
    ],
}
"""What the Kustomize build notes and does not do (README: any other field is noted); not a parse issue."""


def test_estates_parse_with_no_issue(estate: str) -> None:
    inventory = build_inventory(ROOTS[estate])
    assert [i for i in inventory.code.issues if i.reason != "note"] == []
    notes = [(i.path, i.message) for i in inventory.code.issues if i.reason == "note"]
    assert notes == NOTES.get(estate, [])
    assert truth(estate)["parse_errors"] == []
    assert inventory.files_scanned == truth(estate)["inventory"]["raw_counts"]["files"]


KIND_COUNTS = {
    "flux_kustomizations": "kustomize.toolkit.fluxcd.io/Kustomization",
    "git_repositories": "source.toolkit.fluxcd.io/GitRepository",
    "oci_repositories": "source.toolkit.fluxcd.io/OCIRepository",
    "helm_repositories": "source.toolkit.fluxcd.io/HelmRepository",
    "helm_releases": "helm.toolkit.fluxcd.io/HelmRelease",
    "kustomization_files": "kustomize.config.k8s.io/Kustomization",
    "kustomize_components": "kustomize.config.k8s.io/Component",
    "namespaces": "core/Namespace",
    "secrets": "core/Secret",
    "configmaps": "core/ConfigMap",
    "external_secrets": "external-secrets.io/ExternalSecret",
    "cilium_network_policies": "cilium.io/CiliumNetworkPolicy",
    "argo_applications": "argoproj.io/Application",
    "argo_applicationsets": "argoproj.io/ApplicationSet",
    "argo_appprojects": "argoproj.io/AppProject",
}


def test_raw_object_counts(estate: str) -> None:
    root = ROOTS[estate]
    files = sorted(p for p in root.rglob("*") if p.is_file())
    yaml_files = [p for p in files if p.name.endswith((".yaml", ".yml"))]
    kinds: collections.Counter[str] = collections.Counter()
    for path in yaml_files:
        for doc in load_documents(path.read_bytes()):
            data = doc.data
            if isinstance(data, dict) and "kind" in data and "apiVersion" in data:
                group = data["apiVersion"].split("/")[0] if "/" in data["apiVersion"] else "core"
                kinds[f"{group}/{data['kind']}"] += 1
            else:
                kinds["(none)"] += 1
    expected = truth(estate)["inventory"]["raw_counts"]
    seen = {
        "files": len(files),
        "yaml_files": len(yaml_files),
        "yaml_documents": sum(kinds.values()),
        "documents_without_kind": kinds["(none)"],
        "workloads": sum(
            kinds[f"{g}/{k}"]
            for g, k in (
                ("apps", "Deployment"),
                ("apps", "StatefulSet"),
                ("apps", "DaemonSet"),
                ("batch", "Job"),
                ("batch", "CronJob"),
            )
        ),
    }
    seen |= {name: kinds[kind] for name, kind in KIND_COUNTS.items() if name in expected}
    if "chart_yaml_files" in expected:
        seen["chart_yaml_files"] = sum(p.name == "Chart.yaml" for p in files)
        seen["chart_locks"] = sum(p.name == "Chart.lock" for p in files)
    assert seen == expected


# ------------------------------------------------------------------------------------ charts


def _build_module() -> Any:
    """examples/charts/build.py, loaded under its own name (no clash with a ``build`` package)."""
    spec = importlib.util.spec_from_file_location("examples_charts_build", EXAMPLES / "charts" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_packaged_charts_are_reproducible_from_src(tmp_path: Path) -> None:
    build = _build_module()
    archives = build.build(tmp_path)
    shipped = sorted((EXAMPLES / "charts" / "packaged").glob("*.tgz"))
    assert [a.name for a in sorted(archives)] == [p.name for p in shipped]
    for archive in archives:
        assert archive.read_bytes() == (EXAMPLES / "charts" / "packaged" / archive.name).read_bytes(), (
            archive.name
        )


def test_packaged_charts_metadata() -> None:
    seen = {}
    for path in sorted((EXAMPLES / "charts" / "packaged").glob("*.tgz")):
        chart = helm_python.Chart.load(path)
        seen[path.name] = (
            chart.name,
            chart.version,
            chart.metadata.get("type"),
            sorted(d["name"] for d in chart.dependencies),
        )
    assert seen == {
        "podkit-3.7.2.tgz": ("podkit", "3.7.2", "application", ["podkit-common"]),
        "podkit-4.0.1.tgz": ("podkit", "4.0.1", "application", ["podkit-common"]),
        "podkit-common-1.2.0.tgz": ("podkit-common", "1.2.0", "library", []),
        "raw-2.0.0.tgz": ("raw", "2.0.0", "application", []),
    }


def test_packaged_charts_pass_helm_lint(tmp_path: Path) -> None:
    """helm lint --strict finds nothing above info (the only info: no icon) in any packaged chart."""
    for archive in sorted((EXAMPLES / "charts" / "packaged").glob("*.tgz")):
        helm_python.expand(tmp_path / archive.stem, archive)
        (chart_dir,) = (tmp_path / archive.stem).iterdir()
        report = helm_python.lint(chart_dir, strict=True)
        assert report["errors"] == [], archive.name
        assert [m["path"] for m in report["messages"] if m["severity"] >= 2] == [], archive.name


def test_podkit_majors_differ_in_probe_defaults() -> None:
    """The same values: podkit 3.x gives the service port's container both probes, 4.x none."""
    values = {
        "controllers": {"main": {"containers": {"app": {"image": {"repository": "x/app", "tag": "1"}}}}},
        "service": {"app": {"controller": "main", "ports": {"http": {"port": 8080}}}},
    }
    probes = {}
    for version in ("3.7.2", "4.0.1"):
        chart = helm_python.Chart.load(EXAMPLES / "charts" / "packaged" / f"podkit-{version}.tgz")
        docs = [
            d
            for text in chart.render(values, name="a", namespace="n", is_install=True).values()
            for d in yaml.safe_load_all(text)
            if d
        ]
        deploy = next(d for d in docs if d["kind"] == "Deployment")
        container = deploy["spec"]["template"]["spec"]["containers"][0]
        probes[version] = sorted(k for k in container if k.endswith("Probe"))
    assert probes == {"3.7.2": ["livenessProbe", "readinessProbe"], "4.0.1": []}


# ----------------------------------------------------------------------------- the releases


def test_releases_rendered_and_not_rendered(
    estate: str, rendered: dict[str, list[helm_estates.Release]]
) -> None:
    expected = {
        (r["namespace"], r["name"]): (r["rendered"], r["ref"])
        for r in truth(estate)["inventory"]["helm_releases"]
    }
    seen = {(r.namespace, r.name): (r.not_rendered is None, r.ref) for r in rendered[estate]}
    assert seen == expected
    counts = truth(estate)["inventory"]["counts"]
    assert counts["helm_releases"] == len(seen)
    assert counts["helm_releases_rendered"] == sum(ok for ok, _ in seen.values())
    assert counts["helm_releases_not_rendered"] == sum(not ok for ok, _ in seen.values())
    for release in rendered[estate]:
        if release.not_rendered is not None:
            assert release.not_rendered.startswith("chart not in the cache")
            assert release.manifests == []


def test_rendered_workloads_are_exactly_the_ground_truth(
    estate: str, rendered: dict[str, list[helm_estates.Release]]
) -> None:
    seen = sorted(
        (record(r, o) for r, o in workloads(rendered[estate])), key=lambda w: (w["namespace"], w["name"])
    )
    listed = sorted(
        truth(estate)["inventory"]["rendered_workloads"], key=lambda w: (w["namespace"], w["name"])
    )
    strip = [{k: v for k, v in w.items() if k != "image_refs"} for w in listed]
    assert seen == strip


def test_rendered_counts(estate: str, rendered: dict[str, list[helm_estates.Release]]) -> None:
    objs = [o for r in rendered[estate] for o in r.manifests]
    kinds = collections.Counter(o["kind"] for o in objs)
    found = workloads(rendered[estate])
    counts = truth(estate)["inventory"]["counts"]
    assert {
        "workloads": len(found),
        "deployments": kinds["Deployment"],
        "statefulsets": kinds["StatefulSet"],
        "daemonsets": kinds["DaemonSet"],
        "jobs": kinds["Job"],
        "cronjobs": kinds["CronJob"],
        "containers": sum(len(helm_estates.pod_spec(o)["containers"]) for _, o in found),
        "init_containers": sum(len(helm_estates.pod_spec(o).get("initContainers") or []) for _, o in found),
        "services": kinds["Service"],
        "pvcs": kinds["PersistentVolumeClaim"],
    } == {
        k: counts[k]
        for k in (
            "workloads",
            "deployments",
            "statefulsets",
            "daemonsets",
            "jobs",
            "cronjobs",
            "containers",
            "init_containers",
            "services",
            "pvcs",
        )
    }


def test_nothing_rendered_comes_from_test_or_benchmark(
    rendered: dict[str, list[helm_estates.Release]],
) -> None:
    refs = [r.ref for r in rendered["argocd-homelab"]]
    assert all(ref.startswith(("apps/", "system/")) for ref in refs)
    not_matched = truth("argocd-homelab")["inventory"]["application_set"]["not_matched"]
    assert all((ARGO_HOMELAB / d).is_dir() for d in not_matched)
    assert not any(ref.startswith(tuple(not_matched)) for ref in refs)


def test_image_refs_point_at_the_tag_line(estate: str) -> None:
    for w in truth(estate)["inventory"]["rendered_workloads"]:
        for container, ref in w["image_refs"].items():
            tag = w["images"][container].rsplit(":", 1)[1]
            text = line_at(ROOTS[estate], ref)
            assert re.search(rf"(tag: {re.escape(tag)}$|image: .*:{re.escape(tag)}$)", text), (ref, text)


# ------------------------------------------------------------- findings against the renders


def finding(estate: str, check: str) -> dict[str, Any]:
    return next(f for f in truth(estate)["findings"] if f["check"] == check)


def rendered_records(estate: str) -> list[dict[str, Any]]:
    return list(truth(estate)["inventory"]["rendered_workloads"])


def test_probe_findings_follow_the_rendered_probes(estate: str) -> None:
    long_running = [w for w in rendered_records(estate) if w["kind"] in LONG_RUNNING]
    any_missing = sorted(
        f"{w['kind']}/{w['namespace']}/{w['name']}"
        for w in long_running
        if any(set(p) != {"liveness", "readiness"} for p in w["probes"].values())
    )
    none_at_all = sorted(
        f"{w['kind']}/{w['namespace']}/{w['name']}"
        for w in long_running
        if any(p == [] for p in w["probes"].values())
    )
    for check, subjects in (("REL-PROBE-ANY", any_missing), ("REL-PROBE-BOTH", none_at_all)):
        f = finding(estate, check)
        assert (f["subjects"], f["count"], f["total"]) == (subjects, len(subjects), len(long_running))


def test_container_findings_follow_the_renders(estate: str) -> None:
    containers = [(w, c) for w in rendered_records(estate) for c in w["containers"]]

    def subject(w: dict[str, Any], c: str) -> str:
        return f"{w['kind']}/{w['namespace']}/{w['name']}/{c}"

    latest = sorted(subject(w, c) for w, c in containers if w["images"][c].endswith(":latest"))
    f = finding(estate, "MNT-IMAGE-LATEST")
    assert (f["subjects"], f["count"], f["total"]) == (latest, len(latest), len(containers))
    assert f["refs"] == sorted(
        w["image_refs"][c] for w, c in containers if w["images"][c].endswith(":latest")
    )

    privileged = [subject(w, c) for w, c in containers if c in w["privileged_containers"]]
    f = finding(estate, "SEC-PRIVILEGED")
    assert (f.get("raw_count", f["count"]), f["total"]) == (len(privileged), len(containers))

    cpu_no_limit = sorted(
        subject(w, c)
        for w, c in containers
        if "cpu" in w["resources"][c].get("requests", {}) and "cpu" not in w["resources"][c].get("limits", {})
    )
    f = finding(estate, "SCA-CPU-LIMIT")
    assert (f.get("raw_count", f["count"]), f["total"]) == (len(cpu_no_limit), len(containers))
    if f["count"]:
        assert f["subjects"] == cpu_no_limit


def test_rollout_and_root_findings_follow_the_renders(
    estate: str, rendered: dict[str, list[helm_estates.Release]]
) -> None:
    found = workloads(rendered[estate])
    kinds = collections.Counter(o["kind"] for r in rendered[estate] for o in r.manifests)
    assert kinds["PodDisruptionBudget"] == kinds["HorizontalPodAutoscaler"] == 0
    deployments = {
        f"Deployment/{r.namespace}/{o['metadata']['name']}": o for r, o in found if o["kind"] == "Deployment"
    }
    multi = sorted(k for k, o in deployments.items() if (o["spec"].get("replicas") or 1) > 1)
    rolling = {
        k: o
        for k, o in deployments.items()
        if (o["spec"].get("strategy") or {}).get("type", "RollingUpdate") == "RollingUpdate"
    }
    unbounded = sorted(
        k for k, o in rolling.items() if not (o["spec"].get("strategy") or {}).get("rollingUpdate")
    )
    for check, subjects, total in (
        ("REL-NO-PDB", multi, len(multi)),
        ("SCA-NO-HPA", multi, None),
        ("REL-ROLLING-NO-SURGE", unbounded, len(rolling)),
    ):
        f = finding(estate, check)
        assert (f["subjects"], f["count"], f["total"]) == (subjects, len(subjects), total), check

    root, total = [], 0
    for release, obj in found:
        pod = helm_estates.pod_spec(obj)
        pod_sc = pod.get("securityContext") or {}
        for c in pod["containers"]:
            total += 1
            sc = c.get("securityContext") or {}
            non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True
            uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
            if not (non_root or (uid is not None and uid != 0)):
                namespace = obj["metadata"].get("namespace") or release.namespace
                root.append(f"{obj['kind']}/{namespace}/{obj['metadata']['name']}/{c['name']}")
    f = finding(estate, "SEC-RUN-AS-ROOT")
    assert (f["subjects"], f["count"], f["total"]) == (sorted(root), len(root), total)
    images = {
        f"{w['kind']}/{w['namespace']}/{w['name']}/{c}": ref
        for w in rendered_records(estate)
        for c, ref in w["image_refs"].items()
    }
    assert f["refs"] == sorted(images[s] for s in root)


def test_every_finding_says_what_it_needs(estate: str) -> None:
    for f in truth(estate)["findings"]:
        assert isinstance(f["needs"], list), f["check"]
        assert "present_tool_count" in f, f["check"]
        if (f["present_tool_count"] or 0) != f["count"]:
            assert f["needs"], f"{f['check']}: the present tool disagrees, so something must be needed"


def test_helm_unpinned_counts_chartref_releases_as_pinned(estate: str) -> None:
    releases = truth(estate)["inventory"]["helm_releases"]
    unpinned = [r for r in releases if r["pinning"] != "exact"]
    f = finding(estate, "MNT-HELM-UNPINNED")
    assert (f["count"], f["total"]) == (len(unpinned), len(releases))
    if estate == "flux-homelab":
        chart_ref = [r for r in releases if "chartRef" in r["source"]]
        assert len(chart_ref) == 8 and all(r["pinning"] == "exact" for r in chart_ref)
        for r in chart_ref:
            assert line_at(FLUX_HOMELAB, r["version_ref"]).strip() == "tag: 4.0.1"


# ------------------------------------------------------------------------ refs and canaries


def all_refs(estate: str) -> list[str]:
    t = truth(estate)
    refs = [ref for f in t["findings"] for ref in f["refs"]]
    for entry in t["must_not_report"]:
        refs += [entry["documented_at"], *entry.get("also_documented_at", [])]
    refs += [x["ref"] for x in t["inventory"].get("traps_not_counted", [])]
    refs += [r["ref"] for r in t["inventory"]["helm_releases"]]
    refs += [ref for loc in t["canary_locations"] for ref in loc["where"]]
    return refs


def test_every_ref_points_at_a_real_line(estate: str) -> None:
    for ref in all_refs(estate):
        assert line_at(ROOTS[estate], ref).strip(), f"{estate}: {ref} is a blank line"


def test_canaries_are_where_the_ground_truth_says(estate: str) -> None:
    t = truth(estate)
    for loc in t["canary_locations"]:
        found = sorted(
            f"{p.relative_to(ROOTS[estate]).as_posix()}:{n}"
            for p in ROOTS[estate].rglob("*")
            if p.is_file()
            for n, text in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
            if loc["marker"] in text
        )
        assert found == sorted(loc["where"])


def test_sops_canary_is_only_inside_ciphertext() -> None:
    (ref,) = next(loc for loc in truth("flux-homelab")["canary_locations"] if "SOPS" in loc["marker"])[
        "where"
    ]
    text = line_at(FLUX_HOMELAB, ref)
    assert re.search(r"ENC\[AES256_GCM,data:CANARY-FH-SOPS-[0-9a-f]+\+", text)


def _helm_lock_digest(requirements: list[dict[str, Any]], locked: list[dict[str, Any]]) -> str:
    """Helm's resolver.HashReq: sha256 of the JSON of [Chart.yaml dependencies, Chart.lock dependencies]
    with Go's field order and omitempty (name, version, repository, ..., alias). Checked once against
    Helm itself: helm_python.dependency_build accepts every Chart.lock of the estate (it then fails
    only on the download) and rejects one whose digest was changed ("out of sync")."""

    def go(dep: dict[str, Any]) -> dict[str, Any]:
        out = {"name": dep["name"], "version": dep["version"], "repository": dep["repository"]}
        return out | ({"alias": dep["alias"]} if dep.get("alias") else {})

    payload = json.dumps([[go(d) for d in requirements], [go(d) for d in locked]], separators=(",", ":"))
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()


def test_chart_locks_match_their_charts() -> None:
    locks = sorted(ARGO_HOMELAB.glob("*/*/Chart.lock"))
    assert [p.parent.relative_to(ARGO_HOMELAB).as_posix() for p in locks] == sorted(
        r["ref"].removesuffix("/Chart.yaml:1") for r in truth("argocd-homelab")["inventory"]["helm_releases"]
    )
    for lock_path in locks:
        lock = yaml.safe_load(lock_path.read_text(encoding="utf-8"))
        chart = yaml.safe_load((lock_path.parent / "Chart.yaml").read_text(encoding="utf-8"))
        pins = [(d["name"], d["version"], d["repository"]) for d in chart["dependencies"]]
        assert [(d["name"], d["version"], d["repository"]) for d in lock["dependencies"]] == pins
        assert lock["digest"] == _helm_lock_digest(chart["dependencies"], lock["dependencies"]), lock_path


# ------------------------------------------------------------- Kustomize builds (golden outputs)

GOLDEN = EXAMPLES / "ground-truth" / "kustomize"


def golden(estate: str) -> dict[str, list[dict[str, Any]]]:
    """Every committed `kubectl kustomize <dir>` output of ``estate``, by directory."""
    return {
        p.stem.replace("__", "/"): [d for d in yaml.safe_load_all(p.read_text(encoding="utf-8")) if d]
        for p in sorted((GOLDEN / estate).glob("*.yaml"))
    }


def test_goldens_cover_every_kustomization() -> None:
    for estate, root in ROOTS.items():
        dirs = sorted(
            p.parent.relative_to(root).as_posix()
            for p in root.rglob("kustomization.yaml")
            if yaml.safe_load(p.read_text(encoding="utf-8"))["kind"] == "Kustomization"
        )
        assert sorted(golden(estate)) == dirs


def test_flux_namespaces_as_built_match_the_ground_truth() -> None:
    built = golden("flux-homelab")
    namespaces = sorted(
        (d["metadata"]["name"], d["metadata"]["labels"]["pod-security.kubernetes.io/enforce"])
        for docs in built.values()
        for d in docs
        if d["kind"] == "Namespace"
    )
    listed = truth("flux-homelab")["inventory"]["namespaces"]
    assert namespaces == sorted((n["name"], n["pss_enforce"]) for n in listed)
    f = finding("flux-homelab", "SEC-NO-PSS")
    assert f["subjects"] == sorted(f"Namespace/{n}" for n, pss in namespaces if pss == "privileged")
    for entry in listed:
        namespace_dir = f"kubernetes/apps/{entry['name']}"
        assert line_at(FLUX_HOMELAB, entry["ref"]) == f"namespace: {entry['name']}"
        assert entry["ref"].startswith(namespace_dir + "/kustomization.yaml:")


def test_flux_object_counts_as_built() -> None:
    docs = [d for ds in golden("flux-homelab").values() for d in ds]
    kinds = collections.Counter(d["kind"] for d in docs)
    counts = truth("flux-homelab")["inventory"]["counts"]
    secrets = [d for d in docs if d["kind"] == "Secret"]
    policies = [d for d in docs if d["kind"] == "CiliumNetworkPolicy"]
    assert {
        "secrets": len(secrets),
        "sops_encrypted_secrets": sum("sops" in d for d in secrets),
        "config_maps": kinds["ConfigMap"],
        "external_secrets": kinds["ExternalSecret"],
        "network_policies": len(policies),
        "helm_releases": kinds["HelmRelease"],
        "namespaces": kinds["Namespace"],
    } == {
        k: counts[k]
        for k in (
            "secrets",
            "sops_encrypted_secrets",
            "config_maps",
            "external_secrets",
            "network_policies",
            "helm_releases",
            "namespaces",
        )
    }
    covered = {n["namespace"] for n in truth("flux-homelab")["inventory"]["network_policies"]}
    uncovered = sorted(f"Namespace/{n['name']}" for n in truth("flux-homelab")["inventory"]["namespaces"])
    f = finding("flux-homelab", "SEC-NO-NETPOL")
    assert f["subjects"] == [s for s in uncovered if s.removeprefix("Namespace/") not in covered]


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="regenerating the goldens needs kubectl kustomize"
)
def test_goldens_are_what_kubectl_kustomize_builds_today() -> None:
    for estate, root in ROOTS.items():
        for directory in golden(estate):
            built = subprocess.run(
                ["kubectl", "kustomize", directory], cwd=root, capture_output=True, text=True, check=True
            ).stdout
            name = directory.replace("/", "__") + ".yaml"
            assert built == (GOLDEN / estate / name).read_text(encoding="utf-8"), f"{estate}: {directory}"
