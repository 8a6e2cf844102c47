"""A rendered workload's ``replicas`` and strategy cite the values line that set them, only where it is
certain which line did (``ValueLines.field_ref``); otherwise the finding keeps citing the release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helm_charts import package_charts, write

from tools.helm.values import ValueLines, release_names


def lines_of(
    values: dict[str, Any], at: dict[tuple[str, ...], int], release: str = "web", chart: str | None = None
) -> ValueLines:
    """The value lines of ``values`` written in ``hr.yaml``, each key path at the line ``at`` gives it,
    for a release ``release`` of the chart ``chart``."""
    lines = ValueLines()
    lines.add(values, "hr.yaml", lambda key_path: at.get(tuple(str(k) for k in key_path)), ())
    lines.bases = release_names(release, chart, values)
    return lines


def test_each_controller_cites_its_own_line() -> None:
    """app-template's naming: ``main`` is the release's own workload, ``worker`` is ``web-worker``."""
    values = {"controllers": {"main": {"replicas": 1, "strategy": "Recreate"}, "worker": {"replicas": 1}}}
    at = {
        ("controllers", "main", "replicas"): 3,
        ("controllers", "main", "strategy"): 4,
        ("controllers", "worker", "replicas"): 6,
    }
    lines = lines_of(values, at)
    assert str(lines.field_ref("replicas", 1, "web", alone=False)) == "hr.yaml:3"
    assert str(lines.field_ref("replicas", 1, "web-worker", alone=False)) == "hr.yaml:6"
    assert str(lines.field_ref("strategy", "Recreate", "web", alone=True)) == "hr.yaml:4"
    # the worker's strategy is the chart's default: no line set it, and main's is not its
    assert lines.field_ref("strategy", "Recreate", "web-worker", alone=False) is None
    # app-template's fullname when the release's name does not hold the chart's: web-app-template
    named = lines_of(values, at, chart="app-template")
    assert str(named.field_ref("replicas", 1, "web-app-template-worker", alone=False)) == "hr.yaml:6"


def test_a_line_is_not_cited_for_a_value_it_did_not_set() -> None:
    """A written ``RollingUpdate`` is not the line of a ``Recreate`` the chart hard-codes; a written
    ``replicaCount: 2`` is not the line of a workload running 1."""
    lines = lines_of(
        {"strategy": "RollingUpdate", "replicaCount": 2}, {("strategy",): 2, ("replicaCount",): 3}
    )
    assert lines.field_ref("strategy", "Recreate", "web", alone=True) is None
    assert lines.field_ref("replicas", 1, "web", alone=True) is None
    assert str(lines.field_ref("replicas", 2, "web", alone=True)) == "hr.yaml:3"


def test_a_top_level_value_is_cited_only_for_the_releases_one_workload() -> None:
    """``replicaCount: 2`` at the top (``helm create``): the release's workload, when it is the only
    one with replicas; with a second one (a database) it may be either, so neither cites it."""
    lines = lines_of({"replicaCount": 2}, {("replicaCount",): 1})
    assert str(lines.field_ref("replicas", 2, "web", alone=True)) == "hr.yaml:1"
    assert lines.field_ref("replicas", 2, "web", alone=False) is None


def test_a_value_under_another_component_is_not_the_workloads() -> None:
    """Values that equal the workload's by chance, under a key naming another component: ingress-nginx's
    ``defaultBackend.replicaCount: 1`` (backend off) for the controller, bitnami postgresql's
    ``readReplicas.replicaCount`` for the primary, argo-cd's ``controller.replicas`` for the
    applicationset controller (a name ending ``-controller`` is not the ``controller``)."""
    nginx = lines_of(
        {"defaultBackend": {"enabled": False, "replicaCount": 1}},
        {("defaultBackend", "replicaCount"): 3},
        release="ingress-nginx",
        chart="ingress-nginx",
    )
    assert nginx.field_ref("replicas", 1, "ingress-nginx-controller", alone=True) is None
    postgres = lines_of(
        {"postgresql": {"readReplicas": {"replicaCount": 1}}},
        {("postgresql", "readReplicas", "replicaCount"): 4},
        release="rel",
    )
    assert postgres.field_ref("replicas", 1, "rel-postgresql", alone=True) is None
    argo = lines_of(
        {"controller": {"replicas": 1}, "server": {"replicas": 1}},
        {("controller", "replicas"): 2, ("server", "replicas"): 4},
        release="argocd",
        chart="argo-cd",
    )
    assert argo.field_ref("replicas", 1, "argocd-applicationset-controller", alone=False) is None
    assert argo.field_ref("replicas", 1, "argocd-dex-server", alone=False) is None
    assert str(argo.field_ref("replicas", 1, "argocd-server", alone=False)) == "hr.yaml:4"


def test_a_wrapper_whose_dependency_is_named_like_the_release() -> None:
    """A wrapper's ``nextcloud:`` holds the dependency's values: its ``replicaCount`` is nextcloud's,
    ``metrics.replicaCount`` the metrics exporter's."""
    values = {"nextcloud": {"replicaCount": 1, "metrics": {"enabled": True, "replicaCount": 1}}}
    at = {("nextcloud", "replicaCount"): 2, ("nextcloud", "metrics", "replicaCount"): 5}
    lines = lines_of(values, at, release="nextcloud", chart="nextcloud")
    assert str(lines.field_ref("replicas", 1, "nextcloud", alone=False)) == "hr.yaml:2"
    assert str(lines.field_ref("replicas", 1, "nextcloud-metrics", alone=False)) == "hr.yaml:5"


