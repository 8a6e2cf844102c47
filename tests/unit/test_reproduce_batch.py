"""A recount's commands run ahead together (``reproduce_batch.prefetch``: the python commands in one
child, ``reproduce_scripts/batch.py``, fed as they become known; every jq filter in one jq program)
print what each prints alone, its failures included; and after it, the recount starts no child but
ripgrep."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

import pytest
from estates import FLUX_HOMELAB, HOMELAB, HOMELAB_SNAPSHOT
from reader_scripts import script_module

from agents.offline.challenge_numbers import cluster_facts
from tools.checks import reproduce_batch, reproduce_run
from tools.checks.reproduce import ReproSpec, Where, every_option
from tools.checks.reproduce_run import Job, Listings, _child, run_spec
from tools.checks.spec import load_catalog
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

pytestmark = pytest.mark.unit

SCRIPTS = {
    "prints.py": "print(' 42 ')",
    "exits_text.py": "import sys\nsys.exit('no check FOO: a message naming a file')",
    "exits_code.py": "import sys\nprint(7)\nsys.exit(3)",
    "raises.py": "import json\njson.loads('{')",
    "raises_own.py": "class PatternError(Exception):\n    pass\nraise PatternError('secret value')",
    "reads_stdin.py": "import json, sys\nprint(len(json.load(sys.stdin)['items']))",
    "env.py": "import os\nprint(len(os.environ.get('REPRODUCE_HELM', '')) + len(os.environ.get('HOME', '')))",
    "stray.py": "import subprocess\nsubprocess.run(['echo', '99'])\nprint(1)",
    "main_guard.py": "import sys\nif __name__ == '__main__':\n    print(len(sys.argv))",
    "slow.py": "import time\ntime.sleep(30)\nprint(1)",
    "swallows.py": "import time\ntry:\n    time.sleep(30)\nexcept Exception:\n    print(0)",
    "annotated.py": "x: undefined_name = 1\nprint(2)",  # no ``from __future__ import annotations``
}


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    for name, text in SCRIPTS.items():
        (tmp_path / name).write_text(text + "\n", encoding="utf-8")
    return tmp_path


def _ahead(
    jobs: list[Job], jail: Jail, backend: SnapshotBackend | None, listings: Listings
) -> dict[Job, Any]:
    """What each job printed, through one batch child."""
    batch = reproduce_batch.Scripts(jail, backend, listings)
    batch.submit(jobs)
    return batch.collect()


def _job(scripts: Path, name: str, *args: str, **env: str) -> Job:
    return Job((sys.executable, str(scripts / name), str(scripts), *args), None, tuple(sorted(env.items())))


def test_each_job_prints_and_fails_as_its_own_child(scripts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    jail = Jail(scripts)
    jobs = [
        _job(scripts, "prints.py"),
        _job(scripts, "exits_text.py"),
        _job(scripts, "exits_code.py"),
        _job(scripts, "raises.py"),
        _job(scripts, "raises_own.py"),
        _job(scripts, "env.py", REPRODUCE_HELM="helm template"),
        _job(scripts, "env.py"),  # the same script, the environment of the one before it gone
        _job(scripts, "stray.py"),
        _job(scripts, "main_guard.py", "a", "b"),
        Job((sys.executable, "-P", "-c", "import sys; print(sys.argv[1:] == [sys.argv[1]])", str(scripts))),
        _job(scripts, "annotated.py"),  # the batch's own ``from __future__`` is not the script's
        Job((sys.executable, "-P", "-c", SCRIPTS["annotated.py"], str(scripts))),
    ]
    ahead = _ahead(jobs, jail, None, Listings())
    alone = {job: _child(list(job.argv), jail, None, dict(job.env) or None) for job in jobs}
    assert ahead == alone
    assert [ahead[j].text for j in jobs if ahead[j].error is None] == ["42", "13", "0", "99\n1", "4", "True"]
    assert ahead[jobs[1]].error == "the command exited 1 (an error)"  # its message is not shown
    assert ahead[jobs[2]].error == "the command exited 3 (an error)"
    assert ahead[jobs[3]].error == "the command exited 1 (json.decoder.JSONDecodeError)"
    assert ahead[jobs[4]].error == "the command exited 1 (PatternError)"
    assert ahead[jobs[-2]].error == ahead[jobs[-1]].error == "the command exited 1 (NameError)"


def test_a_script_runs_as_runpy_runs_it_compiled_once_per_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``batch.run_script``: the globals ``runpy.run_path`` gives a script run as ``__main__``, the
    script the ``__main__`` module while it runs; its code compiled again only when its text changes."""
    batch = script_module("batch")
    script = tmp_path / "names.py"
    script.write_text("import sys\nVERSION = 1\nMAIN = sys.modules['__main__'].__dict__ is globals()\n")
    compiled: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        compiled.append(args[1])
        return compile(*args, **kwargs)

    monkeypatch.setattr(batch, "compile", counted, raising=False)
    main = sys.modules["__main__"]
    ran = batch.run_script(str(script))
    expected = runpy.run_path(str(script), run_name="__main__")
    assert {k: v for k, v in ran.items() if k != "__builtins__"} == {
        k: v for k, v in expected.items() if k != "__builtins__"
    }
    assert ran["MAIN"] is True and sys.modules["__main__"] is main
    assert batch.run_script(str(script))["VERSION"] == 1 and compiled == [str(script)]  # compiled once
    script.write_text(script.read_text().replace("VERSION = 1", "VERSION = 2"))
    assert batch.run_script(str(script))["VERSION"] == 2 and compiled == [str(script)] * 2


