"""The estate parsed by a child while the run imports (``tools/inventory/parse_early.py``, issue 13): the
records it gives are those an in-process parse makes, and whatever goes wrong with it (it fails, prints
something cut short or garbled, was told another chart cache, was never told one) leaves the run to
parse the estate itself. The size that makes an estate big enough is lowered here."""

from __future__ import annotations

import os
import pickle
import signal
import sys
from pathlib import Path

import pytest
from estates import ARGO_HOMELAB, EXAMPLES, FLUX_HOMELAB, GITOPS, HOMELAB
from helm_estates import import_charts

import tools.inventory.parse_early as early
from tools.helm.options import ChartOptions
from tools.inventory import build
from tools.inventory.inventory import Records


@pytest.fixture
def big_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early, "MIN_FILES", 1)
    monkeypatch.setattr(early, "cores", lambda: 2)


def _child_parse(root: Path, cache: Path | None = None) -> tuple[int, Records] | None:
    early.EarlyParse.start(root)
    early.EarlyParse.choose(root, cache)
    return build._taken(root, ChartOptions(cache_dir=cache))


@pytest.mark.parametrize(
    "estate",
    [HOMELAB, GITOPS, FLUX_HOMELAB, ARGO_HOMELAB, EXAMPLES / "k3s-platform"],
    ids=lambda p: p.name,
)
@pytest.mark.usefixtures("big_enough")
def test_the_childs_records_are_those_of_a_parse_in_process(estate: Path) -> None:
    root = build.check_root(estate)
    files, records = build.parse_estate(root, lambda: None)
    taken = _child_parse(root)
    assert taken is not None
    assert taken[0] == files
    assert all(getattr(taken[1], name) == getattr(records, name) for name in Records.model_fields)
    records.drop_release_objects()  # rendered by now: the child lets them go before it pickles
    assert taken[1] == records  # every list and field (the Helm renders' too), and the private state
    assert sum(len(getattr(records, name)) for name in Records.list_fields()) > 0
    assert not early._early  # taken once, not left for another run


@pytest.mark.parametrize("estate", [FLUX_HOMELAB, ARGO_HOMELAB], ids=lambda p: p.name)
@pytest.mark.usefixtures("big_enough")
def test_the_child_renders_from_the_chart_cache_it_is_told(estate: Path, tmp_path: Path) -> None:
    cache = import_charts(tmp_path / "cache")  # the releases' charts, as `charts import` puts them
    root = build.check_root(estate)
    files, records = build.parse_estate(root, lambda: ChartOptions(cache_dir=cache))
    assert any(r.rendered for r in records.helm_renders)  # from the cache: without it none renders
    taken = _child_parse(root, cache)
    assert taken is not None
    records.drop_release_objects()
    assert taken == (files, records)


@pytest.mark.usefixtures("big_enough")
def test_broken_files_and_names_that_are_not_utf8_come_back_as_parsed_in_process(tmp_path: Path) -> None:
    root = tmp_path / "estate"
    odd = Path(os.fsdecode(bytes(root) + b"/caf\xe9"))  # a directory name that is not UTF-8
    odd.mkdir(parents=True)
    (odd / "main.tf").write_text('resource "kubernetes_deployment" "web" {\n  metadata { name = "web" }\n')
    (root / "broken.yaml").write_text("kind: Deployment\nmetadata: {name: [unclosed\n")
    (root / "ok.yaml").write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n")
    (root / "ok.tf").write_text('resource "null_resource" "x" {\n  provisioner "local-exec" {}\n}\n')
    files, records = build.parse_estate(build.check_root(root), lambda: None)
    assert [i.path for i in records.issues] == ["broken.yaml", "caf\\xe9/main.tf"]  # reported, skipped
    assert [w.name for w in records.workloads] == ["api"] and len(records.escape_hatches) == 1
    taken = _child_parse(build.check_root(root))
    assert taken == (files, records)


