"""Repo YAML into records: classification, lines, Kustomize, alert wiring, CI, bots, broken files."""

from __future__ import annotations

import os
from pathlib import Path
from textwrap import dedent

import pytest

from tools.inventory.manifests import parse_manifests
from tools.inventory.models import AlertRule, CIFile, CodeRef, DependencyBot, Kustomization, ParseIssue
from tools.inventory.yaml_lines import YamlParseError, load_documents

pytestmark = pytest.mark.unit


def write(root: Path, files: dict[str, str | bytes]) -> list[str]:
    """Write ``files`` under ``root``; return their paths sorted, as the estate walker gives them."""
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(dedent(content).lstrip("\n"))
    return sorted(files)


# ------------------------------------------------------------------------------- YAML loading


def test_multi_document_lines_skip_empty_and_non_mapping_documents() -> None:
    text = dedent(
        """\
        # header comment
        ---
        # the first document starts at its first key, not at the comment
        apiVersion: v1
        kind: Namespace
        metadata:
          name: a
        ---
        ---
        null
        ---
        - a list root is not an object
        ---

        apiVersion: v1
        kind: Namespace
        metadata: {name: b}
        """
    )
    docs = load_documents(text)
    assert [(d.data["metadata"]["name"], d.line) for d in docs] == [("a", 4), ("b", 15)]
    assert docs[0].line_of(("metadata", "name")) == 7
    assert docs[0].line_of(("metadata", "missing")) is None
    assert docs[0].line_of(("kind", 0)) is None


def test_values_follow_yaml_rules_with_aliases_and_merge_keys() -> None:
    [doc] = load_documents(
        dedent(
            """\
            base: &base {replicas: 2, enabled: yes, ratio: 0.5, nothing: ~, date: 2024-01-02}
            child:
              <<: *base
              replicas: 3
            shared: *base
            """
        )
    )
    assert doc.data["child"] == {
        "replicas": 3,
        "enabled": True,
        "ratio": 0.5,
        "nothing": None,
        "date": "2024-01-02",
    }
    assert doc.data["shared"] is doc.data["base"]  # aliases are shared, never copied
    assert doc.line_of(("child", "ratio")) == 1  # a merged key points at where it is written


def test_parse_error_carries_the_line() -> None:
    with pytest.raises(YamlParseError) as info:
        load_documents("a: 1\nb: [1, 2\nc: 3\n")
    assert info.value.line == 3


# ------------------------------------------------------------------------- classification


def test_manifest_files_lists_json_and_what_is_ignored(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "apps/ns.yaml": """
                # namespaces
                apiVersion: v1
                kind: Namespace
                metadata: {name: a}
                ---
                apiVersion: v1
                kind: List
                items:
                  - apiVersion: v1
                    kind: Namespace
                    metadata: {name: b}
                """,
            "apps/ns.json": '{\n "apiVersion": "v1",\n "kind": "Namespace",\n "metadata": {"name": "c"}}\n',
            "dashboards/board.json": '{"title": "not an object", "panels": []}',
            "package.json": "{ not json at all",
            "apps/broken-object.json": '{"apiVersion": "v1", "kind": "Namespace",',
            "Chart.yaml": "apiVersion: v2\nname: chart\nversion: 1.0.0\n",
            "docker-compose.yml": "services: {web: {image: nginx}}\n",
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert [(n.name, n.source) for n in records.namespaces] == [
        ("c", CodeRef(path="apps/ns.json", line=2)),
        ("a", CodeRef(path="apps/ns.yaml", line=2)),
        ("b", CodeRef(path="apps/ns.yaml", line=9)),
    ]
    assert records.issues == [
        ParseIssue(
            path="apps/broken-object.json",
            line=1,
            message="a Kubernetes object that is not valid JSON: "
            "truncated JSON (the text ends inside a value)",
        )
    ]
    assert {name: n for name, n in records.counts().items() if n} == {"namespaces": 3, "issues": 1}


def test_broken_yaml_is_reported_with_its_line_and_the_rest_parses(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "a/broken.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [x\n  labels: {}\n",
            "a/control.yaml": b"apiVersion: v1\nkind: Namespace\x07\n",
            "b/ok.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n",
        },
    )
    records = parse_manifests(tmp_path, [*paths, "c/vanished.yaml"])
    assert [n.name for n in records.namespaces] == ["ok"]
    assert [(i.path, i.line) for i in records.issues] == [
        ("a/broken.yaml", 5),
        ("a/control.yaml", 2),
        ("c/vanished.yaml", None),
    ]
    assert records.issues[1].message == "unacceptable character (control characters are not allowed)"
    assert records.issues[2].message.startswith("unreadable: ")


