"""Hand-built inventories for detection tests: small, explicit records instead of parsed estates.

Every builder returns the real pydantic record, so a test reads like the estate it stands for and a
model change that breaks a detector breaks its test too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tools.checks.spec import CheckContext, Detection
from tools.clock import parse_clock
from tools.evidence import Ledger
from tools.inventory.inventory import Inventory, LiveState, Records
from tools.inventory.models import (
    ClusterInfo,
    CodeRef,
    Container,
    ContainerStatus,
    LiveRef,
    PodState,
    ProbeKind,
    Resources,
    Volume,
    Workload,
)
from tools.registry import Toolbox, ToolSpec, default_specs
from tools.sandbox import Jail

CLUSTER = "lab"
CAPTURED_AT = "2026-11-20T09:00:00Z"


def code_ref(path: str, line: int, end_line: int | None = None) -> CodeRef:
    return CodeRef(path=path, line=line, end_line=end_line)


def live_ref(kind: str, namespace: str | None, name: str) -> LiveRef:
    return LiveRef(cluster=CLUSTER, namespace=namespace, object_kind=kind, name=name)


def container(
    name: str = "app",
    *,
    probes: Iterable[ProbeKind] = (),
    init: bool = False,
    cpu: str | None = None,
    memory: str | None = None,
    cpu_limit: str | None = None,
    memory_limit: str | None = None,
    pre_stop: bool = False,
    image: str | None = "example/app:1.0",
    source: CodeRef | LiveRef | None = None,
    image_line: int | None = None,
) -> Container:
    return Container(
        name=name,
        image=image,
        init=init,
        probes=list(probes),
        resources=Resources(
            cpu_request=cpu, memory_request=memory, cpu_limit=cpu_limit, memory_limit=memory_limit
        ),
        pre_stop=pre_stop,
        source=source or code_ref("app.yaml", 1),
        image_line=image_line,
    )


def pvc_volume(claim: str, name: str = "data") -> Volume:
    return Volume(name=name, type="pvc", claim_name=claim)


def workload(
    kind: Any,
    namespace: str | None,
    name: str | None,
    *,
    at: str | None = None,
    live: bool = False,
    containers: list[Container] | None = None,
    **fields: Any,
) -> Workload:
    """A workload from code at ``at`` ('path:line', default '<name>.yaml:1'), or from the cluster."""
    if live:
        source: CodeRef | LiveRef = live_ref(kind, namespace, name or "")
        origin = "live"
    else:
        path, _, line = (at or f"{name}.yaml:1").partition(":")
        source = code_ref(path, int(line or 1), fields.pop("end_line", None))
        origin = "manifest"
    return Workload(
        kind=kind,
        namespace=namespace,
        name=name,
        origin=origin,
        containers=containers if containers is not None else [container()],
        source=source,
        **fields,
    )


def pod(
    namespace: str,
    name: str,
    *statuses: ContainerStatus,
    node: str | None = "node-1",
    phase: str = "Running",
    owner: tuple[str, str] | None = None,
) -> PodState:
    return PodState(
        name=name,
        namespace=namespace,
        phase=phase,
        node=node,
        owner_kind=owner[0] if owner else None,
        owner_name=owner[1] if owner else None,
        containers=list(statuses),
        source=live_ref("Pod", namespace, name),
    )


def live_state(**fields: Any) -> LiveState:
    return LiveState(cluster=ClusterInfo(name=CLUSTER, captured_at=CAPTURED_AT, backend="snapshot"), **fields)


def inventory(root: Path, live: LiveState | None = None, **code: Any) -> Inventory:
    return Inventory(root=str(root), code=Records(**code), live=live)


def context(inv: Inventory, extra: Iterable[ToolSpec] = ()) -> CheckContext:
    """A check context over ``inv`` with the real repo tools jailed to its root (plus ``extra`` tools)."""
    specs = [s for s in default_specs() if s.group == "repo"] + list(extra)
    backend = object() if extra else None
    return CheckContext(
        inventory=inv,
        toolbox=Toolbox(Jail(inv.root), backend, Ledger(), specs=specs),
        now=parse_clock(CAPTURED_AT),  # the audit clock of these tests: the snapshot's capture time
    )


def refs(detection: Detection) -> list[str]:
    return [loc.ref for loc in detection.locations]


def subjects(detection: Detection) -> list[str]:
    return [loc.subject for loc in detection.locations]


def run(check: Callable[[CheckContext], Detection], inv: Inventory) -> Detection:
    return check(context(inv))
