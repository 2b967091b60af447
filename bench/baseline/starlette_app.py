"""The bare Starlette baseline for figures 1, 2 and 5.

Run as bench/run.py does:
    uvicorn starlette_app:app --app-dir bench/baseline --loop uvloop --http httptools \
        --workers 1 --no-access-log --host 127.0.0.1 --port 8001
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request: Request) -> JSONResponse:
    """The same small JSON body as bench/projects/api/steps/hello_step.py."""
    return JSONResponse({"message": "hello", "ok": True})


async def echo(request: Request) -> JSONResponse:
    """Parse the JSON body and return it: the floor under Motia's POST step."""
    body = await request.json()
    return JSONResponse(body, status_code=201)


app = Starlette(routes=[Route("/hello", hello), Route("/items", echo, methods=["POST"])])
