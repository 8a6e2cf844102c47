"""A workload's parts (containers, their resources and security context, volumes); re-exported by models.

Lines of a code workload's fields are in its source's file (``lines``, ``image_line``); a field a
Kustomize patch or transformer set in another file (an overlay's patch file, its ``images:``) keeps
that file's ``path:line`` in ``refs``/``image_ref`` instead, so a finding cites the line to change.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.inventory.sources import CodeRef, Record, Source

ProbeKind = Literal["readiness", "liveness", "startup"]


class Resources(Record):
    cpu_request: str | None = None
    memory_request: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None


class SecurityContext(Record):
    privileged: bool | None = None
    allow_privilege_escalation: bool | None = None
    run_as_non_root: bool | None = None
    run_as_user: int | None = None
    read_only_root_filesystem: bool | None = None
    capabilities_add: list[str] = Field(default_factory=list)
    capabilities_drop: list[str] = Field(default_factory=list)
    lines: dict[str, int] = Field(
        default_factory=dict,
        description="Code only: the line of each field set, by field name (privileged, capabilities_add...).",
    )
    refs: dict[str, CodeRef] = Field(
        default_factory=dict,
        description="Built by Kustomize: fields a patch or transformer set in another file, at its line.",
    )


class Container(Record):
    name: str
    image: str | None = Field(description="Image as written; Terraform interpolations kept raw.")
    image_resolved: str | None = Field(
        default=None, description="Image with variables substituted, when every part resolved."
    )
    init: bool = False
    probes: list[ProbeKind] = Field(default_factory=list)
    resources: Resources = Field(default_factory=Resources)
    security: SecurityContext = Field(default_factory=SecurityContext)
    pre_stop: bool = False
    ports: list[int] = Field(default_factory=list)
    source: Source
    image_line: int | None = Field(default=None, description="Line of the image attribute, for code.")
    image_ref: CodeRef | None = Field(
        default=None, description="Built: the image set in another file (a patch, an images: entry)."
    )
    release: CodeRef | None = Field(
        default=None,
        description="Rendered by a Helm release (its path:line); source is then the values line that set "
        "the image, when a values file or inline values did, else the release.",
    )
    probes_source: CodeRef | None = Field(
        default=None, description="Rendered: the values line of this container's probes block, if one set it."
    )


class Volume(Record):
    name: str
    type: Literal["pvc", "host_path", "empty_dir", "config_map", "secret", "nfs", "other"]
    claim_name: str | None = None
    host_path: str | None = None
