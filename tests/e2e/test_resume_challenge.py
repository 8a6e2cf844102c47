"""A run killed while the challengers run: the resume finishes it from the checkpoint, the challengers
judging the research the checkpoint holds (a ``ChallengeTask`` does not carry it: ``RunContext.research``)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from clirun import killed
from estates import GITOPS, REPO
from langgraph.types import Send

import pipeline.nodes as nodes
from agents.offline.research import research_offline
from domain.concerns import CONCERNS
from pipeline.audit import resume_audit, run_audit
from pipeline.runs import RunStore
from pipeline.settings import RunSettings

pytestmark = pytest.mark.e2e

DATE = "2026-11-20"

# The child runs a real audit; the numbers challenger waits until the intent challenger's writes are
# in the checkpoint database (at most 30 s), then the process dies as if killed (exit 137).
KILLED_IN_CHALLENGE = textwrap.dedent(
    """
    import os, sqlite3, sys, time
    import pipeline.nodes as nodes
    from pipeline.cli import main

    estate, state_dir, out = sys.argv[1:]
    real = nodes._challenge

    def intent_saved():
        with sqlite3.connect(os.path.join(state_dir, "runs", "killed.sqlite")) as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM writes WHERE thread_id = 'killed' AND channel = 'verdicts'"
            ).fetchone()[0]

    def challenge(task, ctx):
        if task.stance != "numbers":
            return real(task, ctx)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and intent_saved() < 1:
            time.sleep(0.02)
        os._exit(137)

    nodes._challenge = challenge
    sys.exit(main(["run", estate, "--run-id", "killed", "--date", "2026-11-20",
                   "--state-dir", state_dir, "--out", out]))
    """
)


def test_a_run_killed_in_the_challenge_resumes_with_the_research_of_its_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_dir, out = tmp_path / "state", tmp_path / "out"
    killed(KILLED_IN_CHALLENGE, str(GITOPS), str(state_dir), str(out))
    assert not (out / "audit.json").exists()
    with RunStore(state_dir).checkpoints("killed") as saver:
        rows = saver.conn.execute("SELECT type, value FROM writes WHERE channel = '__pregel_tasks'")
        rows = [
            *rows.fetchall(),
            *saver.conn.execute("SELECT type, blob FROM blobs WHERE channel = '__pregel_tasks'"),
        ]
        # decoded through the saver: a row stored once by digest (ref:) reads back as its value
        sends = [s for t, v in rows if v is not None for s in _sends(saver.serde.loads_typed((t, v)))]
        written = saver.conn.execute("SELECT type, blob FROM blobs WHERE channel = 'results'").fetchall()
        results = [saver.serde.loads_typed((t, v)) for t, v in written]
    # the challengers' tasks carry no findings: the research is stored once, in the state
    assert {s.arg.stance for s in sends} == {"numbers", "intent"}
    assert not any("R1#1" in repr(s.arg) for s in sends)
    assert any("R1#1" in repr(r) for r in results)  # the finding is there, in the state's results

    researched: list[str] = []
    stances: list[str] = []
    real_challenge = nodes._challenge

    def counting_research(concern: str, ctx: object) -> object:
        researched.append(concern)
        return research_offline(concern, ctx)  # type: ignore[arg-type]

    def counting_challenge(task: nodes.ChallengeTask, ctx: nodes.RunContext) -> dict[str, object]:
        stances.append(task.stance)
        return real_challenge(task, ctx)

    monkeypatch.setattr(nodes, "research_offline", counting_research)
    monkeypatch.setattr(nodes, "_challenge", counting_challenge)
    state = resume_audit("killed", RunStore(state_dir))
    assert researched == [] and stances == ["numbers"]  # only the killed challenger runs again
    assert state.report is not None and sorted(state.report.concerns) == sorted(CONCERNS)

    clean = run_audit(
        RunSettings(estate=GITOPS, estate_label=str(GITOPS), date=DATE, workdir=REPO), run_id="killed"
    )
    assert clean.report is not None
    assert state.report.findings == clean.report.findings
    assert state.report.verdicts == clean.report.verdicts
    assert state.report.corrections == clean.report.corrections


def _sends(value: object) -> list[Any]:
    """The ``Send``s in a decoded ``__pregel_tasks`` value (one, or a list of them)."""
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, Send)]
