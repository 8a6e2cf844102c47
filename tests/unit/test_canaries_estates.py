"""The bundled estates plant canary secrets; none of them may leave a repo tool.

The canaries and where each is written are listed in the estate's ground truth, which lives outside
the estate (examples/ground-truth/), so the repo tools see every file of the estate and nothing else.
Every canary (and the base64 of each) is searched for, every text file is read in full, the cluster
snapshot included, and no canary may appear in any output, data or error. A plain search for the word
CANARY finds exactly the lines where the ground truth says a canary is written, each one redacted.
"""

from __future__ import annotations

import json
import re

import pytest
from estates import ESTATES, canary_forms, ground_truth

from domain.results import ToolResult, ToolStatus
from tools.repo import repo_count, repo_search
from tools.repo_files import repo_list, repo_read
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

CODE_REF = re.compile(r"\S+:\d+")


def leaked(result: ToolResult, secrets: list[str]) -> list[str]:
    shown = json.dumps({"output": result.output, "data": result.data, "error": result.error}, default=str)
    return [s for s in secrets if s in shown]


def read_whole(jail: Jail, path: str) -> list[ToolResult]:
    """Every line of a file, page by page, the way an agent would read on after a capped read."""
    results = [repo_read(jail, path, max_lines=2000)]
    while results[-1].truncated:
        results.append(repo_read(jail, path, start=results[-1].data["end"] + 1, max_lines=2000))
    return results


def listed_files(jail: Jail, path: str = ".") -> list[str]:
    listing = repo_list(jail, path, max_entries=5000)
    assert listing.status == ToolStatus.OK and not listing.truncated
    return [e["path"] for e in listing.data if e["type"] == "file"]


def planted(estate: str) -> tuple[set[str], set[str]]:
    """Where the ground truth says a plain canary is written: code lines (path:line) and snapshot files."""
    code: set[str] = set()
    snapshot: set[str] = set()
    for entry in ground_truth(estate)["canary_locations"]:
        if entry["marker"].startswith("CANARY-"):
            for where in entry["where"]:
                if CODE_REF.fullmatch(where):
                    code.add(where)
                else:  # "cluster/apps.v1.deployments.json (home/notifier env DATABASE_URL)"
                    snapshot.add(where.split(" ", 1)[0])
    return code, snapshot


@pytest.mark.parametrize("name", ESTATES)
def test_no_canary_leaves_the_repo_tools(name: str) -> None:
    jail = Jail(ESTATES[name])
    secrets = canary_forms(name)
    calls = [
        repo_search(jail, "CANARY", context=2, max_results=1000),
        repo_search(jail, "canary", ignore_case=True, max_results=1000),
        repo_count(jail, "CANARY"),
        *(repo_search(jail, secret, fixed=True, context=1) for secret in secrets),
        *(repo_search(jail, "CANARY", path=d, context=2, max_results=1000) for d in jail.snapshot_dirs),
    ]
    files = listed_files(jail) + [f for d in jail.snapshot_dirs for f in listed_files(jail, d)]
    for path in files:
        calls += read_whole(jail, path)
    problems = [(c.tool, c.args, found) for c in calls if (found := leaked(c, secrets))]
    assert problems == []
    assert calls[0].status == ToolStatus.OK and calls[0].value  # canaries are planted: not a vacuous test
    refused = [c for c in calls if c.tool == "repo.read" and c.status == ToolStatus.ERROR]
    assert all("binary" in (c.error or "") for c in refused)  # every text file was read in full


@pytest.mark.parametrize("name", ESTATES)
def test_a_plain_search_for_canary_finds_the_planted_lines_redacted(name: str) -> None:
    jail = Jail(ESTATES[name])
    code, snapshot = planted(name)
    found = repo_search(jail, "CANARY", max_results=1000)
    assert found.status == ToolStatus.OK
    assert {f"{hit['path']}:{hit['line']}" for hit in found.data} == code
    inside = [repo_search(jail, "CANARY", path=d, max_results=1000) for d in jail.snapshot_dirs]
    assert {hit["path"] for result in inside for hit in result.data} == snapshot
    for result in [found, *inside]:
        assert leaked(result, canary_forms(name)) == []
        assert [hit for hit in result.data if "CANARY" in hit["text"]] == []  # the matched text is redacted
