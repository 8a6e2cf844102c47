"""The cluster as the report's context shows it: nodes, pod phases, GitOps applications.

What a senior SRE writes at the top of a cluster audit before any finding (the seed audits'
"Cluster Topology"): each node with its role, versions and how full it is, the pods by phase, and
the sync and health of every Argo CD Application and Flux release. Built from the live state in
``tools/checks/topology.py``; rendered by the markdown report, carried whole in audit.json.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeRow(_Model):
    name: str
    roles: list[str] = Field(default_factory=list)
    kubelet: str | None = None
    runtime: str | None = None
    status: str = Field(description="Ready, NotReady, and any pressure condition that is True.")
    cpu_requested_pct: int | None = Field(default=None, description="Share of allocatable, by requests.")
    cpu_used_pct: int | None = Field(default=None, description="Share of allocatable, by metrics-server.")
    memory_requested_pct: int | None = None
    memory_used_pct: int | None = None


class AppRow(_Model):
    kind: str = Field(description="Application (Argo CD), HelmRelease or Kustomization (Flux).")
    namespace: str | None = None
    name: str
    sync: str | None = None
    health: str | None = None


class ClusterTopology(_Model):
    cluster: str
    server_version: str | None = None
    nodes: list[NodeRow] = Field(default_factory=list)
    pod_phases: dict[str, int] = Field(default_factory=dict, description="Live pods by status.phase.")
    apps: list[AppRow] = Field(default_factory=list)
