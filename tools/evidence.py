"""The evidence ledger: every tool call becomes a piece of evidence with a stable id.

Ids are content-addressed (a hash of the tool name and its canonical arguments), so the same call
gets the same id in every run and a repeated call within a run is answered from the ledger instead
of being executed again (which is also how agent loops are detected). The sha256 is taken over the
full redacted output, before capping, so a recount can compare results even when the stored output
was truncated.

Recording is the redaction guard nothing can skip: whatever is recorded (a tool call through the
``Toolbox``, a check result, a re-executed piece of evidence) has its output, error and data passed
through ``tools.redact`` here, whether or not its producer redacted it already (redaction is
idempotent: a second pass changes nothing).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

from domain.evidence import Evidence
from domain.results import ToolResult, ToolStatus
from tools.pathnames import encodable
from tools.redact import redact_object, redact_text

DEFAULT_OUTPUT_CAP = 16_000


def _encodable(value: Any) -> Any:
    """Arguments with every string made encodable (a model can send a lone surrogate as JSON ``\\udcff``)."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    return value


def evidence_id(tool: str, args: dict[str, Any]) -> str:
    canonical = json.dumps({"tool": tool, "args": args}, sort_keys=True, separators=(",", ":"), default=str)
    return "E-" + hashlib.sha256(canonical.encode()).hexdigest()[:10]


def redacted(result: ToolResult) -> ToolResult:
    """The result with its output, error and data through the redactor."""
    return result.model_copy(
        update={
            "output": redact_text(result.output),
            "data": redact_object(result.data),
            "error": redact_text(result.error) if result.error else None,
        }
    )


class Ledger:
    """Thread-safe, append-only record of tool calls for one run."""

    def __init__(self, output_cap: int = DEFAULT_OUTPUT_CAP) -> None:
        self.output_cap = output_cap
        self._items: dict[str, Evidence] = {}
        self._data: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.repeats: dict[str, int] = {}

    def record(self, result: ToolResult, agent: str | None = None, eid: str | None = None) -> Evidence:
        """Record a result, redacted. ``eid`` defaults to the id of the result's own tool and arguments.

        Text is recorded redacted and as valid UTF-8 whatever the tool produced: a file name that is
        not UTF-8 reaches evidence as its shown form (``tools.pathnames``), and anything that slipped
        past that is escaped here rather than failing the hash, the report or the checkpoint.
        """
        result = redacted(result)
        full = encodable(result.output if result.status != ToolStatus.ERROR else (result.error or ""))
        capped = full[: self.output_cap]
        truncated = result.truncated or len(full) > self.output_cap
        ev = Evidence(
            id=eid or evidence_id(result.tool, result.args),
            tool=result.tool,
            args=_encodable(result.args),
            command=encodable(result.command),
            status=result.status,
            output=capped,
            truncated=truncated,
            sha256=hashlib.sha256(full.encode()).hexdigest(),
            value=result.value,
            measures=dict(result.measures),
            error=encodable(result.error) if result.error else result.error,
            agent=agent,
        )
        with self._lock:
            if ev.id not in self._items:
                self._items[ev.id] = ev
                self._data[ev.id] = result.data
            else:
                self._attribute(ev.id, agent)
            return self._items[ev.id]

    def _attribute(self, eid: str, agent: str | None) -> None:
        """Parallel agents share calls; which came first is timing, so the smallest agent name is kept
        and the ledger (and audit.json) is the same whatever the order. Call with the lock held."""
        known = self._items[eid]
        if agent is not None and (known.agent is None or agent < known.agent):
            self._items[eid] = known.model_copy(update={"agent": agent})

    def call(
        self, tool: str, args: dict[str, Any], run: Callable[[], ToolResult], agent: str | None = None
    ) -> tuple[Evidence, bool]:
        """Run a tool call through the ledger. Returns the evidence and whether it was a repeat."""
        eid = evidence_id(tool, args)
        with self._lock:
            known = self._items.get(eid)
            if known is not None:
                self.repeats[eid] = self.repeats.get(eid, 0) + 1
                self._attribute(eid, agent)
                return self._items[eid], True
        # Evidence is keyed and replayed by the call as the caller made it (registry name, validated
        # arguments), whatever names the tool uses internally.
        result = run().model_copy(update={"tool": tool, "args": args})
        return self.record(result, agent=agent, eid=eid), False

    def get(self, eid: str) -> Evidence | None:
        with self._lock:
            return self._items.get(eid)

    def data(self, eid: str) -> Any:
        """The structured (redacted, uncapped) payload of a piece of evidence, for programmatic readers."""
        with self._lock:
            return self._data.get(eid)

    def __contains__(self, eid: object) -> bool:
        with self._lock:
            return eid in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def items(self) -> list[Evidence]:
        """All evidence, sorted by id so output is deterministic whatever the call order."""
        with self._lock:
            return sorted(self._items.values(), key=lambda e: e.id)
