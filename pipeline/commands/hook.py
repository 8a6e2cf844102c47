"""``infra-audit hook [FILE...]``: the pre-commit hook. Offline and fast: the deterministic checks over
the repository (no graph, no model, no run store, nothing written), reporting only what lies in the
files given (the changed ones), and failing at ``--fail-on`` (default: high). Helm releases render
from the chart cache a run would use (``--chart-cache``, else the environment's); nothing is fetched.

Inline suppressions apply as in a run; accepted risks and documented decisions (the intent
challenger's work) do not: the hook is a first line, the audit the judgement.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.commands.common import severity_arg


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("hook", help="pre-commit: offline checks, findings in the given files only")
    parser.add_argument("files", nargs="*", help="the changed files (paths relative to --root)")
    parser.add_argument("--root", default=".", help="the estate (the repository root; default: .)")
    parser.add_argument(
        "--fail-on",
        type=severity_arg,
        default="high",
        metavar="SEVERITY",
        help="exit 1 when a finding in the files is at or above SEVERITY (default: high)",
    )
    parser.add_argument(
        "--chart-cache",
        metavar="DIR",
        help="Helm charts to render releases with, as 'run' (default: $INFRA_AUDIT_CHART_CACHE, else "
        "~/.cache/infra-audit/charts); never fetched: the hook stays offline",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from agents.offline.suppressions import covers, scan, widen
    from domain.identity import at_or_above, code_file, severity_of
    from pipeline.context import RunContext
    from pipeline.render.sarif_rules import stable_title
    from pipeline.settings import RunSettings
    from tools.checks.runner import run_check
    from tools.checks.spec import load_catalog
    from tools.evidence import Ledger
    from tools.inventory.build import check_root

    check_root(args.root)
    root = Path(args.root).resolve()
    changed = {Path(f).as_posix().removeprefix("./") for f in args.files}
    from pipeline.cluster import open_cluster, settle_clock

    # the run's chart cache: a release's workloads exist only once it renders (never fetched here)
    cache = Path(args.chart_cache).expanduser() if args.chart_cache else None
    settings = RunSettings.from_env(args.env, estate=root, workdir=Path.cwd(), chart_cache=cache)
    backend = open_cluster(settings)
    settings = settle_clock(settings, backend)  # an estate alone: today (an inline suppression's expiry)
    assert settings.clock is not None
    ctx = RunContext(settings=settings, ledger=Ledger(settings.output_cap), backend=backend)
    inline, _ = scan(ctx, settings.clock.date())
    if inline:
        widen(inline, ctx.inventory().code, ctx.toolbox().jail.read_text)
    hits: list[tuple[str, int, str, str]] = []
    blocked = 0
    for spec in load_catalog():
        if spec.reads == "cluster":
            continue
        detection = run_check(spec, ctx.check_context(), agent="hook").detection
        if not detection.applicable or detection.count <= 0:
            continue
        severity = severity_of(spec.impact)
        for loc in detection.locations:
            file = code_file(loc.ref)
            if file is None or file not in changed:
                continue
            line = int(loc.ref.rsplit(":", 1)[1])
            if any(covers(s, spec.id, file, line) for s in inline):
                continue
            hits.append((file, line, f"{severity} {spec.id}", f"{loc.subject}: {stable_title(spec.title)}"))
            blocked += at_or_above(severity, args.fail_on)
    for file, line, what, text in sorted(hits):
        print(f"{file}:{line}: {what} {text}")
    if blocked:
        print(f"infra-audit: {blocked} finding(s) at or above {args.fail_on} in the changed files")
    return 1 if blocked else 0
