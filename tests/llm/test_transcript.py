"""The per-run transcript beside the report: every tool call and every model call of a replayed run."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.vcr


def lines(run: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run.out / "transcript.jsonl").read_text().splitlines()]


def test_every_model_call_and_tool_call_is_in_the_transcript(homelab_replay: Any) -> None:
    records = lines(homelab_replay)
    model_calls = [r for r in records if r["kind"] == "model_call"]
    tool_calls = [r for r in records if r["kind"] == "tool_call"]
    report = homelab_replay.report
    # one line per model call, per agent: as many as the accountant counted in the report header
    for usage in report.meta.usage:
        mine = [c for c in model_calls if c["agent"] == usage.agent]
        assert [c["call"] for c in mine] == list(range(1, len(mine) + 1))
        assert sum(c["tool_calls"] for c in mine) == usage.tool_calls
        assert sum(c["output_tokens"] for c in mine) == usage.output_tokens
    assert {c["model"] for c in model_calls} == {report.meta.model}
    # every piece of evidence the report cites is there, the refused calls of the security researcher too
    ids = {t["id"] for t in tool_calls}
    assert {e.id for e in report.evidence} <= ids
    assert any(t["tool"] == "kubectl_delete" and t["status"] == "error" for t in tool_calls)


def test_the_transcript_is_ordered_and_holds_no_secret(homelab_replay: Any) -> None:
    text = (homelab_replay.out / "transcript.jsonl").read_text()
    records = lines(homelab_replay)
    tool_ids = [r["id"] for r in records if r["kind"] == "tool_call"]
    assert tool_ids == sorted(tool_ids)
    assert "CANARY" not in text and "Bearer" not in text
