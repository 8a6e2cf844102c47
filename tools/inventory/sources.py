"""Where a record came from: ``path:line`` in the estate, or ``cluster/namespace/kind/name`` live.
(What could not be read, and why, is ``domain/unread.py``.)

Shared by the code records (``models.py``) and the live-state records (``live_models.py``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain import unread
from tools.redact import redact_object, redact_text

EstateText = Annotated[str, AfterValidator(redact_text)]
"""Free text copied from the estate or a cluster (a URL, a raw expression, an event message, a parse
message): redacted when the record is built, so no record, and no inventory dump, can hold a secret."""
EstateMap = Annotated[dict[str, str], AfterValidator(redact_object)]
"""A map of estate text (``triggers = { password = "..." }``): secret-looking keys keep their names."""


class Record(BaseModel):
    """Base of every inventory record: strict (unknown fields refused)."""

    model_config = ConfigDict(extra="forbid")


class CodeRef(Record):
    kind: Literal["code"] = "code"
    path: str = Field(description="Path relative to the estate root, with forward slashes.")
    line: int = Field(description="1-based line where the object starts.")
    end_line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class LiveRef(Record):
    kind: Literal["live"] = "live"
    cluster: str
    namespace: str | None = None
    object_kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.cluster}/{self.namespace or '-'}/{self.object_kind}/{self.name}"


Source = Annotated[CodeRef | LiveRef, Field(discriminator="kind")]

Origin = Literal["terraform", "manifest", "helm", "live"]
"""How a record was defined: a Terraform resource, a YAML manifest, a Helm chart, or only seen live."""


class ParseIssue(unread.ParseIssue):
    """``domain.unread.ParseIssue`` as the parsers build it: the message redacted when built."""

    message: EstateText
