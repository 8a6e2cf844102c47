"""run_piped: a child fed in pieces through its pipe, never a file (the recount's jq input can hold
what a live cluster served); its failures and timeouts come back as ``subprocess.run`` gives them."""

from __future__ import annotations

import subprocess
import sys
import tempfile

import pytest
from estates import HOMELAB_SNAPSHOT

from tools.checks.reproduce import ReproSpec, Where
from tools.checks.reproduce_run import Listings, run_spec
from tools.kube.snapshot import SnapshotBackend
from tools.piped import run_piped
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

COUNT = "import sys; data = sys.stdin.buffer.read(); print(len(data), data[:3].decode(), data[-3:].decode())"


def test_every_piece_arrives_in_order() -> None:
    pieces = [b"abc", *([b"x" * 65536] * 64), b"xyz"]  # 4 MiB, more than a pipe holds
    done = run_piped([sys.executable, "-c", COUNT], pieces, timeout=60)
    assert (done.returncode, done.stdout.split(), done.stderr) == (
        0,
        [str(6 + 64 * 65536).encode(), b"abc", b"xyz"],
        b"",
    )


def test_a_child_that_stops_reading_is_its_exit_code_and_stderr() -> None:
    code = "import sys; sys.stderr.write('gave up'); sys.exit(3)"
    done = run_piped([sys.executable, "-c", code], [b"y" * 65536] * 64, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"", b"gave up")


def test_a_child_past_its_time_is_killed() -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        run_piped([sys.executable, "-c", "import time; time.sleep(30)"], [b"z"], timeout=0.5)


def test_the_recount_jq_writes_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        pytest.fail("the listings went to a file")

    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    spec = ReproSpec(jq=".items | length", resources=("jobs.batch", "pods"))
    printed = run_spec(spec, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), backend, Listings())
    jobs, pods = (
        len(backend.list_objects(next(r for r in backend.api_resources() if r.qualified == n)))
        for n in ("jobs.batch", "pods")
    )
    assert (printed.value, printed.error) == (jobs + pods, None)
