"""Hand-written inputs for the catalog jq filters rewritten in issue 13's tenth part: REL-LIVE-IMAGE-PULL
(the ReplicaSet, Job and Event maps built only for the names of pods that cannot pull),
REL-LIVE-SERVICE-NO-PODS and REL-LIVE-ROUTE-NO-BACKEND (the items grouped by kind once; the route
filter's maps only for the Services its routes name); and in its twelfth part
MNT-LIVE-DUPLICATE-WORKLOAD (a namespace split at "-" alone where it holds no "_" or ".", each image's
repository worked out once) and MNT-LIVE-ABANDONED-NAMESPACE (the kinds that make a namespace used
looked up in an object). Each case is written for one path of the old filter, and
``test_catalog_jq_rewrites`` asserts what it counts, so that a rewrite that skipped the path would be
caught. Shared with that module, which compares the old filters with the new."""

from __future__ import annotations

from typing import Any


def meta(kind: str, name: Any, ns: str | None = None, **more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, **more}
    if ns is not None:
        data["namespace"] = ns
    return {"kind": kind, "metadata": data}


def _owned(obj: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    obj["metadata"]["ownerReferences"] = [{"kind": kind, "name": name, "controller": True}]
    return obj


def _failing(name: str, ns: str, owner: tuple[str, str] | None, *images: str, hash_: str = "") -> Any:
    pod = meta("Pod", name, ns, labels={"pod-template-hash": hash_} if hash_ else {})
    if owner:
        _owned(pod, *owner)
    waiting = {"reason": "ErrImagePull", "message": "rpc error"}
    pod["status"] = {"containerStatuses": [{"image": i, "state": {"waiting": waiting}} for i in images]}
    return pod


def _running(name: str, ns: str) -> dict[str, Any]:
    pod = meta("Pod", name, ns)
    pod["status"] = {"containerStatuses": [{"image": "ok:1", "state": {"running": {}}}]}
    return pod


def pod_event(pod: str, ns: str, message: Any) -> dict[str, Any]:
    event = meta("Event", f"{pod}.2", ns)
    event.update(involvedObject={"kind": "Pod", "name": pod}, message=message)
    return event


# shop-7d9f8 and cart-1a2b3 both belong to Deployment shop: read from the ReplicaSets, one workload
# (without them, "shop" and "cart"); the Job's pod belongs to its CronJob; two images of one pod
OWNED_PULLS = [
    _failing("shop-7d9f8-a", "w", ("ReplicaSet", "shop-7d9f8"), "reg/shop:2", hash_="zzzzz"),
    _failing("cart-1a2b3-b", "w", ("ReplicaSet", "cart-1a2b3"), "reg/shop:2", hash_="1a2b3"),
    _owned(meta("ReplicaSet", "shop-7d9f8", "w"), "Deployment", "shop"),
    _owned(meta("ReplicaSet", "cart-1a2b3", "w"), "Deployment", "shop"),
    _owned(meta("ReplicaSet", "shop-7d9f8", "elsewhere"), "Deployment", "other"),
    _failing("backup-29001-x", "w", ("Job", "backup-29001"), "reg/backup:1"),
    _owned(meta("Job", "backup-29001", "w"), "CronJob", "backup"),
    _failing("two", "w", None, "reg/a:1", "reg/b:1"),
    _running("fine", "w"),
    pod_event("shop-7d9f8-a", "w", 'Failed to pull image "reg/shop:2": manifest unknown'),
    pod_event("cart-1a2b3-b", "w", "pulling image: 401 Unauthorized"),
    pod_event("fine", "w", "Pulling image ok:1: dial tcp: i/o timeout"),  # a pod that pulls: not read
]
NOTHING_FAILS = [_running("fine", "w"), _owned(meta("ReplicaSet", "shop-7d9f8", "w"), "Deployment", "shop")]


def _service(name: str, ns: str, selector: Any, kind: str = "ClusterIP") -> dict[str, Any]:
    svc = meta("Service", name, ns)
    svc["spec"] = {"type": kind, "selector": selector}
    return svc


def _pod(name: str, ns: str, app: str, phase: str) -> dict[str, Any]:
    pod = meta("Pod", name, ns, labels={"app": app})
    pod["status"] = {"phase": phase}
    return pod


def _scaled(kind: str, name: str, ns: str, app: str, **annotations: str) -> dict[str, Any]:
    obj = meta(kind, name, ns, annotations=annotations) if annotations else meta(kind, name, ns)
    obj["spec"] = {"replicas": 0, "template": {"metadata": {"labels": {"app": app}}}}
    return obj


def _slice(service: str, ns: str, *endpoints: dict[str, Any]) -> dict[str, Any]:
    obj = meta("EndpointSlice", f"{service}-x1", ns, labels={"kubernetes.io/service-name": service})
    obj["endpoints"] = list(endpoints)
    return obj


def _ingress(name: str, ns: str, *services: str) -> dict[str, Any]:
    obj = meta("Ingress", name, ns)
    paths = [{"backend": {"service": {"name": s}}} for s in services]
    obj["spec"] = {
        "defaultBackend": {"service": {"name": services[0]}},
        "rules": [{"http": {"paths": paths}}],
    }
    return obj


HTTP_ROUTE = meta("HTTPRoute", "r", "ops")
HTTP_ROUTE["spec"] = {
    "rules": [
        {
            "backendRefs": [
                {"name": "web", "namespace": "shop"},
                {"name": "api", "namespace": "shop", "kind": "Service", "group": ""},
                {"name": "x", "group": "other.io"},  # not a Service: not read
            ]
        }
    ]
}
TRAEFIK_ROUTE = meta("IngressRoute", "tr", "ops")
TRAEFIK_ROUTE["spec"] = {
    "routes": [{"services": [{"name": "cache"}, {"name": "ts", "kind": "TraefikService"}]}]
}

SERVICES = [
    # the StatefulSet comes first and says why it is at zero: the Deployment after it is not read
    _service("worker", "shop", {"app": "worker"}),
    _scaled("StatefulSet", "worker", "shop", "worker", **{"infra-audit.io/scaled-to-zero": "nightly"}),
    _scaled("Deployment", "worker-old", "shop", "worker"),
    _service("web", "shop", {"app": "web"}),
    _pod("web-1", "shop", "web", "Running"),
    _service("api", "shop", {"app": "api"}),  # scaled to zero, not on purpose; a route names it
    _scaled("Deployment", "api", "shop", "api"),
    _service("db", "shop", {"app": "db", "tier": "primary"}),  # its pod has one of the two labels
    _pod("db-1", "shop", "db", "Running"),
    _service("done", "shop", {"app": "done"}),  # only a finished pod
    _pod("done-1", "shop", "done", "Succeeded"),
    _service("batch", "shop", {"app": "batch"}),
    _pod("batch-1", "shop", "batch", "Failed"),
    _pod("batch-2", "shop", "batch", "Pending"),
    _service("lonely", "shop", {"app": "lonely"}),
    _service("ext", "blog", {"app": "x"}, kind="ExternalName"),
    _service("headless", "blog", {}),
    _service("site", "blog", {"app": "site"}),  # no pod; the Ingress names it
    _ingress("site", "blog", "site", "site", "gone"),
    HTTP_ROUTE,
    TRAEFIK_ROUTE,
]
SLICES = [
    _slice("web", "shop", {"conditions": {"ready": False}, "addresses": ["10.0.0.1"]}),
    _slice("done", "shop", {"addresses": ["10.0.0.2", "10.0.0.3"]}),
    _slice("lonely", "shop", {"conditions": {"ready": True}, "addresses": []}),
]
UNROUTED = [item for item in SERVICES if item["kind"] not in ("Ingress", "HTTPRoute", "IngressRoute")]
ODD_WORKLOAD = {"kind": "Deployment", "metadata": {"name": "odd", "namespace": "elsewhere"}, "spec": "text"}
ODD_POD = {"kind": "Pod", "metadata": "text", "status": {"phase": "Running"}}


def _copy(name: Any, ns: Any, image: Any) -> dict[str, Any]:
    dep = meta("Deployment", name, ns)
    dep["spec"] = {"template": {"spec": {"containers": [{"image": image}]}}}
    return dep


# Each pair (or three) one name: eu and us keep the empty part between two separators ("a--eu" is not
# "a-eu"), in a namespace split at "_" or "." too; gone's namespaces leave nothing once "prod" is taken
# out, joined ("" and ""), though one part list is empty and the other holds ""; shop's differ by an
# environment after ".", "_" and "-"; api and reg are one repository under two images; two is two
# repositories; same is listed twice in one namespace (both copies count); 5 is a name that is not text;
# blank's namespace "" has no environment part
SPLITS = [
    *(_copy("eu", ns, "eu:1") for ns in ("a--prod.eu", "a-dev.eu")),
    *(_copy("us", ns, "us:1") for ns in ("a__prod.us", "a_dev.us")),
    *(_copy("gone", ns, "gone:1") for ns in ("prod", "prod-")),
    *(_copy("shop", ns, "shop:1") for ns in ("shop.prod", "shop_dev", "shop-qa")),
    _copy("api", "team-x", "api:1"),
    _copy("api", "team-y", "docker.io/library/api:2"),
    _copy("reg", "r-1", "reg.io:5000/reg"),
    _copy("reg", "r-2", "reg.io:5000/reg:3@sha256:ab"),
    _copy("two", "t-1", "two:1"),
    _copy("two", "t-2", "other/two:1"),
    *(_copy("same", ns, "same:1") for ns in ("s", "s", "s-prod")),
    *(_copy(5, ns, "five:1") for ns in ("n-1", "n-2")),
    *(_copy("blank", ns, "b:1") for ns in ("", "b-prod")),
    *(_copy(None, ns, "x:1") for ns in ("x", "y")),  # no name: not read
]
ALONE_WITHOUT_NAMESPACE = [_copy("solo", None, "s:1"), _copy("solo", None, "s:1")]  # one namespace: not split


def _kind(kind: Any, ns: Any, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "metadata": {"name": "x", "namespace": ns}, **more}


# k1-k6 each hold one kind that uses them; k7 only an object whose kind is a number, k8 one with no kind
# and a Service; dup is listed twice; a Namespace has no name: k7, k8, dup twice and the nameless one
# are abandoned
KINDS = [
    *(meta("Namespace", n) for n in ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "dup", "dup")),
    {"kind": "Namespace", "metadata": {}},
    *(
        _kind(kind, f"k{i}")
        for i, kind in enumerate(
            ("ApplicationSet", "HelmRelease", "Kustomization", "HTTPRoute", "IngressRoute", "CronJob"), 1
        )
    ),
    _kind(5, "k7"),
    {"metadata": {"namespace": "k8"}},
    _kind("Service", "k8"),
]
UNNAMESPACED_CRONJOB = {"kind": "CronJob", "metadata": {"name": "c"}}  # the nameless Namespace is used


