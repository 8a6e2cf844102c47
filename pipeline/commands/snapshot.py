"""``infra-audit snapshot -o DIR``: dump a cluster, read-only, into a directory that audits can replay."""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.console import make_console
from pipeline.settings import RunSettings


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "snapshot", help="write a read-only snapshot of a cluster (or of another snapshot) to a directory"
    )
    parser.add_argument("-o", "--out", required=True, help="directory to create (must not exist or be empty)")
    parser.add_argument("--context", help="kubeconfig context (like kubectl --context)")
    parser.add_argument(
        "--kubeconfig", help="kubeconfig path(s); defaults to $KUBECONFIG, then ~/.kube/config"
    )
    parser.add_argument("--from", dest="source", metavar="DIR", help="copy from a snapshot directory instead")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.cluster import open_cluster
    from tools.kube.snapshot_writer import write_snapshot

    settings = RunSettings.from_env(
        estate=Path("."), cluster=args.source or "live", context=args.context, kubeconfig=args.kubeconfig
    )
    backend = open_cluster(settings)
    assert backend is not None
    summary = write_snapshot(backend, Path(args.out))
    make_console().print(f"snapshot written to {args.out}: {summary}")
    return 0
