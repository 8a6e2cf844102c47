"""The jq commands of one check over the same input run in one child (``reproduce_run.together``):
jq parses the pods' JSON once for a count and its measures, and each command prints what it prints
alone, its failures included."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from estates import HOMELAB_SNAPSHOT

from tools import piped
from tools.checks import reproduce_run
from tools.checks.reproduce import ReproSpec, Where
from tools.checks.reproduce_run import Listings, Printed, run_all, run_spec
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

PODS = ("pods",)


def _children(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The jq programs the recount's children ran, in order."""
    ran: list[str] = []
    real = piped.run_piped

    def counted(argv: Sequence[str], *args: Any, **kwargs: Any) -> Any:
        ran.append(argv[-1])
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(reproduce_run, "run_piped", counted)
    return ran


def _run(specs: dict[str, ReproSpec]) -> tuple[dict[str, Printed], dict[str, Printed]]:
    """Each command alone, then the check's commands together."""
    backend, jail, where = (
        SnapshotBackend(HOMELAB_SNAPSHOT),
        Jail(HOMELAB_SNAPSHOT.parent),
        Where(cluster="x"),
    )
    listings = Listings()
    alone = {key: run_spec(spec, jail, where, backend, listings) for key, spec in specs.items()}
    return alone, run_all(specs, jail, where, backend, listings)


def test_a_count_and_its_measure_over_the_same_types_are_one_child(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = {
        "count": ReproSpec(jq=".items | length", resources=PODS),
        "running": ReproSpec(jq='[.items[] | select(.status.phase == "Running")] | length', resources=PODS),
        "jobs": ReproSpec(jq=".items | length", resources=("jobs.batch",)),
    }
    alone, together = _run(specs)
    ran = _children(monkeypatch)
    assert (
        run_all(specs, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), SnapshotBackend(HOMELAB_SNAPSHOT))
        == alone
    )
    assert together == alone
    assert all(p.value is not None and p.value > 0 for p in alone.values())
    assert len(ran) == 2  # pods once (count and running together), jobs once; not three children


def test_a_filter_that_prints_nothing_or_fails_fails_as_it_does_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = {
        "count": ReproSpec(jq=".items | length", resources=PODS),
        "nothing": ReproSpec(jq="empty", resources=PODS),
        "fails": ReproSpec(jq='error("no")', resources=PODS),
        "text": ReproSpec(jq='"many"', resources=PODS),
    }
    alone, together = _run(specs)
    ran = _children(monkeypatch)
    run_all(specs, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), SnapshotBackend(HOMELAB_SNAPSHOT))
    assert together == alone
    assert alone["count"].value and alone["count"].error is None
    assert [alone[k].value for k in ("nothing", "fails", "text")] == [None, None, None]
    assert alone["nothing"].error != alone["fails"].error  # no output, an error: told apart
    assert len(ran) == 1


def test_a_filter_that_does_not_compile_leaves_the_others_to_run_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = {
        "count": ReproSpec(jq=".items | length", resources=PODS),
        "broken": ReproSpec(jq=".items | length)", resources=PODS),
    }
    alone, together = _run(specs)
    ran = _children(monkeypatch)
    run_all(specs, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), SnapshotBackend(HOMELAB_SNAPSHOT))
    assert together == alone
    assert alone["count"].value and alone["broken"].value is None
    assert len(ran) == 3  # the two together, which failed as a whole, then each on its own
