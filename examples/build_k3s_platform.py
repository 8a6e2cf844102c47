"""Write the bundled snapshot of examples/k3s-platform/cluster: a 3-node k3s cluster with Argo CD, in the
image of a real post-incident audit (version skew, a legacy duplicate, abandoned namespaces, a route to
nothing, removed image tags, a broken admission policy), plus the look-alikes that must NOT be reported.

    .venv/bin/python examples/build_k3s_platform.py     # rewrites examples/k3s-platform/cluster/

The objects are what ``kubectl get -o json`` returns, trimmed to the fields an audit reads. The files
are written as ``infra-audit snapshot`` writes them (one List per type, sorted), so the snapshot
backend and the live emulator serve them like any capture. examples/ground-truth/k3s-platform.yaml
says what a correct audit reports.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "k3s-platform" / "cluster"
CAPTURED = "2026-11-28T10:00:00Z"
SERVER = "v1.33.6+k3s1"
WORKERS = ("forge-core", "forge-edge-01", "forge-edge-02", "forge-core", "forge-builder-01")
Obj = dict[str, Any]


def meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    out: Obj = {"name": name, "creationTimestamp": extra.pop("created", "2026-03-02T09:00:00Z")}
    if namespace is not None:
        out["namespace"] = namespace
    out.update(extra)
    return out


def node(
    name: str,
    role: str | None,
    kubelet: str,
    *,
    pressure: str | None = None,
    cpu: str = "4",
    memory: str = "16274312Ki",
) -> Obj:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    if role:
        labels[f"node-role.kubernetes.io/{role}"] = "true"
    conditions = [
        {
            "type": t,
            "status": "True" if t == pressure else "False",
            "reason": f"KubeletHas{'' if t == pressure else 'No'}{t}",
        }
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ]
    conditions.append({"type": "Ready", "status": "True", "reason": "KubeletReady"})
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(name, labels=labels),
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": "110"},
            "capacity": {"cpu": cpu, "memory": memory, "pods": "110"},
            "conditions": conditions,
            "nodeInfo": {
                "kubeletVersion": kubelet,
                "kubeProxyVersion": kubelet,
                "containerRuntimeVersion": "containerd://2.0.5-k3s1",
                "osImage": "Ubuntu 24.04.1 LTS",
            },
        },
    }


def container(name: str, image: str, **extra: Any) -> Obj:
    out: Obj = {
        "name": name,
        "image": image,
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
    }
    out.update(extra)
    return out


def deployment(
    name: str,
    ns: str,
    image: str,
    replicas: int = 1,
    *,
    annotations: Obj | None = None,
    labels: Obj | None = None,
    upstream: bool = False,
) -> Obj:
    """``upstream``: a component installed from its maintainers' chart, which ships health probes
    and a non-root security context (coredns, Argo CD, Traefik, cert-manager, ...); the platform's
    own apps are written by hand and mostly lack both, as the findings say."""
    extra: Obj = {}
    if upstream:
        probe = {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10}
        extra = {
            "readinessProbe": probe,
            "livenessProbe": probe,
            "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
        }
    pod_labels = {"app.kubernetes.io/name": name, **(labels or {})}
    md = meta(name, ns, labels={"app.kubernetes.io/name": name, "argocd.argoproj.io/instance": ns})
    if annotations:
        md["annotations"] = annotations
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": md,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {"containers": [container(name, image, **extra)]},
            },
        },
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def pod(
    name: str,
    ns: str,
    owner: tuple[str, str] | None,
    image: str,
    *,
    labels: Obj | None = None,
    phase: str = "Running",
    waiting: tuple[str, str] | None = None,
    node_name: str | None = "forge-core",
    unschedulable: str | None = None,
    container_name: str | None = None,
    restarts: int = 0,
    claim: str | None = None,
    ready: bool = True,
) -> Obj:
    md = meta(name, ns, labels=labels or {})
    if owner:
        md["ownerReferences"] = [
            {
                "apiVersion": "apps/v1" if owner[0] != "Job" else "batch/v1",
                "kind": owner[0],
                "name": owner[1],
                "controller": True,
                "uid": f"uid-{owner[1]}",
            }
        ]
    cname = container_name or name
    state: Obj = {"running": {"startedAt": "2026-11-27T08:00:00Z"}}
    if waiting:
        state = {"waiting": {"reason": waiting[0], "message": waiting[1]}}
        ready = False
    if phase == "Succeeded":
        state = {"terminated": {"reason": "Completed", "exitCode": 0}}
        ready = False
    spec: Obj = {"containers": [container(cname, image)]}
    if node_name and not unschedulable:
        spec["nodeName"] = node_name
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    status: Obj = {"phase": "Pending" if unschedulable else phase}
    if unschedulable:
        status["conditions"] = [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": unschedulable}
        ]
    else:
        status["containerStatuses"] = [
            {"name": cname, "image": image, "ready": ready, "restartCount": restarts, "state": state}
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec, "status": status}


def replicaset(deploy: str, ns: str, suffix: str) -> Obj:
    md = meta(f"{deploy}-{suffix}", ns)
    md["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deploy,
            "controller": True,
            "uid": f"uid-{deploy}",
        }
    ]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": md, "spec": {"replicas": 1}}


def running(deploy: Obj, suffix: str, *, count: int | None = None, **kw: Any) -> list[Obj]:
    """The pods of a Deployment, through its ReplicaSet (``deploy-<suffix>-<n>``)."""
    name, ns = deploy["metadata"]["name"], deploy["metadata"]["namespace"]
    image = deploy["spec"]["template"]["spec"]["containers"][0]["image"]
    labels = {**deploy["spec"]["template"]["metadata"]["labels"], "pod-template-hash": suffix}
    n = deploy["spec"]["replicas"] if count is None else count
    return [
        pod(
            pod_name(name, suffix, i),
            ns,
            ("ReplicaSet", f"{name}-{suffix}"),
            image,
            labels=labels,
            container_name=name,
            **kw,
        )
        for i in range(n)
    ]


def pod_name(deploy: str, suffix: str, index: int) -> str:
    return f"{deploy}-{suffix}-{'xk2pq'[index % 5 :]}{'7m4wd'[: index % 5]}"


def service(
    name: str,
    ns: str,
    selector: Obj | None,
    *,
    type_: str = "ClusterIP",
    lb: str | None = None,
    external: str | None = None,
) -> Obj:
    spec: Obj = {"type": type_, "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}]}
    if selector is not None:
        spec["selector"] = selector
    if external:
        spec = {"type": "ExternalName", "externalName": external}
    status: Obj = {"loadBalancer": {"ingress": [{"ip": lb}]} if lb else {}}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns), "spec": spec, "status": status}


def slice_(service_name: str, ns: str, ready: int, unready: int = 0) -> Obj:
    endpoints = [{"addresses": [f"10.42.0.{i + 10}"], "conditions": {"ready": True}} for i in range(ready)]
    endpoints += [
        {"addresses": [f"10.42.1.{i + 10}"], "conditions": {"ready": False}} for i in range(unready)
    ]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "addressType": "IPv4",
        "metadata": meta(f"{service_name}-x7k2p", ns, labels={"kubernetes.io/service-name": service_name}),
        "endpoints": endpoints,
        "ports": [{"port": 8080, "protocol": "TCP"}],
    }


def event(
    ns: str, kind: str, name: str, reason: str, message: str, type_: str = "Warning", count: int = 1
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta(f"{name}.18a3f{len(message):04x}", ns),
        "involvedObject": {"kind": kind, "name": name, "namespace": ns},
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "lastTimestamp": "2026-11-28T09:55:00Z",
    }


def cond(type_: str, status: str, reason: str = "", message: str = "") -> Obj:
    return {"type": type_, "status": status, "reason": reason, "message": message}


def certificate(name: str, ns: str, host: str, ready: Obj, not_after: str | None = None) -> Obj:
    status: Obj = {"conditions": [ready]}
    if not_after:
        status["notAfter"] = not_after
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": meta(name, ns),
        "spec": {"dnsNames": [host], "secretName": f"{name}-tls" if not name.endswith("-tls") else name},
        "status": status,
    }


def ingressroute(name: str, ns: str, match: str, service: str) -> Obj:
    route = {"kind": "Rule", "match": match, "services": [{"name": service, "port": 80}]}
    return {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": meta(name, ns),
        "spec": {"entryPoints": ["websecure"], "routes": [route]},
    }


def build() -> dict[str, list[Obj]]:
    files: dict[str, list[Obj]] = {}
    nodes = [
        node("forge-core", "control-plane", SERVER, cpu="8", memory="65842036Ki"),
        node("forge-builder-01", None, "v1.34.3+k3s1"),  # the agent upgraded past the server: CNI broke
        node("forge-edge-01", None, "v1.33.6+k3s1", pressure="DiskPressure"),
        node("forge-edge-02", None, "v1.33.4+k3s1"),  # an older patch of the same minor: inside the policy
    ]
    files["core.v1.nodes"] = nodes
    namespaces = [
        "kube-system",
        "default",
        "argocd",
        "ingress",
        "cert-manager",
        "kyverno",
        "monitoring",
        "platform",
        "tunnel",
        "cloudflare",
        "shop-staging",
        "shop-prod",
        "ledger",
        "ledger-old-dev",
        "ledger-old-prod",
        "batch",
        "archive-jobs",
        "agents",
        "preview",
        "sandbox",
        "arc",
    ]
    files["core.v1.namespaces"] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": meta(n, labels={"kubernetes.io/metadata.name": n}),
            "status": {"phase": "Active"},
        }
        for n in namespaces
    ]
    d: dict[str, Obj] = {}

    def add(dep: Obj) -> Obj:
        d[f"{dep['metadata']['namespace']}/{dep['metadata']['name']}"] = dep
        return dep

    add(deployment("coredns", "kube-system", "rancher/mirrored-coredns-coredns:1.12.1", upstream=True))
    add(deployment("argocd-server", "argocd", "quay.io/argoproj/argocd:v2.14.8", upstream=True))
    add(deployment("traefik", "ingress", "rancher/mirrored-library-traefik:3.3.6", upstream=True))
    add(
        deployment(
            "cert-manager", "cert-manager", "quay.io/jetstack/cert-manager-controller:v1.17.2", upstream=True
        )
    )
    add(
        deployment(
            "kyverno-admission-controller", "kyverno", "ghcr.io/kyverno/kyverno:v1.13.4", upstream=True
        )
    )
    add(deployment("grafana", "monitoring", "grafana/grafana:11.6.1", upstream=True))
    add(deployment("docs", "platform", "ghcr.io/forge-lab/docs:2026.11.3"))
    add(deployment("web", "platform", "ghcr.io/forge-lab/web:2026.11.3", replicas=2))
    add(deployment("search", "platform", "ghcr.io/forge-lab/search:0.9.1"))
    add(
        deployment("notify", "platform", "ghcr.io/forge-lab/notify:2.4.0")
    )  # probes hit an app still starting
    add(deployment("loki", "monitoring", "grafana/loki:3.4.2"))  # its ConfigMap was renamed away
    add(deployment("private-tool", "platform", "ghcr.io/forge-lab-private/tool:1.4.0"))
    add(deployment("mqtt", "platform", "eclipse-mosquitto:2.0.21"))
    add(deployment("cloudflared", "tunnel", "cloudflare/cloudflared:2025.11.1", replicas=2))
    add(deployment("cloudflared", "cloudflare", "cloudflare/cloudflared:2024.12.0"))  # the legacy copy
    add(deployment("shop", "shop-staging", "ghcr.io/forge-lab/shop:2026.11.4"))
    add(deployment("shop", "shop-prod", "ghcr.io/forge-lab/shop:2026.11.2", replicas=5))
    add(deployment("api", "ledger", "ghcr.io/forge-lab/ledger-api:3.2.0", replicas=2))
    add(
        deployment("dispatch", "ledger", "ghcr.io/forge-lab/dispatch:3.2.0")
    )  # wrong path: lives under ledger/
    add(
        deployment(
            "preview",
            "preview",
            "ghcr.io/forge-lab/web:2026.11.3",
            replicas=0,
            annotations={"infra-audit.io/scaled-to-zero": "preview env, started on demand by CI"},
        )
    )
    add(deployment("demo", "sandbox", "ghcr.io/forge-lab/demo:0.3.0", replicas=0))
    files["apps.v1.deployments"] = list(d.values())
    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": meta("prometheus", "monitoring"),
        "spec": {
            "replicas": 1,
            "serviceName": "prometheus",
            "selector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "prometheus"}},
                "spec": {"containers": [container("prometheus", "quay.io/prometheus/prometheus:v3.3.1")]},
            },
        },
    }
    files["apps.v1.statefulsets"] = [sts]
    cronjobs = [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta("report", "batch"),
            "spec": {
                "schedule": "0 3 * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [container("report", "ghcr.io/forge-lab/report:1.1.0")],
                            }
                        }
                    }
                },
            },
            "status": {
                "lastScheduleTime": "2026-11-28T03:00:00Z",
                "lastSuccessfulTime": "2026-11-28T03:02:11Z",
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta("kyverno-cleanup-admission-reports", "kyverno"),
            "spec": {
                "schedule": "*/10 * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "OnFailure",
                                "containers": [container("cleanup", "docker.io/bitnami/kubectl:1.28.5")],
                            }
                        }
                    }
                },
            },
            "status": {
                "lastScheduleTime": "2026-11-28T09:50:00Z",
                "lastSuccessfulTime": "2026-11-20T09:40:00Z",
            },
        },
    ]
    files["batch.v1.cronjobs"] = cronjobs
    jobs = [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                **meta("report-29410380", "batch"),
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "report",
                        "controller": True,
                        "uid": "uid-report",
                    }
                ],
            },
            "status": {"succeeded": 1, "completionTime": "2026-11-28T03:02:11Z"},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                **meta("kyverno-cleanup-admission-reports-29411150", "kyverno"),
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "kyverno-cleanup-admission-reports",
                        "controller": True,
                        "uid": "uid-kcar",
                    }
                ],
            },
            "status": {"active": 1},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta("migrate-ledger-v2", "archive-jobs"),
            "status": {"succeeded": 1, "completionTime": "2026-05-14T11:00:00Z"},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta("backfill-2025", "archive-jobs"),
            "status": {"succeeded": 1, "completionTime": "2026-02-01T11:00:00Z"},
        },
    ]
    files["batch.v1.jobs"] = jobs

    pods: list[Obj] = []
    rs: list[Obj] = []
    suffixes = {}
    for i, (key, dep) in enumerate(sorted(d.items())):
        suffix = f"{7 + i:x}c9f{i:02x}b8d"[:10]
        suffixes[key] = suffix
        rs.append(replicaset(dep["metadata"]["name"], dep["metadata"]["namespace"], suffix))
        special = key in (
            "platform/search",
            "platform/private-tool",
            "ledger/dispatch",
            "tunnel/cloudflared",
            "platform/notify",
            "monitoring/loki",
        )
        if dep["spec"]["replicas"] and not special:
            pods += running(dep, suffix, node_name=WORKERS[i % len(WORKERS)])
    pods += running(
        d["platform/search"],
        suffixes["platform/search"],
        unschedulable=(
            "0/4 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }, "
            "3 Insufficient memory. preemption: 0/4 nodes are available: 4 No preemption victims found."
        ),
    )
    pods += running(
        d["platform/private-tool"],
        suffixes["platform/private-tool"],
        waiting=("ImagePullBackOff", 'Back-off pulling image "ghcr.io/forge-lab-private/tool:1.4.0"'),
    )
    pods += running(
        d["ledger/dispatch"],
        suffixes["ledger/dispatch"],
        waiting=(
            "ErrImagePull",
            'failed to pull and unpack image "ghcr.io/forge-lab/dispatch:3.2.0": '
            "failed to resolve reference: ghcr.io/forge-lab/dispatch:3.2.0: not found",
        ),
    )
    pods += running(
        d["platform/notify"],
        suffixes["platform/notify"],
        restarts=37,
        waiting=("CrashLoopBackOff", "back-off 5m0s restarting failed container=notify"),
    )
    pods += running(
        d["monitoring/loki"],
        suffixes["monitoring/loki"],
        waiting=("CreateContainerConfigError", 'configmap "loki-config" not found'),
    )
    # cloudflared in tunnel: one pod runs, the second is refused by a policy (see the events)
    pods += running(d["tunnel/cloudflared"], suffixes["tunnel/cloudflared"], count=1)
    pods.append(
        pod(
            "prometheus-0",
            "monitoring",
            ("StatefulSet", "prometheus"),
            "quay.io/prometheus/prometheus:v3.3.1",
            labels={"app.kubernetes.io/name": "prometheus"},
            claim="prometheus-data",
        )
    )
    pods.append(
        pod(
            "report-29410380-x2m4q",
            "batch",
            ("Job", "report-29410380"),
            "ghcr.io/forge-lab/report:1.1.0",
            phase="Succeeded",
        )
    )
    pods.append(
        pod(
            "kyverno-cleanup-admission-reports-29411150-qk7sd",
            "kyverno",
            ("Job", "kyverno-cleanup-admission-reports-29411150"),
            "docker.io/bitnami/kubectl:1.28.5",
            container_name="cleanup",
            phase="Pending",
            waiting=("ImagePullBackOff", 'Back-off pulling image "docker.io/bitnami/kubectl:1.28.5"'),
        )
    )
    pods.append(
        pod("runner-blue-0", "arc", None, "ghcr.io/actions/actions-runner:2.323.0", claim="cache-blue")
    )
    files["core.v1.pods"] = pods
    files["apps.v1.replicasets"] = rs

    def sel(name: str) -> Obj:
        return {"app.kubernetes.io/name": name}

    files["core.v1.services"] = [
        service("kube-dns", "kube-system", sel("coredns")),
        service("argocd-server", "argocd", sel("argocd-server")),
        service("traefik", "ingress", sel("traefik"), type_="LoadBalancer", lb="203.0.113.10"),
        service("docs", "platform", sel("docs")),
        service("web", "platform", sel("web")),
        service("mqtt", "platform", sel("mqtt"), type_="LoadBalancer"),  # no address: the pool is exhausted
        service(
            "metrics-old", "platform", {"app.kubernetes.io/name": "metrics-exporter-v1"}
        ),  # matches nothing
        service("legacy-crm", "platform", None, external="crm.forge.example"),
        service("shop", "shop-prod", sel("shop")),
        service("shop", "shop-staging", sel("shop")),
        service("api", "ledger", sel("api")),
        service("dispatch", "ledger", sel("dispatch")),
        service("preview", "preview", sel("preview")),
        service("demo", "sandbox", sel("demo")),
        service("grafana", "monitoring", sel("grafana")),
        service("prometheus", "monitoring", sel("prometheus")),
        service("upstream-bridge", "default", None),  # selector-less: endpoints managed by hand
    ]
    files["discovery.k8s.io.v1.endpointslices"] = [
        slice_("kube-dns", "kube-system", 1),
        slice_("argocd-server", "argocd", 1),
        slice_("traefik", "ingress", 1),
        slice_("docs", "platform", 1),
        slice_("web", "platform", 2),
        slice_("mqtt", "platform", 1),
        slice_("metrics-old", "platform", 0),
        slice_("shop", "shop-prod", 5),
        slice_("shop", "shop-staging", 1),
        slice_("api", "ledger", 2),
        slice_("dispatch", "ledger", 0, 1),
        slice_("preview", "preview", 0),
        slice_("demo", "sandbox", 0),
        slice_("grafana", "monitoring", 1),
        slice_("prometheus", "monitoring", 1),
        slice_("upstream-bridge", "default", 1),
    ]
    files["networking.k8s.io.v1.ingresses"] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta("docs", "platform"),
            "spec": {
                "rules": [
                    {
                        "host": "docs.forge.example",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "docs", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta("preview", "preview"),
            "spec": {
                "rules": [
                    {
                        "host": "preview.forge.example",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "preview", "port": {"number": 80}}},
                                }
                            ]
                        },
                    }
                ]
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": meta("ledger", "ledger"),
            "spec": {
                "rules": [
                    {
                        "host": "ledger.forge.example",
                        "http": {
                            "paths": [
                                {
                                    "path": "/api",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "api", "port": {"number": 80}}},
                                },
                                {
                                    "path": "/dispatch",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "dispatch", "port": {"number": 80}}},
                                },
                            ]
                        },
                    }
                ]
            },
        },
    ]
    files["gateway.networking.k8s.io.v1.httproutes"] = [
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": meta("shop", "shop-prod"),
            "spec": {
                "parentRefs": [{"name": "public", "namespace": "ingress"}],
                "hostnames": ["shop.forge.example"],
                "rules": [{"backendRefs": [{"name": "shop", "port": 80}]}],
            },
        },
    ]
    files["traefik.io.v1alpha1.ingressroutes"] = [
        ingressroute("agents", "agents", "Host(`agents.forge.example`)", "agents-api"),
        ingressroute("grafana", "monitoring", "Host(`grafana.forge.example`) && PathPrefix(`/`)", "grafana"),
    ]
    up_to_date = cond("Ready", "True", "Ready", "Certificate is up to date and has not expired")
    files["cert-manager.io.v1.certificates"] = [
        certificate("wildcard-forge", "ingress", "*.forge.example", up_to_date, "2027-02-10T08:00:00Z"),
        certificate("docs-tls", "platform", "docs.forge.example", up_to_date, "2026-12-09T08:00:00Z"),
        certificate(
            "agents-tls",
            "agents",
            "agents.forge.example",
            cond("Ready", "False", "DoesNotExist", "Issuing certificate as Secret does not exist"),
        ),
    ]
    files["autoscaling.v2.horizontalpodautoscalers"] = [
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta("web", "platform"),
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "web"},
                "minReplicas": 2,
                "maxReplicas": 6,
            },
            "status": {
                "currentReplicas": 2,
                "desiredReplicas": 2,
                "conditions": [
                    cond("AbleToScale", "True", "SucceededGetScale"),
                    cond(
                        "ScalingActive",
                        "False",
                        "FailedGetResourceMetric",
                        "the HPA was unable to compute the replica count: unable to get metrics for resource cpu",
                    ),
                ],
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta("shop", "shop-prod"),
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "shop"},
                "minReplicas": 2,
                "maxReplicas": 5,
            },
            "status": {
                "currentReplicas": 5,
                "desiredReplicas": 5,
                "conditions": [
                    cond("ScalingActive", "True", "ValidMetricFound"),
                    cond(
                        "ScalingLimited",
                        "True",
                        "TooManyReplicas",
                        "the desired replica count is more than the maximum",
                    ),
                ],
            },
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": meta("api", "ledger"),
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "api"},
                "minReplicas": 2,
                "maxReplicas": 6,
            },
            "status": {
                "currentReplicas": 2,
                "desiredReplicas": 2,
                "conditions": [cond("ScalingActive", "True", "ValidMetricFound")],
            },
        },
    ]
    files["policy.v1.poddisruptionbudgets"] = [
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta("api", "ledger"),
            "spec": {"minAvailable": 2, "selector": {"matchLabels": sel("api")}},
            "status": {"disruptionsAllowed": 0, "currentHealthy": 2, "desiredHealthy": 2, "expectedPods": 2},
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta("shop", "shop-prod"),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": sel("shop")}},
            "status": {"disruptionsAllowed": 1, "currentHealthy": 5, "desiredHealthy": 4, "expectedPods": 5},
        },
    ]
    files["storage.k8s.io.v1.storageclasses"] = [
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
            "metadata": meta(
                "local-path", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
            ),
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "provisioner": "driver.longhorn.io",
            "volumeBindingMode": "Immediate",
            "metadata": meta("longhorn"),
        },
    ]

    def pvc(name: str, ns: str, phase: str, cls: str | None, size: str = "20Gi") -> Obj:
        spec: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
        if cls:
            spec["storageClassName"] = cls
        return {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": meta(name, ns),
            "spec": spec,
            "status": {"phase": phase},
        }

    files["core.v1.persistentvolumeclaims"] = [
        pvc("prometheus-data", "monitoring", "Bound", "longhorn"),
        pvc("cache-blue", "arc", "Bound", "local-path", "50Gi"),
        pvc("cache-green", "arc", "Pending", None, "50Gi"),  # default class waits for a consumer: by design
        pvc("search-index", "platform", "Pending", "longhorn", "10Gi"),  # Immediate and still Pending
        pvc("old-redis", "ledger", "Lost", "longhorn", "5Gi"),
    ]
    files["kyverno.io.v1.clusterpolicies"] = [
        {
            "apiVersion": "kyverno.io/v1",
            "kind": "ClusterPolicy",
            "metadata": meta("disallow-privileged-containers"),
            "spec": {"validationFailureAction": "Enforce", "rules": [{"name": "privileged-containers"}]},
            "status": {"conditions": [cond("Ready", "True", "Succeeded", "Ready")]},
        },
        {
            "apiVersion": "kyverno.io/v1",
            "kind": "ClusterPolicy",
            "metadata": meta("verify-images"),
            "spec": {"validationFailureAction": "Audit", "rules": [{"name": "verify-signature"}]},
            "status": {
                "conditions": [
                    cond(
                        "Ready",
                        "False",
                        "Failed",
                        "spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.ctlog.url: "
                        'unknown field "url"',
                    )
                ]
            },
        },
    ]
    files["core.v1.events"] = [
        event(
            "tunnel",
            "ReplicaSet",
            f"cloudflared-{suffixes['tunnel/cloudflared']}",
            "FailedCreate",
            'Error creating: admission webhook "validate.kyverno.svc-fail" denied the request: \n\n'
            "resource Pod/tunnel/cloudflared was blocked due to the following policies\n\n"
            "disallow-privileged-containers:\n  privileged-containers: validation error: Privileged mode is "
            "disallowed. The fields spec.containers[*].securityContext.privileged must be unset or set to `false`.",
            count=214,
        ),
        event(
            "kyverno",
            "Pod",
            "kyverno-cleanup-admission-reports-29411150-qk7sd",
            "Failed",
            'Failed to pull image "docker.io/bitnami/kubectl:1.28.5": rpc error: code = NotFound desc = failed to '
            'pull and unpack image "docker.io/bitnami/kubectl:1.28.5": docker.io/bitnami/kubectl:1.28.5: not found',
            count=41,
        ),
        event(
            "platform",
            "Pod",
            pod_name("private-tool", suffixes["platform/private-tool"], 0),
            "Failed",
            'Failed to pull image "ghcr.io/forge-lab-private/tool:1.4.0": failed to authorize: failed to fetch '
            "anonymous token: unexpected status from GET request: 401 Unauthorized",
            count=12,
        ),
        event(
            "platform",
            "Pod",
            pod_name("search", suffixes["platform/search"], 0),
            "FailedScheduling",
            "0/4 nodes are available: 3 Insufficient memory.",
            count=30,
        ),
        event(
            "arc",
            "PersistentVolumeClaim",
            "cache-green",
            "WaitForFirstConsumer",
            "waiting for first consumer to be created before binding",
            type_="Normal",
            count=3,
        ),
    ]
    apps = []
    for name, sync, health in [
        ("ingress", "Synced", "Healthy"),
        ("kyverno", "Synced", "Healthy"),
        ("kyverno-policies", "OutOfSync", "Healthy"),
        ("monitoring", "Synced", "Healthy"),
        ("platform", "Synced", "Progressing"),
        ("ledger", "Synced", "Degraded"),
        ("shop", "Synced", "Healthy"),
        ("tunnel", "OutOfSync", "Degraded"),
    ]:
        apps.append(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": meta(name, "argocd"),
                "spec": {
                    "project": "default",
                    "destination": {"namespace": name, "server": "https://kubernetes.default.svc"},
                    "source": {
                        "repoURL": "https://git.forge.example/platform/gitops.git",
                        "path": f"apps/{name}",
                        "targetRevision": "main",
                    },
                    "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
                },
                "status": {"sync": {"status": sync}, "health": {"status": health}},
            }
        )
    files["argoproj.io.v1alpha1.applications"] = apps
    files["core.v1.configmaps"] = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("kube-root-ca.crt", n)} for n in namespaces
    ] + [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("ledger-config", "ledger-old-dev")},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("ledger-config", "ledger-old-prod")},
    ]
    files["core.v1.secrets"] = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta("ledger-db", "ledger-old-prod"),
            "type": "Opaque",
        },
        {"apiVersion": "v1", "kind": "Secret", "metadata": meta("ledger-db", "ledger"), "type": "Opaque"},
    ]
    return files


def metrics(nodes: list[Obj]) -> list[Obj]:
    usage = {
        "forge-core": ("410m", "21504Mi"),
        "forge-builder-01": ("95m", "916Mi"),
        "forge-edge-01": ("220m", "3120Mi"),
        "forge-edge-02": ("130m", "2210Mi"),
    }
    return [
        {
            "apiVersion": "metrics.k8s.io/v1beta1",
            "kind": "NodeMetrics",
            "metadata": {"name": n["metadata"]["name"]},
            "timestamp": CAPTURED,
            "window": "20s",
            "usage": {"cpu": usage[n["metadata"]["name"]][0], "memory": usage[n["metadata"]["name"]][1]},
        }
        for n in nodes
    ]


def _key(obj: Obj) -> tuple[str, str]:
    md = obj.get("metadata") or {}
    return (str(md.get("namespace") or ""), str(md.get("name") or ""))


def write(out: Path = OUT) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    files = build()
    files["metrics.k8s.io.v1beta1.nodes"] = metrics(files["core.v1.nodes"])
    for stem, items in files.items():
        payload = {"apiVersion": "v1", "kind": "List", "items": sorted(items, key=_key)}
        (out / f"{stem}.json").write_text(
            json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    info = {
        "captured_at": CAPTURED,
        "cluster": "forge",
        "context": "forge-admin",
        "format": "infra-audit-snapshot/1",
        "server_version": SERVER,
    }
    (out / "_snapshot.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
    print(f"wrote {OUT}")
