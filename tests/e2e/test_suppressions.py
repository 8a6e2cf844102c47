"""Inline suppressions (YAML, Markdown, HCL) and accepted risks: what they take out, and only that;
listed with their reasons; an expired one turns the finding back on; no reason is refused."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from clirun import cli

from domain.report import AuditReport
from pipeline.render.json_out import load_report

pytestmark = pytest.mark.e2e

DATE = "2026-11-20"
SUPPRESS = '# infra-audit:ignore MNT-IMAGE-LATEST reason="the mirror pins latest to a digest" until={until}'


def deployment(name: str, comment: str = "") -> str:
    text = textwrap.dedent(
        f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {name}
          namespace: shop
        spec:
          replicas: 1
          template:
            spec:
              containers:
                - name: {name}
                  {comment}
                  image: nginx:latest
        """
    )
    return "".join(line for line in text.splitlines(keepends=True) if line.strip())  # no comment: no line


RUNBOOK = textwrap.dedent(
    """\
    # Runbook

    <!-- infra-audit:ignore DEC-IMPERATIVE-DOCS reason="break-glass only, paged" -->
        kubectl scale deployment web --replicas=3

    Later:

        kubectl scale deployment api --replicas=3
    """
)
TF = textwrap.dedent(
    """\
    // infra-audit:ignore DEC-PROVISIONERS reason="bootstrap only, removed after day 1"
    resource "null_resource" "bootstrap" {
      provisioner "local-exec" {
        command = "echo hi"
      }
    }

    resource "null_resource" "users" {
      provisioner "local-exec" {
        command = "echo users"
      }
    }
    """
)


def make(root: Path, until: str = "2027-01-01", **extra: str) -> Path:
    (root / "docs").mkdir(parents=True)
    files = {
        "web.yaml": deployment("web", SUPPRESS.format(until=until)),
        "api.yaml": deployment("api"),
        "docs/runbook.md": RUNBOOK,
        "main.tf": TF,
        **extra,
    }
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def run(monkeypatch: pytest.MonkeyPatch, path: Path, out: Path) -> tuple[int, str]:
    argv = [
        "run",
        str(path),
        "--out",
        str(out),
        "--state-dir",
        str(out) + "-state",
        "--date",
        DATE,
        "--offline",
    ]
    return cli(argv, monkeypatch)


def by_rule(report: AuditReport) -> dict[str, list[str]]:
    return {f.rule: [loc.ref for loc in f.locations] for f in report.findings}


def test_inline_suppressions_take_out_their_subject_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, printed = run(monkeypatch, make(tmp_path / "e"), tmp_path / "out")
    assert code == 0, printed
    report = load_report(tmp_path / "out" / "audit.json")
    found = by_rule(report)
    # YAML: the comment above the image line takes web's container out, not api's, not another check's
    assert found["MNT-IMAGE-LATEST"] == ["api.yaml:12"]
    assert sorted(found["SEC-RUN-AS-ROOT"]) == ["api.yaml:12", "web.yaml:13"]
    # Markdown: the same subject ("kubectl scale") elsewhere in the file stays
    assert found["DEC-IMPERATIVE-DOCS"] == ["docs/runbook.md:8"]
    # HCL: the resource under the comment block, not the next one
    assert found["DEC-PROVISIONERS"] == ["main.tf:8"]
    titles = {f.rule: f.title for f in report.findings}
    assert titles["MNT-IMAGE-LATEST"].startswith("1 of 2 containers")
    listed = {(s.kind, s.check, s.where, s.state, tuple(s.subjects), s.reason) for s in report.suppressions}
    assert listed == {
        (
            "inline",
            "MNT-IMAGE-LATEST",
            "web.yaml:12",
            "applied",
            ("Deployment/shop/web/web",),
            "the mirror pins latest to a digest",
        ),
        (
            "inline",
            "DEC-IMPERATIVE-DOCS",
            "docs/runbook.md:3",
            "applied",
            ("kubectl scale",),
            "break-glass only, paged",
        ),
        (
            "inline",
            "DEC-PROVISIONERS",
            "main.tf:1",
            "applied",
            ("null_resource.bootstrap",),
            "bootstrap only, removed after day 1",
        ),
    }
    md = (tmp_path / "out" / "audit.md").read_text(encoding="utf-8")
    assert (
        "| inline | `MNT-IMAGE-LATEST` | `web.yaml:12` | `Deployment/shop/web/web` | the mirror pins latest "
        "to a digest | 2027-01-01 | applied |"
    ) in md


def test_an_expired_suppression_turns_the_finding_back_on_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, printed = run(monkeypatch, make(tmp_path / "e", until="2026-06-30"), tmp_path / "out")
    assert code == 0, printed
    report = load_report(tmp_path / "out" / "audit.json")
    assert sorted(by_rule(report)["MNT-IMAGE-LATEST"]) == ["api.yaml:12", "web.yaml:13"]
    expired = [s for s in report.suppressions if s.check == "MNT-IMAGE-LATEST"]
    assert [(s.state, s.subjects) for s in expired] == [("expired", [])]
    md = (tmp_path / "out" / "audit.md").read_text(encoding="utf-8")
    assert "| 2026-06-30 | **expired**: the finding is back on |" in md


