"""A live cluster read once: the whole-cluster lists the audit made are kept for the recount.

The numbers challenger recounts a cluster number with the jq filter of the check's catalog row
(``tools/checks/reproduce_run.py``) over the objects of the types it names. On a live cluster those
must be the objects the audit read, not a second read: a cluster that moved between research and
recount would show as a correction the audit never made, and a second read is one more load on the
API server. ``ReadOnce`` wraps the live backend and keeps each whole-cluster list (all namespaces, no
selector) of the types it is told to keep, the types the catalog's jq commands name, so the first
list of a type (the inventory's) is the only one. A list that failed is kept as its failure. Any
other call goes to the cluster as before. A snapshot is already in memory and is never wrapped.
"""

from __future__ import annotations

import threading
from pathlib import Path

from tools.inventory.live_models import UnreadResource
from tools.inventory.models import ClusterInfo
from tools.inventory.sources import ParseIssue
from tools.kube.backend import KubeBackend, KubeObject, KubeQueryError, MetricsKind
from tools.kube.resources import ResourceType


class ReadOnce:
    """A ``KubeBackend`` whose whole-cluster lists of the ``keep`` types (``plural.group``) are read once."""

    def __init__(self, backend: KubeBackend, keep: frozenset[str]) -> None:
        self.backend = backend
        self.keep = keep
        self._lists: dict[str, list[KubeObject] | KubeQueryError] = {}
        self._lock = threading.Lock()

    @property
    def info(self) -> ClusterInfo:
        return self.backend.info

    @property
    def warnings(self) -> list[str]:
        return self.backend.warnings

    @property
    def issues(self) -> list[ParseIssue]:
        return self.backend.issues

    @property
    def unread(self) -> list[UnreadResource]:
        return self.backend.unread

    @property
    def snapshot_dir(self) -> Path | None:
        return self.backend.snapshot_dir

    @property
    def default_namespace(self) -> str:
        return self.backend.default_namespace

    def api_resources(self) -> list[ResourceType]:
        return self.backend.api_resources()

    def list_objects(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        whole = namespace is None and label_selector is None and field_selector is None
        if not whole or rtype.qualified not in self.keep:
            return self.backend.list_objects(rtype, namespace, label_selector, field_selector)
        with self._lock:
            kept = self._lists.get(rtype.qualified)
            if kept is None:
                try:
                    kept = self.backend.list_objects(rtype)
                except KubeQueryError as exc:
                    kept = exc
                self._lists[rtype.qualified] = kept
        if isinstance(kept, KubeQueryError):
            raise kept
        return list(kept)

    def get_object(self, rtype: ResourceType, name: str, namespace: str | None = None) -> KubeObject:
        return self.backend.get_object(rtype, name, namespace)

    def release(self) -> None:
        """Let the kept lists go: the run has read them for the last time (once the report is made).
        A kept type listed afterwards is an error, not a second read of the cluster."""
        with self._lock:
            self._lists = {
                name: KubeQueryError(
                    "the cluster's objects were let go once the report was made", verb="list", what=name
                )
                for name in self.keep
            }

    def metrics(self, what: MetricsKind, namespace: str | None = None) -> list[KubeObject]:
        return self.backend.metrics(what, namespace)

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()


def read_once(backend: KubeBackend | None, keep: frozenset[str]) -> KubeBackend | None:
    """``backend`` with its lists of ``keep`` read once, when it is a live cluster; else as it is."""
    if backend is None or backend.snapshot_dir is not None or isinstance(backend, ReadOnce):
        return backend
    return ReadOnce(backend, keep)
