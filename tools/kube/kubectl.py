"""The kubectl-shaped tools: get, describe, top, api-resources, events. Read verbs only.

Each tool is a typed function over a ``KubeBackend`` returning a ``ToolResult``; its docstring is the
description a model reads, so it says what the tool answers and how to narrow it. Every result
carries the kubectl command that reproduces it against the real cluster (also for a snapshot, whose
directory is added to ``args``), text shaped like kubectl's, a structured ``data`` payload and, where
it means something, a count in ``value``. Output and data pass through ``tools.redact`` here, and the
registry redacts again.

A bad query is not an exception: unknown types come back with the closest names, a missing object
with similar names, a missing namespace with the existing ones, RBAC denials with the verb and
resource that were refused. ``ReadOnlyViolation`` is deliberately not caught.
"""

from __future__ import annotations

import contextlib
import shlex
import weakref
from typing import Any, Literal

from domain.results import ToolResult, ToolStatus
from tools.kube import explain, printers
from tools.kube.backend import (
    KubeBackend,
    KubeObject,
    KubeQueryError,
    NotFoundError,
    UnavailableError,
    without_bookkeeping,
)
from tools.kube.quantity import cpu_millicores, format_bytes, format_millicores, memory_bytes
from tools.kube.resources import ResourceTable, ResourceType, UnknownResourceError
from tools.redact import redact_object, redact_text

EVENT_TYPES = ("Normal", "Warning")


# ------------------------------------------------------------------------------ shared plumbing


def _args(backend: KubeBackend, **given: Any) -> dict[str, Any]:
    """The arguments as a caller would pass them (defaults left out, so evidence ids stay stable),
    plus the snapshot directory, which is part of what the answer depends on."""
    args = {k: v for k, v in given.items() if v is not None and v is not False}
    if backend.snapshot_dir is not None:
        args["snapshot"] = str(backend.snapshot_dir)
    return args


def _command(backend: KubeBackend, *parts: str) -> str:
    context = backend.info.context
    tail = ["--context", context] if context else []
    return " ".join(["kubectl", *(shlex.quote(p) for p in (*parts, *tail))])


def _scope(rtype: ResourceType | None, namespace: str | None) -> list[str]:
    if rtype is not None and not rtype.namespaced:
        return []
    return ["-A"] if namespace is None else ["-n", namespace]


_last_table: list[tuple[weakref.ref[KubeBackend], list[ResourceType], ResourceTable]] = []


def _table(backend: KubeBackend) -> ResourceTable:
    """The name table over what the backend serves; the last one is kept while the backend serves the
    same types (the same objects): a check that reads one object per backup job made 434 of them at
    10k pods (issue 13)."""
    try:
        served = backend.api_resources()
    except KubeQueryError:  # discovery refused or down: kubectl's own names still resolve
        return ResourceTable()
    last = _last_table[-1] if _last_table else None
    if (
        last is not None
        and last[0]() is backend
        and len(last[1]) == len(served)
        and all(a is b for a, b in zip(last[1], served, strict=True))
    ):
        return last[2]
    table = ResourceTable(served)
    with contextlib.suppress(TypeError):  # a backend that cannot be referred to weakly is not kept
        _last_table[:] = [(weakref.ref(backend), served, table)]
    return table


def _strip_noise(obj: KubeObject) -> KubeObject:
    """Drop ``metadata.managedFields`` and the last-applied annotation (``without_bookkeeping``): copies
    of the object that inform nothing; a snapshot drops them on load, so a live cluster shows the same."""
    return without_bookkeeping(obj)


def _result(
    tool: str,
    args: dict[str, Any],
    command: str,
    output: str,
    data: Any,
    value: float | None,
    empty: bool = False,
) -> ToolResult:
    return ToolResult(
        tool=tool,
        args=args,
        status=ToolStatus.NO_DATA if empty else ToolStatus.OK,
        command=command,
        output=redact_text(output),
        data=redact_object(data),
        value=value,
    )


def _fail(tool: str, args: dict[str, Any], command: str, error: str) -> ToolResult:
    return ToolResult.fail(tool, args, command, redact_text(error))


# ------------------------------------------------------------------------------ the tools


