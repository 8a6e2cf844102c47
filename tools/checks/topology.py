"""The cluster topology of the report's context (``domain/topology.py``), from the live state.

Requests per node are the scheduler's view (``scalability_live.node_requests``); usage comes from
metrics-server when the cluster (or snapshot) has it, else the columns are empty. Nothing here is a
finding: it is what the reader needs to weigh the findings.
"""

from __future__ import annotations

from collections import Counter

from domain.topology import AppRow, ClusterTopology, NodeRow
from tools.checks.detections.scalability_live import PodRequests, node_requests
from tools.inventory.inventory import LiveState


def _pct(value: int | None, allocatable: int | None) -> int | None:
    if value is None or not allocatable:
        return None
    return round(100 * value / allocatable)


def cluster_topology(live: LiveState) -> ClusterTopology:
    requested, _ = node_requests(live)
    nodes = []
    for node in sorted(live.nodes, key=lambda n: n.name):
        asked = requested.get(node.name, PodRequests(0, 0))
        nodes.append(
            NodeRow(
                name=node.name,
                roles=list(node.roles),
                kubelet=node.kubelet_version,
                runtime=node.container_runtime,
                status=", ".join(["Ready" if node.ready else "NotReady", *node.pressure]),
                cpu_requested_pct=_pct(asked.cpu_m, node.cpu_allocatable_m),
                cpu_used_pct=_pct(node.cpu_usage_m, node.cpu_allocatable_m),
                memory_requested_pct=_pct(asked.memory_b, node.memory_allocatable_b),
                memory_used_pct=_pct(node.memory_usage_b, node.memory_allocatable_b),
            )
        )
    phases = Counter(pod.phase or "Unknown" for pod in live.pods)
    apps = [
        AppRow(kind=a.kind, namespace=a.namespace, name=a.name, sync=a.sync, health=a.health)
        for a in sorted(live.apps, key=lambda a: (a.kind, a.namespace or "", a.name))
    ]
    return ClusterTopology(
        cluster=live.cluster.name,
        server_version=live.cluster.server_version,
        nodes=nodes,
        pod_phases=dict(sorted(phases.items())),
        apps=apps,
    )
