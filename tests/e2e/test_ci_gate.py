"""The CI gate on a small estate made here: exit codes, --fail-on, --baseline across two runs whose
findings are renumbered, and ``infra-audit diff``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import cli
from estates import WEB_DEPLOYMENT as WEB

from pipeline.render.json_out import load_report

pytestmark = pytest.mark.e2e

DATE = "2026-11-20"

API = WEB.replace("name: web", "name: api").replace("- name: api", "- name: api")


def estate(root: Path, *files: tuple[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files:
        (root / name).write_text(text, encoding="utf-8")
    return root


def audit(monkeypatch: pytest.MonkeyPatch, path: Path, out: Path, *flags: str) -> tuple[int, str]:
    state = out.parent / f"{out.name}-state"
    return cli(
        ["run", str(path), "--out", str(out), "--state-dir", str(state), "--date", DATE, "--offline", *flags],
        monkeypatch,
    )


def test_exit_0_without_fail_on_and_1_at_or_above_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = estate(tmp_path / "e", ("web.yaml", WEB))
    code, printed = audit(monkeypatch, path, tmp_path / "plain")
    assert code == 0 and "gate --fail-on" not in printed, printed
    report = load_report(tmp_path / "plain" / "audit.json")
    by_level = {level: [f.id for f in report.findings if f.severity.level >= level] for level in (5, 4)}
    assert by_level[5] and len(by_level[4]) > len(by_level[5])  # the small estate has both
    code, printed = audit(monkeypatch, path, tmp_path / "crit", "--fail-on", "critical")
    assert (
        code == 1
        and f"{len(by_level[5])} open finding(s) at or above; failed: {', '.join(by_level[5])}" in printed
    )
    code, printed = audit(monkeypatch, path, tmp_path / "high", "--fail-on", "4")
    assert code == 1 and f"at or above; failed: {', '.join(by_level[4])}" in printed
    markdown = (tmp_path / "plain" / "audit.md").read_text(encoding="utf-8")
    sarif = json.loads((tmp_path / "plain" / "audit.sarif").read_text(encoding="utf-8"))
    for f in report.findings:  # the severity is in every output
        assert f"| {f.id} | " in markdown and f" | {f.severity} | {f.impact} | " in markdown
    assert {r["properties"]["severity"] for r in sarif["runs"][0]["results"]} == {
        str(f.severity) for f in report.findings
    }
    assert all("baselineState" not in r for r in sarif["runs"][0]["results"])


def usage_error(monkeypatch: pytest.MonkeyPatch, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    from pipeline.cli import main

    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_a_bad_fail_on_or_baseline_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = estate(tmp_path / "e", ("web.yaml", WEB))
    for argv in (["run", str(path), "--fail-on", "severe"], ["diff", "a.json", "b.json", "--fail-on", "0"]):
        err = usage_error(monkeypatch, argv, capsys)
        assert "argument --fail-on: unknown severity" in err and err.count("\n") == 1
    code, printed = audit(monkeypatch, path, tmp_path / "o", "--baseline", str(tmp_path / "nope.json"))
    assert printed.startswith("infra-audit: error: no audit report at") and printed.count("\n") == 1
    assert code == 2 and not (tmp_path / "o").exists()


def test_a_failed_concern_is_exit_4_and_a_passing_gate_does_not_hide_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.nodes as nodes

    real = nodes.research_offline

    def boom(concern: str, ctx: object) -> object:
        if concern == "security":
            raise KeyError("boom")
        return real(concern, ctx)  # type: ignore[arg-type]

    monkeypatch.setattr(nodes, "research_offline", boom)
    path = estate(tmp_path / "e", ("web.yaml", WEB))
    code, printed = audit(monkeypatch, path, tmp_path / "o", "--fail-on", "critical", "--concern", "security")
    assert (
        code == 4
        and "0 open finding(s) at or above; passed" in printed
        and "failed concerns: security" in printed
    )
    code, printed = audit(monkeypatch, path, tmp_path / "p", "--fail-on", "critical")
    assert code == 4 and "at or above; failed: " in printed  # both: incomplete wins


def _renumbered(src: Path, dst: Path) -> None:
    """The baseline as another run would number it: same findings, other F-numbers, reversed order."""
    data = json.loads(src.read_text(encoding="utf-8"))
    n = len(data["findings"])
    for i, f in enumerate(data["findings"]):
        f["id"] = f"F{n + 10 - i:02d}"
    data["findings"].reverse()
    dst.write_text(json.dumps(data), encoding="utf-8")


def test_baseline_gates_only_new_findings_across_renumbered_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = estate(tmp_path / "v1", ("web.yaml", WEB))
    assert audit(monkeypatch, first, tmp_path / "one")[0] == 0
    baseline = str(tmp_path / "baseline.json")
    _renumbered(tmp_path / "one" / "audit.json", tmp_path / "baseline.json")

    # the same estate against its renumbered baseline: nothing new, the gate passes at any severity
    code, printed = audit(
        monkeypatch,
        first,
        tmp_path / "same",
        "--baseline",
        baseline,
        "--fail-on",
        "info",
    )
    assert code == 0, printed
    same = load_report(tmp_path / "same" / "audit.json")
    assert [f.new for f in same.findings] == [False] * len(same.findings)
    assert same.baseline is not None and same.baseline.fixed == []

    # a second workload: new subjects of known findings and nothing else; only they gate
    second = estate(tmp_path / "v2", ("web.yaml", WEB), ("api.yaml", API))
    code, printed = audit(
        monkeypatch,
        second,
        tmp_path / "two",
        "--baseline",
        baseline,
        "--fail-on",
        "high",
    )
    report = load_report(tmp_path / "two" / "audit.json")
    new = {f.rule: f for f in report.findings if f.new}
    assert new, "the second workload adds subjects"
    assert all(all("/api" in k for k in f.new_occurrences) for f in new.values())
    assert all(f.new is False for f in report.findings if f.rule not in new)
    gated = sorted(f.id for f in new.values() if f.severity in ("high", "critical"))
    assert (code == 1) == bool(gated), printed
    markdown = (tmp_path / "two" / "audit.md").read_text(encoding="utf-8")
    sarif = json.loads((tmp_path / "two" / "audit.sarif").read_text(encoding="utf-8"))
    for f in new.values():
        assert f"| {f.id} **new** |" in markdown
    states = {r["properties"]["finding"]: r["baselineState"] for r in sarif["runs"][0]["results"]}
    assert {fid for fid, s in states.items() if s == "new"} == {f.id for f in new.values()}


def test_diff_reports_new_fixed_changed_unchanged_and_gates_on_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both = estate(tmp_path / "v1", ("web.yaml", WEB), ("api.yaml", API))
    assert audit(monkeypatch, both, tmp_path / "one")[0] == 0
    _renumbered(tmp_path / "one" / "audit.json", tmp_path / "old.json")
    old = load_report(tmp_path / "old.json")
    # a newer audit: one finding gone (fixed), one count changed, the rest the same, renumbered
    data = json.loads((tmp_path / "one" / "audit.json").read_text(encoding="utf-8"))
    fixed = data["findings"].pop(0)
    changed = next(f for f in data["findings"] if len(f["locations"]) > 1 and f["refs"])  # in the SARIF
    changed["locations"] = changed["locations"][:1]
    changed["claims"][0]["value"] = 1
    (tmp_path / "new.json").write_text(json.dumps(data), encoding="utf-8")

    code, printed = cli(
        ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "json"], monkeypatch
    )
    assert code == 0, printed
    diff = json.loads(printed)
    kinds = {c["key"]: c["kind"] for c in diff["changes"]}
    assert kinds[fixed["rule"]] == "fixed"
    assert kinds[changed["rule"]] == "changed"
    assert diff["counts"] == {"new": 0, "changed": 1, "fixed": 1, "unchanged": len(old.findings) - 2}

    # reversed: what was fixed is new, and --fail-on gates on it
    code, printed = cli(
        ["diff", str(tmp_path / "new.json"), str(tmp_path / "old.json"), "--fail-on", "info"], monkeypatch
    )
    assert code == 1
    assert f"| {fixed['rule']} |" in printed and "## New (1)" in printed and "## Changed (1)" in printed
    assert "gate --fail-on info: 2 new finding(s)" in printed  # the new one and the one with a new subject
    code, printed = cli(
        ["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "sarif"], monkeypatch
    )
    states = {r["baselineState"] for r in json.loads(printed)["runs"][0]["results"]}
    assert code == 0 and states == {"updated", "unchanged"}
    code, printed = cli(["diff", str(tmp_path / "old.json"), str(tmp_path / "nope.json")], monkeypatch)
    assert code == 2 and printed.count("\n") == 1


def test_rerun_gates_and_compares_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = estate(tmp_path / "e", ("web.yaml", WEB))
    assert audit(monkeypatch, path, tmp_path / "one")[0] == 0
    first = str(tmp_path / "one" / "audit.json")
    argv = ["rerun", first, "--concern", "security", "--offline", "--out", str(tmp_path / "re")]
    code, printed = cli([*argv, "--fail-on", "high", "--baseline", first], monkeypatch)
    assert code == 0 and "0 open new finding(s) at or above; passed" in printed, printed
    again = load_report(tmp_path / "re" / "audit.json")
    assert again.baseline is not None and all(f.new is False for f in again.findings)
    code, printed = cli([*argv, "--fail-on", "high"], monkeypatch)
    assert code == 1 and "open finding(s) at or above; failed: " in printed
