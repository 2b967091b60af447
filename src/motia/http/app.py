"""The ASGI application: a lean path for API steps, Starlette for the system routes.

API requests skip Starlette's request and routing objects: routes are precompiled, the
`req` dict is built straight from the ASGI scope and responses are encoded with orjson.
"""

from __future__ import annotations

import contextlib
import traceback
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from motia.adapters.queue.base import Failure
from motia.errors import MotiaError, StartupFailed, StoreUnavailable
from motia.http.api_docs import ApiDocs
from motia.http.auth_gate import ApiAuth, AuthRefused
from motia.http.cors import CorsMiddleware, CorsPolicy
from motia.http.disconnect import ClientDisconnected, DisconnectWatch
from motia.http.internal_api import InternalApi
from motia.http.internal_guard import InternalGuard
from motia.http.lean_cycle import LeanCycle
from motia.http.metrics_endpoint import MetricsEndpoint
from motia.http.proxies import ClientResolver
from motia.http.rate_limit import ApiRateLimits, StepLimit, limit_headers, retry_after
from motia.http.request import BadRequest, headers_dict, parse_body, query_dict
from motia.http.response import (
    TRACE_HEADER,
    Headers,
    InvalidResponse,
    json_response,
    normalise,
)
from motia.http.route_policy import RoutePolicies, RoutePolicy
from motia.http.stream_client import StreamClientScript
from motia.http.stream_socket import StreamSocketServer
from motia.http.stream_sse import StreamEventSource
from motia.http.timeout import RequestTimedOut, within
from motia.http.traceparent import STATUS_KEY, TRACEPARENT_KEY, own_trace_id, request_trace_id
from motia.http.workbench_ui import WorkbenchUi, favicon_bytes
from motia.runtime.events import parse_emit
from motia.runtime.executor import failure_of
from motia.runtime.stream_connection import BufferBudget
from motia.steps.typed_bodies import parse as parse_model
from motia.system_paths import SYSTEM_PREFIX

if TYPE_CHECKING:
    from motia.http.otel_spans import ServerSpans
    from motia.runtime.runtime import Runtime
    from motia.steps.model import Step

ICON_CACHE: Headers = [(b"cache-control", b"public, max-age=86400")]


