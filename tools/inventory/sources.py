"""Where a record came from: ``path:line`` in the estate, or ``cluster/namespace/kind/name`` live;
and what could not be read (``ParseIssue``), with why.

Shared by the code records (``models.py``) and the live-state records (``live_models.py``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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


SkipReason = Literal[
    "syntax",
    "encoding",
    "too_large",
    "too_deep",
    "alias_bomb",
    "unreadable",
    "unsupported",
    "skipped_object",
    "note",
]
"""Why something was not read: it does not parse (``syntax``, a truncated file included), its text is
not UTF-8 (``encoding``), it is over a size cap, nested too deep, its YAML aliases expand past the
bound (``alias_bomb``), the OS refused it (``unreadable``), it is a format not parsed
(``unsupported``), an object inside a file that was read has no type or name (``skipped_object``);
``note`` is read, with a caveat. (A cluster resource type not read is an ``UnreadResource``.)"""


class ParseIssue(Record):
    """A file not read, or not read whole, and why. Files are reported and skipped."""

    path: str = Field(description="Shown path relative to the estate or snapshot root, or cluster:NAME/...")
    line: int | None = None
    message: EstateText
    reason: SkipReason = "syntax"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"
