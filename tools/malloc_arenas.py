"""Fewer C heaps for a run's threads: memory one thread frees can hold what the next one allocates.

glibc gives each thread that contends for the heap an arena of its own, up to 8 per core. The
research branches and the challengers run in worker threads, each building and dropping tens of
megabytes at 10k pods (listings, evidence, checkpoints), and memory freed in one arena is not reused
by a thread that allocates from another: a 10k-pod audit peaked at 1,013 MiB with the default and 823 MiB
with two arenas, at the same CPU time (docs/performance.md). Python's own small objects are not
affected (pymalloc has one heap); what is are the blocks over 512 bytes: strings, the tables of
dicts and lists. Elsewhere (musl, macOS, no ``mallopt``) nothing changes.
"""

from __future__ import annotations

import ctypes
import sys

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas for threads started from now on; whether it took (glibc only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own symbols: its C library's
    except (OSError, AttributeError):  # a C library without mallopt
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, arenas))
