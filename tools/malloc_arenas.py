"""Fewer C heaps for a run's threads: memory one thread frees can hold what the next one allocates.

glibc gives each thread that contends for the heap an arena of its own, up to 8 per core. The
research branches and the challengers run in worker threads, each building and dropping tens of
megabytes at 10k pods (listings, evidence, checkpoints), and memory freed in one arena is not reused
by a thread that allocates from another: a 10k-pod audit peaked at 1,013 MiB with the default and 823 MiB
with two arenas, at the same CPU time (docs/performance.md). Python's own small objects are not
affected (pymalloc has one heap); what is are the blocks over 512 bytes: strings, the tables of
dicts and lists. Elsewhere (musl, macOS, no ``mallopt``) nothing changes.

The same goes for big blocks. glibc maps a block over its mmap threshold on its own and unmaps it
when freed, but raises the threshold to the size of each such block freed (up to 32 MiB): after the
first JSON text of a type is freed, the next ones (a type's listing for the recount, the reports'
texts) come from the heap, whose freed middle is not given back. A fixed threshold keeps every block
over ``MMAP_THRESHOLD`` mapped: a 10k-pod audit peaked at 580 MiB against 629-660 (docs/performance.md).
"""

from __future__ import annotations

import ctypes
import sys

M_ARENA_MAX = -8  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
ARENAS = 2
MMAP_THRESHOLD = 256 * 1024  # far above a cluster object's bytes (a few KiB), below a type's text


def limit_arenas(arenas: int = ARENAS, mmap_threshold: int = MMAP_THRESHOLD) -> bool:
    """Cap glibc's malloc arenas for threads started from now on and fix its mmap threshold; whether
    both took (glibc only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: its C library's
    except (OSError, AttributeError):  # a C library without mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    capped = bool(mallopt(M_ARENA_MAX, arenas))
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and capped


def trim() -> bool:
    """Give the C heap's free pages back to the system (glibc's ``malloc_trim``): after a run lets go
    of many blocks at once (a snapshot's object texts), before it maps new big ones (the reports),
    which would otherwise come on top. Whether it gave any back (glibc only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        malloc_trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # a C library without malloc_trim
        return False
    malloc_trim.argtypes = [ctypes.c_size_t]
    malloc_trim.restype = ctypes.c_int
    return bool(malloc_trim(0))
