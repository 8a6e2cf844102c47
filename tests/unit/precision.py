"""The precision corpus' one helper: write a small estate, build its inventory, run one check.

Each ``test_precision_*`` module holds, for each trap class of issue 10, small fixtures written for
it: positives (the exact findings) and negatives (exactly nothing). The check is found by its id
(``get_detector``), through the real inventory builder and the real sandboxed repo tools, so a
fixture asserts what a user's audit would report.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from tools.checks.spec import CheckContext, Detection, get_detector
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.registry import Toolbox
from tools.sandbox import Jail


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(text).lstrip("\n"))


def context(root: Path) -> CheckContext:
    return CheckContext(build_inventory(str(root)), Toolbox(Jail(root), None, Ledger()))


def detect(root: Path, files: dict[str, str], check: str) -> Detection:
    write(root, files)
    return get_detector(check)(context(root))


def found(detection: Detection) -> list[tuple[str, str]]:
    """(ref, subject) of every location, in the detection's order."""
    return [(loc.ref, loc.subject) for loc in detection.locations]
