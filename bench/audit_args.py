"""The arguments of the ``infra-audit run`` every bench script times, in one place.

Standard library only, and importable as a top-level module from this directory: ``bench/phases.py``
imports it before it puts the tree under test first on ``sys.path``.
"""

from __future__ import annotations

from pathlib import Path


def audit_args(estate: Path | str, cluster: Path | str | None, work: Path) -> list[str]:
    """``run ESTATE --offline ...`` with a fixed clock and run id, the reports and the run store in
    ``work``; with ``--cluster`` when given."""
    args = ["run", str(estate), "--offline", "--date", "2025-01-01", "--run-id", "bench"]
    args += ["--out", str(work / "out"), "--state-dir", str(work / "state")]
    return args + (["--cluster", str(cluster)] if cluster else [])
