"""Bedrock and Vertex: the anthropic SDK's own clients (``AnthropicBedrock``, ``AnthropicVertex``).

They are the Messages API over another wire: the SDK moves the model into the path (Bedrock
``/model/{model}/invoke`` or ``invoke-with-response-stream``, an AWS event stream; Vertex
``/projects/{p}/locations/{r}/publishers/anthropic/models/{m}:rawPredict`` or ``streamRawPredict``,
SSE), adds ``anthropic_version`` to the body, and authenticates each request (Bedrock: SigV4 through
botocore, or a Bedrock API key as a bearer token; Vertex: a Google OAuth bearer token). Everything
else is ``AnthropicModel``'s: the same body, retries, streaming-aware timeout and error mapping,
since the SDK raises the same error types for every platform.

What is checked here, before any agent runs (one line each, ``SettingsError``, exit 2): the extra is
installed (boto3 and botocore; google-auth), the region, Vertex's project, and that credentials
resolve. Credentials come from the usual environment: what the CLI read (``CloudCredentials``), else
the cloud's own chain (boto3: shared files, SSO, container or instance role; google-auth:
application default credentials). boto3 and google-auth are imported only here, only when chosen.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import httpx2

from agents.llm.anthropic_model import TRANSIENT_TYPES, AnthropicModel, client_options
from agents.llm.protocol import ModelReply, ModelRequest
from agents.llm.settings import cloud_endpoint
from domain.errors import ModelRejected, ModelUnavailable, SettingsError

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def require_extra(provider: str, *modules: str) -> None:
    """Import the cloud's libraries, or say which extra installs them."""
    try:
        for name in modules:
            importlib.import_module(name)
    except ImportError:
        raise SettingsError(
            f"--provider {provider} needs the {provider} extra: pip install 'infra-audit[{provider}]'"
        ) from None


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


class BedrockModel(AnthropicModel):
    """Claude on Amazon Bedrock. Model ids are Bedrock's: ``anthropic.claude-...-v1:0``, or an
    inference profile (``us.anthropic.claude-...``, or its ARN)."""

    # An exception frame mid-stream carries Bedrock's own type (``:exception-type``), which the SDK
    # passes on as the error event's type: these are the outages among them, as overloaded_error is
    transient_stream_types = TRANSIENT_TYPES | {
        "throttlingException",
        "internalServerException",
        "serviceUnavailableException",
        "modelStreamErrorException",
        "modelTimeoutException",
    }

    def _make_client(self, http_client: httpx2.Client | None) -> Any:
        require_extra("bedrock", "boto3", "botocore")
        from anthropic.lib.bedrock import AnthropicBedrock

        cloud = self.settings.cloud
        api_key = _secret(cloud.bedrock_api_key)
        region = self.settings.region if api_key is not None else self._resolve_aws()
        if not region:
            raise SettingsError(
                "--provider bedrock needs an AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a "
                "region in the AWS profile)"
            )
        self.settings = self.settings.model_copy(update={"region": region})
        keys: dict[str, Any] = {"api_key": api_key}
        if api_key is None:
            keys = {
                "aws_access_key": _secret(cloud.aws_access_key_id),
                "aws_secret_key": _secret(cloud.aws_secret_access_key),
                "aws_session_token": _secret(cloud.aws_session_token),
                "aws_profile": cloud.aws_profile,
            }
        return AnthropicBedrock(
            aws_region=region,
            base_url=self.settings.base_url or cloud_endpoint("bedrock", region),
            **keys,
            **client_options(self.settings, http_client),
        )

    def _resolve_aws(self) -> str | None:
        """The region (the settings', else the profile's), once boto3 has found credentials."""
        import boto3
        from botocore.exceptions import BotoCoreError, ProfileNotFound

        cloud = self.settings.cloud
        if (cloud.aws_access_key_id is None) != (cloud.aws_secret_access_key is None):
            raise SettingsError(
                "--provider bedrock: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together; one is set "
                "without the other"
            )
        try:
            session = boto3.Session(
                profile_name=cloud.aws_profile,
                region_name=self.settings.region,
                aws_access_key_id=_secret(cloud.aws_access_key_id),
                aws_secret_access_key=_secret(cloud.aws_secret_access_key),
                aws_session_token=_secret(cloud.aws_session_token),
            )
            credentials = session.get_credentials()
        except ProfileNotFound:
            raise SettingsError(
                f"--provider bedrock: the AWS profile {cloud.aws_profile!r} (AWS_PROFILE) is not configured"
            ) from None
        except BotoCoreError as exc:
            raise SettingsError(
                f"--provider bedrock: the AWS credentials do not load ({type(exc).__name__})"
            ) from None
        if credentials is None:
            raise SettingsError(
                "--provider bedrock: no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN for temporary ones), or AWS_BEARER_TOKEN_BEDROCK"
            )
        return self.settings.region or session.region_name

    def _described(self, exc: Any) -> tuple[str, str, str | None]:
        """Bedrock's errors are AWS's: ``{"message": ...}``, the type in ``x-amzn-errortype``
        (``ThrottlingException:http://...``), the id in ``x-amzn-requestid``."""
        kind, said, request_id = super()._described(exc)
        headers = exc.response.headers
        kind = headers.get("x-amzn-errortype", "").split(":")[0] or kind
        body = exc.body if isinstance(exc.body, dict) else {}
        said = said or str(body.get("message") or body.get("Message") or "")
        return kind, said, request_id or headers.get("x-amzn-requestid")

    def complete(self, request: ModelRequest) -> ModelReply:
        from botocore.exceptions import BotoCoreError

        try:
            return super().complete(request)
        except BotoCoreError as exc:  # signing: credentials that expired or stopped resolving mid-run
            text = f"the AWS credentials failed to sign the request ({type(exc).__name__})"
            raise ModelRejected(self._line(request.agent, text), failure="credentials") from exc