def kube_get(
    backend: KubeBackend,
    resource: str,
    name: str | None = None,
    namespace: str | None = None,
    all_namespaces: bool = False,
    selector: str | None = None,
    fields: list[str] | None = None,
) -> ToolResult:
    """List or fetch Kubernetes objects, like `kubectl get`.

    resource: a kubectl name: 'pods', 'po', 'deploy', 'sts', 'cj', 'pvc', 'netpol', 'ns', 'no',
    'deployments.apps', 'clusterpolicies.kyverno.io', 'helmreleases.helm.toolkit.fluxcd.io', ...
    name: one object by name (with all_namespaces=True: that name in every namespace).
    namespace: the namespace (default: the context's); ignored for cluster-scoped types.
    all_namespaces: list across all namespaces (kubectl -A).
    selector: a label selector, e.g. 'app=immich' or 'tier in (web,api),!canary'.
    fields: dotted JSON paths to return instead of whole objects, e.g.
    ['metadata.namespace', 'metadata.name', 'spec.replicas', 'status.readyReplicas'];
    '[*]' and '[0]' index lists ('spec.containers[*].image'). Prefer fields for counts over many objects.
    Returns a kubectl-style table, the objects (or the selected fields) as data, and the count as value.
    """
    args = _args(
        backend,
        resource=resource,
        name=name,
        namespace=namespace,
        all_namespaces=all_namespaces,
        selector=selector,
        fields=fields,
    )
    try:
        rtype = _table(backend).resolve(resource)
    except UnknownResourceError as exc:
        return _fail("kube_get", args, _command(backend, "get", resource), explain.unknown_resource(exc))
    ns = None if all_namespaces or not rtype.namespaced else (namespace or backend.default_namespace)
    field_selector = f"metadata.name={name}" if name and all_namespaces else None
    output_flag = printers.custom_columns_flag(fields) if fields else "json"
    parts = ["get", resource, *([name] if name and not all_namespaces else []), *_scope(rtype, ns)]
    parts += [
        *(["-l", selector] if selector else []),
        *(["--field-selector", field_selector] if field_selector else []),
        "-o",
        output_flag,
    ]
    command = _command(backend, *parts)
    try:
        if name and not all_namespaces:
            objects = [backend.get_object(rtype, name, ns)]
        else:
            objects = backend.list_objects(rtype, ns, selector, field_selector)
    except NotFoundError:
        return _fail("kube_get", args, command, explain.not_found(backend, rtype, name or "", ns))
    except KubeQueryError as exc:
        return _fail(
            "kube_get", args, command, explain.query_error(exc, backend, "get" if name else "list", rtype, ns)
        )
    objects = [_strip_noise(o) for o in objects]
    if not objects:
        problem = explain.namespace_problem(backend, ns if rtype.namespaced else None)
        if problem:
            return _fail("kube_get", args, command, problem)
        where = f" in {ns} namespace" if ns else ""
        return _result("kube_get", args, command, f"No resources found{where}.", [], 0, empty=True)
    # with fields, only what they read is redacted (printers.project), not whole objects
    safe = redact_object([printers.project(o, fields) for o in objects] if fields else objects)
    with_ns = rtype.namespaced and ns is None
    if fields:
        data: list[Any] = [{f: printers.json_path(o, f) for f in fields} for o in safe]
        rows = [[printers.cell(d[f]) for f in fields] for d in data]
        output = printers.table(printers.column_headers(fields), rows)
    else:
        data = safe
        output = printers.get_table(rtype, safe, with_namespace=with_ns)
    return _result("kube_get", args, command, output, data, len(data))


