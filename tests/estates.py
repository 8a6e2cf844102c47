"""The bundled estates and their ground truth, for every test that asserts real detections.

The ground truth lives in ``examples/ground-truth/<estate>.yaml``, outside the estate, so that an
audit of the estate never reads its own answer key. A missing file is a failure, never a skip.
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
HOMELAB = EXAMPLES / "homelab"
GITOPS = EXAMPLES / "gitops-base"
# Chart-based estates: their workloads exist only once Helm releases are rendered (issue 9). Not in
# ESTATES: the pipeline tests hold the present audit to ESTATES; tests/e2e/test_new_estates.py holds these.
FLUX_HOMELAB = EXAMPLES / "flux-homelab"
ARGO_HOMELAB = EXAMPLES / "argocd-homelab"
HOMELAB_SNAPSHOT = HOMELAB / "cluster"
TRUTH_DIR = EXAMPLES / "ground-truth"
ESTATES = {"homelab": HOMELAB, "gitops-base": GITOPS}
K3S = EXAMPLES / "k3s-platform"
"""A live-cluster estate: a k3s snapshot with the cluster-health conditions (issue 15), a small repo."""
K3S_SNAPSHOT = K3S / "cluster"
# One Deployment with an unpinned image (nginx:latest), for the e2e tests that build a tiny estate.
WEB_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: nginx:latest
"""


@cache
def ground_truth(estate: str) -> dict[str, Any]:
    """The parsed ground truth of ``estate`` (a directory name under examples/)."""
    data: dict[str, Any] = yaml.safe_load((TRUTH_DIR / f"{estate}.yaml").read_text(encoding="utf-8"))
    return data


def canary_forms(estate: str) -> list[str]:
    """Every canary of ``estate`` as it could leak: each listed string and the base64 of each plain one."""
    listed: list[str] = ground_truth(estate)["canaries"]
    encoded = [base64.b64encode(c.encode()).decode() for c in listed if c.startswith("CANARY-")]
    return sorted(set(listed) | set(encoded))
