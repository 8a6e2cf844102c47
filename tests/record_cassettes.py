"""Re-record the scripted cassettes in ``cassettes/``: ``python tests/record_cassettes.py [--only NAME]``.

Why this script exists: no model API is reachable where this project is built, so its LLM path is
proven against the scripted Anthropic-compatible server the tests own (``tests/fakes/``), driven by
the scenarios in ``tests/scenarios/``. This script starts that server, runs ``infra-audit`` in-process
with ``--record`` exactly as a user with a key would, and then rewrites each cassette's header to say
what it is: scripted traffic, not a model's. It also sorts the interactions by conversation and turn
and drops the server's random port, so re-recording an unchanged scenario gives the same bytes.

``infra-audit rerun`` has no ``--record``; the re-run cassette is recorded by calling what the command
calls (``pipeline.audit.rerun_audit``) inside ``pipeline.recording.cassette``. Its model is the
scripted model id of the original run, passed explicitly: the command would pick the default model.
It starts from the homelab run's audit.json, so recording it records ``scripted-homelab-full`` too.

Each header keeps the run's arguments (``run``, a ``pipeline.recorded_run.RecordedRun``: what ``--record``
wrote for a run, built here for the re-run), so ``infra-audit run --replay FILE`` alone replays.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:  # run as a script: make ``fakes`` and ``scenarios`` importable
    sys.path.insert(0, str(TESTS))

from fakes import Router, ScriptedAnthropicServer, first_system_line  # noqa: E402
from scenarios import gitops, homelab  # noqa: E402
from scenarios.common import SCRIPTED_MODEL  # noqa: E402

from domain.concerns import Concern  # noqa: E402

CASSETTES = REPO / "cassettes"
DATE = "2026-11-20"
API_KEY = "scripted-test-key"
HEADER = "infra_audit"


@dataclass(frozen=True)
class Recording:
    """One cassette: the scenario that answers and the ``infra-audit run`` arguments (no --record)."""

    name: str
    scenario: str
    router: Callable[[], Router]
    argv: tuple[str, ...]

    @property
    def path(self) -> Path:
        return CASSETTES / f"{self.name}.yaml"


def run_argv(estate: str, run_id: str, cluster: str | None = None) -> tuple[str, ...]:
    argv = ["run", estate, "--run-id", run_id, "--date", DATE, "--model", SCRIPTED_MODEL]
    return (*argv, "--cluster", cluster) if cluster else tuple(argv)


HOMELAB = Recording(
    "scripted-homelab-full",
    "tests/scenarios/homelab.py",
    homelab.router,
    run_argv(homelab.ESTATE, homelab.RUN_ID, homelab.CLUSTER),
)
GITOPS = Recording(
    "scripted-gitops-full", "tests/scenarios/gitops.py", gitops.router, run_argv(gitops.ESTATE, gitops.RUN_ID)
)
RERUN = Recording("scripted-homelab-rerun-security", "tests/scenarios/homelab.py", homelab.router, ())
RERUN_CONCERNS: list[Concern] = ["security"]
"""What the re-run cassette re-runs: ``infra-audit rerun AUDIT.json --concern security``."""
RECORDINGS = {r.name: r for r in (HOMELAB, GITOPS, RERUN)}


def label(recording: Recording) -> dict[str, str]:
    """The header of a scripted cassette: what answered, and that no model did."""
    return {
        "recorded_against": "the project's scripted Anthropic-compatible test server "
        "(tests/fakes/anthropic_server.py) on 127.0.0.1, not a model",
        "model": SCRIPTED_MODEL,
        "recorded_on": DATE,
        "note": "SCRIPTED traffic: every reply was written in advance by "
        f"{recording.scenario} and played back by the test server. No model produced any of it.",
        "scripted": "true",
        "scenario": recording.scenario,
        "rerecord": f"python tests/record_cassettes.py --only {recording.name}",
    }


@contextmanager
def scripted_env(server: ScriptedAnthropicServer) -> Iterator[None]:
    """The credential and endpoint a user would export, pointing at the scripted server, and an empty
    chart cache (what the tests use), then restored."""
    names = {
        "ANTHROPIC_API_KEY": API_KEY,
        "ANTHROPIC_BASE_URL": server.base_url,
        "INFRA_AUDIT_CHART_CACHE": "/nonexistent/infra-audit-no-charts",  # as the tests: an empty cache
    }
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update(names)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def record_run(recording: Recording, work: Path) -> Path:
    """``infra-audit run ... --record`` against the scripted server; returns the audit.json written."""
    from pipeline.cli import main

    out = work / recording.name
    fresh(recording.path)
    argv = [*recording.argv, "--record", str(recording.path), "--out", str(out), "--state-dir", str(work)]
    with ScriptedAnthropicServer(recording.router()) as server, scripted_env(server):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"{recording.name}: infra-audit exited {code}")
    finalize(recording)
    return out / "audit.json"


def record_rerun(recording: Recording, audit_json: Path, work: Path) -> Path:
    """What ``infra-audit rerun AUDIT --concern ...`` does, inside a recording cassette."""
    from agents.llm.settings import ModelSettings
    from pipeline import models
    from pipeline.audit import rerun_audit, settings_for_rerun
    from pipeline.recorded_run import RUN_KEY, RecordedRun
    from pipeline.recording import cassette
    from pipeline.render.json_out import load_report
    from pipeline.settings import Environment

    report = load_report(audit_json)
    out = work / recording.name
    settings = settings_for_rerun(report, out, None, REPO)
    fresh(recording.path)
    with ScriptedAnthropicServer(recording.router()) as server, scripted_env(server):
        options = ModelSettings(model=report.meta.model, base_url=server.base_url)
        model = models.build_model(options, Environment.read())
        settings = settings.model_copy(update={"mode": "llm", "llm": options})
        recorded = RecordedRun(
            command="rerun",
            estate=settings.display_estate,
            cluster=report.meta.cluster,
            run_id=f"{report.meta.run_id}-rerun-{'-'.join(RERUN_CONCERNS)}",
            date=report.meta.date,
            model=options.model or SCRIPTED_MODEL,
            concerns=tuple(RERUN_CONCERNS),
            budget=options.budget,
        )
        header = {**label(recording), RUN_KEY: recorded.model_dump(mode="json")}
        with cassette(recording.path, "record", header):
            state = rerun_audit(report, settings, RERUN_CONCERNS, model=model)
    if state.report is None or state.report.meta.concerns_failed:
        raise SystemExit(f"{recording.name}: the re-run did not finish cleanly")
    finalize(recording)
    return out / "audit.json"


def fresh(path: Path) -> None:
    """Start from no cassette. ``--record`` onto an existing file keeps the old interactions that the
    new run did not repeat (vcrpy's "all" mode without ``drop_unused_requests``), and such a cassette
    never replays; tests/llm/test_replay_strictness.py shows it."""
    path.unlink(missing_ok=True)


_PORT = re.compile(r"127\.0\.0\.1:\d+")


def finalize(recording: Recording) -> None:
    """Relabel (keeping the recorded run's arguments), drop the random port and sort interactions by
    conversation and turn."""
    path = recording.path
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    run_arguments = document[HEADER]["run"]
    interactions = document["interactions"]
    for item in interactions:
        request = item["request"]
        request["uri"] = _PORT.sub("127.0.0.1", request["uri"])
        request["headers"] = {
            k: [_PORT.sub("127.0.0.1", v) for v in vs] for k, vs in request.get("headers", {}).items()
        }

    def order(item: dict[str, Any]) -> tuple[str, int, str]:
        body = (item["request"].get("body") or {}).get("json") or {}
        return (first_system_line(body), len(body.get("messages", [])), json.dumps(body, sort_keys=True))

    interactions.sort(key=order)
    header = {**label(recording), "run": run_arguments}
    document = {HEADER: header, "interactions": interactions, "version": document.get("version", 1)}
    path.write_text(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(RECORDINGS), action="append", help="record only this one")
    args = parser.parse_args(argv)
    wanted = set(args.only or RECORDINGS)
    if RERUN.name in wanted:
        wanted.add(HOMELAB.name)  # the re-run starts from the audit.json this run writes
    os.chdir(REPO)  # estate paths are written as given ('examples/homelab'): prompts must not vary
    with tempfile.TemporaryDirectory(prefix="infra-audit-record-") as tmp:
        work = Path(tmp)
        if HOMELAB.name in wanted:
            homelab_audit = record_run(HOMELAB, work)
            if RERUN.name in wanted:
                record_rerun(RERUN, homelab_audit, work)
        if GITOPS.name in wanted:
            record_run(GITOPS, work)
    for name in sorted(wanted):
        path = RECORDINGS[name].path
        print(f"{path.relative_to(REPO)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
