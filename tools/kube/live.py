"""LiveBackend: a kubeconfig context read through the official ``kubernetes`` client, GET only.

Read-only is enforced at the transport, not by convention: ``tools.kube.transport.guard_read_only``
wraps this client's REST layer and the urllib3 pool manager under it, so a POST/PUT/PATCH/DELETE (or
HEAD, OPTIONS) raises ``ReadOnlyViolation``, and a request for Secrets that is not metadata-only
raises ``SecretReadViolation``, before a byte leaves the process, whichever API class or raw
``call_api`` tried; it also seals the client so ``kubernetes.stream`` cannot swap in its WebSocket
transport (exec, attach).

Requests are raw GETs on REST paths (``/api/v1/pods``, ``/apis/apps/v1/namespaces/x/deployments``)
through the ApiClient (auth, TLS, token refresh), answered as plain dicts: the same shape a snapshot
holds, with no model round-trip that would rename fields. The DynamicClient is not used: it writes a
discovery cache to disk and returns wrapper objects. Lists page with ``limit`` and ``continue``, and
each page is reported to ``on_page`` (the commands' per-kind progress display; nothing by default).

Every request has a connect and a read timeout (``Timeouts``, from the run settings), and the client
retries a failed connection once and a timed-out read never, so a dead or silent server costs
seconds, not a hang. ``verify`` is the first contact: a cluster that cannot be read at all
(unreachable, timing out, rejecting the credentials, refusing discovery) is a ``ClusterAccessError``,
one line and a non-zero exit, not an empty cluster.

Secrets are requested as ``PartialObjectMetadataList`` (server-side metadata-only), so their data
never crosses the wire; the result is stripped again anyway. There are no retries here beyond the
client's own: a failed read becomes a ``KubeQueryError`` that a tool reports as data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s_client
from kubernetes.client.exceptions import ApiException

from domain.errors import ClusterAccessError
from domain.urls import without_userinfo
from tools.inventory.live_models import UnreadResource
from tools.inventory.models import ClusterInfo
from tools.inventory.sources import ParseIssue
from tools.kube import kubeconfig as kubeconfig_module
from tools.kube.backend import (
    ForbiddenError,
    InvalidQueryError,
    KubeObject,
    KubeQueryError,
    MetricsKind,
    NotFoundError,
    PageFn,
    UnavailableError,
    UnreachableError,
    is_secret,
    no_progress,
    secret_metadata_only,
    sort_key,
    with_identity,
)
from tools.kube.resources import METRICS_GROUP, ResourceTable, ResourceType
from tools.kube.transport import METADATA_LIST, METADATA_ONE, guard_read_only

PAGE_SIZE = 500
JSON = "application/json"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait for one request: to connect, and for each read of the answer."""

    connect: float = 5.0
    read: float = 20.0

    @classmethod
    def of(cls, seconds: float) -> Timeouts:
        """The run setting (``--kube-timeout``): the read timeout; connecting takes at most 5 s of it."""
        return cls(connect=min(5.0, seconds), read=seconds)


