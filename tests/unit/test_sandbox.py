"""The path jail: what it resolves, what it refuses, and that each refusal says which path and why."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from domain.errors import EstateError, SandboxViolation
from domain.results import ToolStatus
from tools.evidence import Ledger
from tools.registry import Toolbox
from tools.sandbox import Jail, PathNotFound

pytestmark = pytest.mark.unit


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    (root / "stacks" / "app").mkdir(parents=True)
    (root / "stacks" / "app" / "main.tf").write_text('resource "x" "y" {}\n')
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "ci.yml").write_text("on: push\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("do not read\n")
    return root


def refused(jail: Jail, path: str, *, for_read: bool = False) -> str:
    with pytest.raises(SandboxViolation) as info:
        jail.resolve(path, for_read=for_read)
    message = str(info.value)
    assert "\n" not in message
    assert repr(path) in message  # every refusal names the path as the caller wrote it
    return message


def test_estate_root_must_exist_and_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(EstateError, match="does not exist"):
        Jail(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(EstateError, match="not a directory"):
        Jail(tmp_path / "file")


def test_relative_paths_resolve_inside(estate: Path) -> None:
    jail = Jail(estate)
    assert jail.resolve("stacks/app/main.tf") == estate.resolve() / "stacks/app/main.tf"
    assert jail.resolve("./stacks//app/../app/main.tf") == estate.resolve() / "stacks/app/main.tf"
    assert jail.resolve(".") == estate.resolve()
    assert jail.resolve("") == estate.resolve()
    assert jail.rel(jail.resolve("stacks/app/main.tf")) == "stacks/app/main.tf"
    assert jail.rel(jail.resolve(".")) == "."
    assert jail.resolve(".github/workflows/ci.yml", for_read=True).name == "ci.yml"


def test_dotdot_traversal_is_refused(estate: Path) -> None:
    jail = Jail(estate)
    assert "uses '..' to leave the estate root" in refused(jail, "../outside/secret.txt")
    assert "uses '..' to leave the estate root" in refused(jail, "stacks/../../outside/secret.txt")
    assert "uses '..' to leave the estate root" in refused(jail, "a/../../x")


def test_absolute_paths(estate: Path, tmp_path: Path) -> None:
    jail = Jail(estate)
    outside = str(tmp_path / "outside" / "secret.txt")
    assert "absolute path outside the estate root" in refused(jail, outside)
    assert "absolute path outside the estate root" in refused(jail, "/etc/passwd")
    assert "uses '..'" in refused(jail, str(estate / ".." / "outside" / "secret.txt"))
    inside = estate / "stacks" / "app" / "main.tf"
    assert jail.resolve(str(inside)) == inside.resolve()
    assert jail.resolve(str(inside.resolve())) == inside.resolve()


def test_symlink_escaping_file_and_dir(estate: Path, tmp_path: Path) -> None:
    (estate / "leak.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (estate / "leakdir").symlink_to(tmp_path / "outside")
    (estate / "relleak").symlink_to("../outside/secret.txt")
    (estate / "stacks" / "chain").symlink_to("../leakdir")  # inside -> inside link -> outside
    jail = Jail(estate)
    assert "symlink 'leak.txt' ->" in refused(jail, "leak.txt")
    assert "leaves the estate root; it is not followed" in refused(jail, "leak.txt")
    assert "symlink 'leakdir' ->" in refused(jail, "leakdir/secret.txt")
    assert "leaves the estate root through '..'" in refused(jail, "relleak")
    assert "symlink 'leakdir' ->" in refused(jail, "stacks/chain/secret.txt")


def test_symlink_inside_root_is_allowed(estate: Path) -> None:
    (estate / "current").symlink_to("stacks/app")
    (estate / "stacks" / "main-link.tf").symlink_to(estate / "stacks" / "app" / "main.tf")
    jail = Jail(estate)
    real = estate.resolve() / "stacks/app/main.tf"
    assert jail.resolve("current/main.tf") == real
    assert jail.resolve("stacks/main-link.tf", for_read=True) == real
    assert jail.rel(jail.resolve("current")) == "stacks/app"


def test_symlink_loop_is_refused(estate: Path) -> None:
    (estate / "a").symlink_to("b")
    (estate / "b").symlink_to("a")
    (estate / "self").symlink_to("self")
    jail = Jail(estate)
    assert "is a symlink loop" in refused(jail, "a")
    assert "is a symlink loop" in refused(jail, "self/x")


def test_devices_fifos_and_sockets_are_refused_without_opening(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (estate / "null").symlink_to("/dev/null")
    os.mkfifo(estate / "pipe")  # opening this would block the test forever
    monkeypatch.chdir(estate)  # a short relative name keeps the socket path under the 108-byte limit
    sock = socket.socket(socket.AF_UNIX)
    sock.bind("sock")
    try:
        jail = Jail(estate)
        assert "'/dev/null'" in refused(jail, "null")
        assert "absolute path outside" in refused(jail, "/dev/null")
        assert "is a FIFO (named pipe), not a regular file; it is never opened" in refused(jail, "pipe")
        assert "is a FIFO" in refused(jail, "pipe", for_read=True)
        assert "is a socket" in refused(jail, "sock")
        with pytest.raises(SandboxViolation, match="is a FIFO"):
            jail.read_text("pipe")
    finally:
        sock.close()


def test_binary_file_is_refused_for_reading(estate: Path) -> None:
    (estate / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 100)
    jail = Jail(estate)
    assert jail.resolve("logo.png") == estate.resolve() / "logo.png"  # listing it is fine
    message = refused(jail, "logo.png", for_read=True)
    assert "is a binary file (a NUL byte in its first 8 KiB)" in message
    assert "search the text files around it with repo_search" in message


def test_oversized_file_is_refused_with_a_hint(estate: Path) -> None:
    (estate / "big.json").write_text("x" * 2000)
    jail = Jail(estate, file_cap=1024)
    message = refused(jail, "big.json", for_read=True)
    assert "'big.json' is 2.0 KiB, over the 1 KiB read cap" in message
    assert "read a line range (repo_read with start and end)" in message
    assert jail.read_text("big.json", size_limit=4096) == "x" * 2000  # a range reader may raise the cap


def test_missing_paths(estate: Path) -> None:
    jail = Jail(estate)
    with pytest.raises(PathNotFound) as info:
        jail.resolve("stacks/nope.tf")
    expected = "'stacks/nope.tf' does not exist in the estate; list its directory with repo_list"
    assert str(info.value) == expected
    with pytest.raises(PathNotFound, match=r"'stacks/app/main\.tf' is a file, not a directory"):
        jail.resolve("stacks/app/main.tf/x")


def test_directories_and_nul_bytes(estate: Path) -> None:
    jail = Jail(estate)
    assert "is a directory, not a file; list it with repo_list" in refused(jail, "stacks", for_read=True)
    assert "contains a NUL byte" in refused(jail, "stacks\x00/x")
    # the shown form of a NUL (what a model types after reading an escaped name) is refused too
    with pytest.raises(SandboxViolation, match="contains a NUL byte"):
        jail.resolve("stacks/app/main.tf\\x00")


def test_an_escaped_nul_through_every_repo_tool_is_an_error_result(estate: Path) -> None:
    box = Toolbox(Jail(estate), None, Ledger())
    for tool, args in (
        ("repo_read", {"path": "stacks/app/main.tf\\x00"}),
        ("repo_list", {"path": "stacks\\x00"}),
        ("repo_search", {"pattern": "x", "path": "stacks\\x00"}),
        ("repo_count", {"pattern": "x", "path": "stacks\\x00"}),
    ):
        evidence = box.call(tool, args)
        assert evidence.status is ToolStatus.ERROR and "contains a NUL byte" in (evidence.error or ""), tool


def test_rel_refuses_outside_paths(estate: Path, tmp_path: Path) -> None:
    jail = Jail(estate)
    assert jail.rel("stacks/app") == "stacks/app"
    with pytest.raises(SandboxViolation, match="outside the estate root"):
        jail.rel(tmp_path / "outside")
    with pytest.raises(SandboxViolation, match="outside the estate root"):
        jail.rel("stacks/../../x")
