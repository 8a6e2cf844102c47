"""Records of Terraform's own constructs: escape hatches, lifecycle ignores, modules, providers,
backends, variables and resources (the workloads Terraform defines are in ``models.py``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from tools.inventory.sources import CodeRef, EstateMap, EstateText, Record


class Provisioner(Record):
    type: Literal["local-exec", "remote-exec", "file"]
    connection_host: EstateText | None = None
    line: int


class EscapeHatch(Record):
    """A ``null_resource`` or ``terraform_data``: imperative work hidden in a declarative tool."""

    resource_type: Literal["null_resource", "terraform_data"]
    address: str
    provisioners: list[Provisioner] = Field(default_factory=list)
    triggers: EstateMap = Field(default_factory=dict, description="Trigger name to raw expression.")
    timestamp_trigger: bool = False
    timestamp_line: int | None = Field(default=None, description="Line of the trigger calling timestamp().")
    source: CodeRef


class IgnoreChanges(Record):
    address: str = Field(description="Terraform address of the resource holding the lifecycle block.")
    paths: list[str] = Field(description="Attribute paths as written; ['all'] for ignore_changes = all.")
    marker: str | None = Field(
        default=None, description="A marker comment next to it, e.g. KYVERNO_LIFECYCLE_V1."
    )
    source: CodeRef


class TerraformModule(Record):
    name: str
    source_url: EstateText
    ref: EstateText | None = Field(default=None, description="?ref= of a git source.")
    version: str | None = None
    kind: Literal["local", "git", "registry", "other"]
    source: CodeRef
    source_line: int | None = Field(default=None, description="Line of the source attribute.")


class ProviderRequirement(Record):
    name: str
    provider_source: str | None = None
    constraint: str | None = None
    source: CodeRef


class Backend(Record):
    type: str
    defined_in: Literal["terraform", "terragrunt"]
    source: CodeRef


class TerraformVariable(Record):
    name: str
    default: EstateText | None = Field(
        default=None,
        description="The default, when it is a literal string/number; a fingerprint when the variable is "
        "sensitive or its name says password/secret/token/key.",
    )
    source: CodeRef


class TerraformResource(Record):
    """Any resource block, for counting and for cross-references (e.g. kubernetes_manifest kinds)."""

    type: str
    name: str
    manifest_kind: str | None = Field(default=None, description="For kubernetes_manifest: the object kind.")
    source: CodeRef