def kube_describe(backend: KubeBackend, resource: str, name: str, namespace: str | None = None) -> ToolResult:
    """Describe one object, like `kubectl describe`: identity, labels, annotations, owners, every
    top-level section (spec, status, data keys, rules, ...) as YAML, and the events about it.

    resource: a kubectl name ('deploy', 'po', 'no', 'cronjobs.batch', ...). name: the object.
    namespace: its namespace (default: the context's); ignored for cluster-scoped types.
    Use it to see why one workload is unhealthy after kube_get has found which.
    """
    args = _args(backend, resource=resource, name=name, namespace=namespace)
    try:
        rtype = _table(backend).resolve(resource)
    except UnknownResourceError as exc:
        return _fail(
            "kube_describe",
            args,
            _command(backend, "describe", resource, name),
            explain.unknown_resource(exc),
        )
    ns = (namespace or backend.default_namespace) if rtype.namespaced else None
    command = _command(backend, "describe", resource, name, *_scope(rtype, ns))
    try:
        obj = _strip_noise(backend.get_object(rtype, name, ns))
    except NotFoundError:
        return _fail("kube_describe", args, command, explain.not_found(backend, rtype, name, ns))
    except KubeQueryError as exc:
        return _fail("kube_describe", args, command, explain.query_error(exc, backend, "get", rtype, ns))
    selector = f"involvedObject.kind={rtype.kind},involvedObject.name={name}"
    try:
        events = backend.list_objects(ResourceTable().resolve("events"), ns, None, selector)
    except KubeQueryError:
        events = []  # describing still works without events, as kubectl's does
    events = sorted(
        events, key=lambda e: (printers.event_time(e), printers.cell(e.get("metadata", {}).get("name")))
    )
    safe_obj, safe_events = redact_object(obj), redact_object(events)
    return _result(
        "kube_describe",
        args,
        command,
        printers.describe_text(safe_obj, safe_events),
        {"object": safe_obj, "events": safe_events},
        None,
    )


def kube_top(
    backend: KubeBackend,
    what: Literal["nodes", "pods"],
    namespace: str | None = None,
    all_namespaces: bool = False,
) -> ToolResult:
    """Current CPU and memory usage from metrics-server, like `kubectl top nodes|pods`.

    what: 'nodes' (usage and % of allocatable per node) or 'pods' (usage per pod, containers summed).
    namespace / all_namespaces: which pods (default: the context's namespace); ignored for nodes.
    CPU is in millicores (data: cpu_m), memory in bytes (data: memory_b). A point-in-time sample, not
    a trend. Returns no_data with the reason when the cluster has no metrics API.
    """
    args = _args(backend, what=what, namespace=namespace, all_namespaces=all_namespaces)
    ns = None if what == "nodes" or all_namespaces else (namespace or backend.default_namespace)
    command = _command(
        backend, "top", what, *([] if what == "nodes" else (["-A"] if ns is None else ["-n", ns]))
    )
    if what not in ("nodes", "pods"):
        return _fail("kube_top", args, command, f"cannot top {what!r}: use what='nodes' or what='pods'")
    try:
        samples = backend.metrics(what, ns)
    except UnavailableError as exc:
        return _result("kube_top", args, command, exc.message, [], None, empty=True)
    except KubeQueryError as exc:
        return _fail("kube_top", args, command, explain.query_error(exc, backend, "list", None, ns))
    if what == "nodes":
        data, output = _top_nodes(backend, samples)
    else:
        data = [
            {
                "namespace": s["metadata"].get("namespace"),
                "name": s["metadata"]["name"],
                "cpu_m": sum(
                    cpu_millicores(c.get("usage", {}).get("cpu")) or 0 for c in s.get("containers") or []
                ),
                "memory_b": sum(
                    memory_bytes(c.get("usage", {}).get("memory")) or 0 for c in s.get("containers") or []
                ),
            }
            for s in samples
        ]
        headers = (["NAMESPACE"] if ns is None else []) + ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        output = printers.table(
            headers,
            [
                ([d["namespace"]] if ns is None else [])
                + [d["name"], format_millicores(d["cpu_m"]), format_bytes(d["memory_b"])]
                for d in data
            ],
        )
    if not data:
        problem = explain.namespace_problem(backend, ns)
        if problem:
            return _fail("kube_top", args, command, problem)
        return _result("kube_top", args, command, f"No {what} metrics found.", [], 0, empty=True)
    return _result("kube_top", args, command, output, data, len(data))


def _top_nodes(backend: KubeBackend, samples: list[KubeObject]) -> tuple[list[dict[str, Any]], str]:
    try:
        nodes = {n["metadata"]["name"]: n for n in backend.list_objects(ResourceTable().resolve("nodes"))}
    except KubeQueryError:
        nodes = {}  # usage without percentages beats no answer
    data: list[dict[str, Any]] = []
    for s in sorted(samples, key=lambda x: str(x["metadata"]["name"])):
        name = s["metadata"]["name"]
        alloc = (nodes.get(name) or {}).get("status", {}).get("allocatable") or {}
        cpu, mem = (
            cpu_millicores(s.get("usage", {}).get("cpu")) or 0,
            memory_bytes(s.get("usage", {}).get("memory")) or 0,
        )
        cpu_alloc, mem_alloc = cpu_millicores(alloc.get("cpu")), memory_bytes(alloc.get("memory"))
        data.append(
            {
                "name": name,
                "cpu_m": cpu,
                "cpu_allocatable_m": cpu_alloc,
                "cpu_percent": round(100 * cpu / cpu_alloc) if cpu_alloc else None,
                "memory_b": mem,
                "memory_allocatable_b": mem_alloc,
                "memory_percent": round(100 * mem / mem_alloc) if mem_alloc else None,
            }
        )
    rows = [
        [
            d["name"],
            format_millicores(d["cpu_m"]),
            printers.cell(_pct(d["cpu_percent"])),
            format_bytes(d["memory_b"]),
            printers.cell(_pct(d["memory_percent"])),
        ]
        for d in data
    ]
    return data, printers.table(["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"], rows)


