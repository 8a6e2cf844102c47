"""``pipeline/lazy_packages.py``: two SDK ``__init__`` files run on first use, not when the graph imports.

Each case runs in a fresh interpreter (this one has imported LangGraph already) and prints what it
found as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from estates import REPO

pytestmark = pytest.mark.unit


def fresh(code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_graph_imports_without_the_sdk_clients_or_the_api_models() -> None:
    got = fresh(
        """
        import json, sys
        from pipeline import lazy_packages
        deferred = lazy_packages.defer()
        import pipeline.audit, pipeline.graph, pipeline.nodes
        heavy = ("httpx", "websockets", "langgraph_sdk.client", "langsmith.types.run",
                 "langsmith.types.dataset")
        print(json.dumps({"deferred": deferred, "loaded": [m for m in heavy if m in sys.modules],
                          "used": [m for m in ("langgraph_sdk.auth.types", "langsmith.types.run_select_field")
                                   if m in sys.modules]}))
        """
    )
    assert got == {
        "deferred": ["langgraph_sdk", "langsmith.types"],
        "loaded": [],
        "used": ["langgraph_sdk.auth.types", "langsmith.types.run_select_field"],  # the submodules alone
    }


def test_a_name_asked_of_a_deferred_package_runs_its_init_then() -> None:
    got = fresh(
        """
        import json, sys
        from pipeline import lazy_packages
        lazy_packages.defer()
        import langgraph.graph
        import langgraph_sdk
        from langsmith.types import Run
        client = langgraph_sdk.get_client
        print(json.dumps({"client": callable(client), "run": Run.__name__,
                          "loaded": [m for m in ("langgraph_sdk.client", "langsmith.types.run")
                                     if m in sys.modules],
                          "plain": type(langgraph_sdk).__name__, "version": langgraph_sdk.__version__}))
        """
    )
    assert got["client"] is True and got["run"] == "Run"
    assert got["loaded"] == ["langgraph_sdk.client", "langsmith.types.run"]
    assert got["plain"] == "module" and got["version"]


def test_a_package_already_imported_or_not_installed_is_left_alone() -> None:
    got = fresh(
        """
        import json, sys
        import langgraph_sdk
        from pipeline import lazy_packages
        before = sys.modules["langgraph_sdk"]
        done = lazy_packages.defer(("langgraph_sdk", "no_such_package_here", "langsmith.no_such_sub"))
        print(json.dumps({"done": done, "same": sys.modules["langgraph_sdk"] is before,
                          "absent": "no_such_package_here" in sys.modules}))
        """
    )
    assert got == {"done": [], "same": True, "absent": False}
