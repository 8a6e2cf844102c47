"""The Helm engine: Helm's own Go SDK (``helm_python``, through ctypes), loaded only when a chart is rendered.

The SDK is a native library of 81 MiB, with wheels for linux x86_64 only, so it is imported inside the
functions that need it; where it cannot be imported, ``engine_problem()`` says why and every release is
reported as not rendered (``HelmEngineError(stage="engine")``). Everything else here (reading a chart
archive's metadata, building an archive of a chart directory, stripping schemas) is plain Python.

Rendering is offline and without schema validation: the SDK's render validates values against each
chart's ``values.schema.json`` and fetches any ``$ref`` to a URL (measured: a schema with a remote
``$ref`` fails to render without network, and its render options accept no switch to skip it). So the
schemas are taken out of the archive before it is loaded (also from the subcharts in ``charts/``), and
the result says validation was skipped, as ``helm template --skip-schema-validation`` would.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from domain.errors import HelmEngineError

SCHEMA_FILE = "values.schema.json"
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
_SKIP_DIRS = frozenset({".git", "__pycache__"})


@dataclass(frozen=True)
class Rendered:
    manifests: dict[str, str]
    """Template path -> rendered text (YAML documents)."""
    schema_skipped: bool
    """The chart (or a subchart) carried a values schema, and it was not validated."""


@dataclass(frozen=True)
class ChartMeta:
    name: str
    version: str
    dependencies: list[dict[str, Any]]
    """``Chart.yaml`` dependencies (name, version, repository, alias, condition)."""


def engine_problem() -> str | None:
    """Why the Helm engine cannot be used here, or None when it can."""
    try:
        import helm_python  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"the Helm engine (helm-python-sdk) is not available on this platform: {type(exc).__name__}"
    return None


def render(archive: bytes, values: dict[str, Any], *, name: str, namespace: str) -> Rendered:
    """Render a packaged chart as an install of release ``name`` into ``namespace``, offline.

    ``values`` are the user's values (the chart's defaults are coalesced by the engine). Raises
    ``HelmEngineError`` (stage ``engine``, ``load`` or ``render``) with a one-line reason."""
    problem = engine_problem()
    if problem is not None:
        raise HelmEngineError(problem, stage="engine")
    import helm_python as helm

    stripped, skipped = strip_schemas(archive)
    try:
        chart = helm.Chart.load_archive(stripped)
    except helm.HelmError as exc:
        raise HelmEngineError(f"chart does not load: {_first_line(exc)}", stage="load") from None
    try:
        manifests = chart.render(values, name=name, namespace=namespace, revision=1, is_install=True)
    except helm.HelmError as exc:
        raise HelmEngineError(f"chart does not render: {_first_line(exc)}", stage="render") from None
    finally:
        chart.close()
    return Rendered(manifests=manifests, schema_skipped=skipped)


def package(chart_dir: Path, destination: Path) -> Path:
    """Package a chart directory with the engine (``helm package``); returns the archive's path."""
    problem = engine_problem()
    if problem is not None:
        raise HelmEngineError(problem, stage="engine")
    import helm_python as helm

    try:
        return Path(helm.package(chart_dir, destination=destination))
    except helm.HelmError as exc:
        raise HelmEngineError(f"chart does not package: {_first_line(exc)}", stage="load") from None


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300]


# ------------------------------------------------------------------------------ archives, in Python


def read_meta(archive: bytes) -> ChartMeta:
    """``Chart.yaml`` of a packaged chart (the top-level one). Raises ``HelmEngineError(stage="load")``."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for member in tar:
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml" and member.isfile():
                    handle = tar.extractfile(member)
                    return parse_meta(handle.read() if handle is not None else b"")
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise HelmEngineError(f"not a chart archive: {type(exc).__name__}", stage="load") from None
    raise HelmEngineError("not a chart archive: no Chart.yaml at its top", stage="load")


def parse_meta(text: bytes | str) -> ChartMeta:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise HelmEngineError("Chart.yaml is not valid YAML", stage="load") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise HelmEngineError("Chart.yaml has no name", stage="load")
    deps = [
        d for d in data.get("dependencies") or [] if isinstance(d, dict) and isinstance(d.get("name"), str)
    ]
    return ChartMeta(name=data["name"], version=str(data.get("version") or ""), dependencies=deps)


def archive_dir(chart_dir: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """A ``.tgz`` of a chart directory (as ``helm package`` lays it out: ``<name>/...``), in memory.

    ``extra`` adds files under the chart (``charts/lib-1.0.0.tgz``: a dependency from the cache).
    Symlinks are not followed and nothing outside the directory is read."""
    meta = parse_meta((chart_dir / "Chart.yaml").read_bytes())
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for directory, dirs, files in os.walk(chart_dir):
            dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
            for name in sorted(files):
                path = Path(directory) / name
                if path.is_symlink() or not path.is_file():
                    continue
                rel = path.relative_to(chart_dir).as_posix()
                _add(tar, f"{meta.name}/{rel}", path.read_bytes())
        for rel, data in sorted((extra or {}).items()):
            _add(tar, f"{meta.name}/{rel}", data)
    return out.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def strip_schemas(archive: bytes) -> tuple[bytes, bool]:
    """The archive without any ``values.schema.json`` (subchart archives in ``charts/`` too)."""
    skipped = False
    out = io.BytesIO()
    try:
        with (
            tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as src,
            tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as dst,
        ):
            for member in src:
                if not member.isfile():
                    continue
                handle = src.extractfile(member)
                data = handle.read() if handle is not None else b""
                if posixpath.basename(member.name) == SCHEMA_FILE:
                    skipped = True
                    continue
                if member.name.endswith(".tgz") and "/charts/" in member.name:
                    data, inner = strip_schemas(data)
                    skipped = skipped or inner
                _add(dst, member.name, data)
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise HelmEngineError(f"not a chart archive: {type(exc).__name__}", stage="load") from None
    return out.getvalue(), skipped
