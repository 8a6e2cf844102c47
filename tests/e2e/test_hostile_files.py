"""The whole offline audit over an estate and a snapshot full of hostile and broken files.

The fixture is the home-lab estate and its snapshot, copied into ``tmp_path`` and spoiled: the estate's
own directory and some of its files have names that are not UTF-8 (or hold a newline), and next to
them sit JSON nested 1,000 levels deep, YAML nested too deep, a YAML alias bomb, a YAML cycle and a
file that is not UTF-8; the snapshot has a truncated pods dump, an alias bomb and a deep dump. The
audit must finish all five concerns, show every name escaped, name every file it did not read (and
why, typed), and say which cluster populations it lost instead of reporting them as empty.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from estates import HOMELAB, HOMELAB_SNAPSHOT

from pipeline.cli import main
from pipeline.runs import RunStore

pytestmark = pytest.mark.e2e

DEEP_JSON = '{"apiVersion": "v1", "kind": "ConfigMap", "data": ' + "[" * 1000 + "]" * 1000 + "}"
DEEP_YAML = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: " + "[" * 150 + "]" * 150 + "\n"
CYCLE = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &d {self: *d}\n"


def billion_laughs(indent: str = "") -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    return "".join(f"{indent}{line}\n" for line in lines)


def _write(root: bytes, rel: bytes, data: bytes | str) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data.encode() if isinstance(data, str) else data)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("hostile")
    estate = os.path.join(os.fsencode(base), b"estate-\xff")  # the estate's own name is not UTF-8
    shutil.copytree(HOMELAB, os.fsdecode(estate), ignore=shutil.ignore_patterns("cluster"))
    _write(
        estate,
        b"stacks/caf\xe9/main.tf",
        'resource "null_resource" "seed" {\n  provisioner "local-exec" {\n    command = "make"\n  }\n}\n',
    )
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: NAME, namespace: tools}\n"
        "spec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:latest\n"
    )
    _write(estate, b"gitops/apps/bad\xff.yaml", deployment.replace("NAME", "bad-bytes"))
    _write(estate, b"gitops/apps/evil\nname.yaml", deployment.replace("NAME", "newline-name"))
    _write(estate, b"docs/runbooks/r\xfcn.md", "# Fix\n\nkubectl scale deployment/app --replicas=0\n")
    _write(estate, b"deep.json", DEEP_JSON)
    _write(estate, b"deep.yaml", DEEP_YAML)
    _write(estate, b"values/bomb.yaml", billion_laughs())
    _write(estate, b"cycle.yaml", CYCLE)
    _write(estate, b"latin1.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")

    snapshot = base / "snapshot"
    shutil.copytree(HOMELAB_SNAPSHOT, snapshot)
    pods = snapshot / "core.v1.pods.json"
    pods.write_bytes(pods.read_bytes()[:5000])  # cut mid-object, as a disk-full dump would be
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: default}\ndata:\n"
    (snapshot / "core.v1.configmaps.yaml").write_text(bomb + billion_laughs("  "))
    (snapshot / "core.v1.services.json").write_text(DEEP_JSON)

    out = base / "out"
    argv = ["run", os.fsdecode(estate), "--cluster", str(snapshot), "--offline", "--out", str(out)]
    argv += ["--run-id", "hostile", "--date", "2026-11-20", "--state-dir", str(base / "state")]
    return {"argv": argv, "estate": estate, "snapshot": snapshot, "out": out, "state": base / "state"}


@pytest.fixture(scope="module")
def ran(hostile: dict[str, Any]) -> dict[str, Any]:
    env = pytest.MonkeyPatch()
    env.setenv("COLUMNS", "400")  # the terminal lines are asserted whole
    stdout, stderr = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(hostile["argv"])
    finally:
        env.undo()
    out: Path = hostile["out"]
    return {
        "code": code,
        "stdout": stdout.getvalue(),
        "stderr": stderr.getvalue(),
        "json": json.loads((out / "audit.json").read_text(encoding="utf-8")),
        "md": (out / "audit.md").read_text(encoding="utf-8"),
        "sarif": (out / "audit.sarif").read_text(encoding="utf-8"),
    }


def test_every_concern_finishes_and_the_lost_pods_make_the_exit_code_4(ran: dict[str, Any]) -> None:
    report = ran["json"]
    assert "Traceback" not in ran["stdout"] + ran["stderr"]
    assert report["meta"]["concerns_failed"] == {}
    assert {c: r["status"] for c, r in report["concerns"].items()} == dict.fromkeys(
        ["reliability", "declarative", "maintenance", "scalability", "security"], "ok"
    )
    assert ran["code"] == 4  # the cluster lost a resource type: not a clean audit


def test_every_report_is_valid_utf8_and_names_are_shown_escaped(
    ran: dict[str, Any], hostile: dict[str, Any]
) -> None:
    out: Path = hostile["out"]
    for name in ("audit.md", "audit.json", "audit.sarif", "transcript.jsonl"):
        text = (out / name).read_bytes().decode("utf-8")  # strict: raises on a single bad byte
        assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text), name
    refs = {ref for f in ran["json"]["findings"] for ref in f["refs"]}
    assert "stacks/caf\\xe9/main.tf:1" in refs  # the provisioner of a directory named in Latin-1
    assert "gitops/apps/bad\\xff.yaml:9" in refs  # its :latest image
    assert "gitops/apps/evil\\x0aname.yaml:9" in refs  # a newline in a name never splits a line
    assert "docs/runbooks/r\\xfcn.md:3" in refs  # found by ripgrep, whose JSON gives the name as bytes
    assert ran["json"]["meta"]["estate"].endswith("/estate-\\xff")
    assert "`stacks/caf\\xe9/main.tf:1`" in ran["md"]
    assert '"uri": "stacks/caf%E9/main.tf"' in ran["sarif"]  # a URI carries the bytes, percent-encoded
    assert "infra-audit check $'" in ran["md"]  # commands quote the estate so that bash gives the bytes back


def test_audit_json_lists_every_file_not_read_typed(ran: dict[str, Any], hostile: dict[str, Any]) -> None:
    unread = ran["json"]["unread"]
    assert sorted((i["path"], i["reason"]) for i in unread["estate"]) == [
        ("cycle.yaml", "alias_bomb"),
        ("deep.json", "too_deep"),
        ("deep.yaml", "too_deep"),
        ("latin1.yaml", "encoding"),
        ("stacks/scratch/broken.tf", "syntax"),
        ("values/bomb.yaml", "alias_bomb"),
    ]
    snap = str(hostile["snapshot"])
    assert sorted((i["path"], i["reason"]) for i in unread["cluster"]) == [
        (f"{snap}/core.v1.configmaps.yaml", "alias_bomb"),
        (f"{snap}/core.v1.pods.json", "syntax"),
        (f"{snap}/core.v1.services.json", "too_deep"),
    ]
    pods = next(i for i in unread["cluster"] if i["path"].endswith("/core.v1.pods.json"))
    assert pods["message"] == "truncated JSON (the text ends inside a value)" and pods["line"] > 1
    # the resource types those files held, each once, with the file that lost it
    assert [(u["resource"], u["kind"]) for u in unread["resources"]] == [
        ("configmaps", "ConfigMap"),
        ("pods", "Pod"),
        ("services", "Service"),
    ]
    lost = {u["resource"]: u["reason"] for u in unread["resources"]}
    assert (
        lost["pods"]
        == f"{snap}/core.v1.pods.json:{pods['line']}: truncated JSON (the text ends inside a value)"
    )


def test_audit_md_names_the_files_not_read_and_the_lost_pods(
    ran: dict[str, Any], hostile: dict[str, Any]
) -> None:
    md = ran["md"]
    section = md.split("## Files not read", 1)[1].split("\n## ", 1)[0]
    for shown in ("deep.json", "deep.yaml", "values/bomb.yaml:1", "cycle.yaml", "latin1.yaml:3"):
        assert f"`{shown}" in section, shown
    snap = str(hostile["snapshot"])
    for name in ("core.v1.pods.json", "core.v1.configmaps.yaml:1", "core.v1.services.json"):
        assert f"`{snap}/{name}" in section, name
    assert "**Estate: YAML aliases expand past the bound (an alias bomb)**" in section
    [warning] = [line for line in md.splitlines() if "read incompletely" in line]
    assert warning.startswith(
        "**Warning**: The cluster was read incompletely, these resource types were not read: configmaps ("
    )
    assert f"; pods ({snap}/core.v1.pods.json:" in warning and f"; services ({snap}/" in warning
    gaps = md.split("## Gaps the agents missed", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(gaps.split())
    assert (
        "REL-LIVE-CRASHLOOP, REL-LIVE-IMAGE-PULL, REL-LIVE-PENDING-PODS, REL-LIVE-PVC-UNBOUND, "
        "REL-LIVE-RESTARTS not run: unknown: the cluster's pods ("
    ) in flat
    # the checks that also read Services (lost too) name both
    both = "REL-LIVE-ROUTE-NO-BACKEND, REL-LIVE-SERVICE-NO-PODS not run: unknown: the cluster's pods ("
    assert both in flat
    assert "live pods: 0" in md  # the count stays what was read; the warning says why it is 0


def test_the_terminal_names_every_snapshot_file_not_read(
    ran: dict[str, Any], hostile: dict[str, Any]
) -> None:
    lines = ran["stdout"].splitlines()
    snap = str(hostile["snapshot"])
    for name in ("core.v1.pods.json", "core.v1.configmaps.yaml", "core.v1.services.json"):
        assert any(line.strip().startswith(f"{snap}/{name}") for line in lines), name
    lost = [line for line in lines if line.startswith("The cluster was read incompletely: ")]
    assert [line.split(" (")[0].rsplit(" ", 1)[1] for line in lost] == ["configmaps", "pods", "services"]
    assert any("deep.json: nested deeper than 100 levels; not read" in line for line in lines)


def test_the_run_can_be_resumed_from_its_stored_settings(hostile: dict[str, Any]) -> None:
    settings = RunStore(hostile["state"]).load("hostile")
    assert os.fsencode(settings.estate).endswith(b"/estate-\xff")  # the bytes survived the store


def test_the_inventory_command_names_them_too(
    hostile: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    capture = pytest.MonkeyPatch()
    capture.setenv("COLUMNS", "400")
    try:
        code = main(["inventory", os.fsdecode(hostile["estate"]), "--cluster", str(hostile["snapshot"])])
    finally:
        capture.undo()
    lines = capsys.readouterr().out.splitlines()
    assert code == 0  # inventory lists; it does not judge
    assert "Not read: 6 in the estate, 3 on the cluster side, reported and skipped:" in lines
    snap = str(hostile["snapshot"])
    assert f"    {snap}/core.v1.pods.json:" in "\n".join(lines)
    bomb = "    values/bomb.yaml:1: YAML aliases expand this file by more than 1,000,000 values"
    assert f"{bomb} (an alias bomb); not read" in lines
