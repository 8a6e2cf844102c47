"""Error texts of the kube tools: what was asked, what the cluster said, and what to change.

A model (or a person) reading a failed tool call should be able to fix the next call from the error
alone, so each text names the exact query and offers the nearest valid alternative: the closest
resource names, similar object names, the namespaces that do exist, or the RBAC verb and resource
that were refused and who refused them.
"""

from __future__ import annotations

import difflib

from tools.kube.backend import (
    ForbiddenError,
    InvalidQueryError,
    KubeBackend,
    KubeQueryError,
    NotFoundError,
    UnavailableError,
)
from tools.kube.resources import ResourceTable, ResourceType, UnknownResourceError


def where(rtype: ResourceType | None, namespace: str | None) -> str:
    if rtype is not None and not rtype.namespaced:
        return "cluster-wide"
    return "in all namespaces" if namespace is None else f'in namespace "{namespace}"'


def namespace_problem(backend: KubeBackend, namespace: str | None) -> str | None:
    """An error text when ``namespace`` does not exist; None when it does or cannot be checked."""
    if namespace is None:
        return None
    try:
        names = [
            str(o["metadata"]["name"]) for o in backend.list_objects(ResourceTable().resolve("namespaces"))
        ]
    except KubeQueryError:
        return None
    if not names or namespace in names:
        return None
    close = difflib.get_close_matches(namespace, names, n=3)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    return f'namespace "{namespace}" not found; {hint}existing namespaces: {", ".join(names)}'


def query_error(
    exc: KubeQueryError, backend: KubeBackend, verb: str, rtype: ResourceType | None, namespace: str | None
) -> str:
    what = rtype.qualified if rtype else exc.what
    scope = where(rtype, namespace)
    if isinstance(exc, ForbiddenError):
        group = f'API group "{rtype.group}"' if rtype else "its API group"
        ctx = backend.info.context or backend.info.name
        return (
            f"forbidden: cannot {verb} {what} {scope} ({exc.message}). The credentials of context "
            f'"{ctx}" lack RBAC verb "{verb}" on resource "{rtype.plural if rtype else what}" in {group}; '
            "grant it in the audit ClusterRole or query a resource you can read"
        )
    if isinstance(exc, InvalidQueryError):
        return (
            f"invalid query: {verb} {what} {scope}: {exc.message}. Label selectors look like "
            "'app=x,tier!=db,env in (a,b)'; field selectors like 'status.phase=Running'"
        )
    if isinstance(exc, UnavailableError):
        return (
            f"{exc.message}; the query was: {verb} {what} {scope}. Retry later, or audit a snapshot instead"
        )
    return f"{verb} {what} {scope}: {exc.message}"


def unknown_resource(exc: UnknownResourceError) -> str:
    hint = f"did you mean {', '.join(exc.suggestions)}? " if exc.suggestions else ""
    return (
        f'unknown resource type "{exc.name}"; {hint}kube_api_resources lists the types this cluster '
        "serves (names, short names like 'deploy' and 'plural.group' all work)"
    )


def not_found(backend: KubeBackend, rtype: ResourceType, name: str, namespace: str | None) -> str:
    """A missing object (with similar names), or a type this cluster or snapshot does not have at all."""
    problem = namespace_problem(backend, namespace if rtype.namespaced else None)
    if problem:
        return problem
    try:
        names = [str(o["metadata"]["name"]) for o in backend.list_objects(rtype, namespace)]
    except NotFoundError:
        return (
            f'the server doesn\'t have a resource type "{rtype.qualified}": this cluster does not serve it '
            "(or this snapshot does not hold it); kube_api_resources lists the types there are"
        )
    except KubeQueryError:
        names = []
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f"; similar names: {', '.join(close)}" if close else ""
    return (
        f'{rtype.qualified} "{name}" not found {where(rtype, namespace)}{hint}. '
        f'List them with kube_get(resource="{rtype.qualified}"'
        + (f', namespace="{namespace}")' if rtype.namespaced and namespace else ")")
        + (", or search every namespace with all_namespaces=True and name" if rtype.namespaced else "")
    )
