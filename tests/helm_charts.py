"""The fixture charts of tests/fixtures/charts, packaged with the Helm engine, and small estate writers."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "charts"
REPO_URL = "https://charts.example.test"


def package_charts(out: Path) -> dict[str, bytes]:
    """lib (a library chart) and app (the generic app chart, lib in its charts/), as helm package does."""
    from tools.helm import engine

    lib = engine.package(FIXTURES / "lib", out).read_bytes()
    app_dir = out / "src" / "app"
    shutil.copytree(FIXTURES / "app", app_dir)
    (app_dir / "charts").mkdir()
    (app_dir / "charts" / "lib-1.0.0.tgz").write_bytes(lib)
    return {"lib": lib, "app": engine.package(app_dir, out).read_bytes()}


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root
