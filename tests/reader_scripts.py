"""The reader's scripts (``tools/checks/reproduce_scripts``) as modules, for tests that call their
functions: imported as ``python3 FILE`` runs them, with their directory first on the path, so that
their siblings (``k8s_objects``, ``kustomize_build``) import by name."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import ModuleType

from tools.checks.reproduce import SCRIPTS


def script_module(name: str) -> ModuleType:
    """``tools/checks/reproduce_scripts/NAME.py``, imported once per process."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(SCRIPTS))


def calls(run: Callable[[], object]) -> int:
    """The Python and C function calls ``run`` makes (``sys.setprofile``): the work, without a clock."""
    count = 0

    def counted(frame: object, event: str, arg: object) -> None:
        nonlocal count
        count += event in ("call", "c_call")

    sys.setprofile(counted)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count
