"""API server hardening (SEC-APISERVER-HARDENING): recognised wherever the control plane is
configured (kubeadm, k3s, RKE2, Talos, kubespray), cited at the file that configures the cluster, and
"not configured in this repo" when nothing does."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus import detect, refs, subjects

from tools.checks.detections.security_cluster import NOT_CONFIGURED

pytestmark = pytest.mark.unit

CHECK = "SEC-APISERVER-HARDENING"
BOTH = ["audit logging", "secret encryption at rest"]

KUBEADM = """
apiVersion: kubeadm.k8s.io/v1beta3
kind: ClusterConfiguration
apiServer:
  extraArgs:
    audit-policy-file: /etc/kubernetes/audit.yaml
    audit-log-path: /var/log/audit.log
    encryption-provider-config: /etc/kubernetes/enc.yaml
"""


@pytest.mark.parametrize(
    ("files", "count"),
    [
        ({"cluster/kubeadm.yaml": KUBEADM}, 0),
        (
            {
                "k3s/config.yaml": "kube-apiserver-arg:\n  - audit-log-path=/var/log/a.log\n"
                "  - audit-policy-file=/p\nsecrets-encryption: true\n"
            },
            0,
        ),
        (
            {
                "cloud-init/server.yaml": "write_files:\n  - path: /etc/rancher/rke2/config.yaml\n"
                "    content: |\n      tls-san: [lab.example]\n"
            },
            1,
        ),
        ({"talos/talconfig.yaml": "clusterName: lab\ntalosVersion: v1.8.0\nnodes: []\n"}, 0),
        (
            {
                "inventory/group_vars/k8s_cluster/k8s-cluster.yml": "kube_network_plugin: calico\n"
                "kube_encrypt_secret_data: true\nkubernetes_audit: true\n"
            },
            0,
        ),
    ],
)
def test_each_control_plane_config_and_its_settings(
    tmp_path: Path, files: dict[str, str], count: int
) -> None:
    d = detect(tmp_path, files, CHECK)
    assert (d.applicable, d.count, d.total) == (True, count, 2)
    if count:  # RKE2 encrypts Secrets by default: only audit is missing, cited at the cluster config
        assert (subjects(d), refs(d)) == (["audit logging"], ["cloud-init/server.yaml:2"])


def test_disabled_or_commented_settings_do_not_count(tmp_path: Path) -> None:
    """Before, ``secrets-encryption: false`` and a commented audit flag each counted as configured."""
    files = {
        "k3s/config.yaml": "kube-apiserver-arg:\n  - oidc-client-id=k\n  # - audit-log-path=/var/log/a.log\n"
        "secrets-encryption: false\n",
    }
    d = detect(tmp_path, files, CHECK)
    assert (d.count, subjects(d), refs(d)) == (2, BOTH, ["k3s/config.yaml:1", "k3s/config.yaml:1"])
    assert d.locations[0].detail is not None and d.locations[0].detail.startswith(
        "not configured in this repo"
    )


def test_the_ref_is_the_cluster_config_never_an_unrelated_file(tmp_path: Path) -> None:
    """Before, the first regex hit in path order was cited: here a Helm values ``apiServer:`` block."""
    files = {
        "apps/cilium/values.yaml": "apiServer:\n  replicas: 1\n",
        "cluster/kubeadm.yaml": "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n",
    }
    d = detect(tmp_path, files, CHECK)
    assert (d.count, refs(d)) == (2, ["cluster/kubeadm.yaml:1", "cluster/kubeadm.yaml:1"])


def test_nothing_configures_the_control_plane(tmp_path: Path) -> None:
    files = {
        "apps/web.yaml": "# talks to kube-apiserver through the service account\nkind: ConfigMap\n",
        "docs/setup.md": "Run `k3s server --secrets-encryption` on the master.\n",
    }
    d = detect(tmp_path, files, CHECK)
    assert (d.applicable, d.count, d.note) == (False, 0, NOT_CONFIGURED)