def test_a_job_out_of_time_is_a_timeout_and_the_next_job_runs(
    scripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reproduce_batch, "PY_TIMEOUT_S", 1)
    jail = Jail(scripts)
    jobs = [_job(scripts, "slow.py"), _job(scripts, "swallows.py"), _job(scripts, "prints.py")]
    listings = Listings()
    listings.outputs.update(_ahead(jobs, jail, None, listings))
    assert [listings.outputs[j].timed_out for j in jobs] == [True, True, False]
    assert listings.outputs[jobs[2]].text == "42"
    # a job out of time fails as the child of its own would: subprocess's timeout (a failure in run_spec)
    with pytest.raises(reproduce_run.subprocess.TimeoutExpired):
        reproduce_run.run_job(jobs[0], jail, None, listings)


def test_a_joined_job_reads_its_types_as_one_list(scripts: Path) -> None:
    backend, jail = SnapshotBackend(HOMELAB_SNAPSHOT), Jail(scripts)
    job = Job((sys.executable, str(scripts / "reads_stdin.py"), str(scripts)), ("pods", "nodes", "missing.x"))
    listings = Listings()
    ahead = _ahead([job], jail, backend, listings)
    alone = reproduce_run.run_job(job, jail, backend, Listings())
    assert ahead[job] == alone
    expected = len(backend.list_objects(next(r for r in backend.api_resources() if r.qualified == "pods")))
    expected += len(backend.list_objects(next(r for r in backend.api_resources() if r.qualified == "nodes")))
    assert alone.text == str(expected) and expected > 0


def test_a_batch_that_fails_as_a_whole_keeps_nothing(scripts: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reproduce_batch, "BATCH", scripts / "raises.py")
    assert _ahead([_job(scripts, "prints.py")], Jail(scripts), None, Listings()) == {}


