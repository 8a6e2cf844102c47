"""Shared test fixtures. Every test runs offline; the bundled estates are the fixtures of record."""

from __future__ import annotations

from typing import Any

import pytest
from estates import ground_truth


@pytest.fixture(scope="session")
def homelab_truth() -> dict[str, Any]:
    return ground_truth("homelab")


@pytest.fixture(scope="session")
def gitops_truth() -> dict[str, Any]:
    return ground_truth("gitops-base")
