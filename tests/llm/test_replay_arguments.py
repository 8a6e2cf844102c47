"""A cassette carries the arguments of the run it recorded, so ``infra-audit run --replay FILE`` alone
replays it; an argument given that contradicts the header is one line naming the flag, and a replay
that still cannot match is one line too, never a traceback per agent.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from estates import REPO
from replays import CASSETTES, GITOPS_ARGV, HOMELAB_ARGV, CliRun, load_cassette, run_cli
from scenarios.common import SCRIPTED_MODEL

from domain.concerns import CONCERNS
from pipeline.recorded_run import RecordedRun

pytestmark = pytest.mark.vcr

GITOPS = CASSETTES / "scripted-gitops-full.yaml"
HOMELAB = CASSETTES / "scripted-homelab-full.yaml"
RERUN = CASSETTES / "scripted-homelab-rerun-security.yaml"


def alone(argv: list[str], work: Path) -> CliRun:
    return run_cli([*argv, "--state-dir", str(work / "state")], work / "out")


def header_run(path: Path) -> RecordedRun:
    return RecordedRun.model_validate(load_cassette(path)["infra_audit"]["run"])


def test_every_cassette_header_carries_its_run_arguments() -> None:
    """The headers say what the replays of test_replay_homelab/gitops pass explicitly."""
    homelab, gitops, rerun = header_run(HOMELAB), header_run(GITOPS), header_run(RERUN)
    for recorded, argv in ((homelab, HOMELAB_ARGV), (gitops, GITOPS_ARGV)):
        given = dict(zip(argv[2::2], argv[3::2], strict=True))
        assert (recorded.command, recorded.estate, recorded.cluster) == (
            "run",
            argv[1],
            given.get("--cluster"),
        )
        assert (recorded.run_id, recorded.date) == (given["--run-id"], given["--date"])
        assert (recorded.model, recorded.concerns, recorded.stream) == (SCRIPTED_MODEL, CONCERNS, False)
    assert (rerun.command, rerun.run_id, rerun.concerns) == (
        "rerun",
        "scripted-homelab-rerun-security",
        ("security",),
    )


def test_replay_file_alone_gives_the_report_of_the_explicit_replay(
    gitops_replay: CliRun, tmp_path: Path
) -> None:
    done = alone(["run", "--replay", str(GITOPS)], tmp_path)
    assert done.code == 0, done.stderr[-2000:]
    assert done.stderr == ""
    assert json.dumps(done.data, sort_keys=True) == json.dumps(gitops_replay.data, sort_keys=True)


def test_arguments_that_agree_with_the_header_are_accepted(tmp_path: Path) -> None:
    done = alone(
        [
            "run",
            "./examples/gitops-base/",
            "--replay",
            str(GITOPS),
            "--run-id",
            "scripted-gitops",
            "--model",
            SCRIPTED_MODEL,
            "--concern",
            "security",
            "--concern",
            "reliability",
            "--concern",
            "declarative",
            "--concern",
            "maintenance",
            "--concern",
            "scalability",
        ],
        tmp_path,
    )
    assert done.code == 0, done.stderr[-2000:]
    assert done.report.meta.estate == "examples/gitops-base"  # the recorded label, which the prompts quote


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (
            ["--date", "2026-01-01"],
            "--date 2026-01-01 contradicts the cassette {c}, recorded with --date 2026-11-20",
        ),
        (
            ["--run-id", "other"],
            "--run-id other contradicts the cassette {c}, recorded with --run-id scripted-gitops",
        ),
        (
            ["--model", "claude-x"],
            "--model claude-x contradicts the cassette {c}, recorded with --model " + SCRIPTED_MODEL,
        ),
        (
            ["--concern", "security"],
            "--concern security contradicts the cassette {c}, recorded with --concern "
            "reliability,declarative,maintenance,scalability,security",
        ),
        (
            ["--cluster", "examples/homelab/cluster"],
            "--cluster examples/homelab/cluster contradicts the cassette {c}, recorded with --cluster (none)",
        ),
        (
            ["--max-tool-calls", "3"],
            "--max-tool-calls 3 contradicts the cassette {c}, recorded with --max-tool-calls 40",
        ),
        (["--stream"], "--stream (given) contradicts the cassette {c}, recorded with --stream (not given)"),
        (
            ["examples/homelab"],
            "PATH 'examples/homelab' contradicts the cassette {c}, recorded with PATH 'examples/gitops-base'",
        ),
    ],
)
def test_an_argument_that_contradicts_the_header_is_one_line(
    extra: list[str], said: str, tmp_path: Path
) -> None:
    done = alone(["run", "--replay", str(GITOPS), *extra], tmp_path)
    assert done.code == 2
    expected = said.format(c=GITOPS) + "; omit it to replay the recording"
    assert done.stderr == f"infra-audit: error: {expected}\n"
    assert not (done.out / "audit.md").exists()


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--record", "x.yaml"], "--record and --replay cannot be used together"),
        (["--offline"], "--offline and --replay cannot be used together"),
    ],
)
def test_replay_refuses_flags_that_cannot_go_with_it(flags: list[str], said: str, tmp_path: Path) -> None:
    done = alone(["run", "examples/gitops-base", "--replay", str(GITOPS), *flags], tmp_path)
    assert (
        done.code == 2
        and done.stderr.startswith(f"infra-audit: error: {said}")
        and done.stderr.count("\n") == 1
    )
    assert not (REPO / "x.yaml").exists() and not (done.out / "audit.md").exists()


def test_a_cassette_without_run_arguments_that_cannot_match_is_one_line(tmp_path: Path) -> None:
    """A cassette recorded before headers carried the arguments, replayed without them: every agent's
    first request misses; the run stops at the first with one line, no traceback, no report."""
    document = yaml.load(GITOPS.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    del document["infra_audit"]["run"]
    old = tmp_path / "old.yaml"
    old.write_text(yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False), encoding="utf-8")
    done = alone(["run", "examples/gitops-base", "--replay", str(old)], tmp_path)
    assert done.code == 4  # the run stopped: incomplete
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "replay: no recorded interaction matches this request" in lines[0]
    assert "Traceback" not in done.stdout + done.stderr and "failed:" not in done.stdout
    assert not (done.out / "audit.md").exists()


def test_no_path_and_no_header_is_one_line(tmp_path: Path) -> None:
    done = alone(["run"], tmp_path)
    assert (done.code, done.stderr) == (
        2,
        "infra-audit: error: the estate PATH is required "
        "(with --replay, a cassette whose header records it)\n",
    )


def test_a_cassette_of_the_other_command_is_refused(homelab_replay: CliRun, tmp_path: Path) -> None:
    done = alone(["run", "--replay", str(RERUN)], tmp_path)
    assert done.code == 2 and "records an 'infra-audit rerun'" in done.stderr
    rerun = run_cli(
        ["rerun", str(homelab_replay.out / "audit.json"), "--replay", str(HOMELAB)], tmp_path / "r"
    )
    assert rerun.code == 2 and "records an 'infra-audit run'" in rerun.stderr
    other = run_cli(
        ["rerun", str(homelab_replay.out / "audit.json"), "--concern", "reliability", "--replay", str(RERUN)],
        tmp_path / "o",
    )
    assert other.code == 2 and other.stderr == (
        f"infra-audit: error: --concern reliability contradicts the cassette {RERUN}, recorded with "
        "--concern security; omit it to replay the recording\n"
    )
