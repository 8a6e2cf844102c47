"""Where a record came from: ``path:line`` in the estate, or ``cluster/namespace/kind/name`` live.
(What could not be read, and why, is ``domain/unread.py``.)

Shared by the code records (``models.py``) and the live-state records (``live_models.py``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from domain import unread
from tools.redact import redact_object, redact_text

EstateText = Annotated[str, AfterValidator(redact_text)]
"""Free text copied from the estate or a cluster (a URL, a raw expression, an event message, a parse
message): redacted when the record is built, so no record, and no inventory dump, can hold a secret."""
EstateMap = Annotated[dict[str, str], AfterValidator(redact_object)]
"""A map of estate text (``triggers = { password = "..." }``): secret-looking keys keep their names."""


class Record(BaseModel):
    """Base of every inventory record: strict (unknown fields refused).

    Every pydantic model instance carries the set of the field names it was given, a Python set of
    216 bytes (728 once it holds five names). A 10k-pod cluster's live records are about 154,000
    models, and their sets took 92 MiB, more than the records' own fields (issue 13); the sets of one
    class are nearly all alike. So a record, once validated, takes the one set of its content that
    ``_SHARED`` holds (compared first with the set its class last took: a comparison in C, nothing
    made). Pydantic reads the set for ``model_fields_set``, ``exclude_unset`` and ``model_copy`` (which
    copies it first, so the shared sets stay mutable: it updates the copy in place), and adds a name to
    it on attribute assignment: a record assigned to (a Helm render's summary gets its reason so)
    first takes a copy of its own, so a shared set never changes."""

    model_config = ConfigDict(extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        own = self.__pydantic_fields_set__
        kind = type(self)
        last = _LAST.get(kind)
        if last is None or last != own:
            _LAST[kind] = last = _SHARED.setdefault(frozenset(own), own)
            _SHARED_IDS.add(id(last))
        if last is not own:
            object.__setattr__(self, "__pydantic_fields_set__", last)

    def __setstate__(self, state: dict[Any, Any]) -> None:
        """Unpickled (the records an early parse's child made, ``parse_early.py``): its set of field
        names is taken from ``_SHARED`` as a built record's is, so the copy on write below applies to it."""
        super().__setstate__(state)
        self.model_post_init(None)

    def __setattr__(self, name: str, value: Any) -> None:
        if id(self.__pydantic_fields_set__) in _SHARED_IDS:  # copy on write: the name goes to its own set
            object.__setattr__(self, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))
        super().__setattr__(name, value)


_SHARED: dict[frozenset[str], set[str]] = {}
"""One set of field names per distinct content, for every record made (a few dozen contents)."""
_SHARED_IDS: set[int] = set()
"""The ids of those sets (they live as long as the process)."""
_LAST: dict[type, set[str]] = {}
"""The shared set each record class took last."""


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
