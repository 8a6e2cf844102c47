"""A scripted Anthropic-compatible HTTP server on 127.0.0.1, owned and started by the tests.

Why it exists
-------------
No model API is reachable from this machine, yet the LLM path (our client, the real ``anthropic``
SDK, its retries and streaming, vcrpy recording) has to be exercised over real HTTP. This server
speaks ``POST /v1/messages`` exactly as the Messages API does (JSON ``Message`` objects, SSE
streams, error bodies and headers), but every answer comes from a *script* the test wrote
(``tests/fakes/script.py``). It is not a model and proves nothing about model quality; anything
recorded against it (cassettes, transcripts) is scripted traffic and must be labelled as such. Its
responses say so too: ``server: scripted-anthropic (infra-audit tests)``.

What it promises
----------------
* Determinism: replies are chosen by request content; ids and usage are hashes and lengths; no
  ``Date`` header. The same script and requests give byte-identical responses every run.
* Concurrency: a thread per connection (five research agents call at once); the script is called
  under one lock, so scripts need not be thread-safe.
* Faults on demand, played before the script is asked, after which scripted replies resume
  (a slow server, ``slow``, is the scripted reply held back):
  ``fail_next`` (next N requests), ``fail_at`` (a request index), ``fail_on`` (route and turn).
* A record of every request, secrets redacted, with per-route counts ("the 529 scenario sent
  exactly 3 requests and the other concerns were untouched").
* Loopback only: it refuses any host but ``127.0.0.1``.

Use it as a context manager; a pytest fixture is ``with ScriptedAnthropicServer(script) as s: yield s``.
Leaving the ``with`` block raises ``ScriptError`` if the script could not answer some request (those
requests got a non-retryable 400 whose message starts ``scripted server:``).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from .cloud import Accepted, Dialect, Refused, Vertex
from .script import (
    Fault,
    RouteKey,
    Script,
    ScriptError,
    assistant_turns,
    canonical,
    error_response,
    first_system_line,
    render_events,
    reply_response,
)

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
SERVER_HEADER = "scripted-anthropic (infra-audit tests)"
_SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received, and what the server did with it.

    ``status`` is None when the connection was dropped before a status line; ``dropped`` is also
    true for a stream cut short after its 200.
    """

    index: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    route: str | None
    turn: int | None
    stream: bool
    status: int | None
    dropped: bool = False
    fault: Fault | None = None
    auth: str | None = None  # a cloud dialect's: how the request authenticated ("sigv4 Credential=...")


@dataclass
class _Queued:
    fault: Fault
    remaining: int


@dataclass
class _Plan:
    """The response decided under the lock, written to the socket outside it."""

    status: int | None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    events: list[bytes] | None = None
    cut_after: int | None = None  # drop the stream after this many events
    stall: float = 0.0  # seconds before the response, or (streamed) before each event


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased headers with credentials replaced, so the record can be printed or stored."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        secret = lower in _SECRET_HEADERS or "token" in lower or "secret" in lower
        out[lower] = "<redacted>" if secret else value
    return out


