"""Start-up: a command imports what it uses and nothing more (issue 13).

Each case runs the CLI in a fresh interpreter and lists the top-level packages it imported. ``--help``
builds every parser and nothing else: no pydantic models, no rich, no SDK. The commands that never
reach the graph or a model (``checks``, ``check``, ``inventory``, ``tool``) do not import LangGraph
(which pulls langsmith and langgraph_sdk in through ``langchain_core``) or the Anthropic SDK.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from estates import REPO

pytestmark = pytest.mark.e2e

PROBE = """
import json, sys
from pipeline.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""
GRAPH_AND_MODEL = {"langgraph", "langgraph_sdk", "langsmith", "langchain_core", "anthropic", "httpx"}
GRAPH_AND_MODEL |= {"boto3", "botocore", "google"}  # the bedrock and vertex extras: only when chosen
HEAVY = GRAPH_AND_MODEL | {
    "pydantic",
    "pydantic_core",
    "rich",
    "jinja2",
    "yaml",
    "tree_sitter",
    "kubernetes",
    "helm_python",
    "urllib3",
}


def imported(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_imports_no_sdk_no_graph_no_cluster_client() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import json, sys, pipeline.cli; print(json.dumps(sorted(sys.modules)))"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = set(json.loads(done.stdout))
    assert "pipeline.cli" in modules
    assert {m.split(".")[0] for m in modules} & HEAVY == set()


@pytest.mark.parametrize("argv", [("--help",), ("run", "--help"), ("check", "--help"), ("runs", "--help")])
def test_help_imports_no_model_no_rich_no_sdk(argv: tuple[str, ...]) -> None:
    packages = imported(*argv)
    assert "pipeline" in packages  # the probe did run the CLI
    assert packages & HEAVY == set()


@pytest.mark.parametrize(
    "argv",
    [
        ("checks",),
        ("check", "examples/homelab", "REL-SINGLE-REPLICA", "--cluster", "examples/homelab/cluster"),
        ("inventory", "examples/homelab", "--cluster", "examples/homelab/cluster", "--json"),
        ("tool", "examples/homelab", "--list"),
    ],
)
def test_commands_without_the_graph_do_not_import_it(argv: tuple[str, ...]) -> None:
    packages = imported(*argv)
    assert "pydantic" in packages  # the command did its work
    assert packages & GRAPH_AND_MODEL == set()


def test_an_offline_run_does_not_run_the_sdk_inits_the_graph_never_uses(tmp_path: Path) -> None:
    out = tmp_path / "out"
    packages = imported(
        "run", "examples/homelab", "--offline", "--out", str(out), "--state-dir", str(tmp_path)
    )
    assert (out / "audit.json").is_file()  # the run did run
    assert "langgraph" in packages and "langchain_core" in packages
    # langgraph_sdk's __init__ imports its HTTP and WebSocket clients; langsmith.types' its API models
    assert packages & {"httpx", "websockets", "anthropic", "boto3", "botocore", "google"} == set()
    # croniter runs `file` on the interpreter as it is imported; only a cluster's CronJobs need it
    assert "croniter" not in packages


def test_a_run_with_no_chart_rendered_does_not_load_the_helm_engine(tmp_path: Path) -> None:
    """The recount asks whether ``helm template`` can run only where a chart was rendered: loading the
    Helm engine starts Go's runtime (about 50 MiB of the large estate's 179 MiB peak) and 0.2 s. The
    home-lab with its snapshot renders none (its charts are not in a cache here); the chart estates,
    whose charts are rendered, are recounted through the rendering twins
    (``tests/e2e/test_chart_estates.py``)."""
    out = tmp_path / "out"
    packages = imported(
        "run", "examples/homelab", "--cluster", "examples/homelab/cluster", "--offline",
        "--out", str(out), "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    audit = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert audit["findings"] and any(e["tool"] == "reproduce" for e in audit["evidence"])  # recounted
    assert "helm_python" not in packages
