"""LiveBackend: a kubeconfig context read through the official ``kubernetes`` client, GET only.

Read-only is enforced at the transport, not by convention: ``guard_read_only`` wraps this client's
REST layer and the urllib3 pool manager under it, so a POST/PUT/PATCH/DELETE (or HEAD, OPTIONS) raises
``ReadOnlyViolation`` before a byte leaves the process, whichever API class or raw ``call_api`` tried,
and seals the client so ``kubernetes.stream`` cannot swap in its WebSocket transport (exec, attach).

Requests are raw GETs on REST paths (``/api/v1/pods``, ``/apis/apps/v1/namespaces/x/deployments``)
through the ApiClient (auth, TLS, token refresh), answered as plain dicts: the same shape a snapshot
holds, with no model round-trip that would rename fields. The DynamicClient is not used: it writes a
discovery cache to disk and returns wrapper objects. Lists page with ``limit`` and ``continue``.

Secrets are requested as ``PartialObjectMetadataList`` (server-side metadata-only), so their data
never crosses the wire; the result is stripped again anyway. There are no retries here beyond the
client's own: a failed read becomes a ``KubeQueryError`` that a tool reports as data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import ConfigNode, KubeConfigMerger

from tools.errors import KubeConfigError, ReadOnlyViolation
from tools.inventory.models import ClusterInfo, ParseIssue
from tools.kube.backend import (
    ForbiddenError,
    InvalidQueryError,
    KubeObject,
    KubeQueryError,
    MetricsKind,
    NotFoundError,
    UnavailableError,
    is_secret,
    secret_metadata_only,
    sort_key,
    with_identity,
)
from tools.kube.resources import METRICS_GROUP, ResourceTable, ResourceType

PAGE_SIZE = 500
JSON = "application/json"
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_ONE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
DEFAULT_KUBECONFIG = "~/.kube/config"
SA_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def _refuse(method: Any, url: Any) -> None:
    if str(method).upper() != "GET":
        raise ReadOnlyViolation(
            f"refused {str(method).upper()} {url}: infra-audit only sends GET to a cluster"
        )


class _SealedApiClient(k8s_client.ApiClient):
    """An ApiClient whose transport cannot be swapped after ``guard_read_only``.

    ``kubernetes.stream`` (exec, attach, port-forward) replaces ``call_api`` on the instance to talk
    WebSocket, which would bypass both guards below; sealing refuses that replacement.
    """

    _SEALED = frozenset({"call_api", "rest_client", "request"})

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._SEALED and self.__dict__.get("_sealed"):
            raise ReadOnlyViolation(
                f"refused to replace ApiClient.{name}: its transport is read-only (GET only)"
            )
        super().__setattr__(name, value)


def guard_read_only(api_client: k8s_client.ApiClient) -> None:
    """Make this ApiClient unable to send anything but GET, at two layers of its transport, and seal it."""
    rest = api_client.rest_client
    rest_request: Callable[..., Any] = rest.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        _refuse(method, url)
        return rest_request(method, url, *args, **kwargs)

    pool = rest.pool_manager
    pool_urlopen: Callable[..., Any] = pool.urlopen

    def urlopen(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        _refuse(method, url)
        return pool_urlopen(method, url, *args, **kwargs)

    rest.request = request  # type: ignore[method-assign]
    pool.urlopen = urlopen  # type: ignore[method-assign]
    api_client.__class__ = _SealedApiClient
    api_client.__dict__["_sealed"] = True


def _contexts(joined: str, shown: str) -> tuple[list[dict[str, Any]], str | None]:
    """The contexts and current-context of the merged kubeconfig files (the first definition wins)."""
    try:
        merged = KubeConfigMerger(joined).config
    except (ConfigException, yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise KubeConfigError(f"cannot read kubeconfig {shown!r}: {str(exc).splitlines()[0]}") from exc
    value = merged.value if merged is not None else None
    if not isinstance(value, dict):
        raise KubeConfigError(f"cannot read kubeconfig {shown!r}: not a kubeconfig (expected a mapping)")
    contexts = [c.value if isinstance(c, ConfigNode) else c for c in value.get("contexts") or []]
    current = value.get("current-context")
    return [c for c in contexts if isinstance(c, dict)], str(current) if current else None


def _status_message(body: bytes) -> str:
    try:
        status = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace").strip()
    return str(status.get("message") or status.get("reason") or "") if isinstance(status, dict) else ""


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
        request_timeout: float = 30.0,
    ) -> None:
        guard_read_only(api_client)
        self.api_client = api_client
        self.cluster = cluster
        self.context = context
        self.page_size = page_size
        self.request_timeout = request_timeout
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
    ) -> LiveBackend:
        """Connect like kubectl: ``kubeconfig`` may join several paths with ':' (as KUBECONFIG does).

        With no kubeconfig and no ``~/.kube/config``, inside a pod, the pod's service account is used
        (``in_cluster=None`` decides by that rule; True or False forces it).
        """
        default_missing = not Path(DEFAULT_KUBECONFIG).expanduser().exists()
        if in_cluster or (
            in_cluster is None
            and kubeconfig is None
            and default_missing
            and context is None
            and Path(SA_NAMESPACE).exists()
        ):
            return cls._in_cluster(page_size)
        path = kubeconfig or DEFAULT_KUBECONFIG
        parts = [str(Path(p).expanduser()) for p in path.split(":") if p]
        if not any(Path(p).is_file() for p in parts):
            raise KubeConfigError(f"no kubeconfig found at {path!r}; pass --kubeconfig or set KUBECONFIG")
        joined = ":".join(parts)
        contexts, current = _contexts(joined, path)
        name = context or current
        chosen = next((c for c in contexts if c.get("name") == name), None)
        if chosen is None:
            names = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
            wanted = f"context {name!r} not found" if name else "no current-context set"
            raise KubeConfigError(f"{wanted} in kubeconfig {path!r}; available contexts: {names}")
        try:
            api_client = k8s_config.new_client_from_config(
                config_file=joined, context=chosen["name"], persist_config=False
            )
        except (ConfigException, yaml.YAMLError, OSError, ValueError, TypeError) as exc:
            raise KubeConfigError(
                f"cannot use context {chosen['name']!r} of {path!r}: {str(exc).splitlines()[0]}"
            ) from exc
        ctx = chosen.get("context") or {}
        return cls(
            api_client,
            cluster=str(ctx.get("cluster") or chosen["name"]),
            context=chosen["name"],
            default_namespace=str(ctx.get("namespace") or "default"),
            page_size=page_size,
        )

    @classmethod
    def _in_cluster(cls, page_size: int) -> LiveBackend:
        configuration = k8s_client.Configuration()
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)
            namespace = SA_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
        except (ConfigException, OSError) as exc:
            raise KubeConfigError(f"cannot use the in-cluster service account: {exc}") from exc
        return cls(
            k8s_client.ApiClient(configuration),
            cluster="in-cluster",
            context=None,
            default_namespace=namespace,
            page_size=page_size,
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
        host = self.api_client.configuration.host
        try:
            response = self.api_client.call_api(
                method, url, header_params=headers, _request_timeout=self.request_timeout
            )
            body = response.read()
        except ApiException as exc:  # the client wraps TLS failures as status 0
            raise UnavailableError(
                f"cannot {verb} {what} at {host}: {exc.reason}", verb=verb, what=what
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise UnavailableError(
                f"cannot reach the API server at {host} to {verb} {what}: {exc}", verb=verb, what=what
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
            token = (page.get("metadata") or {}).get("continue") or None
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

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    @property
    def issues(self) -> list[ParseIssue]:
        return []  # no files; a list the server refused is an issue of the inventory (``_fetch``)

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
