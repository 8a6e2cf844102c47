"""The precision corpus: tiny estates written by us, one per trap class, run through the real walk,
parsers and detection, so a fixture fails when any layer counts what it must not.

``detect(tmp_path, files, check_id)`` writes the files (dedented) and returns the detection; the tests
assert exact counts, refs and subjects, and exactly what must not be found.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

from tools.checks.spec import CheckContext, Detection, get_detector
from tools.evidence import Ledger
from tools.inventory.build import build_inventory
from tools.inventory.inventory import Inventory
from tools.registry import Toolbox
from tools.sandbox import Jail


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(text).lstrip("\n"))


def estate(root: Path, files: dict[str, str]) -> Inventory:
    write(root, files)
    return build_inventory(root)


def detect(root: Path, files: dict[str, str], check_id: str) -> Detection:
    inventory = estate(root, files)
    ctx = CheckContext(inventory=inventory, toolbox=Toolbox(Jail(inventory.root), None, Ledger()))
    return get_detector(check_id)(ctx)


def refs(detection: Detection) -> list[str]:
    return [loc.ref for loc in detection.locations]


def subjects(detection: Detection) -> list[str]:
    return [loc.subject for loc in detection.locations]
