"""Flags shared by the commands that read an estate and, optionally, a cluster."""

from __future__ import annotations

import argparse


def add_estate_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="root of the estate (the infrastructure repo) to audit")
    parser.add_argument(
        "--cluster",
        metavar="live|DIR",
        help="also read a cluster: 'live' for the kubeconfig context, or a snapshot directory",
    )
    parser.add_argument("--context", help="kubeconfig context to use with --cluster live (like kubectl)")
    parser.add_argument("--kubeconfig", help="kubeconfig path(s); defaults to $KUBECONFIG, then ~/.kube/config")
