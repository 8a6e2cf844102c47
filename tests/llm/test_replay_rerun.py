"""``infra-audit rerun AUDIT.json --concern security --replay``: one concern again, the rest untouched.

The input is the audit.json of the homelab replay, and the cassette
(``cassettes/scripted-homelab-rerun-security.yaml``) was recorded from the audit.json of the
recorded run: that the re-run's requests match proves the replayed audit is the recorded one, down
to the prompts the synthesizer is shown.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from replays import CASSETTES, CliRun, run_cli

from domain.concerns import CONCERNS

pytestmark = pytest.mark.vcr

CASSETTE = CASSETTES / "scripted-homelab-rerun-security.yaml"
OTHERS = [c for c in CONCERNS if c != "security"]


@pytest.fixture(scope="module")
def rerun(homelab_replay: CliRun, tmp_path_factory: pytest.TempPathFactory) -> tuple[CliRun, CliRun]:
    work = tmp_path_factory.mktemp("rerun")
    audit = work / "before" / "audit.json"
    audit.parent.mkdir()
    shutil.copy(homelab_replay.out / "audit.json", audit)
    done = run_cli(["rerun", str(audit), "--concern", "security", "--replay", str(CASSETTE)], work / "after")
    assert done.code == 0, done.stderr[-3000:] + done.stdout[-3000:]
    return homelab_replay, done


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def test_other_concerns_are_byte_identical(rerun: tuple[CliRun, CliRun]) -> None:
    before, after = rerun
    for concern in OTHERS:
        assert canonical(after.data["concerns"][concern]) == canonical(before.data["concerns"][concern]), (
            concern
        )
    keep = [v for v in before.data["verdicts"] if not v["finding"].startswith("R5#")]
    assert [v for v in after.data["verdicts"] if not v["finding"].startswith("R5#")] == keep


def test_the_security_concern_was_researched_and_challenged_again(rerun: tuple[CliRun, CliRun]) -> None:
    before, after = rerun
    meta = after.report.meta
    assert meta.run_id == "scripted-homelab-rerun-security" and meta.mode == "llm"
    assert [u.agent for u in meta.usage] == [
        "challenge:intent",
        "challenge:numbers",
        "research:security",
        "synthesize",
    ]
    # the same scripted conversation gives the same findings; only the run id in its prompt changed
    assert canonical(after.data["concerns"]["security"]) == canonical(before.data["concerns"]["security"])
    stances = {v.challenger for v in after.report.verdicts if v.finding.startswith("R5#")}
    assert stances == {"recount", "numbers", "intent"}
    assert {f.id for f in after.report.findings} == {f.id for f in before.report.findings}
    assert not any("SCA-CPU-LIMIT" in f.checks for f in after.report.findings)  # carried-over drop stands


def test_the_rerun_writes_its_own_report(rerun: tuple[CliRun, CliRun]) -> None:
    _, after = rerun
    assert Path(after.out / "audit.md").is_file()
    assert "`scripted-homelab-rerun-security`" in after.markdown
