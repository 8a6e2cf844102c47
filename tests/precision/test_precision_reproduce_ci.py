"""The reader's CI script (``tools/checks/reproduce_scripts/ci_count.py``) and the backup-job count of
``objects_count.py`` count as the checks do, and not their look-alikes.

Look-alikes a command over the raw text would count: a scanner named in a CI comment or a step's
name (not a command), a ``setup-*`` action (installs, runs nothing), ``kubeconform`` in a README;
a restore drill named in a ConfigMap rather than a Job.
"""

from __future__ import annotations

from pathlib import Path

from corpus import detect

from tools.checks.reproduce import ReproSpec, Where
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import spec_by_id
from tools.sandbox import Jail

DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
WORKFLOW = """\
name: ci
on: [pull_request]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      # trivy fs . would scan, but it is only a comment
      - name: trivy
        uses: aquasecurity/setup-trivy@v0.2.2
      - name: build
        run: kustomize build clusters/prod > /dev/null
"""
KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [web.yaml]\n"


def recount(root: Path, check: str) -> float | None:
    spec = spec_by_id(check).reproduce["count"]
    printed = run_spec(spec, Jail(root), Where(estate=str(root)), None)
    assert printed.error is None, printed.error
    return printed.value


def test_ci_validation_and_scanning_are_read_from_commands_only(tmp_path: Path) -> None:
    files = {
        "clusters/prod/web.yaml": DEPLOY,
        "clusters/prod/kustomization.yaml": KUSTOMIZATION,
        ".github/workflows/ci.yaml": WORKFLOW,
        "README.md": "Run `kubeconform` and `trivy image` before you push.\n",
    }
    root = tmp_path / "estate"
    # kustomize build runs; kubeconform is needed (a Deployment in YAML) and runs nowhere but the README
    validation = detect(root, files, "MNT-NO-CI-VALIDATION")
    assert [loc.subject for loc in validation.locations] == ["kubeconform"]
    assert recount(root, "MNT-NO-CI-VALIDATION") == 1
    # neither signatures nor scanning: setup-trivy installs, the comment and the step name run nothing
    verify = detect(root, files, "SEC-NO-IMAGE-VERIFY")
    assert verify.count == 2
    assert recount(root, "SEC-NO-IMAGE-VERIFY") == 2


def test_a_scanner_step_and_a_verify_images_rule_each_take_one_out(tmp_path: Path) -> None:
    scanned = WORKFLOW + "      - run: trivy image ghcr.io/example/web:1.0\n"
    policy = (
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: verify}\n"
        "spec:\n  rules:\n    - name: sig\n      verifyImages:\n"
        "        - imageReferences: ['ghcr.io/example/*']\n"
    )
    root = tmp_path / "estate"
    files = {"apps/web.yaml": DEPLOY, "policies/verify.yaml": policy, ".github/workflows/ci.yaml": scanned}
    assert detect(root, files, "SEC-NO-IMAGE-VERIFY").count == 0
    assert recount(root, "SEC-NO-IMAGE-VERIFY") == 0


CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}, namespace: db}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: main
              image: postgres:16
---
"""


def test_backup_jobs_count_until_a_job_is_named_for_a_restore(tmp_path: Path) -> None:
    """Two backup CronJobs (pg-dump, nightly-backup), a report job that is not one; a ConfigMap named
    restore-drill is not a drill. Then a restore-test CronJob: nothing to report."""
    jobs = (
        CRONJOB.format(name="pg-dump") + CRONJOB.format(name="nightly-backup") + CRONJOB.format(name="report")
    )
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: restore-drill, namespace: db}\n"
    root = tmp_path / "estate"
    files = {"db/jobs.yaml": jobs, "db/config.yaml": config}
    assert detect(root, files, "REL-NO-RESTORE-DRILL").count == 2
    assert recount(root, "REL-NO-RESTORE-DRILL") == 2
    drilled = tmp_path / "drilled"
    files = {"db/jobs.yaml": jobs + CRONJOB.format(name="restore-test")}
    assert detect(drilled, files, "REL-NO-RESTORE-DRILL").count == 0
    assert recount(drilled, "REL-NO-RESTORE-DRILL") == 0


VELERO = """\
apiVersion: velero.io/v1
kind: Schedule
metadata: {{name: {name}, namespace: velero}}
spec:
  schedule: "0 1 * * *"
  template:
    includedNamespaces: [db]
---
"""
K8UP = "apiVersion: k8up.io/v1\nkind: Schedule\nmetadata: {name: other-group, namespace: db}\n"
TF_VELERO = """\
resource "kubernetes_manifest" "weekly" {
  manifest = {
    apiVersion = "velero.io/v1"
    kind       = "Schedule"
    metadata   = { name = "weekly", namespace = "velero" }
    spec       = { schedule = "0 2 * * 0" }
  }
}
"""


def test_velero_schedules_in_yaml_are_backup_jobs_for_the_check_and_its_command(tmp_path: Path) -> None:
    """A Velero Schedule written in YAML is a backup, as one in a Terraform manifest is: the check
    counted only the Terraform ones (and any kubernetes_manifest kind Schedule), its command the YAML
    ones (and a Schedule of any group), so the recount "corrected" a right number. Both now count
    velero.io Schedules in either form, not another group's Schedule."""
    root = tmp_path / "estate"
    files = {
        "velero/schedules.yaml": VELERO.format(name="nightly") + VELERO.format(name="hourly"),
        "db/k8up.yaml": K8UP,
        "velero/main.tf": TF_VELERO,
        "db/jobs.yaml": CRONJOB.format(name="pg-dump"),
    }
    found = detect(root, files, "REL-NO-RESTORE-DRILL")
    assert found.count == 4
    assert sorted(loc.subject for loc in found.locations) == [
        "CronJob/db/pg-dump", "Schedule/velero/hourly", "Schedule/velero/nightly", "Schedule/velero/weekly",
    ]  # fmt: skip
    assert recount(root, "REL-NO-RESTORE-DRILL") == 4
    drilled = tmp_path / "drilled"
    files["db/drill.yaml"] = CRONJOB.format(name="restore-drill")
    assert detect(drilled, files, "REL-NO-RESTORE-DRILL").count == 0
    assert recount(drilled, "REL-NO-RESTORE-DRILL") == 0


def test_a_command_that_chokes_on_a_value_does_not_quote_it(tmp_path: Path) -> None:
    """PyYAML raises ValueError for ``!!int NOT-A-NUMBER`` with the value in its message. A script skips
    the file, naming only the exception's type; a ``python3 -c`` command that crashes is reported by
    its exit code and exception type, never its traceback."""
    secret = "CANARY-int-tag-0000"
    root = tmp_path / "estate"
    (root / "apps").mkdir(parents=True)
    (root / "apps" / "web.yaml").write_text(DEPLOY, encoding="utf-8")
    (root / "apps" / "broken.yaml").write_text(f"db_password: !!int {secret}\n", encoding="utf-8")
    script = run_spec(
        spec_by_id("REL-ROLLING-NO-SURGE").reproduce["count"], Jail(root), Where(str(root)), None
    )
    assert (script.value, script.error) == (1, None)  # web (no strategy: the default rolling update)
    crash = "import sys,yaml,pathlib;yaml.safe_load(pathlib.Path(sys.argv[1],'apps/broken.yaml').read_text())"
    crashing = ReproSpec(python=crash)
    printed = run_spec(crashing, Jail(root), Where(str(root)), None)
    assert printed.value is None
    assert printed.error == "the command exited 1 (ValueError)"
    assert secret not in (printed.error or "")
