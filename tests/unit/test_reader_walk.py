"""The reader's walk (``k8s_objects.walk``): which files a script reads, the paths it must not read
(snapshot directories, files the checks left out) looked up by directory, not tried one by one."""

from __future__ import annotations

from pathlib import Path

import pytest
from reader_scripts import calls, script_module

pytestmark = pytest.mark.unit


def _estate(root: Path) -> None:
    for rel in (
        "app/a.yaml",
        "app2/b.yaml",  # a sibling whose name starts with a skipped directory's
        "cluster/pods.json",
        "cluster/deep/x.yaml",
        "stacks/one/main.tf",
        "stacks/one/left-out.tf",
        ".git/config",
        ".terraform/mod.tf",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x\n", encoding="utf-8")
    (root / "linked.yaml").symlink_to(root / "cluster" / "deep" / "x.yaml")  # under a skipped path


def test_walk_leaves_out_the_skipped_paths_and_their_trees(tmp_path: Path) -> None:
    k8s = script_module("k8s_objects")
    _estate(tmp_path)
    found = k8s.walk(tmp_path, ("cluster", "stacks/one/left-out.tf", "app"))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["app2/b.yaml", "stacks/one/main.tf"]
    everything = k8s.walk(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in everything] == [
        "app/a.yaml",
        "app2/b.yaml",
        "cluster/deep/x.yaml",
        "cluster/pods.json",
        "linked.yaml",
        "stacks/one/left-out.tf",
        "stacks/one/main.tf",
    ]
    assert k8s.walk(tmp_path) is not k8s.walk(tmp_path)  # a new list each call
    assert k8s.walk(tmp_path, ("",)) == []  # the root itself skipped


def test_walk_does_not_try_each_skipped_path_for_each_file(tmp_path: Path) -> None:
    """The calls (Python and C, no clock) of a walk of 240 files with 4 skipped paths and with 64: a
    walk that tried every skipped path for every file made about 10x the calls."""
    k8s = script_module("k8s_objects")
    for n in range(240):
        (tmp_path / f"d{n % 6}" / f"f{n}.yaml").parent.mkdir(exist_ok=True)
        (tmp_path / f"d{n % 6}" / f"f{n}.yaml").write_text("x\n", encoding="utf-8")
    few = tuple(f"gone/{n}.yaml" for n in range(4))
    many = tuple(f"gone/{n}.yaml" for n in range(64))
    counted = calls(lambda: k8s._walk(tmp_path, few)), calls(lambda: k8s._walk(tmp_path, many))
    assert counted[1] < counted[0] * 1.5, counted