CASES: dict[str, list[list[Any]]] = {
    "MNT-LIVE-DUPLICATE-WORKLOAD/count": [
        SPLITS,
        [*SPLITS, _copy("x", "a", 7)],  # both fail on it (an image that is not text)
        [*SPLITS, _copy("eu", None, "eu:1")],  # both fail on it (a namespace that is not text, split)
        ALONE_WITHOUT_NAMESPACE,
        [*SPLITS, {"kind": "Deployment", "metadata": {"name": "t", "namespace": "a"}, "spec": "text"}],
    ],
    "MNT-LIVE-ABANDONED-NAMESPACE/count": [
        KINDS,
        [*KINDS, UNNAMESPACED_CRONJOB],
        [*KINDS, meta("Namespace", 1), _kind("DaemonSet", 1)],  # a name that is not text, used
        [*KINDS, "text"],  # both fail on it
        [*KINDS, _kind("Pod", "k7", status="text")],  # both fail on it
        [*KINDS, _kind(None, "k7"), _kind(True, "k8")],
    ],
    "REL-LIVE-IMAGE-PULL/count": [
        OWNED_PULLS,
        [*OWNED_PULLS, pod_event("fine", "w", 7)],  # both fail on it, though its pod pulls
        NOTHING_FAILS,
        [*NOTHING_FAILS, {"kind": "ReplicaSet", "metadata": "text"}],  # both fail on it
    ],
    "REL-LIVE-IMAGE-PULL/causes": [OWNED_PULLS, NOTHING_FAILS],
    "REL-LIVE-SERVICE-NO-PODS/count": [
        SERVICES,
        [*SERVICES, *SLICES],
        UNROUTED,
        [*SERVICES, ODD_WORKLOAD],
        [*SERVICES, ODD_POD],
        [],
    ],
    "REL-LIVE-ROUTE-NO-BACKEND/count": [
        SERVICES,
        [*SERVICES, *SLICES],
        UNROUTED,
        [*UNROUTED, ODD_WORKLOAD],  # no route: the old filter failed on it all the same
        [*UNROUTED, ODD_POD],
        [],
    ],
}
