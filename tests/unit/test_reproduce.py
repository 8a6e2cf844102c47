"""The standard-tool commands of the catalog: their declaration, their shell text, and their run.

The shell text is what the appendix prints and a person pastes; ``run_spec`` is how the numbers
challenger runs the same command without a shell. Both must agree, so the same spec is run both
ways here on a small estate.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from estates import HOMELAB_SNAPSHOT
from pydantic import ValidationError

from tools.checks.reproduce import RENDERED, ReproSpec, Where, applies, shell, snapshot_file
from tools.checks.reproduce_run import Listings, run_all, run_spec
from tools.checks.spec import load_catalog
from tools.kube.snapshot import SnapshotBackend
from tools.sandbox import Jail

VENV_BIN = str(Path(sys.executable).parent)


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    (root / "stacks").mkdir(parents=True)
    (root / "stacks" / "main.tf").write_text(
        'resource "a" "x" {\n  lifecycle {\n    ignore_changes = [tags]\n  }\n}\n'
        'resource "a" "y" {\n  lifecycle {\n    ignore_changes = all\n  }\n}\n'
        "# ignore_changes in a comment, twice: ignore_changes\n",
        encoding="utf-8",
    )
    (root / "docs.md").write_text("run `kubectl scale` then `kubectl scale` again\n", encoding="utf-8")
    (root / "cluster").mkdir()
    (root / "cluster" / "_snapshot.json").write_text("{}", encoding="utf-8")
    (root / "cluster" / "x.tf").write_text("ignore_changes = all\n", encoding="utf-8")
    return root


def bash(command: str, cwd: Path) -> str:
    env = {**os.environ, "PATH": os.pathsep.join([VENV_BIN, os.environ.get("PATH", "")])}
    argv = ["bash", "-c", command]
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (ReproSpec(rg=r"^\s*ignore_changes\s*=", glob=("*.tf",)), 2),
        (ReproSpec(rg="ignore_changes", glob=("*.tf",)), 3),  # lines: the comment line counts once
        (ReproSpec(rg="ignore_changes", glob=("*.tf",), count="matches"), 4),  # every hit
        (ReproSpec(rg="ignore_changes", count="files"), 1),  # the snapshot's x.tf is skipped
        (ReproSpec(rg=r"kubectl \w+", count="unique"), 1),
        (ReproSpec(rg=r"lifecycle \{\n\s*ignore_changes", flags=("-U",), count="matches"), 2),
        (ReproSpec(python='import pathlib,sys;print(len(list(pathlib.Path(sys.argv[1]).rglob("*.md"))))'), 1),
        (ReproSpec(sum=(ReproSpec(rg="ignore_changes = all"), ReproSpec(rg="kubectl"))), 2),
        (ReproSpec(rg="ignore_changes", glob=("*.hcl",)), 0),  # no file to search: rg exits 2, wc prints 0
        (ReproSpec(rg="ignore_changes", glob=("*.hcl",), count="matches"), 0),  # awk's sum of nothing
        (ReproSpec(rg="ignore_changes", glob=("*.hcl",), count="files"), 0),
        (ReproSpec(rg=r"kubectl \w+", glob=("*.hcl",), count="unique"), 0),
    ],
)
def test_a_repo_command_prints_in_the_shell_what_the_sandbox_counts(
    estate: Path, spec: ReproSpec, expected: int
) -> None:
    where = Where(estate="estate", snapshot_dirs=("cluster",))
    jail = Jail(estate)
    assert run_spec(spec, jail, where, None).value == expected
    assert bash(shell(spec, where), estate.parent) == str(expected)


def test_a_cluster_command_reads_the_snapshot_files_or_the_live_context() -> None:
    spec = ReproSpec(jq="[.items[] | select(.status.failed > 0)] | length", resources=("jobs.batch", "pods"))
    snap = shell(spec, Where(cluster="examples/homelab/cluster"))
    assert snap == (
        "jq -s '{items: map(.items[])} | [.items[] | select(.status.failed > 0)] | length' "
        "examples/homelab/cluster/batch.v1.jobs.json examples/homelab/cluster/core.v1.pods.json"
    )
    live = shell(spec, Where(cluster="live", context="lab admin", kubeconfig="/k/config"))
    assert live == (
        "kubectl get jobs.batch,pods -A -o json --context 'lab admin' --kubeconfig /k/config"
        " | jq '[.items[] | select(.status.failed > 0)] | length'"
    )
    clocked = ReproSpec(jq="[.items[] | select(.t < $now)] | length", resources=("pods",))
    at = Where(cluster="s", now="2026-11-20T00:00:00Z")
    assert "jq -s --arg now 2026-11-20T00:00:00Z " in shell(clocked, at)
    assert "--arg" not in shell(spec, at)
    assert snapshot_file("applications.argoproj.io") == "argoproj.io.v1alpha1.applications.json"


def test_a_jq_command_runs_through_the_library_over_the_snapshot() -> None:
    spec = ReproSpec(
        jq="[.items[] | select((.status.failed // 0) > 0 and (.status.succeeded // 0) == 0)] | length",
        resources=("jobs.batch",),
    )
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    printed = run_spec(spec, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), backend)
    assert printed.value == 3 and printed.error is None
    if shutil.which("jq"):  # the binary, where the machine has one, prints the same
        assert bash(shell(spec, Where(cluster=str(HOMELAB_SNAPSHOT))), HOMELAB_SNAPSHOT) == "3"


class CountingBackend(SnapshotBackend):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.listed: list[str] = []

    def list_objects(self, rtype, namespace=None, label_selector=None, field_selector=None):  # type: ignore[no-untyped-def]
        self.listed.append(rtype.qualified)
        return super().list_objects(rtype, namespace, label_selector, field_selector)

    def listing_blobs(self, rtype):  # type: ignore[no-untyped-def]
        self.listed.append(rtype.qualified)  # each object's text, the recount's listing
        return super().listing_blobs(rtype)


def test_a_recount_lists_each_type_once_for_all_its_jq_commands() -> None:
    """At 10k pods, listing and writing the pods again for each of the 9 commands over them was
    most of the numbers challenger's time; one recount writes each type once."""
    backend = CountingBackend(HOMELAB_SNAPSHOT)
    failed_jobs = "[.items[] | select((.status.failed // 0) > 0 and (.status.succeeded // 0) == 0)] | length"
    specs = {
        "count": ReproSpec(jq=failed_jobs, resources=("jobs.batch",)),
        "all": ReproSpec(jq=".items | length", resources=("jobs.batch", "pods")),
        "sum": ReproSpec(sum=(ReproSpec(jq=".items | length", resources=("pods",)),) * 2),
    }
    listings = Listings()
    jail, where = Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x")
    printed = run_all(specs, jail, where, backend, listings)
    jobs, pods = (
        len(backend.list_objects(_type(backend, "jobs.batch"))),
        len(backend.list_objects(_type(backend, "pods"))),
    )
    assert {k: p.value for k, p in printed.items()} == {"count": 3, "all": jobs + pods, "sum": 2 * pods}
    assert backend.listed == ["jobs.batch", "pods", "jobs.batch", "pods"]  # the last two: this test's own
    again = run_all({"count": specs["count"]}, jail, where, backend, listings)
    assert again["count"].value == 3 and len(backend.listed) == 4  # the recount's listing is reused


