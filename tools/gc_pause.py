"""The cyclic garbage collector paused while a reader builds a large object graph.

A parse (an estate's files, a cluster snapshot's dumps) creates objects by the hundred thousand.
Left on, the collector keeps running collections that re-scan everything built so far, more of it
the bigger the heap: loading a 10k-pod snapshot took 2.3x the CPU with it on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a parse, then file what it left as old objects.

    A parse creates objects by the hundred thousand (syntax nodes, expressions, records). Left on,
    the collector keeps running full collections that re-scan everything built so far, more of it the
    bigger the heap (the numbers challenger's second parse runs with the first inventory and all the
    evidence in memory). Turned back on plainly, it would start with a young collection over all that
    the parse left: the inventory, which lives as long as the run, and the HCL syntax trees, which the
    Terraform modules keep in reference cycles. So, unless the process froze objects of its own (then
    the collector is left as it was found), all of it goes straight to the oldest generation
    (``gc.freeze()`` then ``gc.unfreeze()``, both O(1)) and the cyclic garbage waits for the next full
    collection. docs/performance.md has the figures. Nesting is safe: an inner pause leaves the
    collector as the outer one found it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()
