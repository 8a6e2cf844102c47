"""Open the cluster side of an estate from the run settings: a live context or a snapshot directory."""

from __future__ import annotations

from pipeline.settings import RunSettings
from tools.kube.backend import KubeBackend


def open_cluster(settings: RunSettings) -> KubeBackend | None:
    if settings.cluster is None:
        return None
    if settings.cluster == "live":
        from tools.kube.live import LiveBackend

        return LiveBackend.from_kubeconfig(kubeconfig=settings.kubeconfig, context=settings.context)
    from tools.kube.snapshot import SnapshotBackend

    return SnapshotBackend(settings.resolve(settings.cluster))
