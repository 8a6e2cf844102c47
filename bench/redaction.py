"""The CPU one offline audit spends inside the text redactor, summed over the graph's threads.

Wall times on a shared machine are noise; this counts ``time.thread_time`` inside the redactor's core
(``tools.redact._redact``, or ``redact_text`` in a tree from before the passes were split) and the
process CPU around it. ``--source`` runs another copy of the code (a checkout of an older commit).

    .venv/bin/python bench/redaction.py                      # this tree, the generated large estate
    .venv/bin/python bench/redaction.py --source /tmp/old --estate examples/homelab
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="source tree to run (default this one)")
    parser.add_argument("--estate", type=Path, help="estate to audit (default: generate the large one)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.source.resolve()))
    sys.path.insert(1, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="infra-audit-redaction-") as tmp:
        estate = args.estate
        if estate is None:
            from bench.generate import generate

            estate = Path(tmp) / "large-estate"
            generate(estate)
        spent = _patch()
        from pipeline.cli import main as cli

        start = time.process_time()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = cli(
                [
                    "run",
                    str(estate),
                    "--offline",
                    "--out",
                    f"{tmp}/out",
                    "--state-dir",
                    f"{tmp}/state",
                    "--run-id",
                    "redaction",
                    "--date",
                    "2026-11-20",
                ]
            )
        print(
            f"{args.source}: rc {code}, process CPU {time.process_time() - start:.2f} s, "
            f"inside the text redactor {spent[0]:.3f} s"
        )
    return 0


def _patch() -> list[float]:
    """Time the redactor's core; in an older tree, ``redact_text`` where each module imported it."""
    import tools.redact as redact

    spent, lock, local = [0.0], threading.Lock(), threading.local()
    name = "_redact" if hasattr(redact, "_redact") else "redact_text"
    core: Callable[[str], str] = getattr(redact, name)

    def timed(text: str) -> str:
        if getattr(local, "inside", False):
            return core(text)
        local.inside, began = True, time.thread_time()
        try:
            return core(text)
        finally:
            local.inside = False
            with lock:
                spent[0] += time.thread_time() - began

    setattr(redact, name, timed)
    if name == "redact_text":
        import agents.offline.decisions
        import tools.kube.kubectl
        import tools.registry
        import tools.repo

        modules: list[Any] = [
            tools.repo,
            tools.registry,
            tools.kube.kubectl,
            agents.offline.decisions,
            agents.nodes,
        ]
        for module in modules:
            if hasattr(module, "redact_text"):
                module.redact_text = timed
    return spent


if __name__ == "__main__":
    raise SystemExit(main())
