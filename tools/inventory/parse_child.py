"""``python -P -m tools.inventory.parse_child ROOT``: the estate at ROOT parsed as ``build_inventory``
parses it (``build.parse_estate``, nothing fetched), for the run that started this child
(``parse_early.py``). When a Helm render first needs the chart options (after the Terraform files), it
reads one JSON line on standard input, ``{"cache": DIR or null}``: the chart cache the run uses, known
once the run has read its environment. No line (the run ended): it exits.

Output (standard output, binary): the length of the pickle, 8 bytes big-endian, then the pickle of
``(files found, Records)``. Exits 0 once written; anything else (an unreadable root, a parse that
raised) exits non-zero with nothing written, and the run parses the estate itself, where the same
error is reported as a run reports it.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tools.helm.options import ChartOptions


def _told() -> ChartOptions:
    """The chart options the run told this child (waited for: the run reads its environment after
    starting it; by then the child has imported what parsing needs, and may have parsed the Terraform)."""
    from tools.helm.options import ChartOptions

    cache = json.loads(sys.stdin.readline())["cache"]  # no line (the run ended): raises, exits 3
    return ChartOptions(cache_dir=Path(cache) if cache is not None else None)


def main(argv: list[str]) -> int:
    from tools.gc_pause import gc_paused
    from tools.inventory.build import check_root, parse_estate

    root = check_root(argv[0])
    with gc_paused():  # as build_inventory parses
        files, code = parse_estate(root, functools.cache(_told))
    code.drop_release_objects()  # the renders are made; their sources hold line lookups (closures)
    data = pickle.dumps((files, code), protocol=pickle.HIGHEST_PROTOCOL)
    out = sys.stdout.buffer
    out.write(len(data).to_bytes(8, "big"))
    out.write(data)
    out.flush()
    return 0


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except BaseException:
        code = 3
    os._exit(code)  # no interpreter teardown: the records die with the process
