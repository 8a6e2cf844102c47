"""Where a run's charts come from: the cache directory, whether to fetch, and the fetch timeout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChartOptions:
    """``--chart-cache`` (None: no cache, only the estate's own chart directories), ``--fetch-charts``."""

    cache_dir: Path | None = None
    fetch: bool = False
    timeout: float = 30.0