def test_a_strategy_map_cites_its_type() -> None:
    lines = lines_of(
        {"web": {"strategy": {"type": "Recreate"}}, "strategy": {"type": "Recreate"}},
        {("web", "strategy", "type"): 5, ("strategy", "type"): 8},
    )
    assert str(lines.field_ref("strategy", "Recreate", "web", alone=False)) == "hr.yaml:5"
    assert (
        lines_of({"misc": {"type": "Recreate"}}, {("misc", "type"): 2}).field_ref(
            "strategy", "Recreate", "web", alone=True
        )
        is None
    )  # ``type`` is a strategy's only under a strategy key


def test_a_full_name_override_names_the_main_workload() -> None:
    values = {"fullnameOverride": "wiki", "controllers": {"main": {"replicas": 1}}}
    lines = lines_of(values, {("controllers", "main", "replicas"): 3}, release="docs", chart="app-template")
    assert str(lines.field_ref("replicas", 1, "wiki", alone=False)) == "hr.yaml:3"


FLUX_TWO_CONTROLLERS = {
    "flux/source.yaml": """
        apiVersion: source.toolkit.fluxcd.io/v1
        kind: OCIRepository
        metadata: {name: app, namespace: flux-system}
        spec:
          url: oci://ghcr.io/example/charts/app
          ref: {tag: 2.0.0}
    """,
    "flux/web.yaml": """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: web, namespace: apps}
        spec:
          chartRef: {kind: OCIRepository, name: app, namespace: flux-system}
          values:
            controllers:
              main:
                replicas: 1
                containers:
                  main:
                    image: {repository: ghcr.io/example/app, tag: 2.5.0}
              worker:
                containers:
                  main:
                    image: {repository: ghcr.io/example/worker, tag: 2.5.0}
    """,
}


def test_rendered_workloads_cite_the_replicas_their_release_wrote(tmp_path: Path) -> None:
    """Through the Helm engine: ``web`` cites ``controllers.main.replicas``; ``web-worker`` runs the
    chart's default 1, which no line of the estate set, so it keeps no field ref (its findings cite the
    release)."""
    pytest.importorskip("helm_python")
    from tools.helm.cache import ChartCache, parse_ref
    from tools.helm.options import ChartOptions
    from tools.inventory.build import build_inventory

    cache = ChartCache(tmp_path / "cache")
    cache.put(
        parse_ref("oci://ghcr.io/example/charts/app:2.0.0"), package_charts(tmp_path / "packaged")["app"]
    )
    inv = build_inventory(
        write(tmp_path / "estate", FLUX_TWO_CONTROLLERS), charts=ChartOptions(cache_dir=cache.root)
    )
    got = {w.name: ({k: str(v) for k, v in w.refs.items()}, w.replicas) for w in inv.code.workloads}
    assert got == {"web": ({"replicas": "flux/web.yaml:9"}, 1), "web-worker": ({}, 1)}