class ScriptedAnthropicServer:
    """``POST /v1/messages`` answered from ``script``; see the module docstring for the contract."""

    def __init__(
        self,
        script: Script,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        route_key: RouteKey | None = None,
        dialect: Dialect | None = None,
    ) -> None:
        """``dialect``: Bedrock's or Vertex's wire (``fakes/cloud.py``) instead of ``/v1/messages``."""
        if host != LOOPBACK:
            raise ValueError(f"the scripted Anthropic server listens on {LOOPBACK} only, not {host!r}")
        self.script = script
        self.dialect = dialect
        self.route_key: RouteKey = route_key if route_key else getattr(script, "key", first_system_line)
        self._address = (host, port)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._next: list[_Queued] = []  # spent entries stay, with nothing remaining
        self._at: dict[int, Fault] = {}
        self._on: dict[tuple[str, int | None], _Queued] = {}
        self.script_errors: list[str] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        """Set while the server stops: a stalled reply stops waiting."""

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is not None:
            raise RuntimeError("the scripted Anthropic server is already running")
        self.stopping.clear()
        httpd = _HTTPServer(self._address, _Handler, owner=self)
        if httpd.server_address[0] != LOOPBACK:
            httpd.server_close()
            raise RuntimeError(f"bound to {httpd.server_address[0]!r}, not {LOOPBACK}")
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="scripted-anthropic", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut idle keep-alive connections, and join every handler thread."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        self.stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None and self.script_errors:
            raise ScriptError("the script could not answer: " + "; ".join(self.script_errors))

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the scripted Anthropic server is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- faults ------------------------------------------------------------------------------------

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        """Play ``fault`` for the next ``times`` valid requests, whatever their route."""
        with self._lock:
            self._next.append(_Queued(fault, times))

    def fail_at(self, index: int, fault: Fault) -> None:
        """Play ``fault`` for the request with this index in ``requests`` (0-based, all requests)."""
        with self._lock:
            self._at[index] = fault

    def fail_on(self, route: str, fault: Fault, *, turn: int | None = None, times: int = 1) -> None:
        """Play ``fault`` for the first ``times`` requests of ``route`` (at ``turn``, or any turn)."""
        with self._lock:
            self._on[(route, turn)] = _Queued(fault, times)

    def _take_fault(self, index: int, route: str | None, turn: int | None) -> Fault | None:
        """The fault for this request, if any: by index, then by route and turn, then the queue."""
        if index in self._at:
            return self._at.pop(index)
        by_route = [self._on.get((route, turn)), self._on.get((route, None))] if route is not None else []
        for entry in [*by_route, *self._next]:
            if entry is not None and entry.remaining > 0:
                entry.remaining -= 1
                return entry.fault
        return None

    # --- the record --------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_for(self, route: str, turn: int | None = None) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route and (turn is None or r.turn == turn)]

    def route_counts(self) -> dict[str, int]:
        """Requests received per route key (requests whose body had no route are left out)."""
        return dict(collections.Counter(r.route for r in self.requests if r.route is not None))

    # --- deciding a response (called by the handler threads) ----------------------------------------

    def plan(self, method: str, target: str, headers: Mapping[str, str], raw: bytes) -> _Plan:
        path = urlsplit(target).path
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        verdict: Accepted | Refused | None = None
        if self.dialect is not None:
            if isinstance(self.dialect, Vertex) and path == "/token":  # google-auth refreshing ADC
                return _Plan(
                    status=200,
                    headers=[("content-type", "application/json")],
                    body=self.dialect.token_reply(),
                )
            verdict = self.dialect.accept(method, path, headers)
            if isinstance(verdict, Accepted) and isinstance(body, dict):
                body = self.dialect.body(body, verdict)
        is_obj = isinstance(body, dict)
        turn = assistant_turns(body) if is_obj else None
        stream = bool(is_obj and body.get("stream") is True)
        with self._lock:
            index = len(self._requests)
            route = self._route(body) if is_obj else None
            fault: Fault | None = None
            plan = self._check(method, path, headers, raw, body, verdict)
            if plan is None:
                fault = self._take_fault(index, route, turn)
                plan = self._fault_plan(fault, body, stream) if fault else self._reply_plan(body)
            cut = plan.status is None or plan.cut_after is not None
            self._requests.append(
                RecordedRequest(
                    index,
                    method,
                    path,
                    redact(headers),
                    body,
                    route,
                    turn,
                    stream,
                    plan.status,
                    cut,
                    fault,
                    verdict.auth if isinstance(verdict, Accepted) else None,
                )
            )
        return plan

    def _route(self, body: dict[str, Any]) -> str | None:
        try:
            return self.route_key(body)
        except Exception as err:  # the test's key function failed: leave the request unrouted, say so
            self.script_errors.append(f"route key: {type(err).__name__}: {err}")
            return None

    def _check(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        raw: bytes,
        body: Any,
        verdict: Accepted | Refused | None = None,
    ) -> _Plan | None:
        """The API's own refusals, in its order: unknown path, missing key, malformed body."""
        seed = canonical([method, path, raw.decode(errors="replace")])
        if isinstance(verdict, Refused):
            return self._error_plan(verdict.status, verdict.error_type, verdict.message, seed)
        if verdict is None and (method != "POST" or path != "/v1/messages"):
            return _error_plan(404, "not_found_error", f"Not found: {method} {path}", seed)
        lowered = {k.lower(): v for k, v in headers.items()}
        if verdict is None and not (lowered.get("x-api-key") or lowered.get("authorization")):
            return _error_plan(401, "authentication_error", "x-api-key header is required", seed)
        if not isinstance(body, dict):
            return self._error_plan(400, "invalid_request_error", "The request body is not valid JSON.", seed)
        required = ("model", "max_tokens", "messages")
        problems = [f"{name}: Field required" for name in required if name not in body]
        if not problems:
            if not isinstance(body["model"], str) or not body["model"]:
                problems.append("model: Input should be a non-empty string")
            if not isinstance(body["max_tokens"], int) or isinstance(body["max_tokens"], bool):
                problems.append("max_tokens: Input should be a valid integer")
            if not isinstance(body["messages"], list) or not body["messages"]:
                problems.append("messages: Input should be a non-empty list")
        if problems:
            return self._error_plan(400, "invalid_request_error", "; ".join(problems), seed)
        return None

    def _error_plan(self, status: int, error_type: str, message: str, seed: str) -> _Plan:
        if self.dialect is None:
            return _error_plan(status, error_type, message, seed)
        headers, body = self.dialect.error(status, error_type, message)
        return _Plan(status=status, headers=headers, body=body)

    def _fault_plan(self, fault: Fault, body: dict[str, Any], stream: bool) -> _Plan:
        if fault.stall > 0:
            plan = self._reply_plan(body)
            plan.stall = fault.stall
            return plan
        if fault.status is not None:
            seed = canonical([body, fault.status, fault.error_type, fault.message])
            plan = self._error_plan(fault.status, fault.error_type, fault.message, seed)
            plan.headers.extend((k.lower(), v) for k, v in fault.headers.items())
            return plan
        if stream and fault.after_events is not None:
            plan = self._reply_plan(body)
            if plan.events is not None:
                plan.cut_after = fault.after_events
            return plan
        return _Plan(status=None)

    def _reply_plan(self, body: dict[str, Any]) -> _Plan:
        try:
            answer = self.script(body)
        except Exception as err:  # the script's failure is the test's bug: report it, never retry it
            text = f"scripted server: {type(err).__name__}: {err}"
            self.script_errors.append(text)
            plan = self._error_plan(400, "invalid_request_error", text, canonical([body, text]))
            plan.headers.append(("x-should-retry", "false"))
            return plan
        if self.dialect is not None and body.get("stream") is True:
            headers, frames = self.dialect.stream(render_events(answer, body))
            return _Plan(status=200, headers=[*headers, ("transfer-encoding", "chunked")], events=frames)
        headers, payload = reply_response(answer, body)
        if isinstance(payload, bytes):
            return _Plan(status=200, headers=headers, body=payload)
        return _Plan(status=200, headers=[*headers, ("transfer-encoding", "chunked")], events=payload)


