"""The reader's scripts do each piece of work once per run: the recount starts one per claim, so a
script that re-reads the estate per item multiplies over a large repo (the generated 1,600-file
estate's recount took 77 s of children before these, 23 s after; docs/performance.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tests.reader_scripts import script_module

pytestmark = pytest.mark.unit


def _stack(root: Path, files: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "variables.tf").write_text('variable "ns" {\n  default = "apps"\n}\n', encoding="utf-8")
    for i in range(files - 1):
        (root / f"ns{i}.tf").write_text(
            f'resource "kubernetes_namespace" "n{i}" {{\n'
            f'  metadata {{\n    name = "${{var.ns}}-{i}"\n  }}\n}}\n',
            encoding="utf-8",
        )
    return root


def test_a_stack_reads_its_variables_once_for_all_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    k8s = script_module("k8s_objects")
    calls: list[Path] = []
    read = k8s.read_hcl
    monkeypatch.setattr(k8s, "read_hcl", lambda path, variables: calls.append(path) or read(path, variables))
    stack = _stack(tmp_path / "stack", 4)
    found = k8s.stack_objects(sorted(stack.glob("*.tf")))
    assert sorted(k8s.meta(o)["name"] for o in found) == ["apps-0", "apps-1", "apps-2"]
    assert len(calls) == 8  # each file once for the variables, once for its objects (4 x 4 + 4 before)


def test_walk_resolves_each_file_once_whatever_the_skipped_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    k8s = script_module("k8s_objects")
    for name in ("a.yaml", "b.yaml", "skip/c.yaml", "other/d.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("kind: ConfigMap\n", encoding="utf-8")
    resolved: list[str] = []
    real = os.path.realpath
    monkeypatch.setattr(os.path, "realpath", lambda path, **kw: resolved.append(path) or real(path, **kw))
    kept = k8s.walk(tmp_path, ("skip", "other/d.yaml", "gone"))
    assert [p.relative_to(tmp_path).as_posix() for p in kept] == ["a.yaml", "b.yaml"]
    assert len(resolved) == 3 + 4  # the three skipped paths, then each file once (3 x 4 before)
    assert k8s.walk(tmp_path, ("skip", "other/d.yaml", "gone")) == kept and len(resolved) == 7  # once


def test_ci_count_parses_the_estate_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ci = script_module("ci_count")
    ci.estate_objects.cache_clear()
    ci.estate_paths.cache_clear()
    parsed: list[Path] = []
    objects = ci.objects
    monkeypatch.setattr(ci, "objects", lambda root, skip=(): parsed.append(root) or objects(root, skip))
    (tmp_path / "app.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n", encoding="utf-8"
    )
    assert ci.no_image_verify(tmp_path, ()) == 2  # no verification, no scanning
    assert ci.no_ci_validation(tmp_path, ()) == 1  # kubeconform
    assert parsed == [tmp_path]  # three reads of the objects before
    ci.estate_objects.cache_clear()
    ci.estate_paths.cache_clear()


def test_the_scripts_read_yaml_with_libyaml_where_pyyaml_has_it() -> None:
    k8s = script_module("k8s_objects")
    expected = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
    assert k8s.SAFE is expected
    assert k8s.load_all("a: 1\n---\n- x\n") == list(yaml.safe_load_all("a: 1\n---\n- x\n"))


def test_secret_count_scans_each_file_once_for_its_four_measures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The four measures are four commands: in one interpreter (``batch.py``) each file is scanned
    for the first only, and again once its text changes."""
    secrets = script_module("secret_count")
    (tmp_path / "app.env").write_text("DB_PASSWORD=Sup3r-s3cret-v4lue\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("Nothing to see.\n", encoding="utf-8")
    monkeypatch.setattr(secrets, "_SCANNED", {})  # nothing another test scanned
    scanned: list[str] = []
    scan = secrets._scan

    def counted(rel: str, data: bytes, skipped: bool) -> object:
        scanned.append(rel)
        return scan(rel, data, skipped)

    monkeypatch.setattr(secrets, "_scan", counted)
    for measure in ("count", "locations", "files", "secret_manifests"):
        secrets.main(tmp_path, measure, [])
    assert capsys.readouterr().out.split() == ["1", "1", "1", "0"]
    assert sorted(scanned) == ["README.md", "app.env"]  # each file once (four times before)
    (tmp_path / "app.env").write_text("DB_PASSWORD=${DB_PASSWORD}\n", encoding="utf-8")
    secrets.main(tmp_path, "count", [])
    assert capsys.readouterr().out.split() == ["0"]
    assert sorted(scanned) == ["README.md", "app.env", "app.env"]


def test_joined_count_reads_the_terraform_releases_once_per_estate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = script_module("joined_count")
    (tmp_path / "stack").mkdir()
    (tmp_path / "stack" / "main.tf").write_text(
        'resource "kubernetes_namespace" "web" {\n  metadata {\n    name = "web"\n  }\n}\n'
        'resource "helm_release" "web" {\n  name      = "web"\n'
        "  namespace = kubernetes_namespace.web.metadata[0].name\n}\n"
        'resource "kubernetes_manifest" "cm" {\n  manifest = {\n    kind = "ConfigMap"\n  }\n}\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(joined, "_TERRAFORM", {})
    read: list[Path] = []
    terraform = joined._terraform_releases

    def counted(root: Path, skip: tuple[str, ...]) -> object:
        read.append(root)
        return terraform(root, skip)

    monkeypatch.setattr(joined, "_terraform_releases", counted)
    flux = {"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"name": "db"}}
    manifests: list[dict[str, object]] = []
    first = joined.code_releases(tmp_path, (), [flux], manifests)
    first.append(("changed", "by a caller"))
    assert joined.code_releases(tmp_path, (), [], manifests) == [("web", "web")]
    assert first[:2] == [("web", "web"), ("db", None)]
    assert manifests == [{"kind": "ConfigMap"}] * 2 and read == [tmp_path]  # read once (twice before)


def test_a_broken_file_is_warned_of_once_per_command(tmp_path: Path) -> None:
    """A stack's files are read for its variables, then for its objects: a pasted command said a broken
    one was skipped five times. Once now, alone; and again in each command the batch runs, as each
    would alone (``batch.run`` empties what ``k8s_objects`` warned of before each job; a failing
    job's last line of standard error is what the recount shows)."""
    import subprocess
    import sys

    from tests.estates import HOMELAB
    from tools.checks.reproduce import SCRIPTS

    warning = f"{HOMELAB}/stacks/scratch/broken.tf: skipped, it ends inside a block (an unclosed brace)"
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "joined_count.py"), str(HOMELAB), "REL-PVC-NO-BACKUP"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stderr.splitlines() == [warning] and done.stdout.strip().isdigit()
    k8s, batch = script_module("k8s_objects"), script_module("batch")
    broken = tmp_path / "main.tf"
    broken.write_text('resource "x" "y" {\n', encoding="utf-8")
    reader = tmp_path / "reads.py"
    reader.write_text(
        f"import sys\nsys.path.insert(0, {str(SCRIPTS)!r})\nimport k8s_objects\nfrom pathlib import Path\n"
        "for _ in range(3):\n    k8s_objects.read_hcl(Path(sys.argv[1]), {})\nprint('read')\nsys.exit(2)\n",
        encoding="utf-8",
    )
    jobs = [batch.run([str(reader), str(broken)], b"", {}, 60) for _ in range(2)]
    skipped = f"{broken}: skipped, it ends inside a block (an unclosed brace)"
    assert jobs == [{"rc": 2, "out": "read\n", "err": skipped}] * 2
    assert skipped in k8s.WARNED and len(k8s.WARNED) == 1