def _pct(value: int | None) -> str | None:
    return None if value is None else f"{value}%"


def kube_api_resources(backend: KubeBackend) -> ToolResult:
    """The resource types the cluster serves, like `kubectl api-resources`: name, short names,
    apiVersion, whether namespaced, and kind. Use it to learn which CRDs (Kyverno, Flux, Argo CD,
    Prometheus Operator, ...) are installed and what to pass as `resource` to kube_get.
    """
    args = _args(backend)
    command = _command(backend, "api-resources")
    try:
        types = backend.api_resources()
    except KubeQueryError as exc:
        return _fail(
            "kube_api_resources", args, command, explain.query_error(exc, backend, "discover", None, None)
        )
    data = [
        {
            "name": t.plural,
            "shortNames": list(t.short_names),
            "apiVersion": t.api_version,
            "namespaced": t.namespaced,
            "kind": t.kind,
        }
        for t in types
    ]
    if not data:
        return _result("kube_api_resources", args, command, "No resource types found.", [], 0, empty=True)
    return _result("kube_api_resources", args, command, printers.api_resources_table(types), data, len(data))


def kube_events(
    backend: KubeBackend,
    namespace: str | None = None,
    all_namespaces: bool = False,
    field_selector: str | None = None,
    types: list[Literal["Normal", "Warning"]] | None = None,
) -> ToolResult:
    """Cluster events, oldest first, like `kubectl get events --sort-by=.lastTimestamp`.

    namespace / all_namespaces: where (default: the context's namespace).
    field_selector: e.g. 'involvedObject.name=immich-server' or 'reason=BackOff,involvedObject.kind=Pod'.
    types: ['Warning'] for problems only (the usual question), ['Normal'], or both.
    Events expire (about an hour by default), so an empty answer means 'nothing recent', not 'never'.
    """
    args = _args(
        backend,
        namespace=namespace,
        all_namespaces=all_namespaces,
        field_selector=field_selector,
        types=types,
    )
    ns = None if all_namespaces else (namespace or backend.default_namespace)
    wanted = sorted(set(types or EVENT_TYPES))
    selector = ",".join(p for p in (field_selector, f"type={wanted[0]}" if len(wanted) == 1 else None) if p)
    command = _command(
        backend,
        "get",
        "events",
        *(["-A"] if ns is None else ["-n", ns]),
        *(["--field-selector", selector] if selector else []),
        "--sort-by=.lastTimestamp",
    )
    bad = [t for t in wanted if t not in EVENT_TYPES]
    if bad:
        return _fail(
            "kube_events", args, command, f"unknown event type(s) {bad}; use 'Normal' and/or 'Warning'"
        )
    events_type = ResourceTable().resolve("events")
    try:
        events = backend.list_objects(events_type, ns, None, selector or None)
    except KubeQueryError as exc:
        return _fail("kube_events", args, command, explain.query_error(exc, backend, "list", events_type, ns))
    if not events:
        problem = explain.namespace_problem(backend, ns)
        if problem:
            return _fail("kube_events", args, command, problem)
        where = f" in {ns} namespace" if ns else ""
        return _result("kube_events", args, command, f"No events found{where}.", [], 0, empty=True)
    events = sorted(
        (_strip_noise(e) for e in events),
        key=lambda e: (
            printers.event_time(e),
            printers.cell(e.get("metadata", {}).get("namespace")),
            printers.cell(e.get("metadata", {}).get("name")),
        ),
    )
    safe = redact_object(events)
    return _result(
        "kube_events", args, command, printers.events_table(safe, with_namespace=ns is None), safe, len(safe)
    )
