"""``infra-audit charts import FILE.tgz --as REF``: put a packaged chart in the chart cache, as if pulled."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("charts", help="the Helm chart cache: import a packaged chart")
    actions = parser.add_subparsers(dest="charts_action", metavar="ACTION", required=True)
    imp = actions.add_parser("import", help="put a packaged chart (.tgz) in the cache as REF")
    imp.add_argument("file", metavar="FILE.tgz", help="a packaged chart (helm package)")
    imp.add_argument(
        "--as",
        dest="ref",
        required=True,
        metavar="REF",
        help="the reference it renders releases of: oci://HOST/PATH/NAME:VERSION or 'REPO_URL NAME VERSION'",
    )
    imp.add_argument(
        "--chart-cache",
        metavar="DIR",
        help="the cache (default: $INFRA_AUDIT_CHART_CACHE, else ~/.cache/infra-audit/charts)",
    )
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from domain.errors import ChartError, HelmEngineError
    from tools.helm.cache import ChartCache, parse_ref
    from tools.helm.engine import MAX_ARCHIVE_BYTES, read_meta

    ref = parse_ref(args.ref)
    path = Path(args.file).expanduser()
    try:
        data = path.read_bytes() if path.stat().st_size <= MAX_ARCHIVE_BYTES else None
    except OSError as exc:
        raise ChartError(f"cannot read {args.file!r}: {exc.strerror or exc}") from None
    if data is None:
        raise ChartError(f"{args.file!r} is larger than {MAX_ARCHIVE_BYTES} bytes: not a chart archive")
    try:
        meta = read_meta(data)
    except HelmEngineError as exc:
        raise ChartError(f"{args.file!r}: {exc}") from None
    if meta.name != ref.name:
        raise ChartError(f"{args.file!r} holds chart {meta.name!r}, not {ref.name!r} of {args.ref!r}")
    if meta.version.removeprefix("v") != ref.version.removeprefix("v"):
        raise ChartError(f"{args.file!r} holds version {meta.version!r}, not {ref.version!r} of {args.ref!r}")
    cache = ChartCache(args.env.chart_cache_for(args.chart_cache))
    target = cache.put(ref, data)
    print(f"imported {meta.name} {meta.version} as {ref} into {target}")
    return 0
