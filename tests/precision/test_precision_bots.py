"""Dependency bots (MNT-NO-DEP-BOT): every place Renovate and Dependabot read a config, a self-hosted
Renovate, and the look-alikes that configure nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import detect, estate, refs

from tools.inventory.models import CodeRef, DependencyBot
from tools.inventory.parsers import RENOVATE_NAMES, bot_config, manifest_claims

pytestmark = pytest.mark.unit

CHECK = "MNT-NO-DEP-BOT"
RENOVATE_JSON5 = """
// comments and trailing commas: JSON5
{
  extends: ['config:recommended'],
}
"""


@pytest.mark.parametrize("directory", ["", ".github/", ".gitlab/"])
@pytest.mark.parametrize("name", sorted(RENOVATE_NAMES))
def test_every_renovate_location_is_walked_parsed_and_covers(
    tmp_path: Path, directory: str, name: str
) -> None:
    path = directory + name
    assert manifest_claims(name) and bot_config(path) == "renovate"  # the walk and the reader agree
    assert estate(tmp_path, {path: RENOVATE_JSON5}).code.dependency_bots == [
        DependencyBot(tool="renovate", ecosystems=["all"], source=CodeRef(path=path, line=1))
    ]
    assert detect(tmp_path / "again", {path: RENOVATE_JSON5}, CHECK).count == 0


def test_package_json_renovate_key_is_a_config_at_its_line(tmp_path: Path) -> None:
    files = {"package.json": '{\n  "name": "lab",\n  "renovate": {\n    "extends": ["config:base"]\n  }\n}\n'}
    assert estate(tmp_path, files).code.dependency_bots == [
        DependencyBot(tool="renovate", ecosystems=["all"], source=CodeRef(path="package.json", line=3))
    ]


def test_package_json_without_the_key_is_no_bot(tmp_path: Path) -> None:
    d = detect(tmp_path, {"package.json": '{"name": "lab", "devDependencies": {"renovate": "^39"}}'}, CHECK)
    assert (d.count, refs(d)) == (1, ["-"])


@pytest.mark.parametrize("path", ["examples/renovate.json", "docs/.renovaterc", "test/data/renovate.json5"])
def test_a_renovate_file_where_renovate_does_not_look_is_no_bot(tmp_path: Path, path: str) -> None:
    """Was counted as a bot covering everything before (any renovate.json anywhere)."""
    inventory = estate(tmp_path, {path: '{"extends": ["config:base"]}'})
    assert inventory.code.dependency_bots == []
    assert inventory.code.issues == []  # skipped, not a broken YAML file
    assert detect(tmp_path, {}, CHECK).count == 1


CRONJOB = """
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {name}
  namespace: renovate
spec:
  schedule: "@hourly"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
            - name: {name}
              image: {image}
"""


def test_self_hosted_renovate_cronjob_is_a_bot(tmp_path: Path) -> None:
    files = {
        "apps/renovate.yaml": CRONJOB.format(name="renovate", image="ghcr.io/renovatebot/renovate:39.1.0")
    }
    assert detect(tmp_path, files, CHECK).count == 0


def test_renovate_helm_chart_is_a_bot(tmp_path: Path) -> None:
    release = """
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata: {name: renovate, namespace: renovate}
    spec:
      chart:
        spec: {chart: renovate, version: 39.1.0, sourceRef: {kind: HelmRepository, name: renovate}}
    """
    assert detect(tmp_path, {"apps/renovate.yaml": release}, CHECK).count == 0


def test_a_workload_only_named_renovate_is_no_bot(tmp_path: Path) -> None:
    files = {"apps/renovate.yaml": CRONJOB.format(name="renovate-report", image="nginx:1.27")}
    d = detect(tmp_path, files, CHECK)
    assert (d.count, refs(d)) == (1, ["-"])
