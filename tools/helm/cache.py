"""The chart cache: packaged charts on disk, by the reference they were pulled (or imported) as.

A reference is ``oci://HOST/PATH/NAME:VERSION`` (an OCI registry) or ``REPO_URL NAME VERSION`` (an
HTTP chart repository). The cache keeps one ``.tgz`` per (repository, name, version) under
``DIR/<repository as a safe name>/<name>/<version>.tgz``, so a lookup is one ``stat`` and a version
range (a Flux ``semver`` or a ``Chart.yaml`` dependency ``1.x``) picks the newest cached version that
matches. Nothing here touches the network: ``fetch.py`` fills the cache when asked to.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from domain.errors import ChartError
from tools.helm.versions import newest_matching

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class ChartRef:
    """Where a chart comes from: a repository (``oci://host/path`` or an HTTP URL), a name, a version."""

    repository: str
    name: str
    version: str

    @property
    def is_oci(self) -> bool:
        return self.repository.startswith("oci://")

    def __str__(self) -> str:
        if self.is_oci:
            return f"{self.repository}/{self.name}:{self.version}"
        return f"{self.repository} {self.name} {self.version}"


def normal_repository(url: str) -> str:
    return url.strip().rstrip("/")


def parse_ref(text: str) -> ChartRef:
    """``oci://HOST/PATH/NAME:VERSION`` or ``REPO_URL NAME VERSION``; a ``ChartError`` otherwise."""
    words = text.split()
    if len(words) == 1 and words[0].startswith("oci://"):
        path, _, version = words[0].rpartition(":")
        repository, _, name = path.rpartition("/")
        if version and name and repository.startswith("oci://") and "/" not in version:
            return ChartRef(normal_repository(repository), name, version)
    elif len(words) == 3 and re.match(r"^(https?|oci)://", words[0]):
        return ChartRef(normal_repository(words[0]), words[1], words[2])
    raise ChartError(
        f"chart reference {text!r} is not oci://HOST/PATH/NAME:VERSION or 'REPO_URL NAME VERSION'"
    )


class ChartCache:
    """Packaged charts under one directory (which may not exist yet: then it is empty)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, repository: str, name: str) -> Path:
        repo = _UNSAFE.sub("_", normal_repository(repository))
        return self.root / repo / _UNSAFE.sub("_", name)

    def path(self, ref: ChartRef) -> Path:
        return self._dir(ref.repository, ref.name) / f"{_UNSAFE.sub('_', ref.version)}.tgz"

    def versions(self, repository: str, name: str) -> list[str]:
        try:
            entries = os.listdir(self._dir(repository, name))
        except OSError:
            return []
        return sorted(e.removesuffix(".tgz") for e in entries if e.endswith(".tgz"))

    def resolve(self, repository: str, name: str, version: str | None) -> ChartRef | None:
        """The cached chart for a version as written (exact, a range, or none: the newest), or None."""
        exact = ChartRef(normal_repository(repository), name, (version or "").removeprefix("v"))
        for candidate in (version, exact.version):
            if candidate and self.path(ChartRef(exact.repository, name, candidate)).is_file():
                return ChartRef(exact.repository, name, candidate)
        chosen = newest_matching(self.versions(repository, name), version)
        return ChartRef(exact.repository, name, chosen) if chosen is not None else None

    def get(self, ref: ChartRef) -> bytes | None:
        try:
            return self.path(ref).read_bytes()
        except OSError:
            return None

    def put(self, ref: ChartRef, data: bytes) -> Path:
        """Write atomically (a temporary file renamed into place)."""
        target = self.path(ref)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except OSError as exc:
            raise ChartError(
                f"cannot write the chart cache {str(self.root)!r}: {exc.strerror or exc}"
            ) from None
        return target