def test_accepted_risks_are_listed_beside_inline_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accepted = textwrap.dedent(
        """\
        accepted_risks:
          - check: SEC-RUN-AS-ROOT
            subject: Deployment/shop/api/api
            reason: "the image drops to uid 101 itself"
          - check: SCA-NO-QUOTA
            reason: "one tenant"
            until: 2026-01-31
        """
    )
    code, printed = run(
        monkeypatch, make(tmp_path / "e", **{".infra-audit.yaml": accepted}), tmp_path / "out"
    )
    assert code == 0, printed
    report = load_report(tmp_path / "out" / "audit.json")
    assert by_rule(report)["SEC-RUN-AS-ROOT"] == ["web.yaml:13"]
    assert "SCA-NO-QUOTA" in by_rule(report)  # expired: back on
    rows = {(s.kind, s.check, s.where, s.state) for s in report.suppressions if s.kind == "accepted"}
    assert rows == {
        ("accepted", "SEC-RUN-AS-ROOT", ".infra-audit.yaml:2", "applied"),
        ("accepted", "SCA-NO-QUOTA", ".infra-audit.yaml:5", "expired"),
    }


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "web.yaml",
            deployment("web", "# infra-audit:ignore MNT-IMAGE-LATEST until=2027-01-01"),
            "web.yaml:12",
        ),
        (
            "docs/runbook.md",
            '<!-- infra-audit:ignore DEC-IMPERATIVE-DOCS reason="" -->\n',
            "docs/runbook.md:1",
        ),
        (
            ".infra-audit.yaml",
            "accepted_risks:\n  - check: SCA-NO-QUOTA\n    subject: Namespace/shop\n",
            ".infra-audit.yaml:2",
        ),
    ],
)
def test_a_suppression_without_a_reason_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str, where: str
) -> None:
    code, printed = run(monkeypatch, make(tmp_path / "e", **{name: text}), tmp_path / "out")
    assert code == 2 and printed.splitlines()[-1].startswith(f"infra-audit: error: {where}: ")
    assert "has no reason" in printed.splitlines()[-1] and "Traceback" not in printed
    assert "run id:" not in printed  # refused before the audit started
    assert not (tmp_path / "out" / "audit.json").exists()


TOKEN = "ghp_Abcdefghijklmnopqrstuvwxyz0123456789"


def test_a_secret_in_a_suppression_reason_reaches_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reasons are estate text: redacted like every other (inline, and accepted risks both ways)."""
    inline = f'# infra-audit:ignore MNT-IMAGE-LATEST reason="old token {TOKEN} revoked" until=2027-01-01'
    accepted = (
        "accepted_risks:\n  - check: SEC-RUN-AS-ROOT\n    subject: Deployment/shop/api/api\n"
        f'    reason: "rotated {TOKEN} already"\n'
    )
    root = make(tmp_path / "e", **{".infra-audit.yaml": accepted})
    (root / "web.yaml").write_text(deployment("web", inline), encoding="utf-8")
    code, printed = run(monkeypatch, root, tmp_path / "out")
    assert code == 0, printed
    assert TOKEN not in printed
    report = load_report(tmp_path / "out" / "audit.json")
    states = {(s.kind, s.check, s.state) for s in report.suppressions}
    assert ("inline", "MNT-IMAGE-LATEST", "applied") in states
    assert ("accepted", "SEC-RUN-AS-ROOT", "applied") in states  # still matched once redacted
    mine = [s.reason for s in report.suppressions if s.check in ("MNT-IMAGE-LATEST", "SEC-RUN-AS-ROOT")]
    assert len(mine) == 2 and all("<redacted:sha256:" in r and TOKEN not in r for r in mine)
    for out in sorted((tmp_path / "out").iterdir()):
        assert TOKEN not in out.read_text(encoding="utf-8"), out.name


SINGLETONS_TF = textwrap.dedent(
    """\
    // infra-audit:ignore SCA-SINGLETON-INFRA reason="one postgres by design, backed up nightly"
    resource "kubernetes_stateful_set_v1" "postgresql" {
      metadata {
        name      = "postgresql"
        namespace = "db"
      }
      spec {
        replicas     = 1
        service_name = "postgresql"
        template {
          spec {
            container {
              name  = "postgresql"
              image = "postgres:16.4"
            }
          }
        }
      }
    }

    resource "kubernetes_stateful_set_v1" "mysql" {
      metadata {
        name      = "mysql"
        namespace = "db"
      }
      spec {
        replicas     = 1
        service_name = "mysql"
        template {
          spec {
            container {
              name  = "mysql"
              image = "mysql:8.4"
            }
          }
        }
      }
    }
    """
)
SINGLETONS_YAML = textwrap.dedent(
    """\
    # infra-audit:ignore SCA-SINGLETON-INFRA reason="a cache, rebuilt on restart"
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: redis, namespace: cache}
    spec:
      replicas: 1
      template: {spec: {containers: [{name: redis, image: "redis:7.4"}]}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: rabbitmq, namespace: cache}
    spec:
      replicas: 1
      template: {spec: {containers: [{name: rabbitmq, image: "rabbitmq:4.0"}]}}
    """
)


def test_a_suppression_above_an_object_covers_the_line_its_finding_cites_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SCA-SINGLETON-INFRA cites the ``replicas`` line: the comment above postgresql's resource and the
    one above redis's document still take them out. mysql (the next block) and rabbitmq (the next
    document) stay."""
    root = tmp_path / "e"
    root.mkdir()
    (root / "db.tf").write_text(SINGLETONS_TF, encoding="utf-8")
    (root / "cache.yaml").write_text(SINGLETONS_YAML, encoding="utf-8")
    code, printed = run(monkeypatch, root, tmp_path / "out")
    assert code == 0, printed
    report = load_report(tmp_path / "out" / "audit.json")
    assert sorted(by_rule(report)["SCA-SINGLETON-INFRA"]) == ["cache.yaml:13", "db.tf:27"]
    applied = {(s.where, s.state, tuple(s.subjects)) for s in report.suppressions}
    assert applied == {
        ("db.tf:1", "applied", ("StatefulSet/db/postgresql",)),
        ("cache.yaml:1", "applied", ("Deployment/cache/redis",)),
    }
