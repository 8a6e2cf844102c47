"""``helm template`` and ``helm dependency build`` served by infra-audit's Helm engine, offline.

The appendix's commands for Helm-rendered objects run ``helm template`` (through the reader's script
``tools/checks/reproduce_scripts/helm_releases.py``, which finds the releases itself). A reader pastes
them with Helm on their PATH. The numbers challenger runs them in the sandbox, where there is no helm
binary and no network: there, the script's ``helm`` is this module (``REPRODUCE_HELM``), which renders
with the same engine the audit used (helm-python-sdk, Helm's Go SDK) and takes charts from the chart
cache only. It implements the part of Helm's command line the script uses, nothing more:

    helm template NAME CHART [--version V] [--repo URL] [--namespace NS] [-f FILE]... [--set K=V]...
        [--set-string K=V]...
    helm dependency build DIR

``CHART`` is a chart directory, ``oci://HOST/PATH/NAME`` or, with ``--repo``, a chart name; a chart
not in the cache fails (exit 1) as ``helm template`` fails without network. Values files are merged
in order as Helm merges them (maps key by key, the later file wins, a ``null`` kept for the engine's
coalescing to remove the chart's default), then each ``--set``. Output: each rendered template as
``---`` / ``# Source: PATH`` / its text, in path order, as ``helm template`` prints them.

    python -m tools.helm.template_cli --chart-cache DIR template ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from domain.errors import ChartError, HelmEngineError
from tools.helm import engine
from tools.helm.cache import ChartCache
from tools.helm.values import set_path, typed


class _Refused(Exception):
    """A chart or file that cannot be used: the message is the one line printed."""


def merge_values(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Helm's merging of values files (``mergeMaps``): maps merge key by key, anything else is
    replaced by the later file; ``null`` stays, for the engine to remove the chart's default."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_values(out[key], value)
        else:
            out[key] = value
    return out


def _values(files: list[str], sets: list[str], strings: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for file in files:
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise _Refused(f"values file {file} cannot be read ({type(exc).__name__})") from None
        if data is not None and not isinstance(data, dict):
            raise _Refused(f"values file {file} is not a mapping")
        values = merge_values(values, data or {})
    for item, as_string in [(s, False) for s in sets] + [(s, True) for s in strings]:
        for pair in item.split(","):
            key, sep, value = pair.partition("=")
            if not sep or not set_path(values, key, value if as_string else typed(value)):
                raise _Refused(f"--set {key} is not supported here (list indexes are not)")
    return values


def _cached(cache: ChartCache | None, repository: str, name: str, version: str | None) -> bytes:
    label = f"{repository} {name} {version or '(newest)'}"
    if cache is None:
        raise _Refused(f"chart {label}: no chart cache (offline, nothing is fetched)")
    ref = cache.resolve(repository, name, version)
    data = cache.get(ref) if ref is not None else None
    if data is None:
        raise _Refused(f"chart {label} is not in the chart cache (offline, nothing is fetched)")
    return data


def _dependencies(chart_dir: Path, cache: ChartCache | None) -> dict[str, bytes]:
    """``charts/NAME-VERSION.tgz`` of each dependency not vendored in ``charts/``, from the cache."""
    meta = engine.parse_meta((chart_dir / "Chart.yaml").read_bytes())
    vendored = (
        {p.name for p in (chart_dir / "charts").glob("*")} if (chart_dir / "charts").is_dir() else set()
    )
    out: dict[str, bytes] = {}
    for dep in meta.dependencies:
        name, version = str(dep["name"]), str(dep.get("version") or "")
        if any(v.startswith(f"{name}-") or v == name for v in vendored):
            continue
        repository = str(dep.get("repository") or "")
        if not repository or repository.startswith("file://"):
            raise _Refused(f"dependency {name} of {chart_dir.name} is not vendored and has no repository")
        data = _cached(cache, repository, name, version or None)
        out[f"charts/{name}-{engine.read_meta(data).version}.tgz"] = data
    return out


def _archive(chart: str, version: str | None, repo: str | None, cache: ChartCache | None) -> bytes:
    local = Path(chart)
    if repo is None and not chart.startswith("oci://"):
        if not (local / "Chart.yaml").is_file():
            raise _Refused(f"{chart} is not a chart directory")
        return engine.archive_dir(local, _dependencies(local, cache))
    if repo is not None:
        return _cached(cache, repo, chart, version)
    repository, _, name = chart.rstrip("/").rpartition("/")
    return _cached(cache, repository, name, version)


def template(args: argparse.Namespace, cache: ChartCache | None) -> str:
    archive = _archive(args.chart, args.version, args.repo, cache)
    values = _values(args.values, args.set, args.set_string)
    rendered = engine.render(archive, values, name=args.name, namespace=args.namespace)
    return "".join(
        f"---\n# Source: {path}\n{text.strip()}\n"
        for path, text in sorted(rendered.manifests.items())
        if text.strip()
    )


def dependency_build(chart_dir: Path, cache: ChartCache | None) -> None:
    if not (chart_dir / "Chart.yaml").is_file():
        raise _Refused(f"{chart_dir} is not a chart directory")
    for rel, data in _dependencies(chart_dir, cache).items():
        target = chart_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="helm (infra-audit's Helm engine)")
    top.add_argument("--chart-cache", type=Path, default=None)
    verbs = top.add_subparsers(dest="verb", required=True)
    tpl = verbs.add_parser("template")
    tpl.add_argument("name")
    tpl.add_argument("chart")
    tpl.add_argument("--version", default=None)
    tpl.add_argument("--repo", default=None)
    tpl.add_argument("--namespace", "-n", default="default")
    tpl.add_argument("--values", "-f", action="append", default=[])
    tpl.add_argument("--set", action="append", default=[])
    tpl.add_argument("--set-string", action="append", default=[])
    dep = verbs.add_parser("dependency")
    dep.add_argument("action", choices=["build"])
    dep.add_argument("chart_dir", type=Path)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cache = ChartCache(args.chart_cache) if args.chart_cache is not None else None
    try:
        if args.verb == "template":
            sys.stdout.write(template(args, cache))
        else:
            dependency_build(args.chart_dir, cache)
    except (_Refused, HelmEngineError, ChartError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
