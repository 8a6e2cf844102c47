"""Open the cluster side of an estate from the run settings: a live context or a snapshot directory.

A live cluster is verified on opening: one that cannot be read at all (unreachable, timing out,
rejecting the credentials) is a one-line ``ClusterAccessError``, never an empty cluster.
"""

from __future__ import annotations

from pipeline.settings import RunSettings
from tools.kube.backend import KubeBackend


def open_cluster(settings: RunSettings) -> KubeBackend | None:
    if settings.cluster is None:
        return None
    if settings.cluster == "live":
        from tools.kube.live import LiveBackend, Timeouts

        backend = LiveBackend.from_kubeconfig(
            kubeconfig=settings.kubeconfig,
            context=settings.context,
            timeouts=Timeouts.of(settings.kube_timeout),
        )
        try:
            backend.verify()
        except BaseException:
            backend.close()
            raise
        return backend
    from tools.kube.snapshot import SnapshotBackend

    return SnapshotBackend(settings.resolve(settings.cluster))
