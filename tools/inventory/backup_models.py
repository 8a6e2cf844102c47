"""Backup schedules an estate declares (REL-NO-RESTORE-DRILL, REL-PVC-NO-BACKUP); re-exported by models."""

from __future__ import annotations

from pydantic import Field

from tools.inventory.sources import Record, Source


class BackupSchedule(Record):
    """A Velero ``Schedule`` (velero.io) in code: YAML, a Terraform manifest or a chart's render."""

    name: str | None
    namespace: str | None = None
    included_namespaces: list[str] = Field(
        default_factory=list, description="spec.template.includedNamespaces; empty: every namespace."
    )
    excluded_namespaces: list[str] = Field(default_factory=list)
    source: Source
