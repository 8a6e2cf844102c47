"""The offline research hands each counting check to the numbers challenger as it ends, and with a
cluster runs the checks a jq filter recounts first (issue 13): the recount's jq engine then has their
filters while the other checks still run. The findings are those of the catalog's order either way."""

from __future__ import annotations

import dataclasses

from estates import HOMELAB, HOMELAB_SNAPSHOT

from agents.offline.research import research_offline
from domain.concerns import CONCERNS
from domain.evidence import Evidence
from tools.checks.runner import CheckOutcome, run_checks
from tools.checks.spec import CheckContext, jq_weight, load_catalog, spec_by_id
from tools.clock import parse_clock
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.kube.snapshot import SnapshotBackend
from tools.registry import Toolbox
from tools.sandbox import Jail


def _homelab(cluster: bool = True) -> CheckContext:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT) if cluster else None
    return CheckContext(
        build_inventory(HOMELAB, cluster=backend),
        Toolbox(Jail(HOMELAB), backend, Ledger()),
        now=parse_clock("2026-11-20T09:00:00Z"),
    )


def test_the_checks_picked_first_run_first_and_come_back_in_catalog_order() -> None:
    ctx = _homelab()
    ran: list[str] = []
    outcomes = run_checks(ctx, "reliability", then=lambda o: ran.append(o.check), weight=jq_weight)
    catalog = [s.id for s in load_catalog() if s.concern == "reliability"]
    weights = {c: jq_weight(spec_by_id(c)) for c in catalog}
    assert ran == sorted(catalog, key=lambda c: -weights[c])  # heaviest first, else catalog order
    assert ran != catalog and len(set(weights.values())) > 2  # the order is a real choice here
    assert weights["REL-LIVE-IMAGE-PULL"] == 4 and ran.index("REL-LIVE-IMAGE-PULL") < ran.index(
        "REL-LIVE-RESTARTS"
    )
    assert [o.check for o in outcomes] == catalog
    plain = run_checks(_homelab(), "reliability")
    assert [o.detection for o in outcomes] == [o.detection for o in plain]


def _research(ctx: CheckContext) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Each concern's finding ids and checks, and the (concern, check) of every evidence handed on."""
    handed: list[tuple[str, str]] = []
    results = {}
    for concern in CONCERNS:
        current = concern

        def counted(ev: Evidence, concern: str = current) -> None:
            handed.append((concern, str(ev.args["id"])))

        with_hook = dataclasses.replace(ctx, counted=counted) if ctx.counted is None else ctx
        result = research_offline(concern, with_hook)
        results[concern] = [f"{f.id} {f.check}" for f in result.findings]
    return results, handed


def test_each_counting_check_is_handed_on_once_as_it_ends_and_the_findings_are_unchanged() -> None:
    results, handed = _research(_homelab())
    findings = [line.split()[1] for lines in results.values() for line in lines]
    assert sorted(c for _, c in handed) == sorted(findings)  # once each, and only those that counted
    for concern in CONCERNS:
        mine = [c for who, c in handed if who == concern]
        assert mine == sorted(mine, key=lambda c: -jq_weight(spec_by_id(c)))  # the heaviest jq ended first
    catalog = [s.id for s in load_catalog()]
    moved = [
        concern
        for concern in CONCERNS
        if (mine := [c for who, c in handed if who == concern]) != sorted(mine, key=catalog.index)
    ]
    assert moved  # on this estate the order is a real choice
    # the same findings, numbered in the catalog's order, as a research that hands nothing on
    plain = {c: [f"{f.id} {f.check}" for f in research_offline(c, _homelab()).findings] for c in CONCERNS}
    assert results == plain


def test_without_a_cluster_the_catalog_order_is_kept() -> None:
    ctx = _homelab(cluster=False)
    order: list[str] = []
    real = ctx.toolbox.ledger.record

    def record(result: object, **kwargs: object) -> Evidence:
        if result.tool == "check":  # type: ignore[attr-defined]
            order.append(str(result.args["id"]))  # type: ignore[attr-defined]
        return real(result, **kwargs)  # type: ignore[arg-type]

    ctx.toolbox.ledger.record = record  # type: ignore[method-assign]
    research_offline("reliability", dataclasses.replace(ctx, counted=lambda ev: None))
    assert order == [s.id for s in load_catalog() if s.concern == "reliability"]


def test_a_check_outcome_is_handed_on_only_when_it_counted() -> None:
    ctx = _homelab()
    seen: list[CheckOutcome] = []
    run_checks(ctx, "security", then=seen.append)
    counted = {o.check for o in seen if o.detection.applicable and o.detection.count > 0}
    _, handed = _research(ctx)
    assert {c for who, c in handed if who == "security"} == counted
