"""Parallel against sequential agents: a full five-concern LLM run replayed with per-call latency.

The run is the scripted home-lab cassette (cassettes/scripted-homelab-full.yaml: researchers,
challengers and synthesizer recorded against the project's scripted server, not a model), replayed
through the real Anthropic client and vcrpy. A sleep is injected in front of vcrpy's transport stub,
outside any lock, so concurrent calls wait the way network round trips would. The same replay runs
with the graph's default concurrency (five research branches, two challengers at once) and with
``max_concurrency=1`` (one task at a time).

    .venv/bin/python bench/llm_latency.py [--latency 0.25] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

REPO = Path(__file__).resolve().parent.parent
CASSETTE = REPO / "cassettes" / "scripted-homelab-full.yaml"
ESTATE = "examples/homelab"
CLUSTER = "examples/homelab/cluster"
RUN_ID = "scripted-homelab"
DATE = "2026-11-20"


def one_run(latency: float, concurrency: int | None) -> tuple[float, int]:
    from agents.llm.settings import ModelSettings
    from pipeline.audit import run_audit
    from pipeline.models import build_model
    from pipeline.recording import cassette, read_label
    from pipeline.settings import Environment, RunSettings

    model_id = read_label(CASSETTE)["model"]
    options = ModelSettings(model=model_id)
    settings = RunSettings(
        estate=REPO / ESTATE,
        estate_label=ESTATE,
        cluster=CLUSTER,
        date=DATE,
        workdir=REPO,
        mode="llm",
        llm=options,
        max_concurrency=concurrency,
    )
    model = build_model(options, Environment(), replay=True)
    calls = 0
    with cassette(CASSETTE, "replay"):
        stub = httpx2.HTTPTransport.handle_request

        def slow(self: Any, request: Any) -> Any:
            nonlocal calls
            calls += 1
            time.sleep(latency)
            return stub(self, request)

        httpx2.HTTPTransport.handle_request = slow  # type: ignore[method-assign]
        try:
            start = time.perf_counter()
            state = run_audit(settings, RUN_ID, model=model)
            wall = time.perf_counter() - start
        finally:
            httpx2.HTTPTransport.handle_request = stub  # type: ignore[method-assign]
    model.close()
    assert state.report is not None and not state.report.meta.concerns_failed
    return wall, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.25, help="seconds added to every model call")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    results: dict[str, Any] = {"latency_s": args.latency, "runs": args.runs}
    for name, concurrency in (("parallel", None), ("sequential", 1)):
        walls, calls = [], 0
        for _ in range(args.runs):
            wall, calls = one_run(args.latency, concurrency)
            walls.append(wall)
        results[name] = {
            "calls": calls,
            "min_s": round(min(walls), 2),
            "median_s": round(statistics.median(walls), 2),
        }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"full five-concern replay, {results['parallel']['calls']} model calls, "
            f"{args.latency:g} s added per call"
        )
        print("| mode | wall min (s) | wall median (s) |")
        print("|---|---:|---:|")
        for name in ("parallel", "sequential"):
            print(f"| {name} | {results[name]['min_s']} | {results[name]['median_s']} |")
        speedup = results["sequential"]["median_s"] / results["parallel"]["median_s"]
        print(f"speed-up: {speedup:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