def _error_plan(status: int, error_type: str, message: str, seed: str) -> _Plan:
    headers, body = error_response(error_type, message, canonical([seed, status]))
    return _Plan(status=status, headers=headers, body=body)


class _HTTPServer(ThreadingHTTPServer):
    """A threading server that knows its open connections, so ``stop`` can cut idle keep-alives."""

    daemon_threads = True
    block_on_close = True

    def __init__(
        self, address: tuple[str, int], handler: type[_Handler], *, owner: ScriptedAnthropicServer
    ) -> None:
        self.owner = owner
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            open_now = list(self._connections)
        for conn in open_now:
            with contextlib.suppress(OSError):  # already closed by its handler
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended abruptly", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, asks the owner what to answer, writes it (or hangs up)."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; don't wait 40 ms between
    timeout = 10  # an idle keep-alive connection gives up its thread after this long
    server: _HTTPServer

    def do_POST(self) -> None:
        self._serve()

    do_GET = do_PUT = do_PATCH = do_DELETE = do_POST

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        plan = self.server.owner.plan(self.command, self.path, dict(self.headers.items()), raw)
        if plan.status is None:
            self.close_connection = True  # hang up without a status line
            return
        stopping = self.server.owner.stopping
        if plan.stall and plan.events is None and stopping.wait(plan.stall):
            return
        self.send_response(plan.status)
        self.send_header("server", SERVER_HEADER)
        for name, value in plan.headers:
            self.send_header(name, value)
        if plan.events is None:
            self.send_header("content-length", str(len(plan.body)))
            self.end_headers()
            self.wfile.write(plan.body)
            return
        self.end_headers()
        for sent, event in enumerate(plan.events):
            if plan.cut_after is not None and sent >= plan.cut_after:
                self.close_connection = True  # mid-stream: the chunked body never terminates
                return
            if plan.stall and stopping.wait(plan.stall):
                return
            self.wfile.write(b"%X\r\n%s\r\n" % (len(event), event))
        self.wfile.write(b"0\r\n\r\n")

    def send_response(self, code: int, message: str | None = None) -> None:
        """Status line only: no ``Date`` (it would make responses differ run to run)."""
        self.log_request(code)
        self.send_response_only(code, message or ("Overloaded" if code == 529 else None))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("scripted-anthropic: " + format, *args)
