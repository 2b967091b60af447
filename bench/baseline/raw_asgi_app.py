"""A raw ASGI app: the floor under any framework on uvicorn (a second reference for figure 1).

Run like the Starlette baseline: `uvicorn raw_asgi_app:app --app-dir bench/baseline ...`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HELLO = orjson.dumps({"message": "hello", "ok": True})
NOT_FOUND = b'{"error":"not found"}'


def _headers(body: bytes) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


HELLO_HEADERS = _headers(HELLO)


async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/hello":
        await send({"type": "http.response.start", "status": 200, "headers": HELLO_HEADERS})
        await send({"type": "http.response.body", "body": HELLO})
        return
    if scope["path"] == "/items" and scope["method"] == "POST":
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body", False))
        payload = orjson.dumps(orjson.loads(b"".join(chunks)))
        await send({"type": "http.response.start", "status": 201, "headers": _headers(payload)})
        await send({"type": "http.response.body", "body": payload})
        return
    await send({"type": "http.response.start", "status": 404, "headers": _headers(NOT_FOUND)})
    await send({"type": "http.response.body", "body": NOT_FOUND})