def _status_message(body: bytes) -> str:
    try:
        status = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace").strip()
    return str(status.get("message") or status.get("reason") or "") if isinstance(status, dict) else ""


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its reasons and causes (MaxRetryError -> NewConnectionError -> OSError)."""
    chain = [exc]
    while len(chain) < 8:
        last = chain[-1]
        nxt = getattr(last, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = last.__cause__
        if nxt is None or nxt in chain:
            break
        chain.append(nxt)
    return chain


def _transport_problem(exc: BaseException, timeouts: Timeouts) -> tuple[bool, str]:
    """(timed out?, a short reason) for a request that got no answer at all."""
    chain = _chain(exc)
    errors = urllib3.exceptions
    if any(isinstance(e, errors.ReadTimeoutError) for e in chain):
        return True, f"no answer within {timeouts.read:g}s (read timeout)"
    # NewConnectionError (refused, no route, DNS) subclasses ConnectTimeoutError in urllib3 2
    slow = (errors.ConnectTimeoutError, TimeoutError)
    if any(isinstance(e, slow) and not isinstance(e, errors.NewConnectionError) for e in chain):
        return True, f"no connection within {timeouts.connect:g}s (connect timeout)"
    for e in reversed(chain):
        if isinstance(e, OSError) and e.strerror:
            return False, e.strerror.lower()
    lines = str(chain[-1]).strip().splitlines()
    reason = lines[-1] if lines else type(chain[-1]).__name__
    return False, reason.rsplit(">: ", 1)[-1]  # no "<urllib3.connection... object at 0x...>" in it


class LiveBackend:
    """A read-only backend over one context of a cluster (see the module docstring)."""

    def __init__(
        self,
        api_client: k8s_client.ApiClient,
        *,
        cluster: str,
        context: str | None = None,
        default_namespace: str = "default",
        page_size: int = PAGE_SIZE,
        timeouts: Timeouts | None = None,
        on_page: PageFn = no_progress,
    ) -> None:
        guard_read_only(api_client)
        self.api_client = api_client
        self.cluster = cluster
        self.context = context
        self.page_size = page_size
        self.timeouts = timeouts or Timeouts()
        self.on_page = on_page
        self._default_namespace = default_namespace
        self._warnings: list[str] = []
        self._resources: list[ResourceType] | None = None
        self._info: ClusterInfo | None = None

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        *,
        in_cluster: bool | None = None,
        page_size: int = PAGE_SIZE,
        timeouts: Timeouts | None = None,
        on_page: PageFn = no_progress,
    ) -> LiveBackend:
        """Connect like kubectl: ``kubeconfig`` may join several paths with ':' (as KUBECONFIG does).

        With no kubeconfig and no ``~/.kube/config``, inside a pod, the pod's service account is used
        (``in_cluster=None`` decides by that rule; True or False forces it). Nothing is sent yet:
        ``verify`` is the first request.
        """
        if kubeconfig_module.wants_in_cluster(kubeconfig, context, in_cluster):
            conn = kubeconfig_module.in_cluster()
        else:
            conn = kubeconfig_module.from_kubeconfig(kubeconfig, context)
        return cls(
            conn.api_client,
            cluster=conn.cluster,
            context=conn.context,
            default_namespace=conn.namespace,
            page_size=page_size,
            timeouts=timeouts,
            on_page=on_page,
        )

    def close(self) -> None:
        self.api_client.close()

    # ------------------------------------------------------------------------------ transport

    def _get(
        self, path: str, query: list[tuple[str, Any]], accept: str, verb: str, what: str
    ) -> dict[str, Any]:
        method, url, headers, _, _ = self.api_client.param_serialize(
            "GET", path, query_params=query, header_params={"Accept": accept}, auth_settings=["BearerToken"]
        )
        host = without_userinfo(str(self.api_client.configuration.host))
        try:
            response = self.api_client.call_api(
                method,
                url,
                header_params=headers,
                _request_timeout=(self.timeouts.connect, self.timeouts.read),
            )
            body = response.read()
        except ApiException as exc:  # the client wraps TLS failures as status 0
            raise UnreachableError(
                f"cannot {verb} {what} at {host}: {exc.reason}", verb=verb, what=what, reason=str(exc.reason)
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            timed_out, reason = _transport_problem(exc, self.timeouts)
            raise UnreachableError(
                f"cannot reach the API server at {host} to {verb} {what}: {reason}",
                verb=verb,
                what=what,
                reason=reason,
                timed_out=timed_out,
            ) from exc
        if not 200 <= response.status < 300:
            raise self._error(response.status, _status_message(body), verb, what)
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnavailableError(
                f"{verb} {what}: the server answered with non-JSON", verb=verb, what=what
            ) from exc
        if not isinstance(data, dict):
            raise UnavailableError(
                f"{verb} {what}: the server answered with a non-object", verb=verb, what=what
            )
        return data

    @staticmethod
    def _error(status: int, message: str, verb: str, what: str) -> KubeQueryError:
        text = message or f"HTTP {status}"
        kinds: dict[int, type[KubeQueryError]] = {
            404: NotFoundError,
            403: ForbiddenError,
            401: ForbiddenError,
            400: InvalidQueryError,
            422: InvalidQueryError,
        }
        return kinds.get(status, UnavailableError)(text, verb=verb, what=what, status=status)

    def _list(
        self,
        rtype: ResourceType,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
    ) -> list[KubeObject]:
        path = rtype.path(namespace if rtype.namespaced else None)
        query: list[tuple[str, Any]] = [("limit", self.page_size)]
        if label_selector:
            query.append(("labelSelector", label_selector))
        if field_selector:
            query.append(("fieldSelector", field_selector))
        secret = is_secret(rtype)
        items: list[KubeObject] = []
        token: str | None = None
        while True:
            page = self._get(
                path,
                [*query, ("continue", token)] if token else query,
                METADATA_LIST if secret else JSON,
                "list",
                rtype.qualified,
            )
            items.extend(i for i in page.get("items") or [] if isinstance(i, dict))
            meta = page.get("metadata") or {}
            token = meta.get("continue") or None
            left = meta.get("remainingItemCount") if token else 0
            self.on_page(rtype.qualified, len(items), left if isinstance(left, int) else None, done=not token)
            if not token:
                break
        objs = [secret_metadata_only(i) if secret else with_identity(i, rtype) for i in items]
        return sorted(objs, key=sort_key)

    # ------------------------------------------------------------------------------ the API

    @property
    def info(self) -> ClusterInfo:
        if self._info is None:
            version: str | None = None
            try:
                version = (
                    str(self._get("/version", [], JSON, "get", "version").get("gitVersion") or "") or None
                )
            except KubeQueryError as exc:
                self._warnings.append(f"server version unknown: {exc.message}")
            self._info = ClusterInfo(
                name=self.cluster,
                context=self.context,
                server_version=version,
                captured_at=None,
                backend="live",
            )
        return self._info

    def verify(self) -> None:
        """The first contact: read the API's discovery, or raise ``ClusterAccessError`` (one line).

        A cluster that cannot be read at all (no answer, a timeout, credentials rejected, discovery
        refused) must stop the command: audited as empty, it would pass every check.
        """
        try:
            self.api_resources()
        except KubeQueryError as exc:
            raise self._access_error(exc) from None

    def _access_error(self, exc: KubeQueryError) -> ClusterAccessError:
        host = without_userinfo(str(self.api_client.configuration.host))
        who = f"context {self.context!r}" if self.context else "the in-cluster service account"
        if isinstance(exc, UnreachableError):
            cause = "timeout" if exc.timed_out else "unreachable"
            text = f"cannot reach the API server of {who} at {host}: {exc.reason}"
        elif exc.status == 401:
            cause = "unauthorized"
            text = f"the API server at {host} rejected the credentials of {who} (401 Unauthorized)"
        elif exc.status == 403:
            cause = "forbidden"
            text = f"the credentials of {who} may not read the API at {host} (403 Forbidden: {exc.message})"
        else:
            cause = "error"
            text = f"the API server at {host} answered HTTP {exc.status} to {exc.what}: {exc.message}"
        return ClusterAccessError(" ".join(text.split()), cause=cause, server=str(host), status=exc.status)

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    @property
    def issues(self) -> list[ParseIssue]:
        return []  # no files

    @property
    def unread(self) -> list[UnreadResource]:
        return []  # a list the server refuses becomes an unread type of the inventory (``live._read``)

    @property
    def snapshot_dir(self) -> Path | None:
        return None

    @property
    def default_namespace(self) -> str:
        return self._default_namespace

    def api_resources(self) -> list[ResourceType]:
        """Discovery of every group's preferred version; a group that fails is a warning, not an error."""
        if self._resources is not None:
            return list(self._resources)
        found: list[ResourceType] = []
        group_versions: list[tuple[str, str]] = [
            ("", v) for v in self._get("/api", [], JSON, "discover", "/api").get("versions") or []
        ]
        for group in self._get("/apis", [], JSON, "discover", "/apis").get("groups") or []:
            preferred = (group.get("preferredVersion") or {}).get("version")
            if group.get("name") and preferred:
                group_versions.append((group["name"], preferred))
        for group_name, version in group_versions:
            path = f"/apis/{group_name}/{version}" if group_name else f"/api/{version}"
            try:
                listing = self._get(path, [], JSON, "discover", path)
            except KubeQueryError as exc:
                self._warnings.append(f"discovery of {path} failed: {exc.message}")
                continue
            for res in listing.get("resources") or []:
                if "/" in str(res.get("name", "")) or not res.get("kind"):
                    continue
                found.append(
                    ResourceType(
                        group=group_name,
                        version=version,
                        plural=res["name"],
                        kind=res["kind"],
                        namespaced=bool(res.get("namespaced")),
                        short_names=tuple(res.get("shortNames") or ()),
                        singular=res.get("singularName") or res["kind"].lower(),
                    )
                )
        self._resources = sorted(found, key=lambda t: (t.group != "", t.group, t.plural))
        return list(self._resources)

    def list_objects(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        return self._list(rtype, namespace, label_selector, field_selector)

    def get_object(self, rtype: ResourceType, name: str, namespace: str | None = None) -> KubeObject:
        ns = (namespace or self._default_namespace) if rtype.namespaced else None
        secret = is_secret(rtype)
        obj = self._get(rtype.path(ns, name), [], METADATA_ONE if secret else JSON, "get", rtype.qualified)
        return secret_metadata_only(obj) if secret else with_identity(obj, rtype)

    def metrics(self, what: MetricsKind, namespace: str | None = None) -> list[KubeObject]:
        rtype = ResourceTable().resolve(f"{what}.{METRICS_GROUP}")
        try:
            return self._list(rtype, namespace, None, None)
        except (NotFoundError, UnavailableError) as exc:
            raise UnavailableError(
                f"the metrics API ({METRICS_GROUP}) is not available: metrics-server is not installed or "
                f"not ready ({exc.message})",
                verb="list",
                what=rtype.qualified,
            ) from exc
