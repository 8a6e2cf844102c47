"""Hand-written inputs for the catalog jq filters rewritten in issue 13's tenth part: REL-LIVE-IMAGE-PULL
(the ReplicaSet, Job and Event maps built only for the names of pods that cannot pull). Each case is
written for one path of the old filter, and ``test_catalog_jq_rewrites`` asserts what it counts, so
that a rewrite that skipped the path would be caught. Shared with that module, which compares the old
filters with the new."""

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


CASES: dict[str, list[list[Any]]] = {
    "REL-LIVE-IMAGE-PULL/count": [
        OWNED_PULLS,
        [*OWNED_PULLS, pod_event("fine", "w", 7)],  # both fail on it, though its pod pulls
        NOTHING_FAILS,
        [*NOTHING_FAILS, {"kind": "ReplicaSet", "metadata": "text"}],  # both fail on it
    ],
    "REL-LIVE-IMAGE-PULL/causes": [OWNED_PULLS, NOTHING_FAILS],
}
