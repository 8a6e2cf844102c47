"""A rendered workload's ``replicas`` and strategy cite the values line that set them, only where it is
certain which line did (``ValueLines.field_ref``); otherwise the finding keeps citing the release."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helm_charts import package_charts, write

from tools.helm.values import ValueLines


def lines_of(values: dict[str, Any], at: dict[tuple[str, ...], int], path: str = "hr.yaml") -> ValueLines:
    """The value lines of ``values`` written in ``path``, each key path at the line ``at`` gives it."""
    lines = ValueLines()
    lines.add(values, path, lambda key_path: at.get(tuple(str(k) for k in key_path)), ())
    return lines


def test_each_controller_cites_its_own_line() -> None:
    """``controllers.worker`` names ``web-worker``; ``main`` (the release's own name) is then the only
    other controller, so ``web`` takes its lines though ``main`` is not in its name."""
    values = {"controllers": {"main": {"replicas": 1, "strategy": "Recreate"}, "worker": {"replicas": 1}}}
    at = {
        ("controllers", "main", "replicas"): 3,
        ("controllers", "main", "strategy"): 4,
        ("controllers", "worker"): 5,
        ("controllers", "worker", "replicas"): 6,
    }
    lines = lines_of(values, at)
    web, worker = ("web", 1), ("web-worker", 1)
    assert str(lines.field_ref("replicas", 1, "web", [worker])) == "hr.yaml:3"
    assert str(lines.field_ref("replicas", 1, "web-worker", [web])) == "hr.yaml:6"
    assert (
        str(lines.field_ref("strategy", "Recreate", "web", [("web-worker", "RollingUpdate")])) == "hr.yaml:4"
    )
    # the worker's strategy is the chart's default: no line set it, and main's is not its
    assert lines.field_ref("strategy", "RollingUpdate", "web-worker", [("web", "Recreate")]) is None


def test_a_line_is_not_cited_for_a_value_it_did_not_set() -> None:
    """A written ``RollingUpdate`` is not the line of a ``Recreate`` the chart hard-codes; a written
    ``replicaCount: 2`` is not the line of a workload running 1."""
    lines = lines_of(
        {"strategy": "RollingUpdate", "replicaCount": 2}, {("strategy",): 2, ("replicaCount",): 3}
    )
    assert lines.field_ref("strategy", "Recreate", "web", []) is None
    assert lines.field_ref("replicas", 1, "web", []) is None
    assert str(lines.field_ref("replicas", 2, "web", [])) == "hr.yaml:3"


def test_a_value_two_workloads_share_cites_neither() -> None:
    """``replicaCount: 2`` names no workload, and both the app and its database run 2: which one it
    set is not known from the values, so neither cites it."""
    lines = lines_of({"replicaCount": 2}, {("replicaCount",): 1})
    assert lines.field_ref("replicas", 2, "web", [("web-db", 2)]) is None
    assert lines.field_ref("replicas", 2, "web-db", [("web", 2)]) is None
    assert str(lines.field_ref("replicas", 2, "web", [("web-db", 1)])) == "hr.yaml:1"


def test_a_key_naming_another_workload_is_not_this_ones() -> None:
    """``worker.replicas: 3`` is the worker's even where the main workload also runs 3."""
    lines = lines_of({"worker": {"replicas": 3}}, {("worker",): 1, ("worker", "replicas"): 2})
    assert lines.field_ref("replicas", 3, "web", [("web-worker", 3)]) is None
    assert str(lines.field_ref("replicas", 3, "web-worker", [("web", 3)])) == "hr.yaml:2"


def test_a_strategy_map_cites_its_type() -> None:
    lines = lines_of(
        {"deployment": {"strategy": {"type": "Recreate"}}},
        {("deployment", "strategy"): 4, ("deployment", "strategy", "type"): 5},
    )
    assert str(lines.field_ref("strategy", "Recreate", "web", [])) == "hr.yaml:5"
    assert (
        lines_of({"misc": {"type": "Recreate"}}, {("misc", "type"): 2}).field_ref(
            "strategy", "Recreate", "web", []
        )
        is None
    )  # ``type`` is a strategy's only under a strategy key


def test_a_wrapper_alias_that_is_also_a_controller_name() -> None:
    """A wrapper chart aliases its dependency ``app``, and the app's second controller is also ``app``
    (``web-app``). The alias above ``controllers.main`` does not make main's ``Recreate`` the
    ``web-app``'s: ``controllers.app`` beside it names that one."""
    values = {"app": {"controllers": {"main": {"strategy": "Recreate"}, "app": {"type": "deployment"}}}}
    at = {
        ("app", "controllers", "main", "strategy"): 4,
        ("app", "controllers", "app"): 5,
        ("app", "controllers", "app", "type"): 6,
    }
    lines = lines_of(values, at, "values.yaml")
    assert lines.field_ref("strategy", "Recreate", "web-app", [("web", "Recreate")]) is None
    assert str(lines.field_ref("strategy", "Recreate", "web", [("web-app", "Recreate")])) == "values.yaml:4"


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
