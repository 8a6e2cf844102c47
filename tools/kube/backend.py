"""The contract between the kubectl-shaped tools and where cluster objects come from.

Two backends implement it: ``LiveBackend`` (the official client against a kubeconfig context, GET
only) and ``SnapshotBackend`` (a directory of JSON/YAML dumps). The tools, the snapshot writer and
the live-state inventory are written against this Protocol only, which is what lets an audit of a
snapshot reproduce an audit of the cluster it was taken from.

Objects cross this boundary as plain dicts in the API's JSON shape, every one carrying ``apiVersion``
and ``kind`` (the API server omits them on list items; the live backend puts them back), Secrets
reduced to ``apiVersion``/``kind``/``metadata``. Lists come back sorted by (namespace, name) so output
never depends on server or file order.

Failures are ``KubeQueryError`` subclasses that say what was asked and what the server answered;
the tools turn them into error results. A write attempt is not among them: that is
``domain.errors.ReadOnlyViolation`` and is never caught.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

from domain.errors import InfraAuditError
from tools.inventory.live_models import UnreadResource
from tools.inventory.models import ClusterInfo
from tools.inventory.sources import ParseIssue
from tools.kube.resources import ResourceType

KubeObject = dict[str, Any]
MetricsKind = Literal["nodes", "pods"]

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


class KubeQueryError(InfraAuditError):
    """A read the backend could not answer. ``verb``/``what`` name the query for the error text."""

    status: int = 0

    def __init__(self, message: str, *, verb: str = "", what: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.verb = verb
        self.what = what
        if status is not None:
            self.status = status


class NotFoundError(KubeQueryError):
    status = 404


class ForbiddenError(KubeQueryError):
    """RBAC denied the verb on the resource (403), or the credentials were rejected (401)."""

    status = 403


class InvalidQueryError(KubeQueryError):
    """The server (or the local evaluator) rejected the query itself, e.g. a malformed selector."""

    status = 400


class UnavailableError(KubeQueryError):
    """The API server, or an aggregated API such as metrics.k8s.io, could not be reached or answered 5xx."""

    status = 503


class UnreachableError(UnavailableError):
    """No answer at all: refused, no route, DNS, TLS, or a timeout (``timed_out``). ``reason`` is short."""

    status = 0

    def __init__(
        self, message: str, *, verb: str = "", what: str = "", reason: str = "", timed_out: bool = False
    ) -> None:
        super().__init__(message, verb=verb, what=what)
        self.reason = reason or message
        self.timed_out = timed_out


class KubeBackend(Protocol):
    """Read-only access to one cluster's objects. Every method is a read; none has a write twin."""

    @property
    def info(self) -> ClusterInfo:
        """Cluster name, context, server version, capture time and backend kind."""
        ...

    @property
    def warnings(self) -> list[str]:
        """Notes on the way that are not a file skipped (an API group whose discovery failed)."""
        ...

    @property
    def issues(self) -> list[ParseIssue]:
        """Files (or objects in them) not read, and why (typed)."""
        ...

    @property
    def unread(self) -> list[UnreadResource]:
        """Resource types the backend knows it could not read before any list (a snapshot: its dumps that
        did not load, the types its writer could not read). A live cluster finds out per list."""
        ...

    @property
    def snapshot_dir(self) -> Path | None:
        """The snapshot directory, or None for a live cluster."""
        ...

    @property
    def default_namespace(self) -> str:
        """The namespace kubectl would use without ``-n`` (the context's, else ``default``)."""
        ...

    def api_resources(self) -> list[ResourceType]:
        """The resource types the cluster serves (a snapshot: the types it holds), subresources excluded."""
        ...

    def list_objects(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        """Objects of one type; ``namespace`` None means all namespaces (or a cluster-scoped type)."""
        ...

    def get_object(self, rtype: ResourceType, name: str, namespace: str | None = None) -> KubeObject:
        """One object by name; raises ``NotFoundError``."""
        ...

    def metrics(self, what: MetricsKind, namespace: str | None = None) -> list[KubeObject]:
        """NodeMetrics or PodMetrics (metrics.k8s.io); ``UnavailableError`` without metrics-server."""
        ...


def with_identity(obj: KubeObject, rtype: ResourceType) -> KubeObject:
    """Put ``apiVersion`` and ``kind`` on an object that lacks them (list items from the API server)."""
    if obj.get("apiVersion") and obj.get("kind"):
        return obj
    return {"apiVersion": rtype.api_version, "kind": rtype.kind, **obj}


def without_bookkeeping(obj: KubeObject) -> KubeObject:
    """An object without ``metadata.managedFields`` and the ``last-applied-configuration`` annotation.

    Both are copies of the object's own fields kept for the server and ``kubectl apply`` (managedFields
    often doubles a live object's size); no check reads them, ``kubectl get`` hides managedFields, and
    last-applied can hold a Secret's data. A snapshot drops them when it loads, so a big cluster is not
    held twice over in memory. The object is copied only where it had either."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return obj
    annotations = meta.get("annotations")
    applied = isinstance(annotations, dict) and LAST_APPLIED in annotations
    if "managedFields" not in meta and not applied:
        return obj
    meta = {k: v for k, v in meta.items() if k != "managedFields"}
    if applied and isinstance(annotations, dict):
        kept = {k: v for k, v in annotations.items() if k != LAST_APPLIED}
        if kept:
            meta["annotations"] = kept
        else:
            meta.pop("annotations")
    return {**obj, "metadata": meta}


def secret_metadata_only(obj: KubeObject) -> KubeObject:
    """A Secret reduced to what the metadata-only API returns, minus the one annotation that can hold data.

    ``last-applied-configuration`` of a Secret created with ``kubectl apply`` contains its data, so it is
    dropped even though the metadata API would serve it.
    """
    meta = dict(obj.get("metadata") or {})
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta}


def is_secret(rtype: ResourceType) -> bool:
    return rtype.group == "" and rtype.plural == "secrets"


def sort_key(obj: KubeObject) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


class PageFn(Protocol):
    """Told after each page of a list: the kind (``pods``, ``deployments.apps``), the items read so far
    for this list, the items the server says remain (``remainingItemCount``; None when it does not say),
    and whether that was the last page. A list that fits in one page is one call with ``done``."""

    def __call__(self, kind: str, fetched: int, remaining: int | None, *, done: bool) -> None: ...


def no_progress(kind: str, fetched: int, remaining: int | None, *, done: bool) -> None:
    return None
