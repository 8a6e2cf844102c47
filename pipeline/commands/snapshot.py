"""``infra-audit snapshot -o DIR``: dump a cluster, read-only, into a directory that audits can replay."""

from __future__ import annotations

import argparse
from pathlib import Path

from domain.errors import SettingsError
from pipeline.commands.common import add_kube_timeout_flag


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "snapshot", help="write a read-only snapshot of a cluster (or of another snapshot) to a directory"
    )
    parser.add_argument("-o", "--out", required=True, help="directory to create (must not exist or be empty)")
    parser.add_argument("--context", help="kubeconfig context (like kubectl --context)")
    parser.add_argument(
        "--kubeconfig", help="kubeconfig path(s); defaults to $KUBECONFIG, then ~/.kube/config"
    )
    add_kube_timeout_flag(parser)
    parser.add_argument("--from", dest="source", metavar="DIR", help="copy from a snapshot directory instead")
    parser.set_defaults(func=run)


def _check_not_its_own_source(out: str, source: str | None) -> None:
    """A snapshot is written beside its target and swapped in: onto (or around) its source, it would
    read what it is replacing, and the swap would delete the source."""
    if source is None:
        return
    target, origin = Path(out).expanduser().resolve(), Path(source).expanduser().resolve()
    if target == origin or target.is_relative_to(origin) or origin.is_relative_to(target):
        raise SettingsError(
            f"-o {out!r} is the --from snapshot {source!r}, or inside it or around it: "
            "write the copy to another directory"
        )


def run(args: argparse.Namespace) -> int:
    from pipeline.cluster import open_cluster
    from pipeline.console import make_console
    from pipeline.read_progress import ReadProgress
    from pipeline.settings import RunSettings
    from tools.kube.snapshot_writer import write_snapshot

    _check_not_its_own_source(args.out, args.source)
    settings = RunSettings.from_env(
        args.env,
        estate=Path("."),
        cluster=args.source or "live",
        context=args.context,
        kubeconfig=args.kubeconfig,
        kube_timeout=args.kube_timeout,
    )
    with ReadProgress() as reads:
        backend = open_cluster(settings, reads)
        assert backend is not None
        summary = write_snapshot(backend, Path(args.out))
    make_console().print(f"snapshot written to {args.out}: {summary}")
    return 0
