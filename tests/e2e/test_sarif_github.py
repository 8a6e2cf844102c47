"""audit.sarif as GitHub code scanning ingests it: the rules we can check ourselves, and Microsoft's SARIF
Multitool (schema + GitHub rules) when its binary is installed.

The Multitool is an npm package (``@microsoft/sarif-multitool``, whose linux package ships a
self-contained binary); tests never install anything. ``make sarif-tool`` installs it into
``~/.cache/infra-audit/sarif-multitool``; ``SARIF_MULTITOOL=/path/to/Sarif.Multitool`` points at
another copy. Without it the Multitool test skips and says how to get it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from clirun import cli
from estates import REPO, WEB_DEPLOYMENT

pytestmark = pytest.mark.e2e

KEPT = REPO / "reports" / "homelab" / "audit.sarif"
LINUX_BINARY = Path("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool")
CACHE = Path.home() / ".cache" / "infra-audit" / "sarif-multitool"
SECURITY_SEVERITY = re.compile(r"^\d+(\.\d)?$")


def multitool() -> Path | None:
    given = os.environ.get("SARIF_MULTITOOL")
    candidates = [Path(given)] if given else []
    candidates += [CACHE / LINUX_BINARY]
    on_path = shutil.which("sarif-multitool")
    candidates += [Path(on_path)] if on_path else []
    return next((c for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


@pytest.fixture(scope="module")
def in_subdir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """An estate at ./infra of a git repository, audited from the repository's root."""
    repo = tmp_path_factory.mktemp("repo")
    (repo / ".git").mkdir()
    infra = repo / "infra"
    (infra / "apps").mkdir(parents=True)
    (infra / "apps" / "web.yaml").write_text(WEB_DEPLOYMENT, encoding="utf-8")
    (infra / "kustomization.yaml").write_text("resources:\n  - apps/web.yaml\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    mp = pytest.MonkeyPatch()
    try:
        argv = ["run", str(infra), "--out", str(out), "--state-dir", str(out / "s"), "--offline"]
        code, printed = cli([*argv, "--date", "2026-11-20"], mp)
    finally:
        mp.undo()
    assert code == 0, printed
    return {"path": out / "audit.sarif", "log": json.loads((out / "audit.sarif").read_text(encoding="utf-8"))}


def github_problems(log: dict[str, Any]) -> list[str]:
    """What GitHub's ingestion rules (and its display of severity) need, checked by hand."""
    problems: list[str] = []
    for run in log["runs"]:
        rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
        if not run.get("automationDetails", {}).get("id"):
            problems.append("run: no automationDetails.id")
        for rid, rule in rules.items():
            props = rule.get("properties", {})
            for need in ("shortDescription", "fullDescription", "help", "helpUri"):
                if need not in rule:
                    problems.append(f"{rid}: no {need}")
            if not rule.get("help", {}).get("markdown"):
                problems.append(f"{rid}: no help.markdown")
            if not str(rule.get("helpUri", "")).startswith("https://"):
                problems.append(f"{rid}: helpUri not absolute")
            if props.get("precision") not in ("very-high", "high", "medium", "low"):
                problems.append(f"{rid}: no precision")
            if "security" in props.get("concerns", []):
                if "security" not in props.get("tags", []):
                    problems.append(f"{rid}: security rule without the security tag")
                if not SECURITY_SEVERITY.match(str(props.get("security-severity", ""))):
                    problems.append(f"{rid}: security rule without security-severity")
            if len(props.get("tags", [])) > 20:
                problems.append(f"{rid}: more than 20 tags")
        seen: set[tuple[str, str, int, str]] = set()
        for i, res in enumerate(run["results"]):
            where = f"results[{i}] ({res.get('ruleId')})"
            if res.get("ruleId") not in rules:
                problems.append(f"{where}: unknown rule")
            locations = res.get("locations") or []
            if len(locations) != 1 or "physicalLocation" not in locations[0]:
                problems.append(f"{where}: not exactly one physical location")
                continue
            phys = locations[0]["physicalLocation"]
            uri = phys["artifactLocation"]["uri"]
            if "://" in uri or uri.startswith(("/", "./")):
                problems.append(f"{where}: uri {uri!r} is not relative to the repository root")
            if (
                not isinstance(phys.get("region", {}).get("startLine"), int)
                or phys["region"]["startLine"] < 1
            ):
                problems.append(f"{where}: no startLine")
            text = res.get("message", {}).get("text", "")
            if not text or re.search(r"\bF\d{2,}\b", text):
                problems.append(f"{where}: message empty or names a run-local backlog id: {text!r}")
            if not res.get("partialFingerprints"):
                problems.append(f"{where}: no partialFingerprints")
            key = (res["ruleId"], uri, phys["region"]["startLine"], text)
            if key in seen:
                problems.append(f"{where}: a second result at the same place with the same message")
            seen.add(key)
    return problems


def test_the_kept_report_meets_githubs_rules() -> None:
    log = json.loads(KEPT.read_text(encoding="utf-8"))
    assert github_problems(log) == []
    run = log["runs"][0]
    assert len(run["results"]) > 100  # one per subject, not one per finding
    security = [r for r in run["tool"]["driver"]["rules"] if "security" in r["properties"]["tags"]]
    assert security and all(float(r["properties"]["security-severity"]) >= 0.1 for r in security)
    assert run["properties"]["not_in_sarif"]  # live objects with no code record: listed, not pointed at


def test_auditing_a_subdirectory_links_from_the_git_root(in_subdir: dict[str, Any]) -> None:
    log = in_subdir["log"]
    assert github_problems(log) == []
    run = log["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert "infra/apps/web.yaml" in uris and "infra/kustomization.yaml" in uris  # missing things: root config
    assert all(u.startswith("infra/") for u in uris)
    assert run["automationDetails"]["id"].startswith("infra-audit/infra/")


def test_our_checks_catch_what_github_refuses() -> None:
    """The hand checks fail on the shape the Multitool measured before (results with no location)."""
    log = json.loads(KEPT.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(log))
    del broken["runs"][0]["results"][0]["locations"]
    rule = next(
        r for r in broken["runs"][0]["tool"]["driver"]["rules"] if "security" in r["properties"]["tags"]
    )
    del rule["properties"]["security-severity"]
    problems = github_problems(broken)
    assert any("not exactly one physical location" in p for p in problems)
    assert any(p.startswith(f"{rule['id']}: security rule without security-severity") for p in problems)


@pytest.mark.parametrize("which", ["kept", "subdir"])
def test_sarif_multitool_finds_no_schema_or_github_error(
    which: str, in_subdir: dict[str, Any], tmp_path: Path
) -> None:
    tool = multitool()
    if tool is None:
        pytest.skip(
            "SARIF Multitool not installed: `make sarif-tool` (npm install @microsoft/sarif-multitool into "
            f"{CACHE}) or set SARIF_MULTITOOL to its Sarif.Multitool binary"
        )
    target = KEPT if which == "kept" else in_subdir["path"]
    out = tmp_path / "validation.sarif"
    done = subprocess.run(
        [str(tool), "validate", "--rule-kind", "Sarif;Gh", "--output", str(out), str(target)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8-sig"))
    found = [
        (r.get("level", "warning"), r["ruleId"]) for run in report["runs"] for r in run.get("results", [])
    ]
    assert [f for f in found if f[0] == "error"] == [], done.stdout[-3000:]
    assert [f for f in found if f[0] == "warning"] == [], done.stdout[-3000:]
