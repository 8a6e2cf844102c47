"""The DEC-/MNT-/SEC- detectors on the bundled estates, against the ``findings:`` of their ground truth.

See estate_detections.py for how a detection is compared with the ground truth. Every DEC-/MNT-/SEC-
entry of both estates is asserted, every DEC-/MNT-/SEC- check the ground truth does not list must not
fire, and the documented decisions must account exactly for what the final report takes out (an entry
with ``count: 0`` is still detected in full; the challenger removes it). A SOPS-encrypted Secret is not
plaintext: that decision is the detector's own, so its ``must_not_report`` item is never detected.
"""

from __future__ import annotations

import json

import pytest
from estate_detections import (
    estate_contexts,
)
from estates import canary_forms, ground_truth

from tools.checks.spec import CheckContext, get_detector, load_catalog

pytestmark = pytest.mark.unit

PREFIXES = ("DEC-", "MNT-", "SEC-")


@pytest.fixture(scope="module")
def contexts() -> dict[str, CheckContext]:
    return estate_contexts()


def test_details_the_ground_truth_describes(contexts: dict[str, CheckContext]) -> None:
    homelab = contexts["homelab"]
    inventory = ground_truth("homelab")["inventory"]
    # the ignore_changes blocks without the KYVERNO_LIFECYCLE_V1 marker are the ones a location flags
    ignore = get_detector("DEC-IGNORE-CHANGES")(homelab)
    assert {loc.ref for loc in ignore.locations if loc.detail and "no marker" in loc.detail} == {
        block["ref"] for block in inventory["ignore_changes"] if not block["kyverno_marker"]
    }
    # promtail is the one container that sets run_as_user = 0 explicitly: cited at that line, which
    # is below its image line in the same file
    run_as_root = get_detector("SEC-RUN-AS-ROOT")(homelab)
    promtail = next(w for w in inventory["workloads"] if w["name"] == "promtail")
    explicit = [loc.ref for loc in run_as_root.locations if loc.detail == "runAsUser 0"]
    assert explicit == ["stacks/monitoring/main.tf:75"]
    assert promtail["image_refs"]["promtail"] == "stacks/monitoring/main.tf:71"
    # wireguard runs privileged on purpose (docs/decisions/0003); the challenger needs the reason
    privileged = get_detector("SEC-PRIVILEGED")(homelab)
    assert [loc.detail for loc in privileged.locations] == ["privileged; adds NET_ADMIN, SYS_MODULE"]


def test_checks_that_read_what_gitops_base_lacks_do_not_apply(contexts: dict[str, CheckContext]) -> None:
    gitops = contexts["gitops-base"]
    for check in ("DEC-ARGO-OUT-OF-SYNC", "DEC-LIVE-UNMANAGED", "DEC-LIVE-DRIFT"):  # no cluster
        assert get_detector(check)(gitops).applicable is False, check
    assert get_detector("SEC-APISERVER-HARDENING")(gitops).applicable is False  # no API server config


def test_no_canary_in_any_detection_or_its_evidence(contexts: dict[str, CheckContext]) -> None:
    for estate, context in contexts.items():
        canaries = canary_forms(estate)
        shown = [get_detector(spec.id)(context).model_dump_json() for spec in load_catalog()]
        ledger = context.toolbox.ledger
        evidence = [json.dumps(e.model_dump(), default=str) for e in ledger.items()]
        data = [json.dumps(ledger.data(e.id), default=str) for e in ledger.items()]
        assert evidence  # the repo-reading detectors recorded their tool calls
        leaks = [c for c in canaries for text in shown + evidence + data if c in text]
        assert leaks == [], f"{estate}: {sorted(set(leaks))}"


def test_no_trap_of_the_ground_truth_is_detected(contexts: dict[str, CheckContext]) -> None:
    """Each ``trap:`` of ``must_not_report`` is a line a naive check would count (issue 10): the
    detection lists none of them, and each trap line exists and holds what its class says."""
    classes: set[str] = set()
    for estate, context in contexts.items():
        traps = [m for m in ground_truth(estate)["must_not_report"] if "trap" in m]
        for trap in traps:
            classes.add(trap["trap"])
            detection = get_detector(trap["check"])(context)
            refs = {loc.ref for loc in detection.locations}
            subjects = {loc.subject for loc in detection.locations}
            assert trap["subject"] not in refs | subjects, (estate, trap)
            if trap["subject"].count(":") == 1:  # a path:line trap: the line is really there
                path, line = trap["subject"].split(":")
                lines = (context.toolbox.jail.root / path).read_text().split("\n")
                assert lines[int(line) - 1].strip(), trap
    assert classes == {
        *("reference", "placeholder", "comment", "example file", "docs code block"),
        *("SOPS ciphertext and metadata", "prohibition", "dry run", "read-only command"),
        *("other repository", "template placeholder", "gitignored path"),
    }