class MotiaApp:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        # Stream frames waiting for slow clients, WebSocket and SSE alike, share one budget.
        budget = BufferBudget(runtime.settings.streams_total_buffer)
        self.metrics = MetricsEndpoint(runtime)
        self._system = Starlette(
            routes=[
                Route(f"{SYSTEM_PREFIX}/health", self._health),
                Route(f"{SYSTEM_PREFIX}/ready", self._ready),
                *self.metrics.routes(),
                *InternalApi(runtime).routes(),
                *StreamEventSource(runtime, budget).routes(),
                *StreamClientScript().routes(),
                *ApiDocs(runtime).routes(),
                *WorkbenchUi(runtime).routes(),
            ]
        )
        # Starlette's own trailing-slash redirect writes the client's Host into Location.
        self._system.router.redirect_slashes = False
        self._system_not_found = self._system.router.default
        self._system.router.default = self._system_fallback
        self._internal = InternalGuard(runtime.settings)
        self._auth = ApiAuth(runtime.settings, runtime.token_verifier, runtime.logger)
        self._max_body = runtime.settings.max_body_size
        self._max_json_depth = runtime.settings.max_json_depth
        self._policies = RoutePolicies(runtime.settings)
        # Without origins, in the settings or a step, there is no CORS: no middleware to pass.
        self._api: ASGIApp = self._http
        if runtime.settings.cors.origins or self._policies.has_step_cors(runtime.project.steps):
            self._api = CorsMiddleware(self._http, self._cors_for)
        accept = runtime.settings.accept_traceparent
        self._trace_id_of = request_trace_id if accept else own_trace_id
        self._spans: ServerSpans | None = None
        if runtime.otel is not None and runtime.otel.spans is not None:
            from motia.http.otel_spans import ServerSpans  # the SDK only when exporting

            self._spans = ServerSpans(runtime.otel, accept)
        self._dev = runtime.settings.mode == "dev"
        self._cancel_on_disconnect = runtime.settings.cancel_on_disconnect
        self._disconnects = DisconnectWatch()
        self._clients = ClientResolver(runtime.settings.trusted_proxies)
        self._limits = ApiRateLimits(runtime.rate_limits, runtime.settings)
        self.stream_socket = StreamSocketServer(runtime, budget)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(SYSTEM_PREFIX):
                await self._system(scope, receive, send)
            elif self._spans is None:
                await self._api(scope, receive, send)
            else:  # the request's SERVER span, here rather than in a layer of its own
                span, token = self._spans.open(scope)
                try:
                    await self._api(scope, receive, send)
                except Exception as exc:
                    self._spans.failed(span, exc)
                    raise
                finally:
                    self._spans.close(span, token, scope)

        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket" and not scope["path"].startswith(SYSTEM_PREFIX):
            await self.stream_socket(scope, receive, send)
        else:
            await self._system(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.runtime.start()
                except Exception as exc:
                    # The server logs a non-empty message again: once is enough.
                    reason = "" if isinstance(exc, StartupFailed) else str(exc)
                    await send({"type": "lifespan.startup.failed", "message": reason})
                    return
                await self.metrics.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.runtime.stop()
                await self.metrics.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        trace_id = self._trace_id_of(scope)
        try:
            await self._handle_http(scope, receive, send, trace_id)
        except Exception as exc:  # a failure of Motia itself (e.g. the queue): still answer
            self._log_failure(None, [], trace_id, exc)
            status, body, headers = _failure_answer(exc, trace_id)
            if self.runtime.error_reporter is not None:
                self.runtime.error_reporter.request_failed(None, trace_id, exc, status)
            with contextlib.suppress(Exception):
                await self._send(
                    scope,
                    send,
                    *json_response(status, body, headers),
                    secured(self._policies.default, scope, trace_headers(scope, trace_id)),
                )

    async def _handle_http(self, scope: Scope, receive: Receive, send: Send, trace_id: str) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        headers = headers_dict(scope["headers"])
        extra = trace_headers(scope, trace_id)
        match = self.runtime.router.match(method, path, scope.get("raw_path"))
        step = match.step
        if step is None:
            if self._policies.default.security is not None:
                extra.extend(self._policies.default.security.for_answer(scope, []))
            if method == "POST" and path == "/emit":
                emitted = await self._emit(receive, headers, scope["query_string"], trace_id)
                await self._send(scope, send, *emitted, extra)
            elif path == "/favicon.ico" and method in ("GET", "HEAD") and self._dev:
                # Browsers ask every page's site for one; in dev, Motia's, not a 404 line.
                icon = favicon_bytes()
                length = len(icon)
                await self._send(
                    scope,
                    send,
                    200,
                    [(b"content-type", b"image/svg+xml"), *ICON_CACHE],
                    icon if method == "GET" else b"",
                    extra,
                    length,
                )
            elif not match.allowed:
                error = f"Not found: {method} {path}"
                self._log_rejection(None, trace_id, method, path, 404, error)
                await self._send(
                    scope, send, *json_response(404, {"error": error, "traceId": trace_id}), extra
                )
            elif method == "OPTIONS":
                await self._send(
                    scope, send, 204, [(b"allow", ", ".join(match.allowed).encode())], b"", extra
                )
            else:
                allow = [(b"allow", ", ".join(match.allowed).encode())]
                error = f"Method {method} not allowed on {path}"
                self._log_rejection(None, trace_id, method, path, 405, error)
                refusal = {"error": error, "traceId": trace_id}
                await self._send(scope, send, *json_response(405, refusal, allow), extra)
            return

        client, scheme = self._clients.resolve(scope, headers)
        # What a trusted proxy says the client used (HTTPS at the proxy turns HSTS on).
        scope["scheme"] = scheme
        policy = self._policies.of(step)
        limit = self._limits.for_step(step)
        claims = None
        try:
            scopes = self._auth.scopes(step)
            if limit is not None:
                # Counted before the token is checked, so failed logins count too; a limit
                # by the authenticated subject needs the token's claims first.
                if scopes is not None and limit.by == "subject":
                    claims = await self._auth.claims(scopes, headers)
                    scopes = None
                view = {
                    "headers": headers,
                    "pathParams": match.path_params,
                    "queryParams": query_dict(scope["query_string"]),
                    "client": {"ip": client, "scheme": scheme},
                }
                if claims is not None:
                    view["auth"] = claims
                refused = await self._rate_limit(limit, view, step, trace_id, method, path, extra)
                if refused is not None:
                    await self._send(scope, send, *refused, secured(policy, scope, extra))
                    return
            if scopes is not None:
                claims = await self._auth.claims(scopes, headers)
            raw = await self._read_body(receive, headers, policy.max_body)
            body = parse_body(raw, headers.get("content-type", ""), self._max_json_depth)
            if step.body_schema is not None and method not in ("GET", "HEAD", "DELETE"):
                if step.body_model is not None:  # the handler asked for an instance
                    body, errors = parse_model(step.body_model, body)
                else:
                    errors = step.body_schema.validate(body)
                if errors:
                    raise BadRequest(400, "Invalid request body", [e.as_dict() for e in errors])
        except (BadRequest, AuthRefused) as exc:
            answer: dict[str, Any] = {"error": exc.message, "traceId": trace_id}
            invalid = exc.errors if isinstance(exc, BadRequest) else None
            if invalid is not None:
                answer["errors"] = invalid
            redactor = self.runtime.logger.redactor
            if invalid is not None and redactor is not None:  # messages quote values
                invalid = redactor.field_errors(invalid)
            self._log_rejection(
                step, trace_id, method, path, exc.status, exc.message, invalid, client
            )
            self.runtime.executor.record_rejection(
                step, trace_id, f"{method} {path}", exc.status, exc.message, invalid
            )
            refusal_headers = exc.headers if isinstance(exc, AuthRefused) else None
            await self._send(
                scope,
                send,
                *json_response(exc.status, answer, refusal_headers),
                secured(policy, scope, extra),
            )
            return

        req = {
            "body": body,
            "headers": headers,
            "pathParams": match.path_params,
            "queryParams": query_dict(scope["query_string"]),
            "rawBody": raw.decode("utf-8", "replace"),
            "client": {"ip": client, "scheme": scheme},
        }
        if claims is not None:
            req["auth"] = claims
        executor = self.runtime.executor
        span = executor.begin_span(step, trace_id, "api", f"{method} {path}")
        invocation = None
        try:
            run = executor.run_api(step, req, trace_id, span.span_id)
            if self._cancel_on_disconnect and self._async_handler(step):
                run = self._disconnects.run(run, receive)
            result, invocation = await within(policy.timeout, run)
            status, response_headers, payload = normalise(result)
            # The emits are durable before the client hears the request succeeded.
            await executor.commit(invocation)
        except ClientDisconnected as gone:
            self.runtime.logger.child(
                step.name, trace_id, step.flows, {"spanId": span.span_id}
            ).warn(str(gone), {"method": method, "path": path})
            executor.end_span(span, "failed", None, failure_of(gone))
            return
        except RequestTimedOut as late:
            message = f"Gateway timeout: the handler did not answer within {late.seconds:g} s"
            self.runtime.logger.child(
                step.name, trace_id, step.flows, {"spanId": span.span_id}
            ).error(str(late), {"method": method, "path": path, "status": 504})
            failure = Failure(str(late), reason="timeout")
            executor.end_span(span, "failed", None, failure, http_status=504)
            timed_out = {"error": message, "traceId": trace_id}
            await self._send(
                scope, send, *json_response(504, timed_out), secured(policy, scope, extra)
            )
            return
        except Exception as exc:
            self._log_failure(step.name, step.flows, trace_id, exc, span.span_id)
            status, failed, failure_headers = _failure_answer(exc, trace_id)
            if self.runtime.error_reporter is not None:
                self.runtime.error_reporter.request_failed(
                    step, trace_id, exc, status, {"method": method, "path": path, "body": body}
                )
            executor.end_span(span, "failed", invocation, failure_of(exc), http_status=status)
            failed_answer = json_response(status, failed, failure_headers)
            await self._send(scope, send, *failed_answer, secured(policy, scope, extra))
            return
        executor.end_span(span, "ok", invocation, http_status=status)
        if policy.security is not None:
            extra.extend(policy.security.for_answer(scope, response_headers))
        if method == "HEAD":
            await self._send(scope, send, status, response_headers, b"", extra, len(payload))
        else:
            if policy.compressor is not None:
                accept = headers.get("accept-encoding")
                payload = await policy.compressor.encode(status, accept, response_headers, payload)
            await self._send(scope, send, status, response_headers, payload, extra)

    def _cors_for(self, method: str, scope: Scope) -> CorsPolicy | None:
        return self._policies.cors_for(self.runtime, method, scope)

    async def _rate_limit(
        self,
        limit: StepLimit,
        view: dict[str, Any],
        step: Step,
        trace_id: str,
        method: str,
        path: str,
        extra: Headers,
    ) -> tuple[int, Headers, bytes] | None:
        """The 429 (or, when the counts cannot be reached and limits fail closed, 503)
        answer; None to go on, with the RateLimit headers added to the answer."""
        try:
            decision = await self._limits.check(limit, view)
        except Exception as exc:  # the step's own `by(req)` failed: its bug, told as such
            self._log_failure(step.name, step.flows, trace_id, exc)
            if self.runtime.error_reporter is not None:
                self.runtime.error_reporter.request_failed(step, trace_id, exc, 500)
            return json_response(500, {"error": "Internal server error", "traceId": trace_id})
        if decision is None:
            if not self._limits.fail_closed:
                return None
            status, error = 503, "Service unavailable: rate limits cannot be checked now"
            headers = retry_after(STORE_RETRY_AFTER)
        elif decision.allowed:
            extra.extend(limit_headers(limit, decision))
            return None
        else:
            status, error = 429, "Too many requests"
            headers = [*retry_after(decision.retry_after), *limit_headers(limit, decision)]
        client = view["client"]["ip"]
        self._log_rejection(step, trace_id, method, path, status, error, None, client)
        self.runtime.executor.record_rejection(step, trace_id, f"{method} {path}", status, error)
        return json_response(status, {"error": error, "traceId": trace_id}, headers)

    def _async_handler(self, step: Step) -> bool:
        """Only async handlers are cancelled: a thread running a `def` handler cannot be
        stopped, so its run completes and commits as usual."""
        return step.handler is not None and self.runtime.dispatcher.is_async(step.handler)

    async def _read_body(self, receive: Receive, headers: dict[str, str], limit: int) -> bytes:
        declared = headers.get("content-length")
        if declared is None and "transfer-encoding" not in headers:
            return b""  # HTTP/1.1: a request with neither header has no body
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise BadRequest(413, f"Request body is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise BadRequest(413, f"Request body is larger than {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _emit(
        self, receive: Receive, headers: dict[str, str], query_string: bytes, trace_id: str
    ) -> tuple[int, Headers, bytes]:
        """`POST /emit {topic, data}`: inject an event, as `motia emit` does. Served like
        the internal API: on in dev, in start only with a token, never cross-site."""
        refused = self._internal.refusal("POST", headers, query_string, json_required=False)
        if refused is not None:
            status, message = refused
            if status == 404:
                message = "POST /emit is off: in `motia start` it needs a workbench token"
            return json_response(status, {"error": message, "traceId": trace_id})
        try:
            raw = await self._read_body(receive, headers, self._max_body)
            content_type = headers.get("content-type", "") or "application/json"
            body = parse_body(raw, content_type, self._max_json_depth)
            event = parse_emit(body, trace_id, ["_system"], now=self.runtime.clock.time())
        except BadRequest as exc:
            self._log_rejection(None, trace_id, "POST", "/emit", exc.status, exc.message)
            return json_response(exc.status, {"error": exc.message, "traceId": trace_id})
        except MotiaError as exc:
            self._log_rejection(None, trace_id, "POST", "/emit", 400, str(exc))
            return json_response(400, {"error": str(exc), "traceId": trace_id})
        copies = await self.runtime.bus.publish([event])
        return json_response(
            200,
            {
                "success": True,
                "id": event.id,  # what a scheduled one is cancelled by
                "emitted": {"topic": event.topic, "data": event.data},
                "traceId": trace_id,
                "subscribers": copies,
            },
        )

    async def _system_fallback(self, scope: Scope, receive: Receive, send: Send) -> None:
        """No system route matched: a path that only lacks or has an extra trailing slash
        is redirected with a relative Location (the Host header is the client's say)."""
        path: str = scope["path"]
        other = path.rstrip("/") if path.endswith("/") else path + "/"
        if (
            scope["type"] == "http"
            and other
            and any(
                route.matches({**scope, "path": other})[0] is not Match.NONE
                for route in self._system.routes
            )
        ):
            query: bytes = scope.get("query_string", b"")
            location = other + (f"?{query.decode('latin-1')}" if query else "")
            await RedirectResponse(location, status_code=307)(scope, receive, send)
            return
        await self._system_not_found(scope, receive, send)

    @staticmethod
    async def _send(
        scope: Scope,
        send: Send,
        status: int,
        headers: Headers,
        body: bytes,
        extra: Headers,
        content_length: int | None = None,
    ) -> None:
        scope[STATUS_KEY] = status  # for the request's span
        headers.extend(extra)
        if status >= 200 and status not in (204, 304):
            length = len(body) if content_length is None else content_length
            headers.append((b"content-length", str(length).encode()))
        # Served by the lean cycle straight from the protocol: the answer in one call.
        cycle = getattr(send, "__self__", None)
        if type(cycle) is LeanCycle and cycle.can_respond:
            cycle.respond(status, headers, body)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _log_rejection(
        self,
        step: Step | None,
        trace_id: str,
        method: str,
        path: str,
        status: int,
        error: str,
        field_errors: list[dict[str, Any]] | None = None,
        client: str | None = None,
    ) -> None:
        """Motia answered 4xx on its own. A request addressed to a step is logged at info;
        one that matched no step (a scanner's 404, say) only in dev or at debug."""
        fields: dict[str, Any] = {"method": method, "path": path, "status": status}
        if field_errors:
            fields["errors"] = field_errors
        if client:
            fields["client"] = client
        log = self.runtime.logger.child(
            step.name if step else None, trace_id, step.flows if step else []
        )
        message = f"request rejected: {status} {error}"
        if step is not None or self._dev:
            log.info(message, fields)
        else:
            log.debug(message, fields)

    def _log_failure(
        self,
        step: str | None,
        flows: list[str],
        trace_id: str,
        exc: Exception,
        span_id: str | None = None,
    ) -> None:
        fields = {"error": f"{type(exc).__name__}: {exc}"}
        store_failure = _store_failure(exc)
        if store_failure is not None:  # the store's message says it all: no stack
            fields = {"error": f"the store is unavailable: {store_failure}"}
        elif not isinstance(exc, InvalidResponse):
            fields["stack"] = "".join(traceback.format_exception(exc))
        message = "API handler failed" if step else "request failed inside Motia"
        bound = {"spanId": span_id} if span_id is not None else None
        self.runtime.logger.child(step, trace_id, flows, bound).error(message, fields)

    async def _health(self, request: Request) -> Response:
        """Liveness: 200 while the process serves requests, whatever its stores do."""
        runtime = self.runtime
        body = {
            "status": "ok",
            "steps": len(runtime.project.steps),
            "errors": len(runtime.project.errors),
        }
        return JSONResponse(body)

    async def _ready(self, request: Request) -> Response:
        """Readiness: 200 once started while every store answers and every runner is up;
        503 naming what is wrong otherwise, and from the moment the server is asked to
        stop, so a load balancer sends new requests elsewhere while this one drains."""
        runtime = self.runtime
        status, problem = "ok", None
        if runtime.draining:
            status, problem = "draining", "the server is stopping"
        elif not runtime.ready:
            status, problem = "starting", "the server is starting"
        else:
            problem = await runtime.check_stores(timeout=1)
            down = runtime.runners.not_ready()
            if problem is None and down:
                problem = f"the {', '.join(down)} runner is not running (restarting)"
            if problem is not None:
                status = "unavailable"
        body: dict[str, Any] = {
            "status": status,
            "steps": len(runtime.project.steps),
            "errors": len(runtime.project.errors),
        }
        if problem is not None:
            body["problem"] = problem
        return JSONResponse(body, status_code=200 if problem is None else 503)


# Seconds a client is asked to wait before retrying a request the store could not keep.
STORE_RETRY_AFTER = 5


def _store_failure(exc: BaseException) -> StoreUnavailable | None:
    """The store failure that caused `exc` (it may be wrapped by a handler), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, StoreUnavailable):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def trace_headers(scope: Scope, trace_id: str) -> Headers:
    """`x-trace-id`, and `traceparent` when the request has a span."""
    traceparent = scope.get(TRACEPARENT_KEY)
    if traceparent is None:
        return [(TRACE_HEADER, trace_id.encode())]
    return [(TRACE_HEADER, trace_id.encode()), traceparent]


def secured(policy: RoutePolicy, scope: Scope, extra: Headers) -> Headers:
    """`extra` and the route's security headers, for an answer Motia makes itself."""
    if policy.security is None:
        return extra
    return [*extra, *policy.security.for_answer(scope, [])]


def _failure_answer(exc: Exception, trace_id: str) -> tuple[int, dict[str, Any], Headers]:
    """503 when the store could not keep the request's writes (nothing was accepted, a
    retry later may succeed), 500 without internals for anything else."""
    if _store_failure(exc) is not None:
        body = {
            "error": "Service unavailable: the data store cannot save data now",
            "traceId": trace_id,
        }
        return 503, body, [(b"retry-after", str(STORE_RETRY_AFTER).encode())]
    return 500, {"error": "Internal server error", "traceId": trace_id}, []