def test_jobs_sent_early_and_late_run_once_in_one_child(
    scripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    real = reproduce_batch.subprocess.Popen

    def counted(*args: Any, **kwargs: Any) -> Any:
        started.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(reproduce_batch.subprocess, "Popen", counted)
    jail, listings = Jail(scripts), Listings()
    batch = reproduce_batch.Scripts(jail, None, listings)
    first, second = _job(scripts, "prints.py"), _job(scripts, "exits_code.py")
    batch.submit([first])  # a research branch's checks, while the others run
    batch.submit([first, second])  # the challenger's: the first is not sent again
    found = batch.collect()
    assert list(found) == [first, second] and found[first].text == "42"
    assert len(started) == 1
    assert batch.collect() == {}  # nothing more was sent
    listings.outputs.update(found)
    batch.submit([first, second])  # answered already: no child
    assert batch.collect() == {} and len(started) == 1


def _commands() -> list[ReproSpec]:
    """Every command of the catalog but rg's (a ``sum:``'s parts), once each."""
    found: dict[str, ReproSpec] = {}
    for spec in load_catalog():
        for declared in spec.reproduce.values():
            for option in reproduce_batch.parts(every_option(declared)):
                if option.rg is None:
                    found.setdefault(option.model_dump_json(), option)
    return list(found.values())


@pytest.mark.parametrize(
    ("estate", "snapshot"),
    [(HOMELAB, HOMELAB_SNAPSHOT), (FLUX_HOMELAB, None)],
    ids=["homelab", "flux-homelab"],
)
def test_every_catalog_command_prints_the_same_ahead_as_alone(
    estate: Path, snapshot: Path | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SnapshotBackend(snapshot) if snapshot is not None else None
    jail = Jail(estate)
    where = Where(
        estate=str(estate),
        cluster=str(snapshot) if snapshot else None,
        now="2025-01-01T00:00:00Z",
        snapshot_dirs=("cluster",) if snapshot else (),
        **cluster_facts(backend),
    )
    specs = [s for s in _commands() if backend is not None or not s.resources]
    alone = [run_spec(spec, jail, where, backend, Listings()) for spec in specs]
    listings = Listings()
    reproduce_batch.prefetch(specs, where, reproduce_batch.Scripts(jail, backend, listings))
    assert len(listings.outputs) >= sum(1 for s in specs if s.jq is None)

    def no_child(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a command ran in a child of its own after the batch")

    monkeypatch.setattr(reproduce_run, "_child", no_child)
    monkeypatch.setattr(reproduce_run, "run_piped", no_child)
    ahead = [run_spec(spec, jail, where, backend, listings) for spec in specs]
    assert ahead == alone
    assert sum(p.value is not None for p in alone) >= len(specs) * 3 // 4  # real numbers, not failures


def test_the_types_parsed_once_are_what_each_command_would_parse() -> None:
    batch = script_module("batch")
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    names = ["pods", "namespaces", "deployments.apps", "missing.x"]
    listings = Listings()
    texts = {n: listings.text(backend, n) for n in names}
    types = batch.Types({**texts, "broken": b'[{"kind": "Pod"', "latin1": b'[{"kind": "\xe9"}]'})
    assert types.parsed(names) == json.loads(batch.listed([texts[n] for n in names]))
    assert types.parsed(names) is not types.parsed(names)  # a new List each time
    assert len(types.parsed(names)["items"]) > 50
    assert types.parsed(["pods", "broken"]) is None and types.parsed(["latin1"]) is None


def test_a_module_at_the_estate_root_is_not_imported_in_place_of_a_library(tmp_path: Path) -> None:
    """A recount child runs at the estate's root: ``python3 -c`` would import the estate's ``yaml.py``
    before PyYAML (its directory first on the path) and run the audited repo's code. ``-P`` keeps it
    off the path, alone and in the batch."""
    (tmp_path / "yaml.py").write_text("import sys\nprint(666)\nsys.exit(9)\n", encoding="utf-8")
    (tmp_path / "app.yaml").write_text("kind: ConfigMap\n", encoding="utf-8")
    read = "yaml.safe_load_all(pathlib.Path(sys.argv[1], 'app.yaml').read_text())"
    spec = ReproSpec(python=f"import pathlib,sys,yaml;print(len(list({read})))")
    jail, where = Jail(tmp_path), Where(estate=str(tmp_path))
    alone = run_spec(spec, jail, where, None, Listings())
    listings = Listings()
    reproduce_batch.prefetch([spec], where, reproduce_batch.Scripts(jail, None, listings))
    assert alone.value == 1.0 and alone.error is None
    assert run_spec(spec, jail, where, None, listings) == alone and len(listings.outputs) == 1


def test_a_job_its_time_limit_cannot_stop_kills_the_child_and_the_rest_run_alone(
    scripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (scripts / "stuck.py").write_text(
        "import signal, time\nsignal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})\ntime.sleep(60)\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(reproduce_batch, "PY_TIMEOUT_S", 1)
    monkeypatch.setattr(reproduce_batch, "STUCK_GRACE_S", 1)
    waits: list[float] = []
    real_wait = reproduce_batch.subprocess.Popen.wait

    def wait(self: Any, timeout: float | None = None) -> Any:
        waits.append(timeout or 0.0)
        return real_wait(self, timeout)

    monkeypatch.setattr(reproduce_batch.subprocess.Popen, "wait", wait)
    jobs = [_job(scripts, "prints.py"), _job(scripts, "stuck.py"), _job(scripts, "exits_code.py")]
    found = _ahead(jobs, Jail(scripts), None, Listings())
    assert list(found) == [jobs[0]] and found[jobs[0]].text == "42"  # the others: not answered
    # no wait longer than one job's limit and the grace, however many jobs (not 1 x 3 + 10 s)
    assert waits and max(waits) <= 2


def test_a_listing_that_fails_ends_the_batch_and_keeps_what_it_answered(
    scripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.kube.backend import KubeQueryError

    backend, jail, listings = SnapshotBackend(HOMELAB_SNAPSHOT), Jail(scripts), Listings()
    real_listing = Listings.listing

    def listing(self: Listings, b: Any, name: str) -> Any:
        if name == "pods":
            raise KubeQueryError("the API server refused the list")
        return real_listing(self, b, name)

    monkeypatch.setattr(Listings, "listing", listing)
    batch = reproduce_batch.Scripts(jail, backend, listings)
    printed = ReproSpec(python="print(5)")
    joined = ReproSpec(script="joined_count.py", args=("SEC-NO-NETPOL",), resources=("pods",))
    reproduce_batch.prefetch([printed, joined], Where(), batch)
    assert batch._child is None  # ended, not left waiting for input until the run ends
    assert [o.text for o in listings.outputs.values()] == ["5"]


def test_a_one_liner_imports_nothing_of_the_scripts_a_job_before_it_imported(tmp_path: Path) -> None:
    """Alone, ``python3 -P -c`` cannot import the reader's modules; in the batch, after a script that
    imported them, it cannot either (and the script after it finds them again)."""
    (tmp_path / "app.yaml").write_text("kind: ConfigMap\nmetadata: {name: a}\n", encoding="utf-8")
    jail, root = Jail(tmp_path), str(tmp_path)
    reader = Job((sys.executable, str(reproduce_batch.SCRIPTS / "k8s_objects.py"), root))
    one_liner = Job((sys.executable, "-P", "-c", "import k8s_objects; print(1)", root))
    jobs = [reader, one_liner, reader]
    ahead = _ahead(jobs, jail, None, Listings())
    alone = {job: _child(list(job.argv), jail, None, None) for job in jobs}
    assert ahead == alone
    assert ahead[one_liner].error == "the command exited 1 (ModuleNotFoundError)"
    assert ahead[reader].text == "ConfigMap -/a"


def test_closing_ends_a_child_whose_answers_no_one_reads(
    scripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    children: list[Any] = []
    real = reproduce_batch._Child.__init__

    def child(self: Any, jail: Jail) -> None:
        children.append(self)
        real(self, jail)

    monkeypatch.setattr(reproduce_batch._Child, "__init__", child)
    batch = reproduce_batch.Scripts(Jail(scripts), None, Listings())
    batch.submit([_job(scripts, "slow.py")])  # sent early; its claim is then dropped
    batch.close()
    assert len(children) == 1 and children[0].proc.poll() is not None  # not running until the run ends
    assert batch.collect() == {}


def test_a_warmed_child_reads_the_estate_before_the_jobs_and_they_print_the_same(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run's batch child starts as the inventory is read and reads the estate's objects before
    any job asks (``warm``, once per child): the jobs then print what they print alone. A warm-up
    that fails (no such estate) prints nothing and leaves the reading to the jobs."""
    jail = Jail(HOMELAB)
    specs = [
        ReproSpec(script="objects_count.py", args=("REL-PROBE-ANY",)),
        ReproSpec(script="objects_count.py", args=("SCA-NO-HPA",)),
    ]
    where = Where(estate=str(HOMELAB), snapshot_dirs=("cluster",))
    alone = [run_spec(spec, jail, where, None, Listings()) for spec in specs]
    assert all(p.value is not None for p in alone)
    sent: list[bytes] = []
    real_send = reproduce_batch._Child.send

    def send(self: Any, *pieces: Any) -> None:
        sent.extend(p for p in pieces if isinstance(p, bytes))
        real_send(self, *pieces)

    monkeypatch.setattr(reproduce_batch._Child, "send", send)
    listings = Listings()
    batch = reproduce_batch.Scripts(jail, None, listings)
    batch.warm([])  # as the inventory starts: nothing known to skip
    batch.warm(["cluster"])  # once it is read
    batch.warm(["cluster"])  # once per child and skip
    reproduce_batch.prefetch(specs, where, batch)
    assert [run_spec(spec, jail, where, None, listings) for spec in specs] == alone
    warms = [json.loads(s) for s in sent if s.startswith(b'{"warm"')]
    assert warms == [{"warm": {"root": str(HOMELAB), "skip": skip}} for skip in ([], ["cluster"])]
    k8s, script = script_module("k8s_objects"), script_module("batch")
    key, first = (str(HOMELAB), ("cluster",)), (str(HOMELAB), ())
    k8s._OBJECTS.pop(key, None)
    script.warm(str(HOMELAB), [], 30)
    assert first in k8s._OBJECTS
    script.warm(str(HOMELAB), ["cluster"], 30)
    assert len(k8s._OBJECTS[key]) > 20  # read ahead, into the memo the scripts read
    assert first not in k8s._OBJECTS  # the earlier warm's list let go (its texts stay read)
    script.warm(str(HOMELAB / "no-such-estate"), [], 5)
    monkeypatch.setattr(k8s, "objects", lambda *a: 1 / 0)
    script.warm(str(HOMELAB), [], 5)  # a reading that fails is left to the jobs
    assert capsys.readouterr() == ("", "")


def test_the_scripts_memos_outlive_their_job_in_the_batch(tmp_path: Path) -> None:
    """``secret_count.py`` (each file's credentials, for its four measures) and ``joined_count.py`` (the
    Terraform releases, for each check) keep what they read in their own modules, which the batch
    keeps imported (a script's ``__main__`` starts anew each job): the next job reads nothing again."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        f"import sys\nsys.path.insert(0, {str(reproduce_batch.SCRIPTS)!r})\n"
        "import joined_count, secret_count\n"
        "print(len(secret_count._SCANNED) > 10, list(joined_count._TERRAFORM))\n"
    )
    scripts = reproduce_batch.SCRIPTS
    jobs = [
        Job((sys.executable, str(scripts / "secret_count.py"), str(HOMELAB), "count", "cluster")),
        Job((sys.executable, str(scripts / "joined_count.py"), str(HOMELAB), "SEC-NO-NETPOL", "cluster")),
        Job((sys.executable, str(probe), str(HOMELAB))),
    ]
    ahead = _ahead(jobs, Jail(HOMELAB), None, Listings())
    alone = {job: _child(list(job.argv), Jail(HOMELAB), None, None) for job in jobs}
    assert [ahead[j] for j in jobs[:2]] == [alone[j] for j in jobs[:2]]
    assert alone[jobs[2]].text == "False []"  # alone, each job reads for itself
    assert ahead[jobs[2]].text == f"True [({str(HOMELAB)!r}, ('cluster',))]"
