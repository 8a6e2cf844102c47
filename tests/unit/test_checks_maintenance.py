"""MNT-* detections on hand-built inventories and tiny estates: exact counts, refs, subjects, and what
must not be reported."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from inventory_builder import code_ref, container, inventory, live_ref, live_state, refs, subjects, workload

from tools.checks.detections import maintenance, maintenance_docs, maintenance_repo
from tools.checks.spec import CheckContext
from tools.evidence import Ledger
from tools.inventory.inventory import Inventory
from tools.inventory.models import (
    AlertRule,
    CIFile,
    Container,
    DependencyBot,
    HelmRelease,
    Kustomization,
    LiveObject,
    ProviderRequirement,
    TerraformModule,
    TerraformResource,
)
from tools.registry import Toolbox
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(text).lstrip("\n"))


def ctx(inv: Inventory) -> CheckContext:
    return CheckContext(inventory=inv, toolbox=Toolbox(Jail(inv.root), None, Ledger()))


# ------------------------------------------------------------------------------------- images


def image(
    name: str, written: str | None, resolved: str | None = None, *, init: bool = False, line: int = 1
) -> Container:
    c = container(name, image=written, init=init, source=code_ref("app.tf", 10), image_line=line)
    return c.model_copy(update={"image_resolved": resolved})


@pytest.mark.parametrize(
    ("written", "resolved", "problem"),
    [
        ("nginx:latest", None, "tag latest"),
        ("nginx", None, "no tag or digest"),
        ("registry:5000/app", None, "no tag or digest"),
        ("registry:5000/app:1.2", None, None),
        ("ghcr.io/app@sha256:" + "a" * 64, None, None),
        ("ghcr.io/app:latest@sha256:" + "a" * 64, None, None),
        ("var.image", "ghcr.io/app:latest", "tag variable defaults to latest"),
        ("ghcr.io/app:${var.tag}", "ghcr.io/app:latest", "tag variable defaults to latest"),
        ("var.image", "ghcr.io/app:2.0", None),
        ("var.image", "ghcr.io/app", "no tag or digest"),
        ("ghcr.io/app:${var.tag}", None, None),
        ("var.image", None, None),
        ("{{ .Values.image }}", None, None),
    ],
)
def test_image_problem(written: str, resolved: str | None, problem: str | None) -> None:
    assert maintenance.image_problem(image("c", written, resolved)) == problem


def test_image_latest_counts_code_containers_with_an_image(tmp_path: Path) -> None:
    code = [
        workload(
            "Deployment",
            "home",
            "homepage",
            at="home.tf:60",
            containers=[
                image("homepage", "ghcr.io/homepage:latest", line=88),
                image("wait", "busybox", init=True, line=70),
                image("sidecar", "registry:5000/exporter:1.2", line=95),
                image("ghost", None),
            ],
        )
    ]
    live = live_state(
        workloads=[workload("Deployment", "x", "live-only", live=True, containers=[image("a", "a:latest")])]
    )
    d = maintenance.image_latest(ctx(inventory(tmp_path, live=live, workloads=code)))
    assert (d.count, d.total) == (2, 3)
    assert refs(d) == ["app.tf:88", "app.tf:70"]
    assert subjects(d) == ["Deployment/home/homepage/homepage", "Deployment/home/homepage/wait"]
    assert [loc.detail for loc in d.locations] == [
        "tag latest: ghcr.io/homepage:latest",
        "no tag or digest: busybox",
    ]
    assert maintenance.image_latest(ctx(inventory(tmp_path))).applicable is False


# --------------------------------------------------------------------------------------- Helm


def release(name: str, version: str | None, *, line: int | None = None) -> HelmRelease:
    return HelmRelease(
        defined_by="flux",
        name=name,
        namespace="infra",
        chart=name,
        version=version,
        version_line=line,
        source=code_ref(f"{name}/helmrelease.yaml", 1),
    )


@pytest.mark.parametrize(
    ("version", "unpinned"),
    [
        (None, True),
        ("1.2.3", False),
        ("v1.16.1", False),
        ("1.2.3-x86", False),
        ("v0.0.0-latest", True),
        (">=3.17.0", True),
        ("1.x", True),
        ("1.2.X", True),
        ("~1.2", True),
        ("^2.0.0", True),
        ("1.2.*", True),
        ("1.0.0 - 2.0.0", True),
        ("1.0.0 || 2.0.0", True),
        ("*", True),
    ],
)
def test_helm_version_rules(version: str | None, unpinned: bool) -> None:
    assert (maintenance.helm_problem(release("x", version)) is not None) is unpinned


def test_helm_unpinned_refs_the_version_line_else_the_release(tmp_path: Path) -> None:
    releases = [
        release("envoy", "v0.0.0-latest", line=12),
        release("certs", "v1.16.2", line=11),
        release("lh", None),
    ]
    d = maintenance.helm_unpinned(ctx(inventory(tmp_path, helm_releases=releases)))
    assert (d.count, d.total) == (2, 3)
    assert refs(d) == ["envoy/helmrelease.yaml:12", "lh/helmrelease.yaml:1"]
    assert subjects(d) == ["HelmRelease/infra/envoy", "HelmRelease/infra/lh"]
    assert d.locations[0].detail == "version v0.0.0-latest contains latest; chart envoy (flux)"
    assert maintenance.helm_unpinned(ctx(inventory(tmp_path))).applicable is False


# -------------------------------------------------------------------------- dependency hygiene


def test_no_dependency_bot(tmp_path: Path) -> None:
    d = maintenance.no_dependency_bot(ctx(inventory(tmp_path)))
    assert (d.count, d.total, refs(d)) == (1, None, ["-"])


def test_dependency_bot_covering_infrastructure(tmp_path: Path) -> None:
    for bot in (
        DependencyBot(tool="renovate", ecosystems=["all"], source=code_ref("renovate.json", 1)),
        DependencyBot(
            tool="dependabot", ecosystems=["github-actions", "terraform"], source=code_ref("d.yml", 1)
        ),
    ):
        assert maintenance.no_dependency_bot(ctx(inventory(tmp_path, dependency_bots=[bot]))).count == 0


def test_dependabot_for_github_actions_only_still_counts(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".github/dependabot.yml": """
                version: 2
                updates:
                  - package-ecosystem: github-actions
                    directory: /
                """
        },
    )
    bot = DependencyBot(
        tool="dependabot", ecosystems=["github-actions"], source=code_ref(".github/dependabot.yml", 1)
    )
    d = maintenance.no_dependency_bot(ctx(inventory(tmp_path, dependency_bots=[bot])))
    assert (d.count, refs(d)) == (1, [".github/dependabot.yml:3"])
    assert d.locations[0].detail == (
        "covers only github-actions; nothing updates Terraform, Helm charts or container images"
    )


def test_module_without_ref(tmp_path: Path) -> None:
    modules = [
        TerraformModule(
            name="dashboards",
            source_url="git::https://deploy:CANARY-MOD-TOKEN@git.example.com/m.git//dash",
            kind="git",
            source=code_ref("mon.tf", 188),
        ),
        TerraformModule(
            name="dns",
            source_url="git::https://g/m.git?ref=v1",
            ref="v1",
            kind="git",
            source=code_ref("n.tf", 2),
        ),
        TerraformModule(
            name="s3",
            source_url="terraform-aws-modules/s3-bucket/aws",
            kind="registry",
            source=code_ref("d.tf", 1),
        ),
    ]
    d = maintenance.module_no_ref(ctx(inventory(tmp_path, modules=modules)))
    assert (d.count, d.total, refs(d), subjects(d)) == (1, 2, ["mon.tf:188"], ["module.dashboards"])
    assert "CANARY-MOD-TOKEN" not in d.model_dump_json()
    assert d.locations[0].detail == "no ?ref= in git::https://git.example.com/m.git//dash"


def test_provider_without_constraint(tmp_path: Path) -> None:
    providers = [
        ProviderRequirement(name="null", provider_source="hashicorp/null", source=code_ref("p.tf", 14)),
        ProviderRequirement(
            name="null", provider_source="hashicorp/null", constraint="~> 3.2", source=code_ref("d.tf", 11)
        ),
    ]
    d = maintenance.provider_unconstrained(ctx(inventory(tmp_path, providers=providers)))
    assert (d.count, d.total, refs(d), subjects(d)) == (1, 2, ["p.tf:14"], ["provider null (hashicorp/null)"])


def test_alerts_not_wired(tmp_path: Path) -> None:
    rules = [
        AlertRule(
            alert="NodeCPUSaturated",
            expr="x",
            group="capacity",
            source=code_ref("alerts/c.yaml", 20),
            wired=False,
        ),
        AlertRule(alert="KubeJobFailed", expr="y", source=code_ref("values.yaml", 44)),
    ]
    d = maintenance.alerts_not_wired(ctx(inventory(tmp_path, alert_rules=rules)))
    assert (d.count, d.total, refs(d), subjects(d)) == (1, 2, ["alerts/c.yaml:20"], ["NodeCPUSaturated"])
    assert maintenance.alerts_not_wired(ctx(inventory(tmp_path))).applicable is False


# ------------------------------------------------------------------------------ deprecated APIs


def test_deprecated_api_from_terraform_yaml_and_live(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "apps/cron.yaml": """
                # legacy
                apiVersion: batch/v1beta1
                kind: CronJob
                ---
                apiVersion: batch/v1
                kind: CronJob
                """,
            "apps/ing.yml": 'apiVersion: "networking.k8s.io/v1beta1"  # old\nkind: Ingress\n',
            "apps/list.yaml": "items:\n  - apiVersion: extensions/v1beta1\n    kind: Deployment\n",
            "apps/beta10.yaml": "apiVersion: apps/v1beta10\n",
            "flux/hr.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\n",
            "docs/notes.md": "apiVersion: batch/v1beta1\n",
            "cluster/_snapshot.json": "{}",
            "cluster/dump.yaml": "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\n",
        },
    )
    resources = [
        TerraformResource(type="kubernetes_cron_job", name="gc", source=code_ref("reg.tf", 146)),
        TerraformResource(type="kubernetes_cron_job_v1", name="ok", source=code_ref("reg.tf", 200)),
        TerraformResource(type="kubernetes_ingress", name="web", source=code_ref("web.tf", 3)),
    ]
    live = live_state(
        objects=[
            LiveObject(
                api_version="autoscaling/v2beta2",
                kind="HorizontalPodAutoscaler",
                namespace="a",
                name="h",
                source=live_ref("HorizontalPodAutoscaler", "a", "h"),
            ),
            LiveObject(
                api_version="batch/v1",
                kind="CronJob",
                namespace="a",
                name="c",
                source=live_ref("CronJob", "a", "c"),
            ),
        ]
    )
    d = maintenance_repo.deprecated_api(ctx(inventory(tmp_path, live=live, resources=resources)))
    assert refs(d) == [
        "reg.tf:146",
        "web.tf:3",
        "apps/cron.yaml:2",
        "apps/ing.yml:1",
        "flux/hr.yaml:1",
        "lab/a/HorizontalPodAutoscaler/h",
    ]
    assert subjects(d)[:3] == ["kubernetes_cron_job.gc", "kubernetes_ingress.web", "apiVersion batch/v1beta1"]
    assert subjects(d)[3] == "apiVersion networking.k8s.io/v1beta1"
    assert d.count == 6 and len(d.evidence) == 2


# ------------------------------------------------------------------------------ CI validation


def ci(*validations: str) -> CIFile:
    return CIFile(
        system="github-actions", validations=list(validations), source=code_ref(".github/workflows/ci.yml", 1)
    )


def full_estate(tmp_path: Path, **code: Any) -> Inventory:
    write(tmp_path, {"charts/app/Chart.yaml": "name: app\n"})
    return inventory(
        tmp_path,
        resources=[TerraformResource(type="null_resource", name="x", source=code_ref("main.tf", 1))],
        kustomizations=[Kustomization(path="kustomization.yaml", source=code_ref("kustomization.yaml", 1))],
        workloads=[workload("Deployment", "a", "b")],
        **code,
    )


def test_ci_validation_missing_per_kind_of_code(tmp_path: Path) -> None:
    d = maintenance_repo.no_ci_validation(
        ctx(full_estate(tmp_path, ci_files=[ci("tflint", "kustomize-build", "yamllint")]))
    )
    assert (d.count, d.total) == (2, 4)
    assert subjects(d) == ["kubeconform", "helm-lint"]
    assert refs(d) == [".github/workflows/ci.yml:1"] * 2


def test_ci_validation_without_ci_lists_everything(tmp_path: Path) -> None:
    d = maintenance_repo.no_ci_validation(ctx(full_estate(tmp_path)))
    assert (d.count, d.total) == (4, 4)
    assert subjects(d) == ["terraform-validate", "kustomize-build", "kubeconform", "helm-lint"]
    assert set(refs(d)) == {"-"}


def test_ci_validation_nothing_to_validate(tmp_path: Path) -> None:
    assert maintenance_repo.no_ci_validation(ctx(inventory(tmp_path))).applicable is False


def test_manifests_include_gitops_objects(tmp_path: Path) -> None:
    assert maintenance_repo.has_manifests(inventory(tmp_path, helm_releases=[release("x", "1")]).code)
    tf = HelmRelease(defined_by="terraform", name="x", source=code_ref("a.tf", 1))
    assert not maintenance_repo.has_manifests(inventory(tmp_path, helm_releases=[tf]).code)


# ------------------------------------------------------------------------------ stale doc paths

STALE_DOCS = {
    "stacks/vault/main.tf": "x\n",
    "scripts/sync.sh": "x\n",
    "docs/decisions/0001.md": "x\n",
    "docs/runbooks/vault.md": """
        # Vault
        1. Run `stacks/vault/unseal.sh` (reads `stacks/vault/main.tf:36`).
        2. Or `scripts/sync.sh`, see [the decision](../decisions/0001.md) and [old](../decisions/0009.md).
        3. Not paths: `kubectl -n vault get pods`, `/etc/exports`, `~/.kube/config`, `apps/v1`,
           `stacks/<name>/main.tf`, `stacks/*.tf`, `$HOME/x.sh`, https://example.com/a/b.md,
           [site](https://example.com/x/y.md), `deploy/coredns`, `i/o`, `app=web/x`.
        4. Outside the estate: [up](../../../elsewhere/x.md). Directory: `docs/decisions/`.
        5. Gone: `docs/decisions/0002-old.md#context`, `scripts/`, `stacks/gone/`.
        """,
    "README.md": "See `stacks/vault/main.tf` and `modules/route/main.tf`.\n",
    "stacks/vault/NOTES.md": "`stacks/vault/nothing.sh` is not in a doc location\n",
    "CLAUDE.md": "[rel](stacks/vault/main.tf) exists; `vault/main.tf` is neither at the root nor beside\n",
}


def test_runbook_stale_paths(tmp_path: Path) -> None:
    write(tmp_path, STALE_DOCS)
    d = maintenance_docs.runbook_stale_path(ctx(inventory(tmp_path)))
    found = [(loc.ref, loc.subject) for loc in d.locations]
    assert found == [
        ("CLAUDE.md:1", "vault/main.tf"),
        ("README.md:1", "modules/route/main.tf"),
        ("docs/runbooks/vault.md:2", "stacks/vault/unseal.sh"),
        ("docs/runbooks/vault.md:3", "../decisions/0009.md"),
        ("docs/runbooks/vault.md:8", "docs/decisions/0002-old.md"),
        ("docs/runbooks/vault.md:8", "stacks/gone/"),
    ]
    assert d.count == 6 and len(d.evidence) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("`a/b.md` and [x](c/d.md) and `a/b.md`", ["a/b.md", "c/d.md"]),
        ("`stacks/x/main.tf:12-20`.", ["stacks/x/main.tf"]),
        ("`http://x/y`, `mailto:a/b`, `#x/y`", []),
        ("`batch/v1beta1` `networking.k8s.io/v1`", []),
    ],
)
def test_path_candidates(text: str, expected: list[str]) -> None:
    assert maintenance_docs.candidates(text) == expected


def _chart_ref_estate(tmp_path: Path, ref_block: str) -> Path:
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "hr.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        "metadata:\n  name: web\n  namespace: apps\n"
        "spec:\n  chartRef:\n    kind: OCIRepository\n    name: app-template\n"
    )
    (tmp_path / "apps" / "oci.yaml").write_text(
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: OCIRepository\nmetadata:\n  name: app-template\n"
        "  namespace: apps\nspec:\n  url: oci://ghcr.io/bjw-s/helm/app-template\n" + ref_block
    )
    return tmp_path


@pytest.mark.parametrize(
    "ref_block", ["  ref:\n    tag: 3.7.3\n", "  ref:\n    digest: sha256:" + "a" * 64 + "\n"]
)
def test_chart_ref_pinned_by_its_oci_repository_is_pinned(tmp_path: Path, ref_block: str) -> None:
    from tools.inventory.build import build_inventory

    inv = build_inventory(_chart_ref_estate(tmp_path, ref_block))
    (hr,) = inv.code.helm_releases
    assert (hr.version, hr.chart_ref) == (None, "OCIRepository/app-template")
    d = maintenance.helm_unpinned(ctx(inv))
    assert (d.count, d.total, d.locations) == (0, 1, [])


def test_chart_ref_by_semver_or_without_ref_is_unpinned_at_the_source_line(tmp_path: Path) -> None:
    from tools.inventory.build import build_inventory

    inv = build_inventory(_chart_ref_estate(tmp_path, "  ref:\n    semver: '>=3.0.0'\n"))
    d = maintenance.helm_unpinned(ctx(inv))
    assert d.count == 1
    # the ref is the offending line: the OCIRepository's ref, where the range is written
    assert (d.locations[0].ref, d.locations[0].detail) == (
        "apps/oci.yaml:9",
        "version >=3.0.0 is a range; chart app-template (flux)",
    )
    (tmp_path / "bare").mkdir()
    bare = build_inventory(_chart_ref_estate(tmp_path / "bare", ""))
    d = maintenance.helm_unpinned(ctx(bare))
    assert [loc.detail.split(";")[0] for loc in d.locations] == [
        "OCIRepository/app-template has no ref (tag, semver or digest): the newest tag"
    ]


def test_chart_ref_to_a_source_outside_the_estate_is_not_judged(tmp_path: Path) -> None:
    rel = release("web", None).model_copy(update={"chart_ref": "OCIRepository/elsewhere"})
    assert maintenance.helm_problem(rel, maintenance.chart_source(rel, [])) is None
    assert maintenance.helm_problem(release("web", None)) == "no chart version"
