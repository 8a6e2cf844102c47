"""The bundled estates plant canary secrets; none of them may leave a repo tool.

Every canary listed in an estate's ground truth is searched for (and the word CANARY), and every text
file of the estate is read in full, and no canary string may appear in any output, data or error.
``ground-truth.yaml`` itself is left out: it is the answer key and lists every canary in plain text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.repo import repo_count, repo_list, repo_read, repo_search
from tools.results import ToolResult, ToolStatus
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ANSWER_KEY = "ground-truth.yaml"
NOT_THE_KEY = "!" + ANSWER_KEY


def canaries(estate: Path) -> list[str]:
    truth = estate / ANSWER_KEY
    if not truth.is_file():
        pytest.skip(f"{estate.name} has no {ANSWER_KEY} yet")
    data: dict[str, Any] = yaml.safe_load(truth.read_text())
    found = [c for c in data.get("canaries") or [] if isinstance(c, str)]
    if not found:
        pytest.skip(f"{estate.name}/{ANSWER_KEY} lists no canaries")
    return found


def leaked(result: ToolResult, secrets: list[str]) -> list[str]:
    shown = json.dumps({"output": result.output, "data": result.data, "error": result.error}, default=str)
    return [s for s in secrets if s in shown]


def read_whole(jail: Jail, path: str) -> list[ToolResult]:
    """Every line of a file, page by page, the way an agent would read on after a capped read."""
    results = [repo_read(jail, path, max_lines=2000)]
    while results[-1].truncated:
        results.append(repo_read(jail, path, start=results[-1].data["end"] + 1, max_lines=2000))
    return results


@pytest.mark.parametrize("name", ["homelab", "gitops-base"])
def test_no_canary_leaves_the_repo_tools(name: str) -> None:
    estate = EXAMPLES / name
    secrets = canaries(estate)
    jail = Jail(estate)
    calls = [
        repo_search(jail, "CANARY", glob=NOT_THE_KEY, context=2, max_results=1000),
        repo_search(jail, "canary", glob=NOT_THE_KEY, ignore_case=True, max_results=1000),
        repo_count(jail, "CANARY", glob=NOT_THE_KEY),
        *(repo_search(jail, secret, glob=NOT_THE_KEY, fixed=True, context=1) for secret in secrets),
    ]
    listing = repo_list(jail, max_entries=5000)
    assert not listing.truncated
    calls.append(listing)
    files = [e["path"] for e in listing.data if e["type"] == "file" and e["path"] != ANSWER_KEY]
    for path in files:
        calls += read_whole(jail, path)
    problems = [(c.tool, c.args, found) for c in calls if (found := leaked(c, secrets))]
    assert problems == []
    assert calls[0].status == ToolStatus.OK and calls[0].value  # canaries are planted: not a vacuous test
    refused = [c for c in calls if c.tool == "repo.read" and c.status == ToolStatus.ERROR]
    assert all("binary" in (c.error or "") for c in refused)  # every text file was read in full


@pytest.mark.parametrize("name", ["homelab", "gitops-base"])
def test_only_the_answer_key_shows_canaries_in_plain_text(name: str) -> None:
    """A search without the exclusion finds plain canaries in ground-truth.yaml and nowhere else."""
    estate = EXAMPLES / name
    secrets = canaries(estate)
    hits = repo_search(Jail(estate), "CANARY", max_results=1000).data
    assert {hit["path"] for hit in hits if any(s in hit["text"] for s in secrets)} <= {ANSWER_KEY}
