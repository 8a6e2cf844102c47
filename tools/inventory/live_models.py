"""What only a cluster shows: pods, nodes, jobs, cron jobs, events, objects, and the code-live links.

The records a cluster shares with code (workloads, namespaces, ...) are in ``models.py``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from domain import unread
from tools.inventory.sources import CodeRef, EstateText, LiveRef, Record


class ContainerStatus(Record):
    name: str
    ready: bool = False
    restart_count: int = 0
    waiting_reason: str | None = None
    waiting_message: EstateText | None = Field(
        default=None, description="The kubelet's words (an image pull error names its cause): redacted."
    )
    image: str | None = None
    last_terminated_reason: str | None = None


class PodState(Record):
    name: str
    namespace: str
    phase: str | None = None
    node: str | None = None
    owner_kind: str | None = None
    owner_name: str | None = None
    containers: list[ContainerStatus] = Field(default_factory=list)
    unschedulable: EstateText | None = Field(
        default=None, description="The scheduler's message when PodScheduled is False (Pending pods)."
    )
    source: LiveRef


class NodeState(Record):
    name: str
    roles: list[str] = Field(default_factory=list)
    ready: bool = True
    cpu_allocatable_m: int | None = None
    memory_allocatable_b: int | None = None
    cpu_usage_m: int | None = None
    memory_usage_b: int | None = None
    kubelet_version: str | None = None
    kube_proxy_version: str | None = None
    container_runtime: str | None = None
    pressure: list[str] = Field(
        default_factory=list,
        description="Node conditions other than Ready that are True (MemoryPressure...).",
    )
    source: LiveRef


class JobState(Record):
    name: str
    namespace: str
    owner_cronjob: str | None = None
    succeeded: int = 0
    failed: int = 0
    completion_time: str | None = None
    source: LiveRef


class CronJobState(Record):
    name: str
    namespace: str
    schedule: str | None = None
    suspend: bool = False
    last_schedule_time: str | None = None
    last_successful_time: str | None = None
    source: LiveRef


class EventRecord(Record):
    namespace: str | None
    type: str | None = None
    reason: str | None = None
    object_kind: str | None = None
    object_name: str | None = None
    message: EstateText | None = None
    count: int = 1
    source: LiveRef


class LiveObject(Record):
    """Any live object by identity, for 'live objects no code defines'."""

    api_version: str
    kind: str
    namespace: str | None
    name: str
    managed_by: str | None = Field(default=None, description="app.kubernetes.io/managed-by or helm owner.")
    owner: str | None = Field(
        default=None,
        description="The kind of its first metadata.ownerReferences entry ('owner' when that names no "
        "kind); None when no object owns it.",
    )
    source: LiveRef


class ClusterInfo(Record):
    name: str
    context: str | None = None
    server_version: str | None = None
    captured_at: str | None = None
    backend: Literal["live", "snapshot"]


class UnreadResource(unread.UnreadResource):
    """``domain.unread.UnreadResource`` as the cluster readers build it: the reason redacted when built."""

    reason: EstateText = Field(description="Why, in a server's or a parser's words: redacted when built.")


class Link(Record):
    """A workload defined in code and seen live, joined on kind/namespace/name."""

    kind: str
    namespace: str | None
    name: str
    code: CodeRef
    live: LiveRef
    replicas_code: int | None = None
    replicas_live: int | None = None
