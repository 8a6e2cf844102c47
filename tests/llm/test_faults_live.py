"""Model outages, live against the scripted server: one fault class at a time, on one research route.

The security researcher's first turn of the gitops-base scenario gets the fault; the other four
researchers, both challengers and the synthesizer talk to the same server undisturbed. Each case
asserts exactly how many requests that turn cost, which follows from the two retry layers:

* the SDK (``max_retries=2``): up to 3 attempts per call for 408/409/429/5xx and dropped
  connections, honouring ``retry-after-ms``; never for another 4xx;
* the graph's node retry (``pipeline/graph.py``, ``max_attempts=2``): the whole research node once
  more, only for ``ModelUnavailable`` (what outlived the SDK's retries), never for ``ModelRejected``.

So an outage costs at most 3 x 2 = 6 requests, and a rejected request exactly one. A request that
times out (``--request-timeout``) is the exception: the SDK does not retry it (the server may still
be generating), so a slow server costs one request per node attempt, 2 in all. With ``--stream`` the
timeout is the wait between two events: a stream slower than the timeout in all, but never silent
for that long, is not cut. Waits are real
but tiny: the server asks for 1 ms (``retry-after-ms``), the node retry waits 10 ms, and a dropped
connection (no header: the SDK's own backoff) is cut to 1 ms after its computed wait is recorded.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from estates import GITOPS, REPO
from fakes import Fault, ScriptedAnthropicServer, drop, fail, slow
from rich.console import Console
from scenarios import gitops
from scenarios.common import SCRIPTED_MODEL, researcher_key

from agents.llm.anthropic_model import AnthropicModel
from agents.llm.settings import ModelSettings
from domain.concerns import CONCERNS
from pipeline.audit import run_audit
from pipeline.commands.common import finish
from pipeline.settings import RunSettings
from pipeline.state import AuditState

pytestmark = pytest.mark.graph

SECURITY = researcher_key("security")
SECURITY_TURNS = 3  # the gitops security researcher: explore, explore, submit
OTHERS = [c for c in CONCERNS if c != "security"]
FOREVER = 100


@dataclass(frozen=True)
class Case:
    fault: Fault
    times: int
    requests: int
    ok: bool
    error: str = ""
    timeout: float = 120.0
    stream: bool = False


CASES = {
    "429-retry-after-then-ok": Case(
        fail(429, "rate_limit_error", headers={"retry-after": "1", "retry-after-ms": "1"}), 1, 2, True
    ),
    "529-sdk-gives-up-node-retry-ok": Case(fail(529, "overloaded_error"), 3, 3 + 1, True),
    "529-persistent": Case(fail(529, "overloaded_error"), FOREVER, 3 * 2, False, "HTTP 529 overloaded_error"),
    "500-persistent": Case(fail(500, "api_error"), FOREVER, 3 * 2, False, "HTTP 500 api_error"),
    "dropped-persistent": Case(drop(), FOREVER, 3 * 2, False, "failed (RemoteProtocolError)"),
    "400-never-retried": Case(fail(400, "invalid_request_error"), FOREVER, 1, False, "HTTP 400"),
    # a slow server: the timeout is 2.5 s, the stalled reply 6 s late (the server stops waiting when
    # the test ends); the SDK does not retry a timeout, the node retries once after its pause
    "slow-timeout-persistent": Case(slow(6), FOREVER, 1 * 2, False, "sent nothing for 2.5s", timeout=2.5),
    "slow-timeout-then-ok": Case(slow(6), 1, 1 + 1, True, timeout=2.5),
    "slow-stream-silent-persistent": Case(
        slow(6), FOREVER, 1 * 2, False, "sent no event for 2.5s", timeout=2.5, stream=True
    ),
    # 0.15 s before each of the reply's 22 events (a text and three tool calls): 3.3 s in all, never
    # 2.5 s without one
    "slow-stream-steady-ok": Case(slow(0.15), 1, 1, True, timeout=2.5, stream=True),
}


@dataclass
class Live:
    state: AuditState
    server: ScriptedAnthropicServer
    waits: list[float]
    out: Path
    printed: str
    exit_code: int


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Runs the audit of one case of ``CASES`` by name, once per module: two tests read the same run
    (a ``Live`` is only read, never changed)."""
    done: dict[str, Live] = {}

    def run(name: str) -> Live:
        if name not in done:
            done[name] = audit(CASES[name], tmp_path_factory.mktemp(name))
        return done[name]

    yield run