def _type(backend: SnapshotBackend, name: str):  # type: ignore[no-untyped-def]
    return next(r for r in backend.api_resources() if r.qualified == name)


def test_jq_runs_in_a_child_process_not_in_the_audits(monkeypatch: pytest.MonkeyPatch) -> None:
    """jq holds what it reads at about 8x the text and gives it to the allocator, not the system: in
    the audit's process that set the run's peak (135 MB at 5k pods). The library never runs here."""

    class NoJq:
        def __getattr__(self, name: str) -> object:
            raise AssertionError("jq ran in the audit's process")

    monkeypatch.setitem(sys.modules, "jq", NoJq())
    spec = ReproSpec(jq="[.items[] | select(.status.failed > 0)] | length", resources=("jobs.batch",))
    printed = run_spec(
        spec, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), SnapshotBackend(HOMELAB_SNAPSHOT)
    )
    assert printed.value == 3 and printed.error is None
    broken = run_spec(
        ReproSpec(jq="[.items[", resources=("pods",)),
        Jail(HOMELAB_SNAPSHOT.parent),
        Where(cluster="x"),
        SnapshotBackend(HOMELAB_SNAPSHOT),
    )
    assert broken.value is None and broken.error  # the child's error, as data


def test_a_failing_command_is_a_value_of_none_with_the_reason(estate: Path) -> None:
    jail = Jail(estate)
    broken = run_spec(ReproSpec(python="raise SystemExit(3)"), jail, Where(), None)
    assert broken.value is None and broken.error is not None
    words = run_spec(ReproSpec(python='print("many")'), jail, Where(), None)
    assert (
        words.value is None
        and words.error == "the command exited 0 and printed 1 line (4 characters), not a number"
    )
    bad_pattern = run_spec(ReproSpec(rg="(", glob=("*.tf",)), jail, Where(), None)  # an error, not a 0
    assert (bad_pattern.value, bad_pattern.error) == (None, "rg exited 2 (an error)")  # rg's words: never
    no_cluster = run_spec(ReproSpec(jq="1", resources=("pods",)), jail, Where(), None)
    assert no_cluster.value is None and no_cluster.error == "no cluster to read"


