"""The ``infra-audit`` command line: argument parsing and the one place errors become exit codes.

Each sub-command lives in ``pipeline/commands/<name>.py`` with a ``register(subparsers)`` function
that adds its parser and sets ``func``. A ``UserError`` prints one line and exits 2; a
``SafetyError`` prints one line and exits 3; nothing a user can cause shows a traceback. No command
prints the help on stderr and exits 2 (a usage error, as argparse exits); ``--help`` prints it on
stdout and exits 0; ``--version`` prints ``infra-audit X.Y.Z``.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import sys
from collections.abc import Sequence

from domain.errors import InfraAuditError
from pipeline.commands import charts, checks, diff, hook, inventory, rerun, resume, run, runs, snapshot, tool

COMMANDS = (run, resume, rerun, diff, hook, runs, checks, inventory, charts, snapshot, tool)


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked: nothing heavy at start)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object, **kwargs: object) -> None:
        from agents.offline.synthesize import tool_version

        print(f"infra-audit {tool_version()}")
        parser.exit(0)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Usage errors: one line and exit 2, like every other user error."""
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="infra-audit",
        description="Audit an infrastructure estate (Terraform/Terragrunt, Kubernetes, Helm, Flux, Argo CD "
        "and clusters) with evidence, read-only.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # no command: the usage and the commands, on stderr, exit 2 like any other usage error
        parser.print_help(sys.stderr)
        return 2
    # At exit the interpreter runs a last full collection over everything still alive (after an
    # audit: the inventory, the evidence, the reports), all of which the process is about to give back.
    # Freezing the heap first lets that collection skip it: about 0.1 s on a large estate
    # (docs/performance.md). Reports and checkpoints are written and committed before, so no
    # finalizer is needed. Registered once, however often main() runs in one process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
        if getattr(args, "graph", False):  # a command that runs the graph (run, resume, rerun)
            from tools.malloc_arenas import limit_arenas

            limit_arenas()  # before any thread starts, the graph's or a child's reader (malloc_arenas.py)
        early = getattr(args, "early", None)
        if early is not None:  # work a command starts before its imports (run: its children, early)
            early(args)
        from pipeline import lazy_packages, logs  # after parsing: --help needs neither
        from pipeline.settings import Environment  # after parsing: --help needs no settings model

        if getattr(args, "graph", False):
            lazy_packages.defer()  # two SDK __init__ files LangGraph imports through, never used here
        logs.setup()
        args.env = Environment.read()  # the one read of the process environment (pipeline/settings.py)
        return int(args.func(args) or 0)
    except InfraAuditError as exc:
        print(f"infra-audit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("infra-audit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