def test_a_small_estate_or_one_core_starts_no_child(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(3):
        (tmp_path / f"main{i}.tf").write_text('resource "null_resource" "x" {}\n')
    monkeypatch.setattr(early, "MIN_FILES", 4)
    monkeypatch.setattr(early, "cores", lambda: 2)
    early.EarlyParse.start(tmp_path)
    assert not early._early
    monkeypatch.setattr(early, "MIN_FILES", 3)
    monkeypatch.setattr(early, "cores", lambda: 1)
    early.EarlyParse.start(tmp_path)
    assert not early._early
    monkeypatch.setattr(early, "cores", lambda: 2)
    monkeypatch.setattr(early, "MIN_FILES", 1)
    early.EarlyParse.start(tmp_path / "absent")
    assert not early._early


def test_holds_files_counts_as_the_walk_does_and_stops_at_the_count(tmp_path: Path) -> None:
    (tmp_path / "a.tf").write_text("")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text("")
    for skipped in (".git", ".terraform", "node_modules"):
        (tmp_path / skipped).mkdir()
        for i in range(5):
            (tmp_path / skipped / f"f{i}").write_text("")
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    for i in range(5):
        (outside / f"g{i}.tf").write_text("")
    (tmp_path / "linked").symlink_to(outside, target_is_directory=True)  # not followed
    assert early.holds_files(tmp_path, 2)
    assert not early.holds_files(tmp_path, 3)


@pytest.mark.usefixtures("big_enough")
def test_another_chart_cache_fetching_or_no_cache_told_leave_the_parse_to_the_run(tmp_path: Path) -> None:
    root = build.check_root(HOMELAB)
    early.EarlyParse.start(root)
    early.EarlyParse.choose(root, tmp_path / "cache")
    child = early._early.get(root)
    assert child is not None
    assert build._taken(root, ChartOptions(cache_dir=tmp_path / "other")) is None
    assert child._proc.returncode is not None  # killed, not left running
    early.EarlyParse.start(root)
    early.EarlyParse.choose(root, None)
    assert early.EarlyParse.take(root, None, fetch=True) is None
    early.EarlyParse.start(root)  # never told its cache: the run did not get that far
    assert early.EarlyParse.take(root, None, fetch=False) is None
    assert not early._early


NOT_RECORDS = pickle.dumps(("3", None))


@pytest.mark.parametrize(
    "prints, exits",
    [
        (b"", 3),  # the parse raised: nothing printed
        ((100).to_bytes(8, "big") + b"cut short", 0),
        ((7).to_bytes(8, "big") + b"garbled", 0),  # whole, but not a pickle
        (len(NOT_RECORDS).to_bytes(8, "big") + NOT_RECORDS, 0),  # a whole pickle, of something else
    ],
    ids=["failed", "cut-short", "garbled", "not-records"],
)
@pytest.mark.usefixtures("big_enough")
def test_a_child_that_fails_or_prints_garbage_gives_nothing(
    prints: bytes, exits: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = f"import sys; sys.stdin.readline(); sys.stdout.buffer.write({prints!r}); sys.exit({exits})"
    monkeypatch.setattr(early.EarlyParse, "argv", staticmethod(lambda root: [sys.executable, "-c", script]))
    root = build.check_root(HOMELAB)
    early.EarlyParse.start(root)
    assert early._early.get(root) is not None  # started: what it prints is what is judged
    early.EarlyParse.choose(root, None)
    assert build._taken(root, ChartOptions()) is None
    inventory = build.build_inventory(HOMELAB)  # and the run's own parse goes on
    assert inventory.code.workloads


@pytest.mark.usefixtures("big_enough")
def test_a_child_never_claimed_is_killed_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    waits = "import sys, time; sys.stdin.readline(); time.sleep(60)"
    monkeypatch.setattr(early.EarlyParse, "argv", staticmethod(lambda root: [sys.executable, "-c", waits]))
    early.EarlyParse.start(HOMELAB)
    child = early._early.get(HOMELAB)
    assert child is not None
    early._early.kill_unclaimed()  # what runs at exit
    assert child._proc.wait(timeout=10) == -signal.SIGKILL
    assert not early._early
    child._ended()  # the pipe this test's process would otherwise leave open


def test_unpickled_records_share_their_field_names_copy_on_write() -> None:
    """Built records share one set of field names per content (``Record``); pickled together, they
    share one set again, unknown to ``Record``: without ``__setstate__`` assigning to one would mark
    the field set on the other too."""
    from tools.inventory.models import CodeRef

    a, b = pickle.loads(pickle.dumps([CodeRef(path="a.tf", line=1), CodeRef(path="b.tf", line=2)]))
    a.end_line = 3
    assert a.model_fields_set == {"path", "line", "end_line"}
    assert b.model_fields_set == {"path", "line"}