SECRET = "hunter2-Zq8vX1pL0s"


@pytest.mark.parametrize(
    ("code", "shape"),
    [
        (f'print("{SECRET}")', "1 line (18 characters)"),
        (f'print("password:");print("{SECRET}")', "2 lines (27 characters)"),
        ('print("  ")', "nothing"),
    ],
)
def test_a_command_that_prints_no_number_never_quotes_what_it_printed(
    estate: Path, code: str, shape: str
) -> None:
    """A recount command that prints a non-number may be printing what it read (a secret of the estate);
    the error, which reaches the gaps and the report, gives the exit code and the output's shape only."""
    printed = run_spec(ReproSpec(python=code), Jail(estate), Where(), None)
    assert printed.value is None
    assert printed.error == f"the command exited 0 and printed {shape}, not a number"
    assert "hunter2" not in printed.error and "password" not in printed.error


@pytest.mark.parametrize(
    ("program", "shape"),
    [
        (f'"{SECRET}"', "1 line (18 characters)"),
        (f'["{SECRET}"]', "a list"),
        (f'{{"v": "{SECRET}"}}', "an object"),
        ("null", "null"),
        ("true", "true or false"),
    ],
)
def test_a_jq_filter_that_yields_no_number_never_quotes_it(program: str, shape: str) -> None:
    printed = run_spec(
        ReproSpec(jq=program, resources=("pods",)),
        Jail(HOMELAB_SNAPSHOT.parent),
        Where(cluster="x"),
        SnapshotBackend(HOMELAB_SNAPSHOT),
    )
    assert printed.value is None
    assert printed.error == f"the command exited 0 and printed {shape}, not a number"
    assert "hunter2" not in printed.error


def test_conditions_say_where_a_command_is_exact() -> None:
    live_only = ReproSpec(jq="1", resources=("pods",), when=("no-code:workloads",))
    assert applies(live_only, {"workloads": 0}, cluster=True)
    assert not applies(live_only, {"workloads": 3}, cluster=True)
    assert not applies(live_only, {}, cluster=False)  # a cluster fact needs a cluster
    code_only = ReproSpec(python="print(1)", when=("no-cluster",))
    assert applies(code_only, {}, cluster=False) and not applies(code_only, {}, cluster=True)


def test_a_python_recount_is_not_exact_when_helm_rendered_objects() -> None:
    """A ``python:`` command reads the files as written: Helm-rendered objects are in none of them, so
    it is not run (the claim is listed) instead of "correcting" the count to what the files hold."""
    files = ReproSpec(python="print(1)")
    assert applies(files, {RENDERED: 0}, cluster=False)
    assert not applies(files, {RENDERED: 4}, cluster=False)
    assert not applies(ReproSpec(sum=(files, ReproSpec(rg="x"))), {RENDERED: 4}, cluster=False)
    assert applies(ReproSpec(rg="kubectl apply"), {RENDERED: 4}, cluster=False)  # text, not objects


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"rg": "x", "jq": "y", "resources": ["pods"]},
        {"jq": "length"},  # no resources
        {"rg": "x", "flags": ["--pre=sh"]},  # only the listed rg flags
        {"rg": "x", "when": ["sometimes"]},
    ],
)
def test_a_malformed_declaration_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ReproSpec.model_validate(fields)


def test_the_catalog_declares_commands_that_validate() -> None:
    declared = {s.id: s.reproduce for s in load_catalog() if s.reproduce}
    assert {"DEC-IGNORE-CHANGES", "REL-LIVE-RESTARTS", "SEC-NO-PSS"} <= set(declared)
    for check, specs in declared.items():
        assert "count" in specs, f"{check}: the main number has no command"


