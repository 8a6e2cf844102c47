"""SEC-APISERVER-HARDENING's reader's script (``apiserver_count.py``) prints the check's number.

The check was "listed, not recomputed". Its script searches the config files with rg as the check
does and classifies the lines again: comments and ``secrets-encryption: false`` configure nothing,
Talos turns on both controls, RKE2 encrypts Secrets, a cluster snapshot is not configuration.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import detect

from tools.checks.reproduce import Where, applies, shell
from tools.checks.reproduce_run import run_spec
from tools.checks.spec import spec_by_id
from tools.sandbox import Jail

K3S = {"stacks/platform/main.tf": 'locals {\n  args = { "kube-apiserver-arg" = ["oidc-issuer-url=x"] }\n}\n'}
CASES = {
    # only a comment names the controls: both missing
    "comment only": (
        {**K3S, "stacks/platform/notes.tf": "# TODO: audit-policy-file and secrets-encryption\n"},
        2,
    ),
    "encryption": ({**K3S, "k3s/config.yaml": "secrets-encryption: true\n"}, 1),
    "encryption off": ({**K3S, "k3s/config.yaml": "secrets-encryption: false\n"}, 2),
    "both": (
        {**K3S, "k3s/config.yaml": "secrets-encryption: true\naudit-policy-file: /etc/audit.yaml\n"},
        0,
    ),
    "talos defaults": ({"talos/controlplane.yaml": "talosVersion: v1.7.0\n"}, 0),
    "rke2 encrypts": ({"rke2/setup.sh": "cp config /etc/rancher/rke2/config.yaml\n"}, 1),
    # a snapshot's objects are live state, not configuration: its audit line does not count
    "snapshot": (
        {
            **K3S,
            "cluster/_snapshot.json": json.dumps({"cluster": "x", "format": "infra-audit-snapshot/1"}),
            "cluster/core.v1.configmaps.json": '{"items": [{"data": {"x": "audit-policy-file"}}]}',
        },
        2,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_script_prints_what_the_check_counts(tmp_path: Path, case: str) -> None:
    files, expected = CASES[case]
    root = tmp_path / "estate"
    detection = detect(root, files, "SEC-APISERVER-HARDENING")
    assert detection.applicable and detection.count == expected
    spec = spec_by_id("SEC-APISERVER-HARDENING").reproduce["count"]
    assert applies(spec, {"kustomized_files": 2}, cluster=True, scoped_out=True, live_items=True)
    printed = run_spec(spec, Jail(root), Where(estate=str(root)), None)
    assert (printed.value, printed.error) == (expected, None)
    assert (
        shell(spec, Where(estate="estate"))
        == "python3 tools/checks/reproduce_scripts/apiserver_count.py estate "
    )
