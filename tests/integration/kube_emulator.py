"""A Kubernetes API on 127.0.0.1 for tests: kmock's ``KubernetesEmulator`` serving a snapshot directory.

Why kmock, and what this module adds to it
-------------------------------------------
kmock 0.8 gives an aiohttp server on an ephemeral port, an in-memory object store, discovery
(``/api``, ``/api/v1``, ``/apis``, ``/apis/<group>/<version>`` built from declared ``ResourceInfo``,
with kinds, scopes and short names), object fetches, Kubernetes ``Status`` errors, and a log of every
request it received, which is what the read-only tests assert on. It does not do what the real
client needs from a list, so reactions registered here (kmock's own extension point) add:

* lists with ``labelSelector`` and ``fieldSelector`` (equality, ``!=``, ``in``/``notin``, exists),
  paged with ``limit``/``continue`` like the API server (``continue`` is an opaque token);
* list items without ``apiVersion``/``kind``, as the real server sends them;
* metadata-only answers (``PartialObjectMetadata[List]``) when the ``Accept`` header asks for them,
  and the full object, Secret data included, when it does not: the backend must never ask;
* ``/version`` with the snapshot's server version;
* switchable 403 (``forbidden``), 503 (``unavailable``) and 404 (``hidden``) per (group, plural),
  503 on chosen discovery paths (``broken_discovery``), and one status for every request
  (``reject_all``: 401 for credentials the server does not accept, 403 for a user allowed nothing).

One defect of kmock 0.8 is patched while the emulator runs: its URL parser reads
``/api/v1/namespaces`` and ``/api/v1/namespaces/<name>`` as a namespace prefix, not as the
``namespaces`` resource, so listing or fetching namespaces failed with a 500. ``_parse_path`` fixes
exactly those paths and defers to kmock for everything else. The alternative, a home-made
ThreadingHTTPServer, would have re-implemented discovery, fetch, errors and the request log.

The selectors here are written independently of ``tools.kube.selectors`` on purpose: the emulator
plays the API server, so it must not share the code it is testing.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kmock
from kmock._internal import parsing

from tools.kube.resources import split_file_stem
from tools.kube.snapshot import SnapshotBackend

_kmock_parse_path = parsing.parse_path
_patched = 0  # emulators running; kmock's parser is restored when the last one stops


def _parse_path(path: str) -> parsing.ParsedPath:
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "api" and parts[2] == "namespaces":
        rest = parts[3:]
        if len(rest) <= 1 or rest[1] in ("status", "finalize"):
            return parsing.ParsedPath(
                group="",
                version=parts[1],
                plural="namespaces",
                name=rest[0] if rest else None,
                subresource=rest[1] if len(rest) > 1 else None,
            )
    return _kmock_parse_path(path)


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


def _dig(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _label_ok(labels: dict[str, str], selector: str) -> bool:
    terms, depth, cur = [], 0, ""
    for ch in selector:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(cur)
            cur = ""
        else:
            cur += ch
    terms.append(cur)
    for term in (t.strip() for t in terms if t.strip()):
        set_term = re.match(r"^(\S+)\s+(in|notin)\s+\((.*)\)$", term)
        if set_term:
            key, op, raw = set_term.groups()
            if (labels.get(key) in {v.strip() for v in raw.split(",")}) != (op == "in"):
                return False
        elif "!=" in term:
            key, _, value = term.partition("!=")
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, _, value = term.replace("==", "=").partition("=")
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:].strip() in labels:
                return False
        elif term not in labels:
            return False
    return True


def _field_ok(obj: dict[str, Any], selector: str) -> bool:
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        negate = "!=" in term
        path, _, value = term.replace("!=", "=").replace("==", "=").partition("=")
        found = _dig(obj, path.strip())
        actual = "" if found is None else str(found)
        if (actual == value.strip()) == negate:
            return False
    return True


def _metadata_only(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": obj.get("metadata", {}),
    }


class KubeEmulator:
    """Serve ``snapshot_dir`` (canonical file names) as a cluster; ``start()`` and ``stop()`` a thread."""

    def __init__(self, snapshot_dir: Path) -> None:
        self.snapshot_dir = snapshot_dir
        self.forbidden: set[tuple[str, str]] = set()
        self.unavailable: set[tuple[str, str]] = set()
        self.hidden: set[tuple[str, str]] = set()
        self.broken_discovery: set[str] = set()
        self.reject_all: int | None = None
        self.port = 0
        self._handler: kmock.KubernetesEmulator | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        meta_path = snapshot_dir / "_snapshot.json"
        self.server_version = (
            json.loads(meta_path.read_text())["server_version"] if meta_path.exists() else "v0"
        )
        self._types = {(t.group, t.plural): t for t in SnapshotBackend(snapshot_dir).api_resources()}
        self._objects: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for path in sorted(snapshot_dir.glob("*.json")):
            hint = split_file_stem(path.stem)
            if hint is not None:
                items = json.loads(path.read_text())["items"]
                self._objects[(hint[0], hint[2])] = items  # raw: Secret data and all

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        global _patched
        _patched += 1
        parsing.parse_path = _parse_path
        self._thread = threading.Thread(target=self._run, name="kube-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or self._failure is not None:
            raise RuntimeError(f"the Kubernetes emulator did not start: {self._failure!r}")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(10)
        global _patched
        _patched -= 1
        if _patched == 0:
            parsing.parse_path = _kmock_parse_path

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except (OSError, RuntimeError) as exc:  # surfaced to start(), which is waiting on _ready
            self._failure = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        handler = kmock.KubernetesEmulator()
        self._handler = handler
        self._declare(handler)
        async with handler, kmock.Server(handler) as server:
            self.port = server.port
            self._ready.set()
            await self._stop.wait()

    # ------------------------------------------------------------------------------ the API

    def _declare(self, emu: kmock.KubernetesEmulator) -> None:
        for (group, plural), rtype in self._types.items():
            res = kmock.resource(group, rtype.version, plural)
            emu.resources[res] = kmock.ResourceInfo(
                namespaced=rtype.namespaced,
                kind=rtype.kind,
                singular=rtype.singular or rtype.kind.lower(),
                shortnames=set(rtype.short_names),
                verbs={"get", "list", "watch"},
            )
            for obj in self._objects.get((group, plural), []):
                meta = obj["metadata"]
                emu.objects[res, meta.get("namespace"), meta["name"]] = obj

        def key(req: kmock.Request) -> tuple[str, str] | None:
            res = req.resource
            return None if res is None or res.plural is None else (str(res.group), str(res.plural))

        def refused(req: kmock.Request) -> bool:
            k = key(req)
            return k is not None and (k in self.forbidden or k in self.unavailable or k in self.hidden)

        def is_list(req: kmock.Request) -> bool:
            return req.method == kmock.method.GET and key(req) is not None and req.name is None

        def is_secret_get(req: kmock.Request) -> bool:
            return req.method == kmock.method.GET and key(req) == ("", "secrets") and req.name is not None

        def discovery_down(req: kmock.Request) -> bool:
            return req.url.path in self.broken_discovery

        def rejected(req: kmock.Request) -> bool:
            return self.reject_all is not None

        criteria: list[tuple[Callable[[kmock.Request], bool], Callable[[kmock.Request], Any]]] = [
            (rejected, self._reject),
            (discovery_down, self._unavailable),
            (refused, self._refuse),
            (is_list, self._list),
            (is_secret_get, self._get_secret),
        ]
        for criterion, reaction in criteria:
            emu[criterion] << reaction
        emu["get /version"] << {"major": "1", "minor": "30", "gitVersion": self.server_version}

    def _reject(self, req: kmock.Request) -> Any:
        if self.reject_all == 401:
            raise kmock.KubernetesError(status=401, reason="Unauthorized", message="Unauthorized")
        raise kmock.KubernetesError(
            status=403,
            reason="Forbidden",
            message=f'forbidden: User "system:anonymous" cannot get path "{req.url.path}"',
        )

    def _unavailable(self, req: kmock.Request) -> Any:
        raise kmock.KubernetesError(
            status=503,
            reason="ServiceUnavailable",
            message="the server is currently unable to handle the request",
        )

    def _refuse(self, req: kmock.Request) -> Any:
        group, plural = str(req.resource.group), str(req.resource.plural)  # type: ignore[union-attr]
        if (group, plural) in self.hidden:
            raise kmock.KubernetesResourceNotFoundError(
                message="the server could not find the requested resource"
            )
        if (group, plural) in self.unavailable:
            raise kmock.KubernetesError(
                status=503,
                reason="ServiceUnavailable",
                message="the server is currently unable to handle the request",
            )
        scope = f'in the namespace "{req.namespace}"' if req.namespace else "at the cluster scope"
        verb = "list" if req.name is None else "get"
        raise kmock.KubernetesError(
            status=403,
            reason="Forbidden",
            message=f'{plural} is forbidden: User "system:serviceaccount:monitoring:infra-audit" '
            f'cannot {verb} resource "{plural}" in API group "{group}" {scope}',
        )

    def _list(self, req: kmock.Request) -> dict[str, Any]:
        group, plural = str(req.resource.group), str(req.resource.plural)  # type: ignore[union-attr]
        rtype = self._types.get((group, plural))
        if rtype is None or rtype.version != req.resource.version:  # type: ignore[union-attr]
            raise kmock.KubernetesResourceNotFoundError()
        items = [
            o
            for o in self._objects.get((group, plural), [])
            if (req.namespace is None or o["metadata"].get("namespace") == req.namespace)
            and _label_ok(o["metadata"].get("labels") or {}, req.params.get("labelSelector", ""))
            and _field_ok(o, req.params.get("fieldSelector", ""))
        ]
        items.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))
        start = int(base64.b64decode(req.params["continue"])) if req.params.get("continue") else 0
        limit = int(req.params.get("limit") or 0) or len(items) or 1
        page, rest = items[start : start + limit], items[start + limit :]
        meta: dict[str, Any] = {"resourceVersion": "1000"}
        if rest:
            meta["continue"] = base64.b64encode(str(start + limit).encode()).decode()
            meta["remainingItemCount"] = len(rest)
        if "as=PartialObjectMetadataList" in req.headers.get("Accept", ""):
            return {
                "apiVersion": "meta.k8s.io/v1",
                "kind": "PartialObjectMetadataList",
                "metadata": meta,
                "items": [_metadata_only(o) for o in page],
            }
        stripped = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in page]
        api_version = f"{group}/{rtype.version}" if group else rtype.version
        return {"apiVersion": api_version, "kind": f"{rtype.kind}List", "metadata": meta, "items": stripped}

    def _get_secret(self, req: kmock.Request) -> dict[str, Any]:
        for obj in self._objects.get(("", "secrets"), []):
            if obj["metadata"]["name"] == req.name and obj["metadata"].get("namespace") == req.namespace:
                if "as=PartialObjectMetadata" in req.headers.get("Accept", ""):
                    return _metadata_only(obj)
                return obj
        raise kmock.KubernetesObjectNotFoundError()

    # ------------------------------------------------------------------------------ assertions

    def requests(self) -> list[SeenRequest]:
        """Every request received so far, in order (read it after the client call has returned)."""
        assert self._handler is not None
        return [
            SeenRequest(
                method=str(r.method.value), path=r.url.path, params=dict(r.params), headers=dict(r.headers)
            )
            for r in list(self._handler)
        ]

    def kubeconfig(self, path: Path, context: str = "mini-admin", cluster: str = "mini") -> Path:
        """Write a kubeconfig whose context points at this emulator, with a bearer token."""
        path.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "current-context": context,
                    "clusters": [{"name": cluster, "cluster": {"server": self.url}}],
                    "users": [{"name": "auditor", "user": {"token": "emulator-token"}}],
                    "contexts": [{"name": context, "context": {"cluster": cluster, "user": "auditor"}}],
                }
            )
        )
        return path
