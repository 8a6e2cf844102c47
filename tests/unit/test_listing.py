"""A type's JSON list is written to the recount's children in chunks of the snapshot's own bytes,
never joined and kept (issue 13: at 10k pods that was a second copy of the snapshot, 58 MiB, at the
moment the audit's memory peaked); what the children read is the text a command alone reads."""

from __future__ import annotations

import json

import pytest
from estates import HOMELAB, HOMELAB_SNAPSHOT

from agents.offline.challenge_numbers import cluster_facts
from tools.checks import reproduce_batch
from tools.checks.listing import JsonList, written
from tools.checks.reproduce import Where
from tools.checks.reproduce_run import Listings
from tools.checks.spec import load_catalog
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("size", [1, 5, 12, 1 << 20])
@pytest.mark.parametrize("items", [[], [b'{"a":1}'], [b'{"a":1}', b'{"b":"x,y"}', b"[]", b'"s"']])
def test_the_chunks_are_the_joined_text(items: list[bytes], size: int) -> None:
    listing = JsonList(items=items)
    chunks = list(listing.chunks(size))
    assert b"".join(chunks) == listing.joined() == b"[" + b",".join(items) + b"]"
    assert len(listing) == len(listing.joined())
    assert json.loads(listing.joined()) == [json.loads(i) for i in items]
    if size == 1 and len(items) > 1:
        assert len(chunks) == len(items) + 2  # one item each, and the brackets


def test_a_whole_text_is_written_as_it_is() -> None:
    text = b'[{"kind": "Pod"}]'
    listing = JsonList(text=text)
    assert list(listing.chunks()) == [text] and listing.joined() is text and len(listing) == len(text)
    assert b"".join(written([b"<", listing, b">"])) == b"<" + text + b">"


def test_the_recount_run_ahead_joins_no_type(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    where = Where(
        estate=str(HOMELAB),
        cluster=str(HOMELAB_SNAPSHOT),
        now="2025-01-01T00:00:00Z",
        snapshot_dirs=("cluster",),
        **cluster_facts(backend),
    )
    specs = [
        option
        for check in load_catalog()
        for declared in check.reproduce.values()
        for option in reproduce_batch.parts([declared])
        if option.rg is None and option.resources
    ]
    assert any(s.jq for s in specs) and any(s.jq is None for s in specs)
    listings = Listings()
    reproduce_batch.prefetch(specs, where, reproduce_batch.Scripts(Jail(HOMELAB), backend, listings))
    assert listings.jq and listings.outputs  # both children answered
    assert listings._texts == {}  # written in chunks of the snapshot's bytes, nothing joined and kept
    pods = listings.listing(backend, "pods")
    assert json.loads(pods.joined()) == backend.list_objects(
        next(r for r in backend.api_resources() if r.qualified == "pods")
    )


def test_an_empty_text_is_an_empty_list_in_length_and_bytes() -> None:
    for listing in (JsonList(text=b""), JsonList(), JsonList(items=[])):
        assert b"".join(listing.chunks()) == listing.joined() == b"[]" and len(listing) == 2