def test_a_cluster_command_names_only_the_types_the_cluster_serves() -> None:
    """kubectl refuses a whole list when one type is not served, and a snapshot has no file of it:
    the command leaves such a type out (the filter sees none of it, as the checks did)."""
    spec = ReproSpec(
        jq='[.items[] | select(.kind == "Ingress")] | length',
        resources=("ingresses.networking.k8s.io", "ingressroutes.traefik.io"),
    )
    served = frozenset({"ingresses.networking.k8s.io", "pods"})
    snap = shell(spec, Where(cluster="snap", served=served))
    assert snap.endswith(" snap/networking.k8s.io.v1.ingresses.json")
    assert "traefik" not in snap
    live = shell(spec, Where(cluster="live", context="c", served=served))
    assert live.startswith("kubectl get ingresses.networking.k8s.io -A -o json --context c | jq ")
    none = shell(spec, Where(cluster="snap", served=frozenset({"pods"})))
    assert none == "jq -n '{items: []} | [.items[] | select(.kind == \"Ingress\")] | length'"
    if shutil.which("jq"):
        assert bash(none, Path.cwd()) == "0"
    assert shell(spec, Where(cluster="snap")).count(".json") == 2  # not known: every type named


def test_the_server_version_is_an_argument_of_the_command_like_the_clock() -> None:
    spec = ReproSpec(jq="[$server, $now] | length", resources=("nodes",))
    where = Where(cluster="snap", server="v1.33.6+k3s1", now="2026-11-28T00:00:00Z")
    text = shell(spec, where)
    assert "--arg now 2026-11-28T00:00:00Z --arg server v1.33.6+k3s1 " in text
    assert "--arg server" not in shell(ReproSpec(jq="1", resources=("nodes",)), where)
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    skew = ReproSpec(jq="$server", resources=("nodes",))
    printed = run_spec(skew, Jail(HOMELAB_SNAPSHOT.parent), dataclasses.replace(where, server="7"), backend)
    assert printed.value == 7 and printed.error is None


def test_otherwise_gives_the_command_where_the_first_one_is_not_exact() -> None:
    """SEC-NO-PSS: the code's namespaces by a script without a cluster, the live ones by jq with a
    cluster whose estate writes no Namespace; an estate with both joins them with the reader's script
    (``--live``), and one with Helm-rendered objects has no exact command (listed)."""
    from tools.checks.reproduce import RENDERED, chosen
    from tools.checks.spec import spec_by_id
    from tools.kube.resources import ResourceTable

    spec = spec_by_id("SEC-NO-PSS").reproduce["count"]
    assert chosen(spec, {}, cluster=False) is spec
    live = chosen(spec, {"resources": 1}, cluster=True)
    assert live is not None and live.jq is not None and live.resources == ("namespaces",)
    both = chosen(spec, {"resources": 1, "namespaces": 2}, cluster=True)
    assert both is not None and both.script == "joined_count.py" and both.resources == ("namespaces",)
    assert chosen(spec, {"resources": 1, "namespaces": 2}, cluster=False) is spec
    assert chosen(spec, {"resources": 1, "namespaces": 2, RENDERED: 3}, cluster=True) is None
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    printed = run_spec(live, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), backend)
    expected = sum(
        1
        for o in backend.list_objects(ResourceTable().resolve("namespaces"))
        if o["metadata"]["name"] not in ("kube-system", "kube-public", "kube-node-lease")
        and (o["metadata"].get("labels") or {}).get("pod-security.kubernetes.io/enforce")
        in (None, "privileged")
    )
    assert printed.value == expected and expected > 0


def test_a_live_count_joins_the_code_through_code_facts(estate: Path) -> None:
    """``code:`` prints the estate's facts as JSON; the filter reads them as $code. The shell text passes
    them with --argjson; the challenger's run gets the same value; a failing one-liner is a failed recount."""
    facts = "import json,sys;print(json.dumps([2, 3]))"
    spec = ReproSpec(jq="$code | add", resources=("pods",), code=facts)
    text = shell(spec, Where(estate=str(estate), cluster="snap"))
    assert f" --argjson code \"$(python3 -c '{facts}' {estate})\" " in text
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    assert run_spec(spec, Jail(estate), Where(estate=str(estate), cluster="x"), backend).value == 5
    broken = ReproSpec(jq="$code", resources=("pods",), code="raise SystemExit('no')")
    printed = run_spec(broken, Jail(estate), Where(cluster="x"), backend)
    assert printed.value is None and printed.error is not None and printed.error.startswith("$code: ")
    with pytest.raises(ValidationError):
        ReproSpec(rg="x", code=facts)
    # it reads the files as written: not exact with Helm-rendered objects or files scoped out
    assert not applies(spec, {RENDERED: 1}, cluster=True)
    assert not applies(spec, {}, cluster=True, scoped_out=True)
    assert applies(spec, {}, cluster=True)


