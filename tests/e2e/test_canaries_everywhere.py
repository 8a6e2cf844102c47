"""No canary of any class leaves the tools, wherever the audit writes (issue 7, section 3).

``tests/canaries.py`` plants a canary of every class (Terraform Secret data, secret and sensitive
variable defaults, sensitive outputs, secret headers, passwords on command lines, tfstate results and
sensitive attributes, 14 token shapes under neutral keys, live env values, args, last-applied
annotations, event messages and Secret data) in an estate and its cluster snapshot. Then the estate is
read every way a person or a model can read it (``infra-audit tool`` for every file and object,
``inventory --json``, a full offline audit, and an LLM-mode audit against the scripted Anthropic server
with ``--record``), and no canary (nor its tail, nor its base64) may appear in any tool output, the
inventory dump, any request body the server received, the cassette, audit.md/json/sarif,
transcript.jsonl, the log records and stderr/stdout, or any value or byte of the SQLite run store. What
must stay readable (key names, a git SHA, a Helm checksum, an image digest, a ``password: string``
type map, ``${VAR}`` references) is asserted to be there, as written.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from canaries import (
    CHECKSUM,
    DIGEST,
    GIT_SHA,
    KEPT,
    PLAIN,
    broken_yaml,
    estate_files,
    leaked,
    plant_estate,
    snapshot_files,
)
from fakes import Router, ScriptedAnthropicServer
from scenarios.common import (
    INTENT_KEY,
    NUMBERS_KEY,
    SCRIPTED_MODEL,
    SYNTH_KEY,
    Agent,
    Conversation,
    catalog,
    catalog_finding,
    explore,
    researcher_key,
    submit,
)
from scenarios.roles import Decision, IntentScript, intent_challenger, numbers_challenger, synthesizer

from domain.concerns import CONCERNS
from pipeline.cli import main

pytestmark = pytest.mark.e2e

DATE = "2026-11-20"
FILES = sorted(estate_files()) + sorted(f for f in snapshot_files() if f != "cluster/_snapshot.json")
SEARCHES: list[tuple[str, dict[str, Any]]] = [
    ("repo_search", {"pattern": "CANARY", "context": 2, "max_results": 500}),
    (
        "repo_search",
        {"pattern": r"hooks\.slack|SG\.|AccountKey|sk-|pypi-|ghp_|AKIA|xoxb|eyJ|AC[0-9a-f]{8}", "context": 1},
    ),
    ("repo_search", {"pattern": "default|value|result|password|token|key", "ignore_case": True}),
    ("repo_count", {"pattern": "CANARY"}),
    ("repo_list", {"path": "."}),
]
KUBE: list[tuple[str, dict[str, Any]]] = [
    *(
        ("kube_get", {"resource": r, "all_namespaces": True})
        for r in ("cm", "pods", "deploy", "secrets", "events")
    ),
    ("kube_describe", {"resource": "deployment", "name": "notifier", "namespace": "app"}),
    ("kube_describe", {"resource": "pod", "name": "notifier-7d9f-abcde", "namespace": "app"}),
    ("kube_describe", {"resource": "configmap", "name": "notifier", "namespace": "app"}),
    ("kube_events", {"all_namespaces": True}),
]
READS = [("repo_read", {"path": f}) for f in FILES]


@dataclass
class Cli:
    code: int
    stdout: str
    stderr: str
    logs: str


@contextlib.contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every log record of every logger, formatted with its arguments and traceback, while inside."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(logging.Formatter("%(name)s %(levelname)s %(message)s").format(record))

    root = logging.getLogger()
    handler, level = Keep(logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def cli(argv: list[str]) -> Cli:
    stdout, stderr = io.StringIO(), io.StringIO()
    with captured_logs() as logs, contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(argv)
    return Cli(code, stdout.getvalue(), stderr.getvalue(), "\n".join(logs))


def tool(estate: Path, name: str, args: dict[str, Any], *, as_json: bool = True) -> Cli:
    params = [f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in args.items()]
    flags = ["--json"] if as_json else []
    return cli(["tool", str(estate), name, *params, *flags, "--cluster", str(estate / "cluster")])


def sqlite_values(state: Path) -> list[object]:
    """Every value of every row of every table of every SQLite file under ``state``."""
    values: list[object] = []
    for path in sorted(p for p in state.rglob("*") if p.is_file()):
        if not path.read_bytes().startswith(b"SQLite format 3\x00"):
            continue
        with contextlib.closing(sqlite3.connect(path)) as conn:
            tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")]
            for table in tables:
                values += [v for row in conn.execute(f'select * from "{table}"') for v in row]
    assert values, f"no run store under {state}"
    return values


def outputs_of(out: Path, state: Path) -> dict[str, object]:
    """What a run left behind, by where it is: the reports, the transcript, every store value and byte."""
    found: dict[str, object] = {name: (out / name).read_text(encoding="utf-8") for name in REPORTS}
    found.update({f"sqlite value {i}": v for i, v in enumerate(sqlite_values(state))})
    found.update({f"bytes of {p}": p.read_bytes() for p in state.rglob("*") if p.is_file()})
    return found


REPORTS = ("audit.md", "audit.json", "audit.sarif", "transcript.jsonl")


def assert_clean(where: dict[str, object]) -> None:
    problems = {name: found for name, payload in where.items() if (found := leaked(payload))}
    assert problems == {}


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return plant_estate(tmp_path_factory.mktemp("canary-estate"))


# --------------------------------------------------------------------------------------- the tools


def test_no_canary_leaves_any_tool(estate: Path) -> None:
    runs = {f"{name} {args}": tool(estate, name, args) for name, args in [*READS, *SEARCHES, *KUBE]}
    runs |= {f"panel {name} {args}": tool(estate, name, args, as_json=False) for name, args in READS}
    assert {k: r.code for k, r in runs.items() if r.code != 0} == {}
    assert_clean(
        {f"{k} {part}": getattr(r, part) for k, r in runs.items() for part in ("stdout", "stderr", "logs")}
    )
    hits = json.loads(runs[f"repo_count {SEARCHES[3][1]}"].stdout)
    assert hits["value"] >= len(FILES)  # the canaries are there to be found, each shown redacted


def test_redaction_keeps_keys_and_non_secrets(estate: Path) -> None:
    shown = {f: json.loads(tool(estate, "repo_read", {"path": f}).stdout)["output"] for f in FILES}
    for file, needles in {
        "stacks/app/main.tf": [
            'variable "db_password" {',
            "  type    = string",
            "    password = var.db_password",
            "type = object({ user = string, password = string })",
            '"config.json" = <<-EOT',
            "${var.db_user}",
            f"?ref={GIT_SHA}",
            f"registry.local/app@{DIGEST}",
            'encoded_password = base64encode("<redacted:sha256:',
        ],
        "k8s/notifier.yaml": [
            f"checksum/config: {CHECKSUM}",
            f"commit: {GIT_SHA}",
            f"image: registry.local/app@{DIGEST}",
            "value: ${GITHUB_TOKEN}",
            "digest_of_nothing: plain",
            "AccountName=app;AccountKey=<redacted:sha256:",
        ],
        "k8s/gateway.yaml": [
            "X-Vault-Token: <redacted:sha256:",
            "X-Request-Id: keep-me",
            "password: string",
            "token: ${GITHUB_TOKEN}",
        ],
        "scripts/backup.sh": [
            '"X-Vault-Token: <redacted:sha256:',
            " -p<redacted:sha256:",
            "PGPASSWORD=<redacted",
            'export TOKEN="${VAULT_TOKEN}"',
        ],
        "docs/runbook.md": [f"fixed in {GIT_SHA};"],
        "stacks/app/terraform.tfstate": [
            '"lineage": "5f1c0c8e',
            '"id": "bold-heron"',
            '"value": "db.app.svc"',
            '"result": "<redacted:sha256:',
        ],
        "cluster/apps.v1.deployments.json": [f'"checksum/config": "{CHECKSUM}"', DIGEST],
    }.items():
        assert [n for n in needles if n not in shown[file]] == [], file
    for file in FILES:  # line numbers never move: as many lines shown as the file has
        assert shown[file].count("\n") == (estate / file).read_text().rstrip("\n").count("\n"), file


def test_no_canary_in_the_inventory_dump(estate: Path) -> None:
    done = cli(["inventory", str(estate), "--cluster", str(estate / "cluster"), "--json"])
    assert done.code == 0, done.stderr
    assert_clean({"stdout": done.stdout, "stderr": done.stderr, "logs": done.logs})
    inventory = json.loads(done.stdout)
    defaults = {v["name"]: v["default"] for v in inventory["code"]["variables"]}
    fingerprinted = ("db_password", "storage_account_key", "notify_target", "api_token")
    assert [n for n in fingerprinted if not str(defaults[n]).startswith("<redacted:sha256:")] == []
    secrets = {s["name"]: s["keys"] for s in inventory["code"]["secrets"]}
    assert secrets["db"] == ["username", "password", "dsn"]  # key names stay
    issues = [(i["path"], i["line"], i["reason"]) for i in inventory["code"]["issues"]]
    assert issues == [
        ("k8s/broken-password.yaml", 7, "syntax"),
        ("k8s/broken-tag.yaml", 6, "syntax"),
        ("stacks/broken/main.tf", 2, "syntax"),
    ]
    # our own messages are asserted whole; the YAML library's wording (the first) is not
    messages = [i["message"] for i in inventory["code"]["issues"]]
    assert messages[1:] == ["a value that is not a valid !!int", "syntax error: unexpected '\"…\"'"]
    events = inventory["live"]["events"]
    assert [e["message"] for e in events] == [
        "Readiness probe failed: curl -H 'X-Vault-Token: " + events[0]["message"].split(": ", 2)[2]
    ]
    assert "X-Vault-Token: <redacted:sha256:" in events[0]["message"]


# ------------------------------------------------------------------------------------- the audits


def test_no_canary_in_an_offline_audit(estate: Path, tmp_path: Path) -> None:
    out, state = tmp_path / "out", tmp_path / "state"
    argv = [
        "run",
        str(estate),
        "--cluster",
        str(estate / "cluster"),
        "--offline",
        "--out",
        str(out),
        "--state-dir",
        str(state),
        "--run-id",
        "canary-offline",
        "--date",
        DATE,
    ]
    done = cli(argv)
    assert done.code == 0, done.stderr[-2000:]
    report = json.loads((out / "audit.json").read_text())
    assert report["findings"], "the canary estate has findings: the reports are not vacuous"
    assert_clean({"stdout": done.stdout, "stderr": done.stderr, "logs": done.logs, **outputs_of(out, state)})


def _findings(convo: Conversation) -> dict[str, Any]:
    return {"findings": [catalog_finding(row) for row in catalog(convo.system).values()]}


def canary_router() -> Router:
    """The security researcher reads every file and object; the others search once; all submit."""
    routes: dict[str, Any] = {
        researcher_key(c): Agent(
            f"{c} researcher",
            [explore("One search first.", SEARCHES[0]), submit("submit_findings", _findings)],
        )
        for c in CONCERNS
    }
    routes[researcher_key("security")] = Agent(
        "security researcher",
        [
            explore("Reading every file and object.", *READS, *SEARCHES, *KUBE),
            submit("submit_findings", _findings),
        ],
    )
    routes[NUMBERS_KEY] = numbers_challenger([SEARCHES[3]], why="the re-count differs")
    intent = IntentScript(
        search=("repo_search", {"pattern": "on purpose|deliberate|rotated", "ignore_case": True}),
        decisions=(Decision(check="NONE", path="docs/runbook.md", needle="Runbook", reason="none"),),
    )
    routes[INTENT_KEY] = intent_challenger(intent)
    routes[SYNTH_KEY] = synthesizer([])
    return Router(routes)


def test_no_canary_reaches_the_model_or_the_cassette(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, state, cassette = tmp_path / "out", tmp_path / "state", tmp_path / "canary.yaml"
    argv = [
        "run",
        str(estate),
        "--cluster",
        str(estate / "cluster"),
        "--out",
        str(out),
        "--state-dir",
        str(state),
        "--run-id",
        "canary-llm",
        "--date",
        DATE,
        "--model",
        SCRIPTED_MODEL,
        "--record",
        str(cassette),
    ]
    with ScriptedAnthropicServer(canary_router()) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", "scripted-test-key")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.base_url)
        done = cli(argv)
        requests = server.requests
    assert done.code == 0, done.stderr[-2000:]
    bodies = [r.body for r in requests]
    read = [b for b in bodies if "Reading every file and object." in json.dumps(b)]
    assert read and all(f in json.dumps(read) for f in FILES)  # the model was shown every file
    assert "<redacted:sha256:" in json.dumps(read)
    assert [k for k in KEPT if k not in json.dumps(read)] == []  # the model still sees keys and non-secrets
    assert_clean(
        {
            "stdout": done.stdout,
            "stderr": done.stderr,
            "logs": done.logs,
            "cassette": cassette.read_text(encoding="utf-8"),
            **{f"request {i}": body for i, body in enumerate(bodies)},
            **outputs_of(out, state),
        }
    )


# ---------------------------------------------------------------------------- what was not read


def test_no_canary_in_what_was_not_read(estate: Path, tmp_path: Path) -> None:
    """A snapshot whose writer could not read pods (the server's words, kept in ``_snapshot.json``) and
    whose dump of config maps does not load: both types are named as not read, by the terminal, the
    inventory dump, the reports and the checks that needed them, each with its reason redacted."""
    snap = tmp_path / "cluster"
    shutil.copytree(estate / "cluster", snap)
    meta = json.loads((snap / "_snapshot.json").read_text())
    meta["unread"] = {"pods": f"pods is forbidden: Authorization: Bearer {PLAIN['snapshot-unread-reason']}"}
    (snap / "_snapshot.json").write_text(json.dumps(meta))
    (snap / "core.v1.pods.json").unlink()
    (snap / "core.v1.configmaps.json").unlink()
    tagged = broken_yaml("notifier", f"db_password: !!int {PLAIN['yaml-int-tag']}")
    (snap / "core.v1.configmaps.yaml").write_text(tagged)

    shown = cli(["inventory", str(estate), "--cluster", str(snap)])
    dump = cli(["inventory", str(estate), "--cluster", str(snap), "--json"])
    out, state = tmp_path / "out", tmp_path / "state"
    run = cli(
        [
            "run",
            str(estate),
            "--cluster",
            str(snap),
            "--offline",
            "--out",
            str(out),
            "--state-dir",
            str(state),
            "--run-id",
            "canary-unread",
            "--date",
            DATE,
        ]
    )
    assert (shown.code, dump.code, run.code) == (0, 0, 4), run.stderr[-2000:]  # 4: types not read
    assert_clean(
        {
            **{
                f"{name} {part}": getattr(done, part)
                for name, done in (("shown", shown), ("dump", dump))
                for part in ("stdout", "stderr", "logs")
            },
            "run stdout": run.stdout,
            "run stderr": run.stderr,
            "run logs": run.logs,
            **outputs_of(out, state),
        }
    )
    forbidden = (
        "not read from its cluster when the snapshot was taken: pods is forbidden: Authorization: Bearer "
    )
    broken = f"{snap}/core.v1.configmaps.yaml:6: a value that is not a valid !!int"
    unread = json.loads(dump.stdout)["live"]["unread"]
    assert [(u["resource"], u["kind"], u["reason"].split("<redacted:sha256:")[0]) for u in unread] == [
        ("pods", "Pod", forbidden),
        ("configmaps", "ConfigMap", broken),
    ]
    assert unread[0]["reason"].startswith(forbidden + "<redacted:sha256:")
    report = json.loads((out / "audit.json").read_text())
    assert [u["reason"] for u in report["unread"]["resources"]] == [u["reason"] for u in unread]
    for where in (shown.stdout, run.stdout, (out / "audit.md").read_text()):
        assert forbidden + "<redacted:sha256:" in " ".join(where.split()), where
    unknown = {  # each check that needed pods says why it is unknown, with the same fingerprint
        check: why
        for c in report["concerns"].values()
        for check, why in c["skipped"].items()
        if "pods" in why
    }
    pods_only = f"unknown: the cluster's pods ({unread[0]['reason']}) could not be read"
    assert unknown == {
        **dict.fromkeys(
            (
                "REL-LIVE-CRASHLOOP",
                "REL-LIVE-RESTARTS",
                "SCA-LIVE-NODE-PRESSURE",
                "REL-LIVE-PENDING-PODS",
                "REL-LIVE-IMAGE-PULL",
                "REL-LIVE-PVC-UNBOUND",  # whether a pod mounts the claim
                "REL-LIVE-ROUTE-NO-BACKEND",  # a Service's matching pods
                "REL-LIVE-SERVICE-NO-PODS",
                "MNT-LIVE-ABANDONED-NAMESPACE",  # absences: without pods, unknown (not a lower bound)
            ),
            pods_only,
        ),
    }
