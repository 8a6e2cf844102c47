"""Detection functions. This is the one place that says which modules hold detections.

A detection is a function marked ``@detector(CHECK_ID)`` in one of ``MODULES``; ``detectors()``
collects them. Adding a check is a row in ``catalog.yaml`` and a marked function in one of these
modules (or a new module: one line in ``MODULE_NAMES``).
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from tools.checks.spec import Detector, check_id_of

MODULE_NAMES: tuple[str, ...] = (
    "reliability",
    "reliability_backup",
    "reliability_live",
    "declarative",
    "declarative_live",
    "declarative_docs",
    "maintenance",
    "maintenance_repo",
    "maintenance_docs",
    "scalability",
    "scalability_live",
    "security",
    "security_rbac",
    "security_repo",
    "security_cluster",
    "security_secrets",
    "cluster_health",
    "cluster_traffic",
    "cluster_hygiene",
    "security_defaults",
)
"""The detection modules, by name: a new module is one line here."""

MODULES: tuple[ModuleType, ...] = tuple(import_module(f"{__name__}.{name}") for name in MODULE_NAMES)


def detectors(modules: tuple[ModuleType, ...] = MODULES) -> dict[str, Detector]:
    """Every marked detection function of ``modules``, by check id; two functions for one id is an error."""
    found: dict[str, Detector] = {}
    for module in modules:
        for value in vars(module).values():
            check_id = check_id_of(value)
            if check_id is None or getattr(value, "__module__", None) != module.__name__:
                continue  # unmarked, or imported from another module (counted there)
            if check_id in found and found[check_id] is not value:
                raise ValueError(
                    f"two detectors for {check_id}: {found[check_id].__module__} and {module.__name__}"
                )
            found[check_id] = value
    return found
