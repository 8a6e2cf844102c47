"""Alert rules and their wiring (MNT-ALERTS-NOT-WIRED, REL-ALERT-GAPS): rules in chart templates and
rule files a chart loads are rules, and loaded by the chart; a rule is wired only when something
deployed applies it."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import detect, estate, subjects

pytestmark = pytest.mark.unit

RULE_FILE = """
groups:
  - name: apps
    rules:
      - alert: {alert}
        expr: kube_job_status_failed > 0
"""
FLUX = """
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: apps, namespace: flux-system}}
spec: {{path: {path}, prune: true, sourceRef: {{kind: GitRepository, name: repo}}}}
"""
PROM_RULE = """
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{name: {name}, namespace: monitoring}}
spec:
  groups:
    - name: g
      rules:
        - alert: {name}
          expr: up == 0
"""


def test_chart_rule_files_and_templates_are_rules_loaded_by_the_chart(tmp_path: Path) -> None:
    """Before, the chart's rule file was 'not wired' (no kustomization names it) and the template's
    rules were not read at all."""
    files = {
        "kustomization.yaml": "resources: [monitoring.yaml]\n",
        "monitoring.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n",
        "charts/alerts/Chart.yaml": "apiVersion: v2\nname: alerts\nversion: 1.0.0\n",
        "charts/alerts/rules/jobs.yaml": RULE_FILE.format(alert="JobFailed"),
        "charts/alerts/templates/_rules.tpl": '{{- define "alerts.rules" -}}\n- alert: PodOOMKilled\n'
        "  expr: increase(container_oom_events_total[5m]) > 0\n{{- end }}\n",
        "charts/alerts/templates/rule.yaml": "{{- if .Values.cert }}\ngroups:\n  - name: c\n    rules:\n"
        "      - alert: CertExpiry\n"
        "        expr: certmanager_certificate_expiration_timestamp_seconds < 86400\n"
        "{{- end }}\n",
    }
    rules = estate(tmp_path, files).code.alert_rules
    assert sorted((r.alert, str(r.source), r.wired) for r in rules) == [
        ("CertExpiry", "charts/alerts/templates/rule.yaml:5", True),
        ("JobFailed", "charts/alerts/rules/jobs.yaml:4", True),
        ("PodOOMKilled", "charts/alerts/templates/_rules.tpl:2", True),
    ]
    assert detect(tmp_path, {}, "MNT-ALERTS-NOT-WIRED").count == 0
    gaps = detect(tmp_path, {}, "REL-ALERT-GAPS")
    assert sorted(subjects(gaps)) == [
        "alert-category/node-cpu",
        "alert-category/pvc-capacity",
        "alert-category/unschedulable",
    ]


def test_a_kustomization_nothing_deploys_does_not_wire_its_rules(tmp_path: Path) -> None:
    """Before, any kustomization naming the file wired it, even one no Flux Kustomization reaches."""
    files = {
        "clusters/prod/apps.yaml": FLUX.format(path="./apps"),
        "apps/kustomization.yaml": "resources: [rules.yaml]\n",
        "apps/rules.yaml": PROM_RULE.format(name="Deployed"),
        "archive/kustomization.yaml": "resources: [rules.yaml]\n",
        "archive/rules.yaml": PROM_RULE.format(name="Archived"),
    }
    d = detect(tmp_path, files, "MNT-ALERTS-NOT-WIRED")
    assert (d.count, d.total, subjects(d)) == (1, 2, ["Archived"])


def test_a_base_included_by_a_deployed_overlay_is_wired(tmp_path: Path) -> None:
    files = {
        "clusters/prod/apps.yaml": FLUX.format(path="./overlays/prod"),
        "overlays/prod/kustomization.yaml": "resources: [../../base]\n",
        "base/kustomization.yaml": "resources: [rules.yaml]\n",
        "base/rules.yaml": PROM_RULE.format(name="FromBase"),
    }
    d = detect(tmp_path, files, "MNT-ALERTS-NOT-WIRED")
    assert (d.count, d.total) == (0, 1)


def test_without_gitops_objects_every_kustomization_counts_as_applied(tmp_path: Path) -> None:
    files = {
        "apps/kustomization.yaml": "resources: [rules.yaml]\n",
        "apps/rules.yaml": PROM_RULE.format(name="ByHand"),
        "apps/orphan.yaml": PROM_RULE.format(name="Orphan"),
    }
    d = detect(tmp_path, files, "MNT-ALERTS-NOT-WIRED")
    assert (d.count, subjects(d)) == (1, ["Orphan"])
