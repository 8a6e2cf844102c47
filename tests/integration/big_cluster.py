"""A large cluster snapshot written by the test that reads it: deterministic, any number of pods.

Each namespace ``team-NNN`` holds up to 100 pods: ten Deployments of ten replicas, each with its
ReplicaSet (owned by the Deployment) and a Service; every pod is owned by its ReplicaSet and runs on
one of ``ceil(pods / 110)`` nodes (110 pods per node, the kubelet's default limit). Names, uids and
timestamps derive from the indexes only, so the same ``pods`` always writes the same bytes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

PODS_PER_NAMESPACE = 100
REPLICAS = 10
PODS_PER_NODE = 110
CAPTURED_AT = "2026-12-01T12:00:00Z"

Obj = dict[str, Any]


def _meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": f"uid-{namespace or '_'}-{name}",
        "creationTimestamp": "2026-11-01T08:00:00Z",
    }
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def _owner(kind: str, name: str, namespace: str) -> list[Obj]:
    return [
        {
            "apiVersion": "apps/v1",
            "kind": kind,
            "name": name,
            "uid": f"uid-{namespace}-{name}",
            "controller": True,
        }
    ]


def _container(app: str) -> Obj:
    return {
        "name": "app",
        "image": f"registry.example.org/{app}:1.0.{len(app)}",
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "128Mi"}},
    }


def objects(pods: int) -> dict[str, list[Obj]]:
    """Every object of the cluster, by canonical snapshot file name."""
    out: dict[str, list[Obj]] = {
        "core.v1.namespaces.json": [],
        "core.v1.nodes.json": [],
        "apps.v1.deployments.json": [],
        "apps.v1.replicasets.json": [],
        "core.v1.services.json": [],
        "core.v1.pods.json": [],
    }
    for n in range(math.ceil(pods / PODS_PER_NODE)):
        out["core.v1.nodes.json"].append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": _meta(f"node-{n:03d}", labels={"kubernetes.io/hostname": f"node-{n:03d}"}),
                "status": {
                    "allocatable": {"cpu": "8", "memory": "32Gi", "pods": str(PODS_PER_NODE)},
                    "capacity": {"cpu": "8", "memory": "32Gi", "pods": str(PODS_PER_NODE)},
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
            }
        )
    for i in range(pods):
        ns = f"team-{i // PODS_PER_NAMESPACE:03d}"
        app = f"app-{(i % PODS_PER_NAMESPACE) // REPLICAS}"
        replica = i % REPLICAS
        rs = f"{app}-5c7d9f"
        labels = {"app": app, "pod-template-hash": "5c7d9f"}
        if i % PODS_PER_NAMESPACE == 0:
            out["core.v1.namespaces.json"].append(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": _meta(ns, labels={"kubernetes.io/metadata.name": ns}),
                    "status": {"phase": "Active"},
                }
            )
        if replica == 0:
            template = {"metadata": {"labels": {"app": app}}, "spec": {"containers": [_container(app)]}}
            out["apps.v1.deployments.json"].append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": _meta(app, ns, labels={"app": app}),
                    "spec": {
                        "replicas": REPLICAS,
                        "selector": {"matchLabels": {"app": app}},
                        "template": template,
                    },
                    "status": {"replicas": REPLICAS, "readyReplicas": REPLICAS},
                }
            )
            out["apps.v1.replicasets.json"].append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": _meta(rs, ns, labels=labels, ownerReferences=_owner("Deployment", app, ns)),
                    "spec": {"replicas": REPLICAS},
                    "status": {"replicas": REPLICAS, "readyReplicas": REPLICAS},
                }
            )
            out["core.v1.services.json"].append(
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": _meta(app, ns),
                    "spec": {"selector": {"app": app}, "ports": [{"port": 80, "targetPort": 8080}]},
                }
            )
        out["core.v1.pods.json"].append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(
                    f"{rs}-{replica:05d}", ns, labels=labels, ownerReferences=_owner("ReplicaSet", rs, ns)
                ),
                "spec": {"containers": [_container(app)], "nodeName": f"node-{i // PODS_PER_NODE:03d}"},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [
                        {"name": "app", "ready": True, "restartCount": i % 3, "state": {"running": {}}}
                    ],
                },
            }
        )
    return out


def write(dest: Path, pods: int) -> dict[str, int]:
    """Write the snapshot of ``pods`` pods to ``dest``; the number of objects per file."""
    dest.mkdir(parents=True, exist_ok=True)
    meta = {
        "captured_at": CAPTURED_AT,
        "cluster": "big",
        "context": "mini-admin",
        "format": "infra-audit-snapshot/1",
        "server_version": "v1.31.2",
    }
    (dest / "_snapshot.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    counts = {}
    for name, items in objects(pods).items():
        kind = items[0]["kind"] if items else ""
        (dest / name).write_text(json.dumps({"apiVersion": "v1", "kind": f"{kind}List", "items": items}))
        counts[name] = len(items)
    return counts
