"""``--fetch-charts``: pull a chart missing from the cache, read-only, with a timeout.

HTTP repositories: a GET of ``REPO/index.yaml`` and a GET of the chart's archive (urllib; the version
is the exact one written, or the newest the index has that a range allows). OCI registries: the Helm
engine's pull (an exact version only; the manifest and blob GETs of the OCI distribution API, joined
with the timeout; plain HTTP only to a loopback registry, as the tests serve one). Nothing is ever
sent but a GET; a failure is a ``HelmEngineError(stage="fetch")`` with one line, and the release is
reported as not rendered.
"""

from __future__ import annotations

import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

from domain.errors import HelmEngineError
from tools.helm.cache import ChartCache, ChartRef, normal_repository
from tools.helm.engine import MAX_ARCHIVE_BYTES, read_meta
from tools.helm.versions import newest_matching


def fetch(repository: str, name: str, version: str | None, cache: ChartCache, timeout: float) -> ChartRef:
    repository = normal_repository(repository)
    if repository.startswith("oci://"):
        data, chosen = _oci(repository, name, version, timeout)
    elif repository.startswith(("http://", "https://")):
        data, chosen = _http(repository, name, version, timeout)
    else:
        raise HelmEngineError(
            f"cannot fetch from {repository!r}: not an http(s) or oci:// repository", stage="fetch"
        )
    meta = read_meta(data)
    if meta.name != name:
        raise HelmEngineError(f"{repository} served chart {meta.name!r} for {name!r}", stage="fetch")
    ref = ChartRef(repository, name, chosen)
    cache.put(ref, data)
    return ref


def _get(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, method="GET", headers={"User-Agent": "infra-audit"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data: bytes = response.read(MAX_ARCHIVE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise HelmEngineError(f"GET {url}: HTTP {exc.code}", stage="fetch") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HelmEngineError(f"GET {url}: {reason}", stage="fetch") from None
    if len(data) > MAX_ARCHIVE_BYTES:
        raise HelmEngineError(f"GET {url}: larger than {MAX_ARCHIVE_BYTES} bytes", stage="fetch")
    return data


def _http(repository: str, name: str, version: str | None, timeout: float) -> tuple[bytes, str]:
    index_url = f"{repository}/index.yaml"
    try:
        index = yaml.safe_load(_get(index_url, timeout))
    except yaml.YAMLError:
        raise HelmEngineError(f"{index_url} is not YAML", stage="fetch") from None
    entries = index.get("entries") if isinstance(index, dict) else None
    versions = [e for e in (entries or {}).get(name) or [] if isinstance(e, dict)]
    by_version = {str(e.get("version")): e for e in versions}
    chosen = version if version in by_version else newest_matching(list(by_version), version)
    if chosen is None:
        raise HelmEngineError(f"{index_url} has no {name} {version or ''}".rstrip(), stage="fetch")
    urls = by_version[chosen].get("urls") or []
    if not urls or not isinstance(urls[0], str):
        raise HelmEngineError(f"{index_url}: {name} {chosen} has no url", stage="fetch")
    url = urllib.parse.urljoin(repository + "/", urls[0])
    if not url.startswith(("http://", "https://")):
        raise HelmEngineError(f"{index_url}: {name} {chosen} is at a non-HTTP url", stage="fetch")
    return _get(url, timeout), chosen


def _oci(repository: str, name: str, version: str | None, timeout: float) -> tuple[bytes, str]:
    """The engine's pull (GETs of the manifest and two blobs, measured), in a worker thread joined with
    ``timeout``: the SDK's pull takes no deadline, so a pull that outlives it is abandoned (its thread
    finishes or fails on its own) and reported. Plain HTTP only to a loopback registry."""
    if not version:
        raise HelmEngineError(f"{repository}/{name}: an OCI pull needs an exact version", stage="fetch")
    from tools.helm.engine import engine_problem

    problem = engine_problem()
    if problem is not None:
        raise HelmEngineError(problem, stage="engine")
    import helm_python as helm

    host = urllib.parse.urlsplit(repository.replace("oci://", "http://", 1)).hostname or ""
    plain = host in ("127.0.0.1", "localhost", "::1")
    where = f"{repository}/{name}:{version}"
    with tempfile.TemporaryDirectory(prefix="infra-audit-pull-") as tmp:
        failure: list[str] = []

        def pull() -> None:
            try:
                helm.pull(f"{repository}/{name}", version=version, destination=tmp, plain_http=plain)
            except helm.HelmError as exc:
                failure.append(" ".join(str(exc).split())[:200])

        worker = threading.Thread(target=pull, name="infra-audit-oci-pull", daemon=True)
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise HelmEngineError(f"pull {where}: no answer within {timeout:g} s", stage="fetch")
        if failure:
            raise HelmEngineError(f"pull {where}: {failure[0]}", stage="fetch")
        archives = sorted(Path(tmp).glob("*.tgz"))
        if not archives:
            raise HelmEngineError(f"pull {where}: no archive", stage="fetch")
        return archives[0].read_bytes(), version
