"""The guard on the live backend's transport: GET only, and Secrets in metadata-only form only.

``guard_read_only`` wraps an ApiClient's REST layer and the urllib3 pool manager under it, so
whichever API class, raw ``call_api`` or pool call builds a request, it is checked twice before a byte
leaves the process:

* a method other than GET (POST/PUT/PATCH/DELETE, HEAD, OPTIONS) raises ``ReadOnlyViolation``;
* a request for Secret objects (``/api/v1/secrets``, ``/api/v1/namespaces/X/secrets[/NAME]``, the
  ``/watch/`` forms, behind any server path prefix, percent-encoded or not) whose ``Accept`` header
  is not the metadata-only ``PartialObjectMetadata(List)`` content type raises
  ``SecretReadViolation``: the server would answer it with the Secrets' data.

The client is then sealed, so ``kubernetes.stream`` cannot swap in its WebSocket transport (exec,
attach, port-forward) around both guards.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from kubernetes import client as k8s_client

from domain.errors import ReadOnlyViolation, SecretReadViolation

METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA_ONE = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
_METADATA_ONLY = frozenset({METADATA_LIST.lower(), METADATA_ONE.lower()})


def is_secrets_path(url: str) -> bool:
    """Whether ``url`` names core Secrets (a list, one Secret, or a watch), whatever its server prefix.

    The path is decoded and normalised first, as the API server does (``%73ecrets``, ``//``, ``./``).
    A namespace that happens to be called ``secrets`` is not a Secrets path.
    """
    text = str(url)
    raw = urlsplit(text).path if "://" in text else text.split("?", 1)[0].split("#", 1)[0]
    path = posixpath.normpath("/" + unquote(raw))
    parts = [p.casefold() for p in path.split("/") if p]
    for i, part in enumerate(parts):
        if part != "api" or i + 1 >= len(parts):
            continue
        rest = parts[i + 2 :]  # after /api/<version>
        if rest[:1] == ["watch"]:
            rest = rest[1:]
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            rest = rest[2:]
        if rest[:1] == ["secrets"]:
            return True
    return False


def _accept(headers: Any) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    for key, value in headers.items():
        if str(key).lower() == "accept":
            return str(value)
    return None


def is_metadata_only(accept: str | None) -> bool:
    """Every media type the ``Accept`` header offers is the metadata-only form (and there is one)."""
    if not accept:
        return False
    offered = ["".join(t.split()).lower() for t in accept.split(",")]
    return all(t in _METADATA_ONLY for t in offered)


def refuse_unsafe(method: Any, url: Any, headers: Any) -> None:
    """Raise before sending anything that is not a GET, or a GET of Secrets that is not metadata-only."""
    verb = str(method).upper()
    if verb != "GET":
        raise ReadOnlyViolation(f"refused {verb} {url}: infra-audit only sends GET to a cluster")
    if is_secrets_path(str(url)) and not is_metadata_only(_accept(headers)):
        raise SecretReadViolation(
            f"refused GET {urlsplit(str(url)).path}: Secrets are only ever requested metadata-only "
            f"(Accept: {METADATA_LIST} or {METADATA_ONE}), never with their data"
        )


class _SealedApiClient(k8s_client.ApiClient):
    """An ApiClient whose transport cannot be swapped after ``guard_read_only``.

    ``kubernetes.stream`` (exec, attach, port-forward) replaces ``call_api`` on the instance to talk
    WebSocket, which would bypass both guards; sealing refuses that replacement.
    """

    _SEALED = frozenset({"call_api", "rest_client", "request"})

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._SEALED and self.__dict__.get("_sealed"):
            raise ReadOnlyViolation(
                f"refused to replace ApiClient.{name}: its transport is read-only (GET only)"
            )
        super().__setattr__(name, value)


def guard_read_only(api_client: k8s_client.ApiClient) -> None:
    """Make this ApiClient unable to send anything but safe GETs, at two layers of its transport."""
    rest = api_client.rest_client
    rest_request: Callable[..., Any] = rest.request

    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        refuse_unsafe(method, url, kwargs["headers"] if "headers" in kwargs else (args[:1] or [None])[0])
        return rest_request(method, url, *args, **kwargs)

    pool = rest.pool_manager
    pool_urlopen: Callable[..., Any] = pool.urlopen

    def urlopen(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        # urllib3 puts the headers in kwargs; a pool without any sends its own defaults (no Accept)
        refuse_unsafe(method, url, kwargs.get("headers", pool.headers))
        return pool_urlopen(method, url, *args, **kwargs)

    rest.request = request  # type: ignore[method-assign]
    pool.urlopen = urlopen  # type: ignore[method-assign]
    api_client.__class__ = _SealedApiClient
    api_client.__dict__["_sealed"] = True
