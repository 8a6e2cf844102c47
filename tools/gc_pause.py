"""The cyclic garbage collector paused while a reader builds a large object graph.

A parse (an estate's files, a cluster snapshot's dumps) creates objects by the hundred thousand.
Left on, the collector keeps running collections that re-scan everything built so far, more of it
the bigger the heap: loading a 10k-pod snapshot took 2.3x the CPU with it on.
"""

from __future__ import annotations

import gc
import threading
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
    Terraform modules keep in reference cycles. So all of it goes straight to the oldest generation
    (``gc.freeze()`` then ``gc.unfreeze()``, both O(1)) and the cyclic garbage waits for the next full
    collection. Where a run froze its heap (with a cluster, once the inventory is built:
    ``RunContext.inventory``, which tells ``run_froze_heap``), unfreezing would give that back too:
    what the pause built is frozen with it instead (``gc.freeze()``), until the run gives its heap back
    (``RunContext.release_heap``). At 10k pods the research, the offline challengers, the synthesis
    and the rendering run paused; left young, what each built was re-scanned by the next young
    collections (54-85 ms after the research) for a few dozen objects. Objects frozen by anything else
    are left as they are, and the collector with them. docs/performance.md has the figures.
    Nesting is safe: an inner pause leaves the collector as the outer one found it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            _resume()


def _resume() -> None:
    if _frozen_by_run:  # a run froze its heap (a cluster's, RunContext): what the pause built joins it
        gc.freeze()
    elif gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
    gc.enable()  # objects frozen by someone else: the collector is left as it was found


_frozen_by_run = False


def run_froze_heap(frozen: bool) -> None:
    """Called by the run that froze the heap (``RunContext.inventory``) and gave it back
    (``RunContext.release_heap``): only then does a pause freeze what it built with it."""
    global _frozen_by_run
    _frozen_by_run = frozen


_together = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def gc_paused_together() -> Iterator[None]:
    """``gc_paused`` for work that runs in several threads at once: the collector is paused when the
    first thread enters and resumed (as ``gc_paused`` resumes it) when the last one leaves, whatever
    the order they leave in (``gc_paused`` in each would resume it when the first one left).

    The offline research's checks (five branches side by side) allocate hundreds of thousands of
    containers that live as long as the run (detections, their redacted data, evidence). With the
    cluster's heap frozen, every full collection re-scanned all of them that the branches had made
    so far: three full collections at 10k pods, of about 0.3 s of collector time in the research
    (docs/performance.md)."""
    global _holders, _was_enabled
    with _together:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _together:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                _resume()
