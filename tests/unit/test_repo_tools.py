"""Repo tools on a small fixture estate: exact data, values and reproducible commands."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from domain.results import ToolStatus
from tools import repo
from tools.evidence import Ledger
from tools.redact import fingerprint
from tools.registry import Toolbox
from tools.repo import repo_count, repo_search
from tools.repo_files import repo_list, repo_read
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

RG = "rg -n --hidden -g '!.git' --max-filesize 2M"

FILES = {
    "stacks/app/main.tf": 'resource "kubernetes_deployment" "app" {\n  image = "nginx:latest"\n'
    '  sidecar = "busybox:latest"\n}\n',
    "stacks/db/main.tf": 'image    = "postgres:latest"\npassword = "hunter2"\nuser     = var.db_user\n',
    ".github/workflows/ci.yml": "jobs:\n  build:\n    container: node:latest\n",
    ".infra-audit.yaml": "ignore:\n  - scratch\n",
    ".git/config": "[remote] url = x:latest\n",
    "docs/flags.md": "Run it with --force only once.\n",
}


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "img.png").write_bytes(b"\x89PNG\x00\x00latest")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "leak.tf").write_text('image = "evil:latest"\n')
    (root / "escape").symlink_to(outside)
    (root / "escape.tf").symlink_to(outside / "leak.tf")
    (root / "current").symlink_to("stacks/app")
    return root


@pytest.fixture
def jail(estate: Path) -> Jail:
    return Jail(estate)


# ------------------------------------------------------------------------------------- search


def test_search_returns_exact_hits_values_and_command(jail: Jail) -> None:
    result = repo_search(jail, ":latest", fixed=True)
    assert result.status == ToolStatus.OK
    assert result.tool == "repo.search"
    assert result.value == 4
    assert result.command == f"{RG} -F --sort path -e :latest ."
    assert result.data == [
        {"path": ".github/workflows/ci.yml", "line": 3, "text": "    container: node:latest"},
        {"path": "stacks/app/main.tf", "line": 2, "text": '  image = "nginx:latest"'},
        {"path": "stacks/app/main.tf", "line": 3, "text": '  sidecar = "busybox:latest"'},
        {"path": "stacks/db/main.tf", "line": 1, "text": 'image    = "postgres:latest"'},
    ]
    assert result.output.splitlines()[1] == 'stacks/app/main.tf:2:  image = "nginx:latest"'
    assert not result.truncated
    # hidden dirs are searched, .git is not, binary files are skipped, symlinks are not followed
    assert all(not d["path"].startswith((".git/", "escape")) for d in result.data)


def test_search_in_a_subdirectory_with_glob_and_ignore_case(jail: Jail) -> None:
    result = repo_search(jail, "IMAGE", path="stacks", glob="*.tf", ignore_case=True)
    assert result.value == 2
    hits = [(d["path"], d["line"]) for d in result.data]
    assert hits == [("stacks/app/main.tf", 2), ("stacks/db/main.tf", 1)]
    assert result.command == (
        "rg -n --hidden -g '*.tf' -g '!.git' --max-filesize 2M -i --sort path -e IMAGE stacks"
    )


def test_no_glob_brings_git_back(jail: Jail) -> None:
    for glob in ("*", ".git", ".git/**", "config"):
        result = repo_search(jail, "remote", glob=glob)
        assert result.status == ToolStatus.NO_DATA, glob
    assert repo_list(jail, glob="*config*").status == ToolStatus.NO_DATA


def test_a_pattern_starting_with_a_dash_is_a_pattern(jail: Jail) -> None:
    result = repo_search(jail, "--force", fixed=True)
    assert result.status == ToolStatus.OK
    assert result.data == [{"path": "docs/flags.md", "line": 1, "text": "Run it with --force only once."}]
    assert result.command == f"{RG} -F --sort path -e --force ."
    files = repo_search(jail, "--files")  # would list every file if it became a flag
    assert files.status == ToolStatus.NO_DATA


def test_bad_regex_is_an_error_with_a_hint(jail: Jail) -> None:
    result = repo_search(jail, "image = (")
    assert result.status == ToolStatus.ERROR
    assert result.error is not None
    assert result.error.startswith("rg could not search for 'image = (' in '.': regex parse error")
    assert "pass fixed=True to search for the literal text" in result.error


def test_no_match_is_no_data(jail: Jail) -> None:
    result = repo_search(jail, "kubernetes_cron_job_v1")
    assert result.status == ToolStatus.NO_DATA
    assert result.value == 0
    assert result.data == []
    assert result.output == "no matches in '.'"  # the pattern is in the command, not echoed


def test_output_is_capped_with_a_hint(jail: Jail) -> None:
    result = repo_search(jail, "latest", max_results=2)
    assert result.truncated
    assert result.value == 4
    assert len(result.data) == 2
    assert result.output.splitlines()[-1] == (
        "[showing the first 2 of 4 matching lines; narrow the search with path= or glob= "
        "(e.g. glob='*.tf'), or count them with repo_count]"
    )


def test_context_lines(jail: Jail) -> None:
    result = repo_search(jail, "password", path="stacks/db/main.tf", context=1)
    assert result.output.splitlines() == [
        'stacks/db/main.tf-1-image    = "postgres:latest"',
        f'stacks/db/main.tf:2:password = "{fingerprint("hunter2")}"',
        "stacks/db/main.tf-3-user     = var.db_user",
    ]
    assert result.command == f"{RG} --sort path -C 1 -e password stacks/db/main.tf"


def test_search_refuses_escaping_symlinks(jail: Jail) -> None:
    for path in ("escape", "escape.tf", "escape/leak.tf", "../outside"):
        result = repo_search(jail, "evil", path=path)
        assert result.status == ToolStatus.ERROR
        assert result.error is not None and repr(path) in result.error
    assert repo_search(jail, "evil").status == ToolStatus.NO_DATA  # not followed from the root either


def test_search_through_an_inside_symlink_reports_the_real_path(jail: Jail) -> None:
    result = repo_search(jail, "nginx", path="current")
    assert result.data == [{"path": "stacks/app/main.tf", "line": 2, "text": '  image = "nginx:latest"'}]


# -------------------------------------------------------------------------------------- count


def test_count_totals_and_per_file(jail: Jail) -> None:
    result = repo_count(jail, "latest", fixed=True)
    assert result.status == ToolStatus.OK
    assert result.value == 4
    assert result.data == {
        "total": 4,
        "files": [
            {"path": ".github/workflows/ci.yml", "count": 1},
            {"path": "stacks/app/main.tf", "count": 2},
            {"path": "stacks/db/main.tf", "count": 1},
        ],
    }
    assert result.command == (
        "rg --count-matches --hidden -g '!.git' --max-filesize 2M -F -e latest . "
        "| awk -F: '{s+=$NF} END {print s+0}'"
    )
    assert result.output.splitlines()[0] == "4 matches in 3 files"


def test_count_counts_matches_not_lines(jail: Jail) -> None:
    result = repo_count(jail, "e", path="stacks/app/main.tf", fixed=True)
    expected = FILES["stacks/app/main.tf"].count("e")
    assert expected > FILES["stacks/app/main.tf"].count("\n")  # several per line
    assert result.value == expected
    assert result.data == {"total": expected, "files": [{"path": "stacks/app/main.tf", "count": expected}]}


def test_count_no_match_and_bad_regex(jail: Jail) -> None:
    none = repo_count(jail, "helm_release")
    assert (none.status, none.value) == (ToolStatus.NO_DATA, 0)
    bad = repo_count(jail, "[")
    assert bad.status == ToolStatus.ERROR and bad.error is not None and "fixed=True" in bad.error


# --------------------------------------------------------------------------------------- read


def test_read_whole_file_with_line_numbers_and_redaction(jail: Jail) -> None:
    result = repo_read(jail, "stacks/db/main.tf")
    assert result.status == ToolStatus.OK
    assert result.output == (
        '1: image    = "postgres:latest"\n'
        f'2: password = "{fingerprint("hunter2")}"\n'
        "3: user     = var.db_user"
    )
    assert result.data == {"path": "stacks/db/main.tf", "start": 1, "end": 3, "total_lines": 3}
    assert result.command == "sed -n '1,3p' stacks/db/main.tf"
    assert "hunter2" not in result.output


def test_read_a_range_and_truncation(jail: Jail, estate: Path) -> None:
    (estate / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 21)))
    ranged = repo_read(jail, "long.txt", start=5, end=7)
    assert ranged.output == "5: line 5\n6: line 6\n7: line 7"
    assert ranged.command == "sed -n '5,7p' long.txt"
    capped = repo_read(jail, "long.txt", start=9, max_lines=3)
    assert capped.truncated
    assert capped.output.splitlines() == [
        " 9: line 9",
        "10: line 10",
        "11: line 11",
        "[lines 9-11 of 20 shown (max_lines=3); continue with start=12]",
    ]
    assert capped.command == "sed -n '9,11p' long.txt"
    past = repo_read(jail, "long.txt", start=30)
    assert past.status == ToolStatus.ERROR and past.error == "long.txt has 20 lines; start=30 is past the end"
    bad = repo_read(jail, "long.txt", start=5, end=2)
    assert bad.status == ToolStatus.ERROR


def test_read_refuses_binary_oversized_fifo_and_escapes(jail: Jail, estate: Path) -> None:
    (estate / "big.txt").write_text("row\n" * 300)
    small = Jail(estate, file_cap=1024)
    cases = {
        "img.png": "binary file",
        "escape.tf": "leaves the estate root",
        "../outside/leak.tf": "uses '..'",
        "stacks": "is a directory",
        "nope.tf": "does not exist",
    }
    for path, expected in cases.items():
        result = repo_read(jail, path)
        assert result.status == ToolStatus.ERROR, path
        assert result.error is not None and expected in result.error and repr(path) in result.error
    os.mkfifo(estate / "pipe")
    fifo = repo_read(jail, "pipe")
    assert fifo.error is not None and "is a FIFO" in fifo.error
    big = repo_read(small, "big.txt")
    assert big.error is not None and "read a line range" in big.error
    assert repo_read(small, "big.txt", start=299, end=300).output == "299: row\n300: row"


def test_read_empty_file_is_no_data(jail: Jail, estate: Path) -> None:
    (estate / "empty.tf").write_text("")
    result = repo_read(jail, "empty.tf")
    assert result.status == ToolStatus.NO_DATA
    assert result.output == "empty.tf is empty"


# --------------------------------------------------------------------------------------- list


def test_list_is_sorted_skips_git_and_lists_links_without_following(jail: Jail, tmp_path: Path) -> None:
    result = repo_list(jail)
    assert result.status == ToolStatus.OK
    assert result.output.splitlines() == [
        ".github/workflows/ci.yml",
        ".infra-audit.yaml",
        "current -> stacks/app",
        "docs/flags.md",
        f"escape -> {tmp_path / 'outside'} (not followed: it leaves the estate or loops)",
        f"escape.tf -> {tmp_path / 'outside' / 'leak.tf'} (not followed: it leaves the estate or loops)",
        "img.png",
        "stacks/app/main.tf",
        "stacks/db/main.tf",
    ]
    assert result.value == 9
    assert result.data[2] == {"path": "current", "type": "link", "target": "stacks/app", "escapes": False}
    size = len(FILES["stacks/db/main.tf"])
    assert result.data[-1] == {"path": "stacks/db/main.tf", "type": "file", "size": size}
    assert result.command == "find . -name .git -prune -o ! -type d -print | sort"


def test_list_with_glob_path_and_cap(jail: Jail) -> None:
    by_name = repo_list(jail, glob="*.tf")
    assert [d["path"] for d in by_name.data] == ["escape.tf", "stacks/app/main.tf", "stacks/db/main.tf"]
    assert by_name.command == "find . -name .git -prune -o ! -type d -name '*.tf' -print | sort"
    by_path = repo_list(jail, path="stacks", glob="stacks/db/*")
    assert [d["path"] for d in by_path.data] == ["stacks/db/main.tf"]
    assert by_path.command == "find stacks -name .git -prune -o ! -type d -path 'stacks/db/*' -print | sort"
    capped = repo_list(jail, max_entries=2)
    assert capped.truncated and capped.value == 9 and len(capped.data) == 2
    assert capped.output.splitlines()[-1] == (
        "[showing 2 of 9 entries; narrow with path= or glob= (e.g. '*.tf')]"
    )
    assert repo_list(jail, glob="*.nothing").status == ToolStatus.NO_DATA
    assert repo_list(jail, path="escape").status == ToolStatus.ERROR


def test_rg_is_found_in_the_environment_and_its_absence_is_an_error(
    jail: Jail, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert repo._rg_binary() == str(Path(sys.prefix) / "bin" / "rg")
    monkeypatch.setattr(repo, "_rg_binary", lambda: None)
    result = repo_search(jail, "x")
    assert result.status == ToolStatus.ERROR
    assert result.error is not None and "pip install 'ripgrep==14.1.0'" in result.error


def test_capped_search_with_context_shows_no_context_of_hidden_matches(jail: Jail, estate: Path) -> None:
    (estate / "many.txt").write_text("hit 1\nfiller a\nfiller b\nhit 2\n")
    result = repo_search(jail, "hit", path="many.txt", context=1, max_results=1)
    assert result.output.splitlines()[:-1] == ["many.txt:1:hit 1", "many.txt-2-filler a"]
    assert result.value == 2 and result.truncated


def test_cluster_snapshots_inside_the_estate_are_left_to_the_kube_tools(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "main.tf").write_text('image = "nginx:latest"\n')
    snap = tmp_path / "ops" / "cluster"
    snap.mkdir(parents=True)
    (snap / "_snapshot.json").write_text("{}\n")
    (snap / "core.v1.pods.json").write_text('{"image": "nginx:latest"}\n')
    jail = Jail(tmp_path)
    assert jail.snapshot_dirs == ("ops/cluster",)

    everywhere = repo_search(jail, ":latest", fixed=True)
    assert [m["path"] for m in everywhere.data] == ["stacks/main.tf"]
    assert "-g '!ops/cluster/**'" in everywhere.command
    assert repo_count(jail, ":latest", fixed=True).value == 1
    assert [e["path"] for e in repo_list(jail).data] == ["stacks/main.tf"]

    # Aimed inside the snapshot on purpose: searched, and the command says so.
    inside = repo_search(jail, ":latest", path="ops/cluster", fixed=True)
    assert [m["path"] for m in inside.data] == ["ops/cluster/core.v1.pods.json"]
    assert "!ops/cluster" not in inside.command


# ------------------------------------------------------------------- names that are not UTF-8


@pytest.fixture
def odd_names(tmp_path: Path) -> Jail:
    """An estate whose names hold bytes that are not UTF-8, a ':', a newline and a backslash."""
    root = os.fsencode(tmp_path / "odd")
    for rel, text in {
        b"stacks/caf\xe9/main.tf": b'image = "nginx:latest"\n',
        b"gitops/bad\xff.yaml": b"image: redis:latest\n",
        b"gitops/a:b.yaml": b"image: a:latest\nimage: b:latest\n",
        b"gitops/new\nline.yaml": b"image: c:latest\n",
        b"gitops/back\\slash.yaml": b"image: d:latest\n",
        b"snap\xff/_snapshot.json": b"{}\n",
        b"snap\xff/core.v1.pods.json": b'{"image": "e:latest"}\n',
        b"ops/snap[1]/_snapshot.json": b"{}\n",  # glob syntax in a snapshot's name: matched literally
        b"ops/snap[1]/core.v1.pods.json": b'{"image": "f:latest"}\n',
    }.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(text)
    return Jail(os.fsdecode(root))


SHOWN = [
    "gitops/a:b.yaml",
    "gitops/back\\\\slash.yaml",
    "gitops/bad\\xff.yaml",
    "gitops/new\\x0aline.yaml",
    "stacks/caf\\xe9/main.tf",
]


def test_search_count_list_and_read_show_odd_names_escaped_and_record_as_evidence(odd_names: Jail) -> None:
    toolbox = Toolbox(odd_names, None, Ledger())
    search = toolbox.call("repo_search", {"pattern": ":latest", "fixed": True})
    assert search.status == "ok" and search.value == 6
    assert sorted({m["path"] for m in toolbox.ledger.data(search.id)}) == SHOWN
    assert "stacks/caf\\xe9/main.tf:1:image = " in search.output
    assert "e:latest" not in search.output  # the snapshot, named in bytes too, is still left out
    assert "f:latest" not in search.output and "-g '!ops/snap\\[1\\]/**'" in search.command
    count = toolbox.call("repo_count", {"pattern": ":latest", "fixed": True})
    assert count.value == 6
    assert count.output.splitlines()[1:] == [f"{p}:{2 if p == 'gitops/a:b.yaml' else 1}" for p in SHOWN]
    listing = toolbox.call("repo_list", {"path": "."})
    assert listing.output.splitlines() == SHOWN
    for path in SHOWN:  # what the tools show is what a model can pass back
        read = toolbox.call("repo_read", {"path": path})
        assert read.status == "ok" and ":latest" in read.output, path
    assert toolbox.call("repo_read", {"path": "stacks/caf\\xe9/main.tf"}).command == (
        "sed -n '1,1p' $'stacks/caf\\xe9/main.tf'"
    )
    for ev in toolbox.ledger.items():
        json.dumps(ev.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")  # valid UTF-8 throughout


# ------------------------------------------------------------------- files over the size cap


def test_search_and_count_name_the_files_they_skipped_over_the_size_cap(tmp_path: Path) -> None:
    (tmp_path / "small.tf").write_text('image = "nginx:latest"\n')
    (tmp_path / "dump").mkdir()
    (tmp_path / "dump" / "big.json").write_text('"image": "huge:latest"\n' + "x" * 3000 + "\n")
    jail = Jail(tmp_path, file_cap=1024)

    search = repo_search(jail, "huge", fixed=True)
    assert search.status == ToolStatus.NO_DATA and search.value == 0
    assert search.output.splitlines() == [
        "no matches in '.'",
        "[1 file over the 1 KiB size cap not searched: dump/big.json (3.0 KiB); read one by line range "
        "with repo_read (start=, end=), or narrow the search with path= or glob=]",
    ]
    assert search.measures == {"files_not_searched": 1.0}
    hit = repo_search(jail, ":latest", fixed=True)
    assert hit.value == 1 and hit.output.splitlines()[-1].startswith("[1 file over the 1 KiB size cap")

    count = repo_count(jail, ":latest", fixed=True)
    assert count.value == 1 and count.data["not_searched"] == ["dump/big.json"]
    assert "dump/big.json (3.0 KiB)" in count.output.splitlines()[-1]

    # Not where the search looks, or not matched by its glob: nothing was skipped, nothing is said.
    for narrowed in (repo_search(jail, "huge", path="small.tf"), repo_search(jail, "huge", glob="*.tf")):
        assert narrowed.output == f"no matches in '{'small.tf' if narrowed.args['path'] != '.' else '.'}'"
        assert narrowed.measures == {}
    assert repo_read(jail, "dump/big.json", start=1, end=1).output == '1: "image": "huge:latest"'


def test_a_listing_names_each_entry_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk works out each entry's shown path once (it did it twice: ``Jail.rel`` was about a sixth
    of the research branches' profiled time on the 1,600-file estate)."""
    for d in ("a", "b", "b/c"):
        (tmp_path / d).mkdir()
        for i in range(5):
            (tmp_path / d / f"f{i}.yaml").write_text("x: 1\n")
    jail = Jail(tmp_path)
    jail.snapshot_dirs  # noqa: B018  (found once per jail, not per listing)
    asked: list[str] = []
    real = Jail.rel

    def counting(self: Jail, path: str | os.PathLike[str]) -> str:
        asked.append(os.fspath(path))
        return real(self, path)

    monkeypatch.setattr(Jail, "rel", counting)
    result = repo_list(jail, ".", max_entries=100)
    assert result.value == 15
    entries = [p for p in asked if Path(p).name != tmp_path.name]
    assert len(entries) == len(set(entries)) == 18  # 15 files and 3 directories, once each
