"""Find cassettes no test uses: ``python tests/check_cassettes.py``; exits 1 listing them.

A cassette nobody replays still costs a reviewer's attention and can drift from the code without
any test noticing, so each file in ``cassettes/`` must be named (by file name) in some test file:
a ``test_*.py`` or ``conftest.py`` under ``tests/``. Exit 0 and print nothing when all are used.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


def test_files(tests: Path) -> list[Path]:
    return sorted(p for p in tests.rglob("*.py") if p.name.startswith("test_") or p.name == "conftest.py")


def unused(cassettes: Path, tests: Path) -> list[Path]:
    """Cassettes in ``cassettes`` whose file name appears in no test file under ``tests``."""
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in test_files(tests)]
    return [c for c in sorted(cassettes.glob("*.yaml")) if not any(c.name in text for text in texts)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cassettes", type=Path, default=REPO / "cassettes")
    parser.add_argument("--tests", type=Path, default=TESTS)
    args = parser.parse_args(argv)
    found = unused(args.cassettes, args.tests)
    for path in found:
        print(f"unused cassette: {path}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
