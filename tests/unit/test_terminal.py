"""A newcomer's terminal: piped output that can be pasted, --version, bare usage, concern codes, sizes."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from estates import GITOPS, HOMELAB, HOMELAB_SNAPSHOT, REPO
from rich.console import Console

from domain.concerns import CONCERNS, parse_concern
from pipeline.cli import build_parser, main
from pipeline.console import make_console
from pipeline.progress import Progress
from tools.sizes import format_size

pytestmark = pytest.mark.unit


def test_a_piped_console_does_not_wrap() -> None:
    console = make_console()  # pytest captures stdout: not a terminal
    assert not console.is_terminal
    with console.capture() as captured:
        console.print("$ " + "x" * 300, markup=False, highlight=False)
    assert captured.get() == "$ " + "x" * 300 + "\n"


def test_check_prints_its_command_on_one_line_that_can_be_pasted(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["check", str(HOMELAB), "--cluster", str(HOMELAB_SNAPSHOT), "REL-LIVE-CRONJOB-STALE"]
    assert main([*argv, "--date", "2026-11-20"]) == 0
    lines = capsys.readouterr().out.splitlines()
    command = [line for line in lines if line.startswith("  $ ")]
    cluster = f"--cluster {HOMELAB_SNAPSHOT}"
    assert command == [f"  $ infra-audit check {HOMELAB} {cluster} --date 2026-11-20 REL-LIVE-CRONJOB-STALE"]
    assert any(
        line.endswith("7.9 d before the audit clock 2026-11-20; schedule '30 2 * * *' runs every 24.0 h)")
        for line in lines
    )
    assert main(argv) == 0  # no --date: judged at the snapshot's capture time, and the command says so
    out = capsys.readouterr().out
    assert f"--cluster {HOMELAB_SNAPSHOT} --date 2026-11-20T09:00:00Z REL-LIVE-CRONJOB-STALE\n" in out
    assert "8.3 d before the audit clock 2026-11-20T09:00:00Z;" in out


def test_a_log_gets_milestones_not_a_line_per_recount_or_turn() -> None:
    out = io.StringIO()
    console = Console(file=out, width=100_000, soft_wrap=True)
    with Progress(console, ["security"]) as progress:
        progress("research", "security", "running checks")
        progress("research", "security", "turn 1: 1 calls, 1k tokens", detail=True)
        progress("challenge", "numbers", "R5#1", detail=True)
        progress("research", "security", "3 findings")
    assert out.getvalue().splitlines() == [
        "research R5 security: running checks",
        "research R5 security: 3 findings",
    ]


def test_piped_run_prints_whole_lines_and_one_per_milestone(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(GITOPS), "--out", str(tmp_path / "out"), "--run-id", "piped", "--date", "2026-11-20"]
    assert main([*argv, "--state-dir", str(tmp_path / "state")]) == 0
    lines = capfd.readouterr().out.splitlines()
    assert "run id: piped (resume with 'infra-audit resume piped')" in lines
    progress = sorted(
        line for line in lines if re.match(r"^(inventory|research|challenge|synthesize|render) ", line)
    )
    codes = {
        "reliability": "R1",
        "declarative": "R2",
        "maintenance": "R3",
        "scalability": "R4",
        "security": "R5",
    }
    started = [f"research {codes[c]} {c}: running checks" for c in CONCERNS]
    assert [line for line in progress if line.endswith("running checks")] == sorted(started)
    assert not [line for line in progress if re.search(r": R\d#\d+$", line)]  # no line per recount
    assert (
        len(progress) == 2 + 2 * len(CONCERNS) + 4 + 2 + 1
    )  # inventory, research, challengers, synth, render


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert re.fullmatch(r"infra-audit \d+\.\d+\.\d+\S*\n", capsys.readouterr().out)


def test_no_command_prints_the_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("usage: infra-audit ")
    for command in ("run", "resume", "rerun", "checks", "check", "inventory", "snapshot", "tool"):
        assert re.search(rf"^    {command}\b", captured.err, re.M), command


@pytest.mark.parametrize(
    ("text", "concern"),
    [("R1", "reliability"), ("r5", "security"), ("Security", "security"), (" maintenance ", "maintenance")],
)
def test_concerns_by_code_or_name_any_case(text: str, concern: str) -> None:
    assert parse_concern(text) == concern
    args = build_parser().parse_args(["run", ".", "--concern", text, "--concern", "R2"])
    assert args.concerns == [concern, "declarative"]
    assert build_parser().parse_args(["rerun", "a.json", "--concern", text]).concerns == [concern]
    assert build_parser().parse_args(["checks", "--concern", text]).concern == concern


@pytest.mark.parametrize("command", [["run", "."], ["rerun", "a.json"], ["checks"]])
def test_an_unknown_concern_is_one_line_listing_the_valid_ones(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args([*command, "--concern", "R9"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.endswith(
        "error: argument --concern: unknown concern 'R9'; valid: R1 reliability, R2 declarative, "
        "R3 maintenance, R4 scalability, R5 security (a code or a name)\n"
    )


def test_checks_filters_by_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checks", "--concern", "r4"]) == 0
    ids = re.findall(r"\b(REL|DEC|MNT|SCA|SEC)-[A-Z0-9-]+", capsys.readouterr().out)
    assert ids and set(ids) == {"SCA"}


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (512, "512 B"),
        (8 * 1024, "8 KiB"),
        (2000, "2.0 KiB"),
        (2 * 1024 * 1024, "2 MiB"),
        (2_500_000, "2.4 MiB"),
    ],
)
def test_one_size_style(size: int, text: str) -> None:
    assert format_size(size) == text


DECIMAL_SIZE = re.compile(r"(\d|\})\s?(KB|kB|MB|GB)\b")


def test_no_decimal_size_units_in_our_text() -> None:
    """Sizes in messages, help and tool descriptions are MiB/KiB (``tools/sizes.py``), never KB/MB."""
    found = []
    for top in ("domain", "tools", "agents", "pipeline"):
        for path in (REPO / top).rglob("*.py"):
            with path.open("rb") as handle:
                for token in tokenize.tokenize(handle.readline):
                    if token.type == tokenize.STRING and DECIMAL_SIZE.search(token.string):
                        found.append(f"{path.relative_to(REPO)}:{token.start[0]}")
    assert found == []
