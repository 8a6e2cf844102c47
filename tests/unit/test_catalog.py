"""The catalog's own integrity: detectors found in the listed modules, themes declared as data."""

from __future__ import annotations

import types

import pytest

from tools.checks.detections import MODULES, detectors
from tools.checks.spec import (
    CheckSpec,
    Detection,
    detector,
    load_catalog,
    load_themes,
    validate_catalog,
)

pytestmark = pytest.mark.unit


def _spec(check_id: str, theme: str | None = None) -> CheckSpec:
    return CheckSpec(
        id=check_id,
        concerns=("reliability",),
        title="{count} things",
        impact=3,
        effort=2,
        risk=1,
        fatigue=False,
        reads="repo",
        rationale="r",
        recommendation="do it",
        theme=theme,
    )


def test_every_catalog_row_has_a_detector_and_a_known_theme() -> None:
    specs = load_catalog()
    assert len(specs) == len(detectors()) == 67
    themes = load_themes()
    assert {s.theme for s in specs if s.theme} <= set(themes)
    assert list(themes) == [
        "declarative-escape-hatches",
        "observability-blind-spots",
        "supply-chain",
        "uneven-reliability",
        "backup-coverage",
        "admission-and-isolation",
        "credential-hygiene",
    ]


def test_a_misspelt_theme_is_refused_not_silently_dropped() -> None:
    with pytest.raises(ValueError, match=r"REL-X: supply-chian"):
        validate_catalog((_spec("REL-X", theme="supply-chian"),), {"REL-X"}, set(load_themes()))
    assert validate_catalog((_spec("REL-X", theme="supply-chain"),), {"REL-X"}, set(load_themes()))


def test_a_spec_without_detector_and_a_detector_without_spec_are_named() -> None:
    with pytest.raises(ValueError, match=r"no detector \['REL-A'\], no spec \['REL-B'\]"):
        validate_catalog((_spec("REL-A"),), {"REL-B"}, set())


def test_marking_a_function_registers_nothing_until_its_module_is_listed() -> None:
    toy = types.ModuleType("toy_detections")

    @detector("REL-TOY")
    def toy_check(ctx: object) -> Detection:
        return Detection(count=0)

    toy_check.__module__ = toy.__name__
    toy.toy_check = toy_check  # type: ignore[attr-defined]
    assert "REL-TOY" not in detectors()
    assert detectors((*MODULES, toy))["REL-TOY"] is toy_check


def test_two_functions_for_one_id_are_refused() -> None:
    one, two = types.ModuleType("one"), types.ModuleType("two")
    for module in (one, two):
        fn = detector("REL-DUP")(lambda ctx: Detection(count=0))
        fn.__module__ = module.__name__
        module.fn = fn  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="two detectors for REL-DUP: one and two"):
        detectors((one, two))


CLUSTER_HEALTH = [
    "REL-LIVE-VERSION-SKEW", "REL-LIVE-NODE-NOT-READY", "REL-LIVE-PENDING-PODS", "REL-LIVE-PVC-UNBOUND",
    "REL-LIVE-CERT-EXPIRY", "SCA-LIVE-HPA-STUCK", "REL-LIVE-PDB-BLOCKING", "REL-LIVE-LB-PENDING",
    "REL-LIVE-ROUTE-NO-BACKEND", "REL-LIVE-SERVICE-NO-PODS", "REL-LIVE-IMAGE-PULL", "REL-LIVE-ADMISSION",
    "MNT-LIVE-DUPLICATE-WORKLOAD", "MNT-LIVE-ABANDONED-NAMESPACE",
]  # fmt: skip


@pytest.mark.parametrize(
    "check",
    ["SEC-PLAINTEXT-SECRET", "SEC-DEFAULT-CREDENTIALS", "DEC-IMPERATIVE-DOCS", "DEC-IMPERATIVE-NOTES",
     "MNT-RUNBOOK-STALE-PATH", *CLUSTER_HEALTH],
)  # fmt: skip
def test_the_precision_checks_say_what_they_count_and_what_they_do_not(check: str) -> None:
    spec = next(s for s in load_catalog() if s.id == check)
    assert spec.counts and len(spec.not_counted) >= 1


def test_the_notes_of_imperative_steps_score_below_the_runbook_steps() -> None:
    specs = {s.id: s for s in load_catalog()}
    docs, notes = specs["DEC-IMPERATIVE-DOCS"], specs["DEC-IMPERATIVE-NOTES"]
    assert (notes.impact, notes.fatigue) == (1, False) and docs.impact > notes.impact


def test_a_misspelt_decision_topic_is_refused_and_every_topic_is_named_by_a_check() -> None:
    from tools.checks.spec import load_topics

    topics = load_topics()
    misspelt = _spec("REL-X").model_copy(update={"topics": ("cpu-limit",)})
    with pytest.raises(ValueError, match=r"REL-X: cpu-limit"):
        validate_catalog((misspelt,), {"REL-X"}, set(load_themes()), set(topics))
    used = {t for s in load_catalog() for t in s.topics}
    assert used == set(topics)  # no topic in topics.yaml that no check declares
    for topic in topics.values():
        assert topic.stated or topic.negated, topic.key
        assert (topic.on_decision == "reframe") == (topic.framing is not None), topic.key


def test_every_check_says_what_it_counts() -> None:
    """Issue 10: the catalog documents, per check, what it counts (and, with few exceptions, what not)."""
    specs = load_catalog()
    assert [s.id for s in specs if not s.counts] == []
    assert {s.id for s in specs if not s.not_counted} <= {"DEC-FLUX-SUSPENDED", "SEC-HOST-ACCESS"}
