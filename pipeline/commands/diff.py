"""``infra-audit diff OLD.json NEW.json``: what is new, fixed, changed and unchanged between two audits."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.commands.common import severity_arg

FORMATS = ("md", "json", "sarif")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "diff", help="compare two audit.json files by stable finding key: new, fixed, changed, unchanged"
    )
    parser.add_argument("old", help="the older audit.json (the baseline)")
    parser.add_argument("new", help="the newer audit.json")
    parser.add_argument("--format", choices=FORMATS, default="md", help="output on stdout (default: md)")
    parser.add_argument(
        "--fail-on",
        type=severity_arg,
        metavar="SEVERITY",
        help="exit 1 when a new finding (or a finding with new subjects) is at or above SEVERITY",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.render.diff import (
        diff_of,
        gating,
        render_diff_json,
        render_diff_markdown,
        render_diff_sarif,
    )
    from pipeline.render.json_out import load_report

    old = load_report(Path(args.old))
    new = load_report(Path(args.new))
    diff = diff_of(old, new)
    if args.format == "json":
        text = render_diff_json(diff)
    elif args.format == "sarif":
        text = render_diff_sarif(diff, new)
    else:
        text = render_diff_markdown(diff)
    sys.stdout.write(text)
    blocked = gating(diff, args.fail_on)
    if blocked:
        keys = ", ".join(c.key for c in blocked)
        print(
            f"infra-audit: gate --fail-on {args.fail_on}: {len(blocked)} new finding(s): {keys}",
            file=sys.stderr,
        )
    return 1 if blocked else 0
