"""Node pressure: how full each live node is, by what the scheduler reserved and by what is used.

Requests per node are summed over the live pods bound to it that still hold resources (phase not
Succeeded or Failed). The inventory keeps a pod's runtime state (``PodState``: node, owner) apart
from its spec, so a pod's requests come from the spec of what runs it: a bare pod's own record
(``Workload(kind="Pod")``), else its owner's pod template (Deployment, StatefulSet, DaemonSet,
ReplicaSet; a Job's pod through the Job, or its CronJob's job template). The pod's effective
request is what the scheduler reserves: the larger of the sum over regular containers and the
largest init container. Pods whose spec cannot be found are named in the detail and add nothing.
Usage comes from metrics-server (``NodeState.cpu_usage_m``/``memory_usage_b``).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.findings import Location
from tools.checks.detections.reliability_live import not_applicable
from tools.checks.spec import CheckContext, Detection, detector
from tools.inventory import indexes
from tools.inventory.inventory import LiveState
from tools.inventory.models import NodeState, PodState, Workload
from tools.kube.quantity import cpu_millicores, memory_bytes

PRESSURE_THRESHOLD = 0.80
"""Share of allocatable above which a node cannot absorb a drained neighbour's pods."""
DONE_PHASES = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True)
class PodRequests:
    cpu_m: int
    memory_b: int


def pod_requests(workload: Workload) -> PodRequests:
    """The scheduler's view of one pod of ``workload``: max(sum of regular, largest init container)."""
    regular = [c for c in workload.containers if not c.init]
    init = [c for c in workload.containers if c.init]
    cpu = sum(cpu_millicores(c.resources.cpu_request) or 0 for c in regular)
    memory = sum(memory_bytes(c.resources.memory_request) or 0 for c in regular)
    cpu = max([cpu, *(cpu_millicores(c.resources.cpu_request) or 0 for c in init)])
    memory = max([memory, *(memory_bytes(c.resources.memory_request) or 0 for c in init)])
    return PodRequests(cpu, memory)


def _spec_of(
    pod: PodState,
    live: LiveState,
    specs: dict[tuple[str, str | None, str | None], Workload],
    read_jobs: list[bool] | None = None,
) -> Workload | None:
    """The workload whose pod template describes ``pod`` (see the module docstring); ``read_jobs``
    is marked when the live Jobs were read for it."""
    if pod.owner_kind is None or pod.owner_name is None:
        return specs.get(("Pod", pod.namespace, pod.name))
    if pod.owner_kind == "Job" and ("Job", pod.namespace, pod.owner_name) not in specs:
        if read_jobs is not None:
            read_jobs[0] = True
        job = indexes.jobs_by_name(live).get((pod.namespace, pod.owner_name))
        if job is not None and job.owner_cronjob:
            return specs.get(("CronJob", pod.namespace, job.owner_cronjob))
        return None
    return specs.get((pod.owner_kind, pod.namespace, pod.owner_name))


def _pct(value: int | None, allocatable: int | None) -> float | None:
    if value is None or not allocatable:
        return None
    return value / allocatable


def _show(label: str, share: float | None) -> str:
    return f"{label} {share:.0%}" if share is not None else f"{label} n/a"


def node_requests(live: LiveState) -> tuple[dict[str, PodRequests], dict[str, list[str]]]:
    """What the scheduler reserved on each node (the pods bound to it that still hold resources), and
    per node the pods whose spec could not be found (``namespace/name``).

    Worked out once per live state (the report's topology and SCA-LIVE-NODE-PRESSURE both ask: 0.1 s
    each at 10k pods) and kept as the indexes are (worked out again when the pods or the workloads
    list is replaced or changes length); each call reads the lists the working out read, the Jobs
    included when it needed them, so the runner's watch of a check sees the same reads."""
    workloads, pods = live.workloads, live.pods

    def build() -> tuple[dict[str, PodRequests], dict[str, list[str]], bool]:
        read_jobs = [False]
        specs = {w.key: w for w in workloads}
        requested: dict[str, PodRequests] = {}
        unknown: dict[str, list[str]] = {}
        for pod in pods:
            if pod.node is None or pod.phase in DONE_PHASES:
                continue
            spec = _spec_of(pod, live, specs, read_jobs)
            if spec is None:
                unknown.setdefault(pod.node, []).append(f"{pod.namespace}/{pod.name}")
                continue
            one = pod_requests(spec)
            so_far = requested.get(pod.node, PodRequests(0, 0))
            requested[pod.node] = PodRequests(so_far.cpu_m + one.cpu_m, so_far.memory_b + one.memory_b)
        return requested, unknown, read_jobs[0]

    requested, unknown, read_jobs = indexes.cached(live, "node_requests", pods, build, workloads)
    if read_jobs:
        indexes.jobs_by_name(live)  # read again as working it out read it
    return dict(requested), {node: list(names) for node, names in unknown.items()}


@detector("SCA-LIVE-NODE-PRESSURE")
def node_pressure(ctx: CheckContext) -> Detection:
    """Live nodes where CPU or memory requests, or CPU or memory usage, exceed 80% of allocatable.
    A node with no metrics is judged by requests alone. total = nodes."""
    live = ctx.inventory.live
    if live is None:
        return not_applicable()
    requested, unknown = node_requests(live)
    locations = []
    for node in live.nodes:
        location = _judge(node, requested.get(node.name, PodRequests(0, 0)), unknown.get(node.name, []))
        if location is not None:
            locations.append(location)
    return Detection(count=len(locations), total=len(live.nodes), locations=locations)


def _judge(node: NodeState, requests: PodRequests, unknown: list[str]) -> Location | None:
    shares = {
        "CPU requests": _pct(requests.cpu_m, node.cpu_allocatable_m),
        "memory requests": _pct(requests.memory_b, node.memory_allocatable_b),
        "CPU usage": _pct(node.cpu_usage_m, node.cpu_allocatable_m),
        "memory usage": _pct(node.memory_usage_b, node.memory_allocatable_b),
    }
    over = [label for label, share in shares.items() if share is not None and share > PRESSURE_THRESHOLD]
    if not over:
        return None
    detail = f"above 80%: {', '.join(over)} ({'; '.join(_show(k, v) for k, v in shares.items())})"
    if unknown:
        detail += f"; requests of {len(unknown)} pods unknown ({', '.join(sorted(unknown))})"
    return Location(ref=str(node.source), subject=f"Node/{node.name}", detail=detail)