@pytest.mark.parametrize(
    ("stderr", "shown"),
    [
        (
            "Traceback (most recent call last):\n  ...\nValueError: invalid literal for int(): 's3cr3t'\n",
            "ValueError",
        ),
        ("yaml.scanner.ScannerError: mapping values are not allowed here\n", "yaml.scanner.ScannerError"),
        ("prod.env: skipped, not valid YAML\n", "an error"),  # a script's own line naming a file
        ("secrets.tfvars\n", "an error"),
        ("", "an error"),
    ],
)
def test_a_failure_shows_an_exception_type_never_the_estates_text(stderr: str, shown: str) -> None:
    from tools.checks.reproduce_run import failure

    assert failure(1, stderr) == f"the command exited 1 ({shown})"


def test_a_count_of_code_is_exact_only_where_the_cluster_and_the_renders_add_nothing() -> None:
    """REL-ALERT-GAPS reads rules from files: a live rule, or one a chart rendered, may cover a
    category the files do not (no-live:FIELD, no-code:rendered_alert_rules)."""
    from agents.offline.challenge_numbers import rendered_rules
    from tools.inventory.helm_models import HelmRender
    from tools.inventory.inventory import Records
    from tools.inventory.models import AlertRule, CodeRef

    spec = ReproSpec(
        script="alerts_count.py",
        args=("REL-ALERT-GAPS",),
        unrendered=True,
        when=("no-code:rendered_alert_rules", "no-live:alert_rules"),
    )
    assert applies(spec, {RENDERED: 5}, cluster=False)
    assert applies(spec, {}, cluster=True, live_counts={"alert_rules": 0, "workloads": 3})
    assert not applies(spec, {}, cluster=True, live_counts={"alert_rules": 1})
    assert not applies(spec, {"rendered_alert_rules": 1}, cluster=False)
    release = CodeRef(path="apps/prom.yaml", line=1)
    code = Records(
        helm_renders=[
            HelmRender(defined_by="flux", name="p", namespace="m", chart="c", rendered=True, source=release)
        ],
        alert_rules=[
            AlertRule(alert="Rendered", expr="up", source=release),
            AlertRule(alert="InValues", expr="up", source=CodeRef(path="apps/prom.yaml", line=12)),
        ],
    )
    assert rendered_rules(code) == 1
    with pytest.raises(ValidationError):
        ReproSpec(python="1", when=("no-live:",))


def test_a_joined_script_reads_the_snapshot_files_or_kubectl_on_stdin() -> None:
    """A script with resources: each served type's snapshot file as --live (an unserved one left out,
    as kubectl would refuse it), or on a live cluster kubectl's List piped in as --live -; it is a
    cluster fact, never exact without a cluster."""
    spec = ReproSpec(
        script="joined_count.py",
        args=("REL-NO-PDB",),
        resources=("deployments.apps", "poddisruptionbudgets.policy"),
    )
    served = frozenset({"deployments.apps"})
    snap = Where(estate="lab", cluster="lab/cluster", snapshot_dirs=("cluster",), served=served)
    assert shell(spec, snap) == (
        "python3 tools/checks/reproduce_scripts/joined_count.py lab REL-NO-PDB"
        " --live lab/cluster/apps.v1.deployments.json cluster"
    )
    live = Where(estate="lab", cluster="live", context="home", excluded=("old.yaml",))
    assert shell(spec, live) == (
        "kubectl get deployments.apps,poddisruptionbudgets.policy -A -o json --context home"
        " | python3 tools/checks/reproduce_scripts/joined_count.py lab REL-NO-PDB --live - old.yaml"
    )
    assert not applies(spec, {}, cluster=False)
    assert applies(spec, {}, cluster=True)
    with pytest.raises(ValidationError):
        ReproSpec(python="print(1)", resources=("deployments.apps",))


def test_no_recount_child_sees_the_runs_environment(estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in the audit's environment reaches no command: the python child and the jq child get a
    PATH only (the wheel's rg first)."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-canary")
    seen = run_spec(
        ReproSpec(python='import os; print(int("ANTHROPIC_API_KEY" in os.environ))'),
        Jail(estate),
        Where(),
        None,
    )
    assert seen.value == 0 and seen.error is None
    jq = ReproSpec(jq='if ($ENV | has("ANTHROPIC_API_KEY")) then 1 else 0 end', resources=("jobs.batch",))
    backend = SnapshotBackend(HOMELAB_SNAPSHOT)
    printed = run_spec(jq, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), backend)
    assert printed.value == 0 and printed.error is None
    control = ReproSpec(jq='if ($ENV | has("PATH")) then 1 else 0 end', resources=("jobs.batch",))
    assert run_spec(control, Jail(HOMELAB_SNAPSHOT.parent), Where(cluster="x"), backend).value == 1
