"""Where SARIF points: the estate's place in its git repository, and its root configuration file.

Both are looked up once per synthesis (read-only: existence checks, no file is opened) and kept in
``RunMeta``, so a report rendered again later (``rerun``, ``diff``) points at the same places.
"""

from __future__ import annotations

from pathlib import Path

ROOT_CONFIGS = (
    ".infra-audit.yaml",
    "terragrunt.hcl",
    "root.hcl",
    "kustomization.yaml",
    "kustomization.yml",
    "Chart.yaml",
    "main.tf",
    "README.md",
    "readme.md",
)
"""In this order, the first regular file at the estate's root is its root configuration."""


def repo_path(estate: Path) -> str | None:
    """The estate relative to the nearest directory above it (or itself) holding ``.git``; '' at the
    root; None when it is in no git repository."""
    start = estate.resolve()
    for parent in (start, *start.parents):
        if (parent / ".git").exists():
            return start.relative_to(parent).as_posix().removeprefix(".")
    return None


def anchor(estate: Path) -> str | None:
    """The estate's root configuration file, or None when it has none of ``ROOT_CONFIGS``."""
    for name in ROOT_CONFIGS:
        candidate = estate / name
        if candidate.is_file() and not candidate.is_symlink():
            return name
    return None