def test_helm_templates_are_skipped_silently_but_braces_elsewhere_parse(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "charts/web/templates/deployment.yaml": """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: {{ include "web.fullname" . }}
                {{- with .Values.labels }}
                """,
            "charts/web/templates/NOTES.yaml": "plain: text\n",
            "rules/alerts.yaml": """
                apiVersion: monitoring.coreos.com/v1
                kind: PrometheusRule
                metadata: {name: r}
                spec:
                  groups:
                    - name: g
                      rules:
                        - alert: Down
                          expr: up == 0
                          annotations:
                            summary: "{{ $labels.instance }} is down"
                """,
            "other/jinja.yaml": "name: {{ name }\nreplicas: {% if x %}",
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert records.workloads == []
    assert [(r.alert, r.source) for r in records.alert_rules] == [
        ("Down", CodeRef(path="rules/alerts.yaml", line=8))
    ]
    assert [i.path for i in records.issues] == ["other/jinja.yaml"]


def test_secret_values_never_reach_the_records(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "secrets/db.yaml": """
                apiVersion: v1
                kind: Secret
                metadata: {name: db}
                stringData:
                  password: correct-horse-battery
                  url: postgres://app:pa55word@db:5432/app
                """,
            "secrets/db.sops.yaml": """
                apiVersion: v1
                kind: Secret
                metadata: {name: db-enc}
                data:
                  password: ENC[AES256_GCM,data:c2VjcmV0,iv:aXY=,tag:dGFn,type:str]
                sops:
                  mac: ENC[AES256_GCM,data:bWFj,type:str]
                  version: 3.9.0
                """,
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert [(s.name, s.keys, s.sops_encrypted) for s in records.secrets] == [
        ("db-enc", ["password"], True),
        ("db", ["password", "url"], False),
    ]
    dumped = records.model_dump_json()
    for value in ("correct-horse-battery", "pa55word", "c2VjcmV0", "bWFj", "AES256_GCM"):
        assert value not in dumped


# ----------------------------------------------------------------------------------- Kustomize


def test_kustomization_missing_local_files_only(tmp_path: Path) -> None:
    estate = tmp_path / "estate"
    paths = write(
        estate,
        {
            "apps/base/kustomization.yaml": """
                apiVersion: kustomize.config.k8s.io/v1beta1
                kind: Kustomization
                resources:
                  - deploy.yaml
                  - gone.yaml
                  - ../common
                  - ../nothere
                  - https://github.com/acme/shared//base?ref=v1.2.0
                  - github.com/acme/other/base?ref=v2
                  - ../../../../outside-the-estate
                  - linked.yaml
                components:
                  - ../components/gone
                patches:
                  - path: patch.yaml
                  - patch: |-
                      - op: remove
                        path: /spec/replicas
                patchesStrategicMerge:
                  - psm.yaml
                configMapGenerator:
                  - name: cfg
                    files:
                      - app.conf=conf/app.conf
                      - present.txt
                """,
            "apps/base/deploy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            "apps/base/psm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            "apps/base/present.txt": "ok\n",
            "apps/common/kustomization.yml": "resources: []\n",
        },
    )
    (tmp_path / "secret-outside.yaml").write_text("apiVersion: v1\n")
    os.symlink(tmp_path / "secret-outside.yaml", estate / "apps/base/linked.yaml")
    records = parse_manifests(estate, paths)
    assert records.kustomizations == [
        Kustomization(
            path="apps/base/kustomization.yaml",
            resources=[
                "deploy.yaml",
                "gone.yaml",
                "../common",
                "../nothere",
                "https://github.com/acme/shared//base?ref=v1.2.0",
                "github.com/acme/other/base?ref=v2",
                "../../../../outside-the-estate",
                "linked.yaml",
                "../components/gone",
            ],
            missing=["gone.yaml", "../nothere", "../components/gone", "conf/app.conf", "patch.yaml"],
            source=CodeRef(path="apps/base/kustomization.yaml", line=1),
        ),
        Kustomization(
            path="apps/common/kustomization.yml",
            source=CodeRef(path="apps/common/kustomization.yml", line=1),
        ),
    ]


def test_flux_kustomization_in_a_kustomization_named_file_is_a_flux_object(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "clusters/prod/kustomization.yaml": """
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: apps}
                spec: {path: ./apps, prune: false}
                """
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert records.kustomizations == []
    assert [(k.name, k.path, k.prune) for k in records.flux_kustomizations] == [("apps", "./apps", False)]


# ------------------------------------------------------------------------------- alert rules

PROM_RULE = """
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: {name}}}
spec:
  groups:
    - name: {name}
      rules:
        - alert: {alert}
          expr: vector(1)
"""


def test_alert_rules_unwired_when_no_kustomization_references_their_file(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "monitoring/kustomization.yaml": """
                resources:
                  - rules-wired.yaml
                configMapGenerator:
                  - name: prometheus-rules
                    files: [rules/file-rules.yml]
                """,
            "monitoring/rules-wired.yaml": PROM_RULE.format(name="wired", alert="Wired"),
            "monitoring/rules-orphan.yaml": PROM_RULE.format(name="orphan", alert="Orphan"),
            "monitoring/rules/file-rules.yml": """
                groups:
                  - name: file
                    rules:
                      - record: job:up:sum
                        expr: sum(up)
                      - alert: FromFile
                        expr: up == 0
                """,
            "prometheus/alerts.yml": """
                groups:
                  - name: loose
                    rules:
                      - alert: LooseFile
                        expr: up == 0
                """,
            "helm/values.yaml": """
                additionalPrometheusRulesMap:
                  lab:
                    groups:
                      - name: values
                        rules:
                          - alert: FromValues
                            expr: up == 0
                """,
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert records.alert_rules == [
        AlertRule(
            alert="FromValues",
            expr="up == 0",
            group="values",
            source=CodeRef(path="helm/values.yaml", line=6),
        ),
        AlertRule(
            alert="Orphan",
            expr="vector(1)",
            group="orphan",
            source=CodeRef(path="monitoring/rules-orphan.yaml", line=8),
            wired=False,
        ),
        AlertRule(
            alert="Wired",
            expr="vector(1)",
            group="wired",
            source=CodeRef(path="monitoring/rules-wired.yaml", line=8),
        ),
        AlertRule(
            alert="FromFile",
            expr="up == 0",
            group="file",
            source=CodeRef(path="monitoring/rules/file-rules.yml", line=6),
        ),
        AlertRule(
            alert="LooseFile",
            expr="up == 0",
            group="loose",
            source=CodeRef(path="prometheus/alerts.yml", line=4),
            wired=False,
        ),
    ]


def test_alert_rules_stay_wired_in_an_estate_without_kustomize(tmp_path: Path) -> None:
    paths = write(tmp_path, {"monitoring/rules.yaml": PROM_RULE.format(name="r", alert="Lonely")})
    assert [(r.alert, r.wired) for r in parse_manifests(tmp_path, paths).alert_rules] == [("Lonely", True)]


def test_alert_rules_in_helm_values_prometheus_chart_and_umbrella_charts(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "prometheus/values.yaml": """
                serverFiles:
                  alerting_rules.yml:
                    groups:
                      - name: server
                        rules:
                          - alert: ServerRule
                            expr: up == 0
                  recording_rules.yml:
                    groups:
                      - name: rec
                        rules: [{record: r, expr: sum(up)}]
                """,
            "umbrella/values.yaml": """
                kube-prometheus-stack:
                  additionalPrometheusRules:
                    - name: legacy
                      groups:
                        - name: legacy
                          rules:
                            - alert: LegacyList
                              expr: up == 0
                """,
        },
    )
    assert [(r.alert, r.group, r.source.line) for r in parse_manifests(tmp_path, paths).alert_rules] == [
        ("ServerRule", "server", 6),
        ("LegacyList", "legacy", 7),
    ]


# ---------------------------------------------------------------------------- dependency bots


def test_dependabot_and_renovate(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            ".github/dependabot.yml": """
                version: 2
                updates:
                  - package-ecosystem: terraform
                    directory: /stacks
                  - package-ecosystem: github-actions
                    directory: /
                  - package-ecosystem: terraform
                    directory: /modules
                """,
            "renovate.json": '{"extends": ["config:base"], "enabledManagers": ["flux", "helm-values"]}',
            ".github/renovate.json5": """
                // JSON5: comments and trailing commas
                {
                  extends: ['config:recommended'],
                  enabledManagers: ['terraform', 'kubernetes',],
                }
                """,
            ".renovaterc": '{"extends": ["config:recommended"]}',
        },
    )
    assert parse_manifests(tmp_path, paths).dependency_bots == [
        DependencyBot(
            tool="dependabot",
            ecosystems=["terraform", "github-actions"],
            source=CodeRef(path=".github/dependabot.yml", line=1),
        ),
        DependencyBot(
            tool="renovate",
            ecosystems=["terraform", "kubernetes"],
            source=CodeRef(path=".github/renovate.json5", line=1),
        ),
        DependencyBot(tool="renovate", ecosystems=["all"], source=CodeRef(path=".renovaterc", line=1)),
        DependencyBot(
            tool="renovate", ecosystems=["flux", "helm-values"], source=CodeRef(path="renovate.json", line=1)
        ),
    ]


# ------------------------------------------------------------------------------------- CI files


def test_ci_files_and_the_validations_they_run(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            ".github/workflows/ci.yml": """
                # CI
                on: [push]
                jobs:
                  lint:
                    runs-on: ubuntu-latest
                    steps:
                      - uses: actions/checkout@v4
                      - uses: terraform-linters/setup-tflint@v4
                      - uses: aquasecurity/trivy-action@0.28.0
                      - run: |
                          terraform -chdir=stacks fmt -check -recursive
                          terraform -chdir=stacks validate
                          kustomize build apps/prod | kubeconform -strict -summary
                          helm lint charts/web
                """,
            ".gitlab-ci.yml": """
                validate:
                  image: ghcr.io/terraform-linters/tflint:latest
                  before_script: [terragrunt run-all init]
                  script:
                    - terragrunt run-all validate
                    - yamllint -s .
                    - kubectl kustomize overlays/prod > /dev/null
                """,
            ".woodpecker/lint.yml": """
                steps:
                  - name: policies
                    image: ghcr.io/kyverno/kyverno-cli
                    commands: [kyverno test ./policies, conftest test -p opa manifests]
                """,
            ".drone.yml": """
                kind: pipeline
                name: one
                steps: [{name: a, commands: [tflint --recursive]}]
                ---
                kind: pipeline
                name: two
                steps: [{name: b, commands: [checkov -d ., flux build kustomization apps --path ./apps]}]
                ---
                kind: pipeline
                name: charts
                steps: [{name: c, commands: [helm template web charts/web -f charts/web/values.yaml]}]
                """,
            "Jenkinsfile": "pipeline { stages { stage('v') { steps { sh 'tofu validate' } } } }\n",
            ".circleci/config.yml": """
                version: 2.1
                jobs:
                  check:
                    steps:
                      - run:
                          name: lint
                          command: kubeval manifests/*.yaml
                """,
            ".github/workflows/noise.yml": """
                jobs:
                  docs:
                    steps:
                      - uses: hashicorp/setup-terraform@v3
                      - run: echo "see terraform plan docs; terragrunt validate-inputs"
                      - run: echo "the helm templates live in charts/"
                      - run: terraform plan -out tfplan
                    env: {HINT: "kustomize build"}
                """,
        },
    )
    by_path = {ci.source.path: ci for ci in parse_manifests(tmp_path, paths).ci_files}
    assert by_path == {
        ".circleci/config.yml": CIFile(
            system="circleci",
            validations=["kubeconform"],
            source=CodeRef(path=".circleci/config.yml", line=1),
        ),
        ".drone.yml": CIFile(
            system="drone",
            validations=["tflint", "helm-lint", "checkov", "flux-build"],  # helm-lint: a helm template render
            source=CodeRef(path=".drone.yml", line=1),
        ),
        ".github/workflows/ci.yml": CIFile(
            system="github-actions",
            validations=[
                "terraform-validate",
                "terraform-fmt",
                "kustomize-build",
                "kubeconform",
                "helm-lint",
                "trivy",
            ],
            source=CodeRef(path=".github/workflows/ci.yml", line=2),
        ),
        ".github/workflows/noise.yml": CIFile(
            system="github-actions",
            validations=[],
            source=CodeRef(path=".github/workflows/noise.yml", line=1),
        ),
        ".gitlab-ci.yml": CIFile(
            system="gitlab-ci",
            validations=["terraform-validate", "kustomize-build", "yamllint"],
            source=CodeRef(path=".gitlab-ci.yml", line=1),
        ),
        ".woodpecker/lint.yml": CIFile(
            system="woodpecker",
            validations=["kyverno-test", "conftest"],
            source=CodeRef(path=".woodpecker/lint.yml", line=1),
        ),
        "Jenkinsfile": CIFile(
            system="jenkins", validations=["terraform-validate"], source=CodeRef(path="Jenkinsfile", line=1)
        ),
    }


def test_a_flux_path_without_kustomization_wires_every_file_under_it(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "clusters/prod/alerts.yaml": """
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: alerts, namespace: flux-system}
                spec: {path: ./monitoring/rules, prune: true}
                ---
                apiVersion: kustomize.toolkit.fluxcd.io/v1
                kind: Kustomization
                metadata: {name: apps, namespace: flux-system}
                spec: {path: ./apps}
                """,
            "monitoring/rules/team/node.yaml": PROM_RULE.format(name="node", alert="Generated"),
            "apps/kustomization.yaml": "resources: []\n",
            "apps/rules.yaml": PROM_RULE.format(name="apps", alert="NotListed"),
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert [(r.alert, r.wired) for r in records.alert_rules] == [("NotListed", False), ("Generated", True)]


def test_static_files_in_a_chart_are_helm_objects_outside_kustomize_wiring(tmp_path: Path) -> None:
    paths = write(
        tmp_path,
        {
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            "charts/web/templates/rules.yaml": PROM_RULE.format(name="chart", alert="FromChart"),
            "charts/web/templates/pdb.yaml": """
                apiVersion: policy/v1
                kind: PodDisruptionBudget
                metadata: {name: web}
                spec: {maxUnavailable: 1}
                """,
            "kustomize/kustomization.yaml": "resources: []\n",
            "kustomize/templates/pdb.yaml": """
                apiVersion: policy/v1
                kind: PodDisruptionBudget
                metadata: {name: not-a-chart}
                """,
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert [(r.alert, r.wired) for r in records.alert_rules] == [("FromChart", True)]
    assert [(p.name, p.origin, p.max_unavailable) for p in records.pdbs] == [
        ("web", "helm", "1"),
        ("not-a-chart", "manifest", None),
    ]


def test_hostile_files_are_reported_with_a_typed_reason_and_the_rest_parses(tmp_path: Path) -> None:
    deep = "[" * 1000 + "]" * 1000
    paths = write(
        tmp_path,
        {
            "apps/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: fine}\n",
            "apps/deep.json": '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + deep + "}",
            "dashboards/deep.json": '{"panels": ' + deep + "}",  # not an object, but refused all the same
            "renovate.json": '{"extends": ' + deep + "}",
            "apps/deep.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 200 + "]" * 200 + "\n",
            "values.yaml": "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}' if i else '*a'] * 10)}]\n" for i in range(8)),
        },
    )
    records = parse_manifests(tmp_path, paths)
    assert [(i.path, i.reason) for i in records.issues] == [
        ("apps/deep.json", "too_deep"),
        ("apps/deep.yaml", "too_deep"),
        ("dashboards/deep.json", "too_deep"),
        ("renovate.json", "too_deep"),
        ("values.yaml", "alias_bomb"),
    ]
    assert [n.name for n in records.namespaces] == ["fine"]
    assert records.dependency_bots == []  # a refused Renovate file is not read as "renovate: all"


def test_flux_local_test_counts_as_a_flux_build_and_diff_does_not(tmp_path: Path) -> None:
    """flux-local test builds every Flux Kustomization: as a docker:// action with its args, as the
    action, or on the command line. Its diff, and args of a non-docker action, are no build."""
    paths = write(
        tmp_path,
        {
            ".github/workflows/docker.yml": """
                jobs:
                  test:
                    steps:
                      - uses: docker://ghcr.io/allenporter/flux-local:v7.2.1
                        with:
                          args: test --enable-helm --all-namespaces --path /github/workspace/kubernetes -v
            """,
            ".github/workflows/action.yml": """
                jobs:
                  test:
                    steps:
                      - uses: allenporter/flux-local/action/test@7.2.1
                        with: {path: kubernetes/flux/cluster}
            """,
            ".github/workflows/cli.yml": """
                jobs:
                  test:
                    steps:
                      - run: flux-local test --path kubernetes/flux/cluster
            """,
            ".github/workflows/diff.yml": """
                jobs:
                  diff:
                    steps:
                      - uses: docker://ghcr.io/allenporter/flux-local:v7.2.1
                        with: {args: diff helmrelease --unified 6 --path /github/workspace/kubernetes}
                      - uses: some-org/not-docker@v1
                        with: {args: flux-local test --path kubernetes}
                    env: {HINT: "flux-local test"}
            """,
        },
    )
    by_path = {ci.source.path: ci.validations for ci in parse_manifests(tmp_path, paths).ci_files}
    assert by_path == {
        ".github/workflows/docker.yml": ["flux-build"],
        ".github/workflows/action.yml": ["flux-build"],
        ".github/workflows/cli.yml": ["flux-build"],
        ".github/workflows/diff.yml": [],
    }