class VertexModel(AnthropicModel):
    """Claude on Google Cloud Vertex AI. Model ids are Vertex's: ``claude-...@YYYYMMDD``."""

    def _make_client(self, http_client: httpx2.Client | None) -> Any:
        require_extra("vertex", "google.auth", "google.auth.transport.requests")
        from anthropic.lib.vertex import AnthropicVertex

        settings = self.settings
        if not settings.region:
            raise SettingsError(
                "--provider vertex needs a region: set CLOUD_ML_REGION (us-east5, europe-west1, global, ...)"
            )
        token = _secret(settings.cloud.vertex_access_token)
        credentials, project = (None, settings.project) if token is not None else self._adc()
        if not project:
            raise SettingsError(
                "--provider vertex needs a Google Cloud project: set ANTHROPIC_VERTEX_PROJECT_ID"
            )
        self.settings = settings.model_copy(update={"project": project})
        return AnthropicVertex(
            region=settings.region,
            project_id=project,
            access_token=token,
            credentials=credentials,
            base_url=settings.base_url or cloud_endpoint("vertex", settings.region),
            **client_options(settings, http_client),
        )

    def _adc(self) -> tuple[Any, str | None]:
        """google-auth's application default credentials, refreshed once now, so a missing or expired
        one is a line before the run rather than a failure of every agent."""
        import google.auth
        from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
        from google.auth.transport.requests import Request

        quiet = _Quiet() if self.settings.project else None  # "no project ID could be determined": given
        chatty = logging.getLogger("google.auth._default")
        try:
            if quiet is not None:
                chatty.addFilter(quiet)
            credentials, found = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
        except DefaultCredentialsError:
            raise SettingsError(
                "--provider vertex: no Google credentials: run 'gcloud auth application-default login', "
                "or set GOOGLE_APPLICATION_CREDENTIALS to a credentials file"
            ) from None
        finally:
            if quiet is not None:
                chatty.removeFilter(quiet)
        project = self.settings.project or found
        if not project:
            raise SettingsError(
                "--provider vertex needs a Google Cloud project: set ANTHROPIC_VERTEX_PROJECT_ID (the "
                "credentials name none)"
            )
        try:
            credentials.refresh(Request())
        except GoogleAuthError as exc:
            raise SettingsError(
                f"--provider vertex: the Google credentials did not give an access token "
                f"({type(exc).__name__}); run 'gcloud auth application-default login' again"
            ) from None
        return credentials, project

    def _described(self, exc: Any) -> tuple[str, str, str | None]:
        """Vertex's own errors are Google's: ``{"error": {"code", "message", "status"}}``."""
        kind, said, request_id = super()._described(exc)
        error = exc.body.get("error") if isinstance(exc.body, dict) else None
        status = error.get("status") if isinstance(error, dict) else None
        return (status if kind == "error" and isinstance(status, str) else kind), said, request_id

    def complete(self, request: ModelRequest) -> ModelReply:
        from google.auth.exceptions import GoogleAuthError, TransportError

        try:
            return super().complete(request)
        except TransportError as exc:  # the token endpoint did not answer: an outage, like the API's
            text = f"the Google token endpoint failed ({type(exc).__name__})"
            raise ModelUnavailable(self._line(request.agent, text), failure="connection") from exc
        except GoogleAuthError as exc:  # a refresh refused: the credentials expired or were revoked
            text = f"the Google credentials failed to refresh ({type(exc).__name__})"
            raise ModelRejected(self._line(request.agent, text), failure="credentials") from exc


class _Quiet(logging.Filter):
    """Drops google-auth's warning that it found no project, when ANTHROPIC_VERTEX_PROJECT_ID names one."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "project" not in record.getMessage().lower()
