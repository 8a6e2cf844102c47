"""The layers run one way: domain <- tools <- agents <- pipeline, and no module grows past 450 lines.

Every import is read from the syntax tree, including imports inside functions and under
``TYPE_CHECKING``: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
OURS = ("domain", "tools", "agents", "pipeline", "prompts")
ALLOWED = {
    "domain": {"domain"},
    "tools": {"domain", "tools"},
    "agents": {"domain", "tools", "agents", "prompts"},
    "pipeline": set(OURS),
}
MAX_LINES = 450
READER_SCRIPTS = REPO / "tools" / "checks" / "reproduce_scripts"
"""The appendix's reader scripts: programs a person runs alone (a rendering twin reads ``REPRODUCE_HELM``
as Helm's own commands read theirs), never imported by infra-audit."""


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def _imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(top for name in names if (top := name.split(".")[0]) in OURS)
    return found


@pytest.mark.unit
@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(package: str) -> None:
    offending = {
        str(path.relative_to(REPO)): sorted(bad)
        for path in _modules(package)
        if (bad := _imported_packages(path) - ALLOWED[package])
    }
    assert offending == {}


@pytest.mark.unit
def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    """The rule above can fail: a lazy and a top-level import of a higher layer are both found."""
    probe = tmp_path / "probe.py"
    probe.write_text("from agents.llm.loop import run_agent\n\ndef f():\n    import pipeline.graph\n")
    assert _imported_packages(probe) - ALLOWED["tools"] == {"agents", "pipeline"}


@pytest.mark.unit
def test_no_module_is_over_the_size_limit() -> None:
    sizes = {
        str(path.relative_to(REPO)): n
        for package in ALLOWED
        for path in _modules(package)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert sizes == {}


def _reads_environment(path: Path) -> bool:
    """``os.environ`` or ``os.getenv``, or either imported from ``os``: read from the syntax tree."""
    names = {"environ", "getenv", "environb", "getenvb"}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in names and getattr(node.value, "id", None) == "os":
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "os" and {a.name for a in node.names} & names:
            return True
    return False


@pytest.mark.unit
def test_only_the_settings_module_reads_the_environment() -> None:
    """``pipeline/settings.Environment.read`` is the one read of ``os.environ``; commands get a snapshot."""
    readers = sorted(
        str(path.relative_to(REPO))
        for package in ALLOWED
        for path in _modules(package)
        if _reads_environment(path) and READER_SCRIPTS not in path.parents
    )
    assert readers == ["pipeline/settings.py"]


@pytest.mark.unit
def test_the_environment_checker_sees_every_spelling(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    for text in ("import os\nos.environ['X']\n", "import os\nos.getenv('X')\n", "from os import environ\n"):
        probe.write_text(text)
        assert _reads_environment(probe), text
    probe.write_text("environ = {}\nenviron.get('X')\n")
    assert not _reads_environment(probe)
