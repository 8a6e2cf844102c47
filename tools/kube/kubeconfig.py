"""Connect like kubectl: a kubeconfig context (or the pod's service account) to a ready ApiClient.

Every file is read and checked here before the ``kubernetes`` client sees it: a kubeconfig that is
empty, a YAML list, a scalar, or whose ``contexts``/``clusters``/``users`` are not lists of named
mappings is a ``KubeConfigError`` naming the file, never a ``TypeError`` from inside the client.
The client gets bounded retries: one more try of a connection that failed, none of a read that
timed out (the run's timeout is the bound of one request, not a fraction of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import client as k8s_client
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.kube_config import ConfigNode, KubeConfigMerger

from domain.errors import KubeConfigError

DEFAULT_KUBECONFIG = "~/.kube/config"
SA_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024
NAMED_LISTS = ("clusters", "contexts", "users")


def bounded_retries() -> urllib3.Retry:
    """One retry of a failed connection; never a retry of a read, a status or a redirect."""
    return urllib3.Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0)


@dataclass(frozen=True)
class Connection:
    api_client: k8s_client.ApiClient
    cluster: str
    context: str | None
    namespace: str


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_file(path: Path, shown: str) -> None:
    """Raise ``KubeConfigError`` unless ``path`` holds a kubeconfig-shaped YAML mapping."""
    where = f"kubeconfig {str(path)!r}" if str(path) != shown else f"kubeconfig {shown!r}"
    try:
        if path.stat().st_size > MAX_KUBECONFIG_BYTES:
            raise KubeConfigError(f"cannot read {where}: larger than {MAX_KUBECONFIG_BYTES // 1024**2} MiB")
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KubeConfigError(f"cannot read {where}: {_first_line(exc)}") from None
    if document is None:
        raise KubeConfigError(f"cannot read {where}: the file is empty")
    if not isinstance(document, dict):
        raise KubeConfigError(
            f"cannot read {where}: not a kubeconfig (a YAML {type(document).__name__}, expected a mapping)"
        )
    for key in NAMED_LISTS:
        entries = document.get(key)
        if entries is None:
            continue
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries
        ):
            raise KubeConfigError(f"cannot read {where}: '{key}' is not a list of mappings with a 'name'")
        for entry in entries:
            body = entry.get(key[:-1])
            if body is not None and not isinstance(body, dict):
                raise KubeConfigError(f"cannot read {where}: {key[:-1]} {entry['name']!r} is not a mapping")


def _contexts(joined: str, shown: str) -> tuple[list[dict[str, Any]], str | None]:
    """The contexts and current-context of the merged kubeconfig files (the first definition wins)."""
    try:
        merged = KubeConfigMerger(joined).config
    except (ConfigException, yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        raise KubeConfigError(f"cannot read kubeconfig {shown!r}: {_first_line(exc)}") from exc
    value = merged.value if merged is not None else None
    if not isinstance(value, dict):
        raise KubeConfigError(f"cannot read kubeconfig {shown!r}: not a kubeconfig (expected a mapping)")
    contexts = [c.value if isinstance(c, ConfigNode) else c for c in value.get("contexts") or []]
    current = value.get("current-context")
    return [c for c in contexts if isinstance(c, dict)], str(current) if current else None


def from_kubeconfig(kubeconfig: str | None, context: str | None) -> Connection:
    """``kubeconfig`` may join several paths with ':' (as KUBECONFIG does); None is ~/.kube/config."""
    path = kubeconfig or DEFAULT_KUBECONFIG
    parts = [str(Path(p).expanduser()) for p in path.split(":") if p]
    present = [p for p in parts if Path(p).is_file()]
    if not present:
        raise KubeConfigError(f"no kubeconfig found at {path!r}; pass --kubeconfig or set KUBECONFIG")
    for part in present:
        check_file(Path(part), path)
    joined = ":".join(parts)
    contexts, current = _contexts(joined, path)
    name = context or current
    chosen = next((c for c in contexts if c.get("name") == name), None)
    if chosen is None:
        names = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
        wanted = f"context {name!r} not found" if name else "no current-context set"
        raise KubeConfigError(f"{wanted} in kubeconfig {path!r}; available contexts: {names}")
    configuration = k8s_client.Configuration()
    configuration.retries = bounded_retries()
    try:
        api_client = k8s_config.new_client_from_config(
            config_file=joined,
            context=chosen["name"],
            persist_config=False,
            client_configuration=configuration,
        )
    except (ConfigException, yaml.YAMLError, OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
        # the client reads the entries of the context with no type checks of its own (a port as a
        # number, a user that is a list): whatever it trips on is the kubeconfig's mistake
        raise KubeConfigError(
            f"cannot use context {chosen['name']!r} of {path!r}: {_first_line(exc)}"
        ) from exc
    body = chosen.get("context")
    ctx: dict[str, Any] = body if isinstance(body, dict) else {}
    return Connection(
        api_client=api_client,
        cluster=str(ctx.get("cluster") or chosen["name"]),
        context=chosen["name"],
        namespace=str(ctx.get("namespace") or "default"),
    )


def in_cluster() -> Connection:
    """The pod's service account, as a pod's kubectl would use it."""
    configuration = k8s_client.Configuration()
    try:
        k8s_config.load_incluster_config(client_configuration=configuration)
        namespace = SA_NAMESPACE.read_text(encoding="utf-8").strip() or "default"
    except (ConfigException, OSError) as exc:
        raise KubeConfigError(f"cannot use the in-cluster service account: {exc}") from exc
    configuration.retries = bounded_retries()
    return Connection(
        api_client=k8s_client.ApiClient(configuration),
        cluster="in-cluster",
        context=None,
        namespace=namespace,
    )


def wants_in_cluster(kubeconfig: str | None, context: str | None, in_cluster: bool | None) -> bool:
    """kubectl's rule: with no kubeconfig at all and no context asked for, inside a pod, use the pod's."""
    if in_cluster is not None:
        return in_cluster
    default_missing = not Path(DEFAULT_KUBECONFIG).expanduser().exists()
    return kubeconfig is None and default_missing and context is None and SA_NAMESPACE.exists()
