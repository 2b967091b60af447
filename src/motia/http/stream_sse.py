"""Streams over Server-Sent Events, for clients that cannot use WebSockets:
`GET /__motia/streams/{stream}/{group}` (a group) or `.../{group}/{id}` (one item).

Each event's `data:` is the same JSON frame the WebSocket sends: the `sync` snapshot
first, then every change and custom event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from motia import jsoncodec
from motia.http.stream_auth import AuthenticationFailed, authenticate, token_from
from motia.runtime.stream_connection import (
    ACCESS_DENIED,
    BufferBudget,
    SlowConsumer,
    StreamConnection,
)
from motia.system_paths import SYSTEM_PREFIX

if TYPE_CHECKING:
    from motia.runtime.runtime import Runtime

KEEPALIVE_SECONDS = 15.0
SSE_PREFIX = f"{SYSTEM_PREFIX}/streams"


class StreamEventSource:
    def __init__(self, runtime: Runtime, budget: BufferBudget) -> None:
        self.runtime = runtime
        self.budget = budget

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{SSE_PREFIX}/{{stream}}/{{group}}", self.serve),
            Route(f"{SSE_PREFIX}/{{stream}}/{{group}}/{{item}}", self.serve),
        ]

    async def serve(self, request: Request) -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        token = token_from([], request.url.query.encode("latin-1"), headers)
        try:
            auth_context = await authenticate(
                self.runtime.project.authenticate, headers, str(request.url), token
            )
        except AuthenticationFailed:
            return JSONResponse({"error": "authentication failed"}, status_code=401)
        logger = self.runtime.logger

        def dropped(reason: str) -> None:
            client = request.client
            logger.warn(
                f"stream client dropped: it did not read its frames in time ({reason})",
                {"client": f"{client.host}:{client.port}" if client else "unknown"},
            )

        connection = StreamConnection(
            self.runtime.streams,
            auth_context,
            max_buffer_bytes=self.runtime.settings.streams_client_buffer,
            budget=self.budget,
            on_drop=dropped,
        )
        params = request.path_params
        refused = await connection.join(
            {
                "streamName": params["stream"],
                "groupId": params["group"],
                "id": params.get("item"),
                "subscriptionId": "sse",
            }
        )
        if refused is not None:
            frame = jsoncodec.loads((await connection.next_frames())[0])
            connection.close()
            status = 403 if refused == ACCESS_DENIED else 404
            return JSONResponse({"error": frame["event"]["event"]["data"]}, status_code=status)
        return StreamingResponse(
            self._events(connection, request),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
        )

    async def _events(self, connection: StreamConnection, request: Request) -> AsyncIterator[str]:
        try:
            while not await request.is_disconnected():
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        frames = await connection.next_frames()
                except TimeoutError:
                    yield ": keepalive\n\n"  # a comment line keeps proxies from closing the stream
                    continue
                except SlowConsumer:
                    return  # the client fell too far behind: the stream ends
                for text in frames:
                    yield f"data: {text}\n\n"
        finally:
            connection.close()
