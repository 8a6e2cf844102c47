"""The ``infra-audit`` command line: argument parsing and the one place errors become exit codes.

Each sub-command lives in ``pipeline/commands/<name>.py`` with a ``register(subparsers)`` function
that adds its parser and sets ``func``. A ``UserError`` prints one line and exits 2; a
``SafetyError`` prints one line and exits 3; nothing a user can cause shows a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import sys
from collections.abc import Sequence

from domain.errors import InfraAuditError
from pipeline.commands import checks, inventory, rerun, resume, run, snapshot, tool

COMMANDS = (run, resume, rerun, checks, inventory, snapshot, tool)


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
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # At exit the interpreter runs a last full collection over everything still alive (after an
    # audit: the inventory, the evidence, the reports), all of which the process is about to give back.
    # Freezing the heap first lets that collection skip it: about 0.1 s on a large estate
    # (docs/performance.md). Reports and checkpoints are written and committed before, so no
    # finalizer is needed. Registered once, however often main() runs in one process.
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)
    try:
        return int(args.func(args) or 0)
    except InfraAuditError as exc:
        print(f"infra-audit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("infra-audit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