def audit(case: Case, tmp_path: Path) -> Live:
    with ScriptedAnthropicServer(gitops.router()) as server:
        server.fail_on(SECURITY, case.fault, turn=0, times=case.times)
        settings = ModelSettings(
            model=SCRIPTED_MODEL,
            api_key="scripted-test-key",
            base_url=server.base_url,
            max_retries=2,
            timeout=case.timeout,
            stream=case.stream,
        )
        model = AnthropicModel(settings)
        waits: list[float] = []
        computed = model._client._calculate_retry_timeout

        def recorded(*args: Any, **kwargs: Any) -> float:
            waits.append(computed(*args, **kwargs))
            return min(waits[-1], 0.001)

        model._client._calculate_retry_timeout = recorded  # type: ignore[method-assign]
        run_settings = RunSettings(
            estate=GITOPS,
            estate_label="examples/gitops-base",
            date="2026-11-20",
            workdir=REPO,
            mode="llm",
            llm=ModelSettings(model=SCRIPTED_MODEL),
            out=tmp_path,
            retry_wait=0.01,
        )
        state = run_audit(run_settings, "fault", model=model)
        model.close()
    console = Console(file=io.StringIO(), width=200)
    code = finish(console, state)
    return Live(state, server, waits, tmp_path, console.file.getvalue(), code)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(CASES))
def test_a_fault_on_one_research_route(name: str, live: Any) -> None:
    case = CASES[name]
    done: Live = live(name)
    first_turn = done.server.requests_for(SECURITY, turn=0)
    assert len(first_turn) == case.requests, [r.status for r in first_turn]
    expected_route = case.requests + (SECURITY_TURNS - 1 if case.ok else 0)
    assert len(done.server.requests_for(SECURITY)) == expected_route
    counts = done.server.route_counts()
    for concern in OTHERS:
        result = done.state.results[concern]
        assert result.status == "ok" and result.note is None and result.findings, concern
        assert counts[researcher_key(concern)] == 2, concern  # untouched: explore, submit
    security = done.state.results["security"]
    report = done.state.report
    assert report is not None and (done.out / "audit.md").is_file() and (done.out / "audit.json").is_file()
    md = (done.out / "audit.md").read_text(encoding="utf-8")
    if case.ok:
        assert security.status == "ok" and security.findings
        assert done.exit_code == 0 and not report.meta.concerns_failed
    else:
        kind = "ModelRejected" if case.requests == 1 else "ModelUnavailable"
        assert security.status == "failed" and security.error is not None
        assert security.error.startswith(f"{kind}: research:security: model {SCRIPTED_MODEL}: ")
        assert case.error in security.error
        assert report.meta.concerns_failed == {"security": security.error}
        assert "**Warning**: R5 Security research failed" in md
        assert done.exit_code == 4 and "failed concerns: security" in done.printed


def test_the_sdk_waits_what_the_server_asks_and_backs_off_without_a_header(live: Any) -> None:
    told = live("529-persistent")
    assert told.waits == [0.001] * 4  # retry-after-ms: 1, twice per node attempt
    dropped = live("dropped-persistent")
    assert len(dropped.waits) == 4
    assert all(0.375 <= w <= 0.5 for w in dropped.waits[0::2])  # 0.5 s x jitter (0.75-1)
    assert all(0.75 <= w <= 1.0 for w in dropped.waits[1::2])  # 1 s x jitter
