"""The error hierarchy of infra-audit.

Two families, kept apart on purpose:

* ``UserError`` and its children are mistakes a user can fix (a bad path, a bad flag, an unreadable
  kubeconfig, a malformed snapshot). The CLI prints their message on one line and exits non-zero;
  it never shows a traceback for them.
* ``ModelError`` and its children are model calls that failed after the SDK's retries:
  ``ModelUnavailable`` (overloaded, 5xx, dropped connection) is retried by the graph's node retry
  policy; ``ModelRejected`` (400/401/403) never is. Both end as a recorded failure of one concern.
* ``SafetyError`` and its children mean a guarantee was about to be broken (a write verb towards a
  cluster, a path outside the estate). They are raised before anything leaves the process. Tools
  catch the sandbox ones and return them to the caller as data; a write attempt is never caught.

Anything else that escapes is our bug. No node catches ``Exception``: the graph's node error handlers
(``pipeline/nodes.py``) are the one boundary where a crash becomes a recorded failure of one concern.
"""

from __future__ import annotations


class InfraAuditError(Exception):
    """Base class of every error infra-audit raises on purpose."""

    exit_code = 1


class UserError(InfraAuditError):
    """A mistake the user can fix; printed as one line, exit code 2."""

    exit_code = 2


class EstateError(UserError):
    """The estate path is missing, not a directory, or unreadable."""


class SnapshotError(UserError):
    """A cluster snapshot directory is missing or malformed."""


class KubeConfigError(UserError):
    """The kubeconfig or context cannot be loaded, or the cluster cannot be reached."""


class ClusterAccessError(KubeConfigError):
    """The cluster of a kubeconfig context cannot be read at all: nothing to audit, so the run stops.

    ``cause`` names the failure in our own words: ``unreachable`` (refused, no route, DNS, TLS),
    ``timeout`` (no answer within the run's Kubernetes timeout), ``unauthorized`` (401: the credentials
    were rejected), ``forbidden`` (403 on the API's discovery) or ``error`` (any other answer).
    ``server`` is the API server's URL. A cluster that answers but refuses some resource kinds is not
    this error: those kinds become a gap of the audit.
    """

    def __init__(self, message: str, *, cause: str, server: str, status: int = 0) -> None:
        super().__init__(message)
        self.cause = cause
        self.server = server
        self.status = status


class SettingsError(UserError):
    """A flag, an environment value or a settings file is invalid."""


class ChartError(UserError):
    """A chart given on the command line (``charts import``) or a chart reference is not usable."""


class HelmEngineError(InfraAuditError):
    """The Helm engine could not load or render a chart, or a chart could not be fetched.

    ``stage`` names where in our words (``engine``: the SDK is not installed or has no build for this
    platform; ``load``, ``render``, ``fetch``); the message is one line. The render phase turns it into
    a release that was not rendered (a gap), never a failed run.
    """

    def __init__(self, message: str, *, stage: str) -> None:
        super().__init__(message)
        self.stage = stage


class SuppressionError(SettingsError):
    """An inline suppression or an accepted risk with no reason, or a bad ``until`` date."""


class SafetyError(InfraAuditError):
    """A read-only or sandbox guarantee was about to be broken."""

    exit_code = 3


class SandboxViolation(SafetyError):
    """A path resolves outside the estate root, or to a device, a binary or an oversized file."""


class ReadOnlyViolation(SafetyError):
    """Something tried to send a non-GET request to a Kubernetes API server."""


class SecretReadViolation(SafetyError):
    """Something tried to read Secret objects from a cluster in any form but the metadata-only one.

    The live transport refuses, before a byte is sent, every request to a Secrets path whose
    ``Accept`` header is not the ``PartialObjectMetadata(List)`` content type, so no Secret value can
    be asked for, whichever code builds the request.
    """


class ModelError(InfraAuditError):
    """A model call failed after the SDK's own retries; when it stops a run, exit 4 (incomplete).

    ``failure`` names the class of failure in our own words (``timeout``, ``connection``,
    ``stream_broke``, ``stream_truncated``, ``stream_error``, ``status``, ``replay``, ``too_large``
    for a 413, ``context_overflow`` for a prompt over the model's context window), and
    ``sdk_retried`` says whether the SDK had a chance to retry it: callers and tests read these
    fields, never the message, whose wording follows the SDK's.
    """

    exit_code = 4

    def __init__(self, message: str = "", *, failure: str = "", sdk_retried: bool = False) -> None:
        super().__init__(message)
        self.failure = failure
        self.sdk_retried = sdk_retried


class ModelUnavailable(ModelError):
    """Overloaded, rate-limited past the SDK's retries, 5xx, or the connection dropped: worth a later try.

    The graph's node retry policy retries these (and only these) for longer outages.
    """


class ModelRejected(ModelError):
    """The request itself is wrong or not allowed (400, 401, 403, 404, 413): retrying cannot help."""
