"""The per-run transcript beside the report: every tool call and every model call, one JSON per line.

Tool calls come from the run's ledger (and the report's evidence, for concerns finished before a
resume), model calls from the accountant. Ordered so the same run writes the same file: tool calls
by evidence id, model calls by agent and call number. No secret is in it: tool outputs went through
the redactor, and model calls are logged by usage, not content (the content is in a cassette when
one is recorded).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from domain.evidence import Evidence
from domain.report import AuditReport
from pipeline.render.output import Renderer

TRANSCRIPT = "transcript.jsonl"


def render_transcript(
    report: AuditReport, ledger: Iterable[Evidence], model_calls: Iterable[Mapping[str, Any]]
) -> str:
    evidence = {e.id: e for e in report.evidence}
    evidence.update({e.id: e for e in ledger})
    lines = [
        {
            "kind": "tool_call",
            **e.model_dump(
                include={
                    "id",
                    "agent",
                    "tool",
                    "args",
                    "command",
                    "status",
                    "value",
                    "truncated",
                    "sha256",
                    "error",
                }
            ),
        }
        for e in sorted(evidence.values(), key=lambda e: e.id)
    ]
    calls = sorted(model_calls, key=lambda c: (str(c.get("agent")), int(c.get("call", 0))))
    lines += [{"kind": "model_call", **dict(c)} for c in calls]
    return "".join(json.dumps(line, sort_keys=True, default=str) + "\n" for line in lines)


RENDERER = Renderer(
    name="transcript",
    filename=TRANSCRIPT,
    render=lambda out: render_transcript(out.report, out.ledger, out.model_calls),
)
