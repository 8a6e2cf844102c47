"""Shared test fixtures. Every test runs offline; the bundled estates are the fixtures of record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
HOMELAB = EXAMPLES / "homelab"
GITOPS = EXAMPLES / "gitops-base"
HOMELAB_SNAPSHOT = HOMELAB / "cluster"


def load_ground_truth(estate: Path) -> dict[str, Any]:
    with (estate / "ground-truth.yaml").open() as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return data


@pytest.fixture(scope="session")
def homelab_truth() -> dict[str, Any]:
    return load_ground_truth(HOMELAB)


@pytest.fixture(scope="session")
def gitops_truth() -> dict[str, Any]:
    return load_ground_truth(GITOPS)
