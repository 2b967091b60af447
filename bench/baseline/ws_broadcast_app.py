"""Baseline for the stream fan-out figure: a bare Starlette app whose POST /tick sends one
JSON frame straight to every connected WebSocket, with nothing else in between."""

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

SOCKETS: set[WebSocket] = set()


async def tick(request: Request) -> JSONResponse:
    body = await request.json()
    frame = {"event": {"type": "update", "data": {"sentAt": time.time_ns(), "n": body["n"]}}}
    for socket in list(SOCKETS):
        await socket.send_json(frame)
    return JSONResponse({"ok": True})


async def stream(socket: WebSocket) -> None:
    await socket.accept()
    await socket.receive_text()  # the join
    SOCKETS.add(socket)
    await socket.send_json({"event": {"type": "sync", "data": None}})
    try:
        while True:
            await socket.receive_text()
    except WebSocketDisconnect:
        SOCKETS.discard(socket)


app = Starlette(routes=[Route("/tick", tick, methods=["POST"]), WebSocketRoute("/", stream)])
