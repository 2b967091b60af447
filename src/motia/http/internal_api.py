"""The internal JSON API under /__motia/api: queues, dead letters, scheduled emits, the workbench's
data as it grows. Guarded by a token when one is configured (always in `motia start`), and
against other sites (see motia.http.internal_guard)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Message, Receive

from motia import jsoncodec
from motia.adapters.observability.base import LogQuery, ObservabilityStore, summarise
from motia.adapters.queue.base import DeadLetterFilter
from motia.http.internal_guard import SAFE_METHODS, InternalGuard
from motia.http.workbench_api import WorkbenchApi
from motia.system_paths import SYSTEM_PREFIX

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime

API_PREFIX = f"{SYSTEM_PREFIX}/api"
Endpoint = Callable[[Request], Awaitable[Response]]


class InternalApi:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.access = InternalGuard(runtime.settings)
        self._max_body = runtime.settings.max_body_size

    def routes(self) -> list[BaseRoute]:
        guard = self._guard
        return [
            Route(f"{API_PREFIX}/queues", guard(self.queues)),
            Route(f"{API_PREFIX}/dlq", guard(self.dead_letters)),
            Route(f"{API_PREFIX}/dlq/redrive", guard(self.redrive), methods=["POST"]),
            Route(f"{API_PREFIX}/dlq/purge", guard(self.purge), methods=["POST"]),
            Route(f"{API_PREFIX}/dlq/{{id}}", guard(self.dead_letter)),
            Route(f"{API_PREFIX}/scheduled", guard(self.scheduled), methods=["GET", "DELETE"]),
            Route(f"{API_PREFIX}/scheduled/{{id}}", guard(self.cancel), methods=["DELETE"]),
            Route(f"{API_PREFIX}/logs", guard(self.logs)),
            Route(f"{API_PREFIX}/traces", guard(self.traces)),
            Route(f"{API_PREFIX}/traces/{{id}}", guard(self.trace)),
            *WorkbenchApi(self.runtime, API_PREFIX).routes(guard),
        ]

    def _guard(self, endpoint: Endpoint) -> Endpoint:
        async def guarded(request: Request) -> Response:
            refused = self.access.refusal(
                request.method, request.headers, request.scope["query_string"], json_required=True
            )
            if refused is not None:
                return _error(*refused)
            if request.method not in SAFE_METHODS:
                body = await _read_body(request, self._max_body)
                if body is None:
                    return _error(413, f"Request body is larger than {self._max_body} bytes")
                request = Request(request.scope, _replay(body))
            return await endpoint(request)

        return guarded

    async def queues(self, request: Request) -> Response:
        queue = self.runtime.queue
        policies = self.runtime.bus.policies()
        items = []
        for name, policy in sorted(policies.items()):
            stats = (await queue.stats(name)).as_dict()
            stats.update(
                {
                    "type": "fifo" if policy.fifo else "standard",
                    "maxRetries": policy.max_retries,
                    "concurrency": policy.concurrency,
                    "visibilityTimeout": policy.visibility_timeout,
                }
            )
            items.append(stats)
        return _json({"items": items})

    async def dead_letters(self, request: Request) -> Response:
        params = request.query_params
        try:
            limit = max(1, min(int(params.get("limit", "100")), 1000))
            offset = max(0, int(params.get("offset", "0")))
        except ValueError:
            return _error(400, "limit and offset must be integers")
        where = DeadLetterFilter(subscriber=params.get("step"), topic=params.get("topic"))
        letters = await self.runtime.queue.dead_letters(where, limit=limit, offset=offset)
        return _json({"items": [letter.as_dict() for letter in letters]})

    async def dead_letter(self, request: Request) -> Response:
        letters = await self.runtime.queue.dead_letters(
            DeadLetterFilter(ids=(request.path_params["id"],)), limit=1
        )
        if not letters:
            return _error(404, f"no dead letter with id {request.path_params['id']!r}")
        return _json(letters[0].as_dict())

    async def redrive(self, request: Request) -> Response:
        where = await _selection(request)
        if isinstance(where, Response):
            return where
        count = await self.runtime.queue.redrive(where)
        self.runtime.bus.notify_all()
        return _json({"redriven": count})

    async def purge(self, request: Request) -> Response:
        where = await _selection(request)
        if isinstance(where, Response):
            return where
        return _json({"purged": await self.runtime.queue.purge(where)})

    async def scheduled(self, request: Request) -> Response:
        """GET: pending scheduled emits, soonest first (`?topic=`, `?limit=`). DELETE:
        cancel those with `?key=` (on `?topic=`, or on every topic)."""
        params = request.query_params
        topic = params.get("topic") or None
        if request.method == "DELETE":
            key = params.get("key")
            if not key:
                return _error(400, "say which scheduled emits: DELETE .../scheduled/<id> or ?key=")
            count = await self.runtime.queue.cancel_scheduled(key=key, topic=topic)
            return _json({"cancelled": count})
        try:
            limit = max(1, min(int(params.get("limit", "100")), 1000))
        except ValueError:
            return _error(400, "limit must be an integer")
        emits = await self.runtime.queue.scheduled(topic, limit=limit)
        return _json({"items": [emit.as_dict() for emit in emits]})

    async def cancel(self, request: Request) -> Response:
        message_id = request.path_params["id"]
        count = await self.runtime.queue.cancel_scheduled(message_id)
        if not count:
            return _error(404, f"no pending scheduled emit with id {message_id!r}")
        return _json({"cancelled": count})

    async def _observability(self) -> ObservabilityStore | None:
        recorder = self.runtime.recorder
        if recorder is None:
            return None
        await recorder.flush()  # what happened a moment ago is part of the answer
        return recorder.store

    async def logs(self, request: Request) -> Response:
        store = await self._observability()
        if store is None:
            return _json({"items": []})
        params = request.query_params
        try:
            limit = max(1, min(int(params.get("limit", "200")), 1000))
            before = float(params["before"]) if "before" in params else None
        except ValueError:
            return _error(400, "limit and before must be numbers")
        levels = tuple(level for level in params.get("level", "").split(",") if level)
        query = LogQuery(
            trace_id=params.get("traceId") or None,
            step=params.get("step") or None,
            flow=params.get("flow") or None,
            levels=levels,
            search=params.get("search") or None,
            before=before,
            limit=limit,
        )
        return _json({"items": await store.logs(query)})

    async def traces(self, request: Request) -> Response:
        store = await self._observability()
        if store is None:
            return _json({"items": []})
        params = request.query_params
        try:
            limit = max(1, min(int(params.get("limit", "100")), 1000))
        except ValueError:
            return _error(400, "limit must be a number")
        found = await store.traces(
            status=params.get("status") or None, step=params.get("step") or None, limit=limit
        )
        return _json({"items": [trace.as_dict() for trace in found]})

    async def trace(self, request: Request) -> Response:
        store = await self._observability()
        trace_id = request.path_params["id"]
        spans = await store.spans(trace_id) if store is not None else []
        if store is None or not spans:
            return _error(404, f"no trace with id {trace_id!r}")
        logs = await store.logs(LogQuery(trace_id=trace_id, limit=1000))
        return _json(
            {
                "trace": summarise(trace_id, spans).as_dict(),
                "spans": [span.as_dict() for span in spans],
                "logs": list(reversed(logs)),
            }
        )


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The body, or None once it passes `limit` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    """An ASGI `receive` that hands the endpoint the body read already."""

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _selection(request: Request) -> DeadLetterFilter | Response:
    """`{ids: [...]}`, `{step}`, `{topic}` or `{all: true}`: never everything by accident."""
    try:
        body = jsoncodec.loads(await request.body() or b"{}")
    except jsoncodec.JSONDecodeError:
        return _error(400, "the body must be JSON")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    ids = body.get("ids") or []
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return _error(400, "'ids' must be a list of strings")
    step, topic = body.get("step"), body.get("topic")
    if not ids and step is None and topic is None and body.get("all") is not True:
        return _error(400, "say which dead letters: 'ids', 'step', 'topic' or 'all': true")
    return DeadLetterFilter(ids=tuple(ids), subscriber=step, topic=topic)


def _json(body: Any, status: int = 200) -> Response:
    return Response(jsoncodec.dumps(body), status_code=status, media_type="application/json")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)
