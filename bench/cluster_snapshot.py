"""Generate a big cluster snapshot from the bundled home-lab's: deterministic, offline.

Every namespaced object of ``examples/homelab/cluster`` is copied ``copies`` times: copy 0 is the
original, copy ``i`` lives in namespace ``<ns>-<i>`` (its Namespace object is copied too), with fresh
uids (derived from the old uid and ``i``, so the same arguments always write the same bytes) and
owner references that point at the copies. A ReplicaSet is added for every pod a ReplicaSet owns
(owned by its Deployment), and there is one node per ``PODS_PER_NODE`` pods (the pods spread over
them in order). Cluster-scoped objects other than nodes are written once.

    .venv/bin/python bench/cluster_snapshot.py /tmp/snap-5k --pods 5000   # prints the counts
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import uuid
from pathlib import Path
from typing import Any

HOMELAB_SNAPSHOT = Path(__file__).resolve().parent.parent / "examples" / "homelab" / "cluster"
META_FILE = "_snapshot.json"
PODS_PER_NODE = 200
NODE_FILES = ("core.v1.nodes.json", "metrics.k8s.io.v1beta1.nodes.json")
PODS_FILE = "core.v1.pods.json"
REPLICASETS_FILE = "apps.v1.replicasets.json"

Obj = dict[str, Any]


def _items(path: Path) -> list[Obj]:
    data = json.loads(path.read_text())
    return [i for i in data.get("items") or [] if isinstance(i, dict)]


def _uid(old: object, copy_index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{old}/{copy_index}"))


def _copied(obj: Obj, index: int) -> Obj:
    """``obj`` as copy ``index``: its namespace (or a Namespace's name) suffixed, uids fresh."""
    new = copy.deepcopy(obj)
    meta = new.setdefault("metadata", {})
    if index:
        if meta.get("namespace"):
            meta["namespace"] = f"{meta['namespace']}-{index}"
        elif new.get("kind") == "Namespace" and meta.get("name"):
            meta["name"] = f"{meta['name']}-{index}"
            labels = meta.get("labels") or {}
            if "kubernetes.io/metadata.name" in labels:
                labels["kubernetes.io/metadata.name"] = meta["name"]
    if "uid" in meta:
        meta["uid"] = _uid(meta["uid"], index)
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and "uid" in ref:
            ref["uid"] = _uid(ref["uid"], index)
    return new


def _namespaced(obj: Obj) -> bool:
    """Whether ``obj`` is copied with its namespace (a Namespace is, as itself)."""
    return bool((obj.get("metadata") or {}).get("namespace")) or obj.get("kind") == "Namespace"


def _replicaset(pod: Obj) -> Obj | None:
    """The ReplicaSet that owns ``pod``, owned by its Deployment (named without the template hash)."""
    meta = pod.get("metadata") or {}
    refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, dict)]
    owner = next((r for r in refs if r.get("kind") == "ReplicaSet"), None)
    if owner is None:
        return None
    name = str(owner.get("name"))
    template_hash = (meta.get("labels") or {}).get("pod-template-hash") or name.rsplit("-", 1)[-1]
    deployment = name[: -len(template_hash) - 1] if name.endswith(f"-{template_hash}") else name
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": meta.get("namespace"),
            "uid": owner.get("uid"),
            "labels": {"pod-template-hash": template_hash},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deployment,
                    "controller": True,
                    "uid": _uid(f"{meta.get('namespace')}/{deployment}", 0),
                }
            ],
        },
        "spec": {"replicas": 1},
        "status": {"replicas": 1, "readyReplicas": 1},
    }


def _write(path: Path, kind: str, items: list[Obj]) -> None:
    path.write_text(json.dumps({"apiVersion": "v1", "kind": kind, "items": items}, sort_keys=True))


def copies_for(pods: int, source: Path = HOMELAB_SNAPSHOT) -> int:
    """How many copies of every namespace give at least ``pods`` pods."""
    return max(1, math.ceil(pods / len(_items(source / PODS_FILE))))


def generate(dest: Path, copies: int, source: Path = HOMELAB_SNAPSHOT) -> dict[str, int]:
    """Write the snapshot of ``copies`` copies of every namespace to ``dest``; the counts by file."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / META_FILE).write_text((source / META_FILE).read_text())
    counts: dict[str, int] = {}
    copied: dict[str, list[Obj]] = {}
    for path in sorted(source.glob("*.json")):
        if path.name == META_FILE or path.name in NODE_FILES:
            continue
        items = _items(path)
        scoped = [i for i in items if _namespaced(i)]
        cluster_wide = [i for i in items if not _namespaced(i)]
        copied[path.name] = cluster_wide + [_copied(i, n) for n in range(copies) for i in scoped]
    pods = copied[PODS_FILE]
    nodes_wanted = max(1, math.ceil(len(pods) / PODS_PER_NODE))
    for name in NODE_FILES:
        templates = _items(source / name)
        nodes = []
        for n in range(nodes_wanted):
            node = copy.deepcopy(templates[n % len(templates)])
            node["metadata"]["name"] = f"node-{n:04d}"
            if "uid" in node["metadata"]:
                node["metadata"]["uid"] = _uid(node["metadata"]["uid"], n)
            nodes.append(node)
        copied[name] = nodes
    for index, pod in enumerate(pods):
        pod.setdefault("spec", {})["nodeName"] = f"node-{index // PODS_PER_NODE:04d}"
    replicasets: dict[tuple[str, str], Obj] = {}
    for pod in pods:
        rs = _replicaset(pod)
        if rs is not None:
            replicasets.setdefault((rs["metadata"]["namespace"], rs["metadata"]["name"]), rs)
    copied[REPLICASETS_FILE] = [replicasets[k] for k in sorted(replicasets)]
    for name, items in sorted(copied.items()):
        _write(dest / name, "List", items)
        counts[name] = len(items)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--pods", type=int, help="at least this many pods")
    size.add_argument("--copies", type=int, help="copies of every namespace")
    args = parser.parse_args(argv)
    copies = args.copies if args.copies is not None else copies_for(args.pods)
    counts = generate(args.dest, copies)
    for name, count in counts.items():
        print(f"{count:8d}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
