"""What the render phase records of each Helm release (tools/helm/render.py); re-exported by models."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.inventory.sources import CodeRef, EstateText, Record


class HelmRender(Record):
    """What became of one Helm release when the estate was rendered: its objects, or why not."""

    defined_by: Literal["terraform", "flux", "argocd", "kustomize"]
    name: str
    namespace: str
    chart: EstateText = Field(description="The chart: a directory of the estate, or 'REPO NAME VERSION'.")
    rendered: bool
    objects: int = 0
    reason: EstateText | None = Field(default=None, description="One line: why it was not rendered.")
    cause: Literal["chart_missing", "engine", "chart_error", "unresolved"] | None = None
    schema_skipped: bool = Field(default=False, description="The chart's values schema was not validated.")
    notes: list[EstateText] = Field(default_factory=list, description="Values not applied, and why.")
    source: CodeRef
